using LiveCam.Drawing;
using LiveCam.Models.Robot;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

/// <summary>The robot's distance bars, drawn by either back end from the same quads.</summary>
public sealed class ProximityInsetTests
{
    static float P(int d, int s) => s == 2 ? (d >= 12 ? 0.9f : 0.05f) : s * 0.2f;
    static readonly int?[] Free = [null, null, 12, null, 30];

    static QuadList Quads()
    {
        var quads = new QuadList(GlyphAtlas.Shared);
        new ProximityInset(P, Free).Add(quads, 200, 20, 100, 192, 1);
        return quads;
    }

    static Mat OnCpu()
    {
        var image = new Mat(240, 320, MatType.CV_8UC3, Scalar.All(128));
        QuadRasteriser.Draw(Quads(), image);
        return image;
    }

    static Mat OnGpu()
    {
        EglHeadlessContext context;
        try { context = new EglHeadlessContext(); }
        catch (RenderingUnavailableException e) { throw new SkipException($"no headless OpenGL here: {e.Message}"); }
        using (context)
        {
            using var batch = new QuadBatch(context.Gl, GlyphAtlas.Shared);
            using var target = new GlFramebuffer(context.Gl, 320, 240);
            target.Bind();
            context.Gl.ClearColor(128 / 255f, 128 / 255f, 128 / 255f, 1);
            context.Gl.Clear(Silk.NET.OpenGL.ClearBufferMask.ColorBufferBit);
            batch.Draw(Quads().Items, 320, 240, flipY: false);
            return target.ReadBgr();
        }
    }

    [Fact]
    public void On_the_CPU_each_cell_is_at_its_place_in_its_colour_with_a_marker_at_the_free_distance()
    {
        using var image = OnCpu();
        Check(image);
    }

    [SkippableFact]
    public void On_the_GPU_likewise()
    {
        using var image = OnGpu();
        Check(image);
    }

    static void Check(Mat image)
    {
        var area = ProximityInset.Bars(200, 20, 100, 192);
        foreach (var (d, s) in new[] { (0, 0), (5, 1), (11, 2), (12, 2), (25, 2), (3, 4), (20, 3) })
        {
            var cell = ProximityInset.Cell(area, d, s);
            var pixel = image.At<Vec3b>((int)(cell.Y + cell.Height / 2 - 1), (int)(cell.X + cell.Width / 2));
            var (r, g, b) = ProximityInset.CellColour(P(d, s));
            Assert.True(Math.Abs(pixel.Item2 - r * 255) <= 2 && Math.Abs(pixel.Item1 - g * 255) <= 2
                && Math.Abs(pixel.Item0 - b * 255) <= 2,
                $"cell (d {d}, s {s}) is {pixel}, expected {r * 255:0},{g * 255:0},{b * 255:0}");
        }
        // The marker: a black line at the bottom of cx's 12 cm cell.
        var marker = ProximityInset.Cell(area, 12, 2);
        Assert.Equal(new Vec3b(0, 0, 0),
            image.At<Vec3b>((int)(marker.Y + marker.Height - 1), (int)(marker.X + marker.Width / 2)));
        // Outside the inset the target is untouched.
        Assert.Equal(new Vec3b(128, 128, 128), image.At<Vec3b>(120, 100));
    }
}
