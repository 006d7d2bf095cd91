using LiveCam.Core;
using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Rendering.Tests;

public sealed class HeadlessCompositorTests
{
    static EglHeadlessContext Context() => HeadlessGl.Context();

    static Mat Pattern(int width, int height)
    {
        var image = new Mat(height, width, MatType.CV_8UC3);
        var random = new Random(4);
        var bytes = new byte[width * height * 3];
        random.NextBytes(bytes);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, image.Data, bytes.Length);
        return image;
    }


    /// <summary>Bilinear sampling with pixel centres at (i + 0.5) / n and clamp-to-edge, as GL_LINEAR does.</summary>
    static double Sample(HeatmapImage map, double u, double v)
    {
        double x = u * map.Width - 0.5, y = v * map.Height - 0.5;
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double At(int yy, int xx) => map[Math.Clamp(yy, 0, map.Height - 1), Math.Clamp(xx, 0, map.Width - 1)];
        return (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1))
            + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1));
    }

    [SkippableTheory]
    [InlineData(Colormap.Jet)]
    [InlineData(Colormap.Turbo)]
    [InlineData(Colormap.Viridis)]
    [InlineData(Colormap.Inferno)]
    public void The_GPU_blend_matches_the_CPU_reference_within_2_of_255(Colormap colormap)
    {
        using var context = Context();
        const int w = 96, h = 72;
        using var frame = Pattern(w, h);
        var heat = new HeatmapImage(4, 5, Enumerable.Range(0, 20).Select(i => (i * 7 % 20) / 19f).ToArray());
        var options = new OverlayOptions { Opacity = 0.6f, Threshold = 0.2f, Colormap = colormap };
        using var compositor = new OverlayCompositor(context.Gl);
        using var target = new GlFramebuffer(context.Gl, w, h);
        target.Bind();
        compositor.Draw(new Picture { Video = frame, Heatmap = heat, Overlay = options }, w, h, flipY: false);
        using var gpu = target.ReadBgr();

        int worst = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var video = frame.At<Vec3b>(y, x);
                var got = gpu.At<Vec3b>(y, x);
                double t = Sample(heat, (x + 0.5) / w, (y + 0.5) / h);
                var (r, g, b) = Colormaps.Evaluate(colormap, t);
                var mapped = new[] { b, g, r };
                for (int c = 0; c < 3; c++)  // BGR
                {
                    double v = video[c] / 255.0;
                    double expected = t < options.Threshold
                        ? v
                        : v * (1 - options.Opacity) + mapped[c] * options.Opacity;
                    worst = Math.Max(worst, Math.Abs((int)Math.Round(expected * 255) - got[c]));
                }
            }
        Assert.True(worst <= 2, $"largest difference {worst}/255 ({context.Renderer})");
    }

    [SkippableFact]
    public void A_frame_of_another_aspect_ratio_is_letterboxed_with_black_bars()
    {
        using var context = Context();
        using var frame = new Mat(60, 80, MatType.CV_8UC3, new Scalar(10, 200, 30));
        using var compositor = new OverlayCompositor(context.Gl);
        using var target = new GlFramebuffer(context.Gl, 160, 60);
        target.Bind();
        compositor.Draw(new Picture { Video = frame }, 160, 60, flipY: false);
        using var image = target.ReadBgr();
        Assert.Equal(new Vec3b(0, 0, 0), image.At<Vec3b>(30, 10));     // left bar
        Assert.Equal(new Vec3b(0, 0, 0), image.At<Vec3b>(30, 150));    // right bar
        Assert.Equal(new Vec3b(10, 200, 30), image.At<Vec3b>(30, 80));  // the frame, colours unswapped
    }

    [SkippableFact]
    public void A_thousand_frames_leave_no_GL_object_behind()
    {
        long before = GlObject.Live;
        using (var context = Context())
        {
            using var frame = Pattern(64, 48);
            using var compositor = new OverlayCompositor(context.Gl);
            using var target = new GlFramebuffer(context.Gl, 64, 48);
            long during = GlObject.Live;
            var heat = new HeatmapImage(2, 2, [0, 0.5f, 0.7f, 1]);
            for (int i = 0; i < 1000; i++)
            {
                target.Bind();
                compositor.Draw(new Picture { Video = frame, Heatmap = heat }, 64, 48, flipY: false);
            }
            using var last = target.ReadBgr();
            Assert.Equal(during, GlObject.Live);
        }
        Assert.Equal(before, GlObject.Live);
    }

    [SkippableFact]
    public void A_shader_that_does_not_compile_throws_with_the_compiler_log()
    {
        using var context = Context();
        var dir = Directory.CreateTempSubdirectory("livecam-shaders-").FullName;
        try
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "shaders", "video.vert"), Path.Combine(dir, "video.vert"));
            File.WriteAllText(Path.Combine(dir, "overlay.frag"),
                "#version 330 core\nout vec4 colour;\nvoid main() { colour = undefined_thing; }\n");
            var e = Assert.Throws<ShaderException>(() => new OverlayCompositor(context.Gl, dir));
            Assert.Contains("overlay.frag", e.Message, StringComparison.Ordinal);
            Assert.Contains("undefined_thing", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
