using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Tests;
using OpenCvSharp;

namespace LiveCam.Rendering.Tests;

/// <summary>The two back ends draw the same picture: OpenGL (headless) and the CPU, from one description.</summary>
public sealed class BackEndParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A frame with smooth gradients and some texture, like a camera image.</summary>
    internal static Mat Scene(int width, int height)
    {
        var image = new Mat(height, width, MatType.CV_8UC3);
        var random = new Random(11);
        var bytes = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 3;
                (bytes[o], bytes[o + 1], bytes[o + 2]) =
                    ((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) % 64 * 3 + random.Next(40)));
            }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, image.Data, bytes.Length);
        return image;
    }

    /// <summary>A continuous BGR picture's bytes.</summary>
    internal static byte[] Bytes(Mat image)
    {
        var bytes = new byte[image.Width * image.Height * 3];
        System.Runtime.InteropServices.Marshal.Copy(image.Data, bytes, 0, bytes.Length);
        return bytes;
    }

    internal static Picture Sample(Mat video, OverlayOptions overlay, bool help = false, IInset? inset = null) => new()
    {
        Video = video,
        Heatmap = new HeatmapImage(7, 9, Enumerable.Range(0, 63).Select(i => (i * 17 % 63) / 62f).ToArray()),
        HeatmapRegion = new PixelRect(video.Width / 8, 0, video.Width * 3 / 4, video.Height),
        Overlay = overlay,
        Hud =
        [
            new HudLine("gradcam @ encoder.6 (64x8x10), target all outputs"),
            new HudLine("synthetic  #123  display 29.9 fps  analysis 14.8 fps", 2),
            new HudLine("free distance: lx 10 cm  cl free  cx 3 cm  cr free  rx free", 1),
        ],
        Inset = inset ?? new CellsInset(5, 31, (d, s) => s == 2 && d > 8 ? 0.9f : 0.1f * s),
        Help = help ? [new HelpRow("right / left", "method next / previous"), new HelpRow("q / Esc", "quit")] : null,
    };

    /// <summary>Pixels covered by glyph quads: where anti-aliased text edges may differ a little between back
    /// ends.</summary>
    static bool[,] TextMask(Picture picture, int width, int height)
    {
        var quads = new QuadList(GlyphAtlas.Shared);
        PictureLayout.Build(picture, width, height, quads);
        var mask = new bool[height, width];
        var white = GlyphAtlas.Shared.White;
        foreach (var q in quads.Items.Where(q => (q.U0, q.V0) != white))
            for (int y = Math.Max(0, (int)q.Y0 - 1); y < Math.Min(height, (int)q.Y1 + 2); y++)
                for (int x = Math.Max(0, (int)q.X0 - 1); x < Math.Min(width, (int)q.X1 + 2); x++)
                    mask[y, x] = true;
        return mask;
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (var mode in Enum.GetValues<OverlayMode>())
            yield return [mode, Colormap.Jet, false];
        foreach (var map in new[] { Colormap.Turbo, Colormap.Viridis, Colormap.Inferno })
            yield return [OverlayMode.Blend, map, true];
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void OpenGL_and_CPU_draw_the_same_picture_within_a_few_levels_outside_text_edges(
        OverlayMode mode, Colormap colormap, bool help)
    {
        using var context = HeadlessGl.Context();
        using var gl = new GlPictureRenderer(context);
        using var cpu = new CpuPictureRenderer();
        using var video = Scene(320, 240);
        var labels = new LabelsInset([new LabelRow("tabby cat", 0.61f, true), new LabelRow("tiger cat", 0.2f, false)]);
        foreach (var inset in new IInset?[] { null, labels })
        {
            var picture = Sample(video,
                new OverlayOptions { Mode = mode, Colormap = colormap, Opacity = 0.55f, Threshold = 0.25f },
                help, inset);
            using var fromGl = new Mat();
            using var fromCpu = new Mat();
            gl.Render(picture, fromGl);
            cpu.Render(picture, fromCpu);
            var mask = TextMask(picture, 320, 240);
            int worstText = 0, off = 0, pixels = 0;
            long textSum = 0, textCount = 0;
            var a = Bytes(fromGl);
            var b = Bytes(fromCpu);
            for (int y = 0; y < 240; y++)
                for (int x = 0; x < 320; x++)
                {
                    int worst = 0;
                    for (int c = 0; c < 3; c++)
                    {
                        int d = Math.Abs(a[(y * 320 + x) * 3 + c] - b[(y * 320 + x) * 3 + c]);
                        if (mask[y, x])
                        {
                            worstText = Math.Max(worstText, d);
                            textSum += d;
                            textCount++;
                        }
                        else worst = Math.Max(worst, d);
                    }
                    if (mask[y, x]) continue;
                    pixels++;
                    if (worst > 4) off++;
                }
            output.WriteLine($"{mode} {colormap} {(inset is null ? "bars" : "labels")}: "
                + $"{off} of {pixels} pixels outside text differ by more than 4/255; "
                + $"over text mean {textSum / (double)textCount:0.00}/255, worst {worstText}");
            // The GPU filters the heatmap with fixed-point weights, so where the map crosses the threshold or the edge
            // of a colormap entry a pixel may land on the other side: isolated pixels, never an area.
            Assert.True(off <= pixels / 2000,
                $"{mode} {colormap}: {off} of {pixels} pixels outside text differ by more than 4/255 "
                + $"({context.Renderer})");
            // Text is drawn from the same atlas, sampled and blended alike: its edges differ by rounding only.
            Assert.True(worstText <= 4 && textSum / (double)textCount < 0.5,
                $"over text: worst difference {worstText}/255, mean {textSum / (double)textCount:0.00}/255");
        }
    }

    /// <summary>How many pixels of two pictures differ by more than <paramref name="threshold"/>/255 in grey.</summary>
    static int PixelsApart(Mat a, Mat b, int threshold)
    {
        using var difference = new Mat();
        Cv2.Absdiff(a, b, difference);
        using var grey = difference.CvtColor(ColorConversionCodes.BGR2GRAY);
        using var over = grey.Threshold(threshold, 255, ThresholdTypes.Binary);
        return Cv2.CountNonZero(over);
    }

    /// <summary>A padded fit: the model's input reaches past the frame, so only the frame's part of the map is
    /// drawn.</summary>
    [SkippableFact]
    public void A_heatmap_region_reaching_past_the_frame_is_drawn_alike()
    {
        using var context = HeadlessGl.Context();
        using var gl = new GlPictureRenderer(context);
        using var cpu = new CpuPictureRenderer();
        using var video = Scene(320, 240);
        var picture = Sample(video, new OverlayOptions { Opacity = 0.7f }) with
        {
            HeatmapRegion = new PixelRect(0, -40, 320, 320), Hud = null, Inset = null
        };
        using var a = new Mat();
        using var b = new Mat();
        gl.Render(picture, a);
        cpu.Render(picture, b);
        Assert.True(PixelsApart(a, b, 4) <= 320 * 240 / 2000, "the back ends differ on a padded region");
        // The map's top row lies above the frame: the frame's first row shows the map a sixth of the way down, not its
        // top.
        Assert.True(Cv2.Norm(a, video, NormTypes.INF) > 0);
    }

    /// <summary>A booth's picture: the frame twice side by side, each copy with its own heatmap, the halves' labels,
    /// the caption and text twice the usual size.</summary>
    [SkippableFact]
    public void Side_by_side_with_a_caption_and_big_text_is_drawn_alike_and_each_half_shows_its_own_map()
    {
        using var context = HeadlessGl.Context();
        using var gl = new GlPictureRenderer(context);
        using var cpu = new CpuPictureRenderer();
        using var video = Scene(320, 240);
        var right = new HeatmapImage(7, 9, Enumerable.Range(0, 63).Select(i => 1 - (i * 17 % 63) / 62f).ToArray());
        var picture = Sample(video, new OverlayOptions { Opacity = 0.6f }) with
        {
            Side = new SidePanel(right, new PixelRect(40, 0, 240, 240), "gradcam", "eigencam"),
            Caption = "Red shows what made the network say \"cat\"; blue, what it ignores.",
            TextScale = 2,
            Inset = null,
        };
        using var a = new Mat();
        using var b = new Mat();
        gl.Render(picture, a);
        cpu.Render(picture, b);
        Assert.Equal((320, 240), (a.Width, a.Height));
        Assert.Equal((320, 240), (b.Width, b.Height));
        var mask = TextMask(picture, 320, 240);
        var (x, y) = (Bytes(a), Bytes(b));
        int off = 0, pixels = 0;
        for (int row = 0; row < 240; row++)
            for (int col = 0; col < 320; col++)
            {
                if (mask[row, col]) continue;
                pixels++;
                int o = (row * 320 + col) * 3;
                if (Enumerable.Range(0, 3).Max(c => Math.Abs(x[o + c] - y[o + c])) > 6) off++;
            }
        output.WriteLine(
            $"side by side: {off} of {pixels} pixels outside text differ by more than 6/255 ({context.Renderer})");
        Assert.True(off <= pixels / 500,
            $"side by side: {off} of {pixels} pixels outside text differ by more than 6/255");

        // Each half is the frame at half size with its own map: the halves differ where the maps differ, and the plain
        // frame (no maps) differs from both.
        var plain = picture with
        {
            Heatmap = null, Side = picture.Side! with { Heatmap = null }, Hud = null, Caption = null
        };
        using var bare = new Mat();
        cpu.Render(plain, bare);
        var panels = PictureLayout.Panels(picture, 320, 240);
        Assert.Equal(2, panels.Count);
        Assert.Equal((0f, 160f, 160f), (panels[0].X, panels[1].X, panels[0].Width));
        using var leftHalf = new Mat(b, new Rect(0, 115, 160, 55));
        using var rightHalf = new Mat(b, new Rect(160, 115, 160, 55));
        using var bareLeft = new Mat(bare, new Rect(0, 115, 160, 55));
        using var bareRight = new Mat(bare, new Rect(160, 115, 160, 55));
        Assert.Equal(0, Cv2.Norm(bareLeft, bareRight, NormTypes.INF));   // the same frame twice
        Assert.True(Cv2.Norm(leftHalf, rightHalf, NormTypes.L1) > 50_000, "the two halves show the same map");
        Assert.True(Cv2.Norm(leftHalf, bareLeft, NormTypes.L1) > 50_000
            && Cv2.Norm(rightHalf, bareRight, NormTypes.L1) > 50_000);
    }

    /// <summary>A DeepDream of the frame is drawn in place of the video over the model's region, alike by both back
    /// ends.</summary>
    [SkippableFact]
    public void A_dream_replaces_the_models_region_alike_in_both_back_ends()
    {
        using var context = HeadlessGl.Context();
        using var gl = new GlPictureRenderer(context);
        using var cpu = new CpuPictureRenderer();
        using var video = Scene(320, 240);
        var pixels = new byte[16 * 20 * 3];
        for (int i = 0; i < 16 * 20; i++)
            (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) =
                ((byte)(i * 7), (byte)(255 - i), (byte)(i % 20 * 12));
        var picture = Sample(video, new OverlayOptions()) with
        {
            Dream = new BgrImage(16, 20, pixels), Hud = null, Inset = null
        };
        using var a = new Mat();
        using var b = new Mat();
        gl.Render(picture, a);
        cpu.Render(picture, b);
        int off = PixelsApart(a, b, 4);
        output.WriteLine($"dream: {off} pixels differ by more than 4/255 ({context.Renderer})");
        Assert.True(off <= 320 * 240 / 1000, $"the back ends draw the dream differently: {off} pixels");
        // Inside the region: the dream (its first row is dark blue-green), not the video; outside: the video itself.
        var region = picture.HeatmapRegion!.Value;
        using var inside = new Mat(b, new Rect(region.X + 2, region.Y + 2, 4, 4));
        var mean = inside.Mean();
        var corner = (pixels[0], pixels[1], pixels[2]);
        Assert.True(
            Math.Abs(mean.Val0 - corner.Item1) + Math.Abs(mean.Val1 - corner.Item2) + Math.Abs(mean.Val2 - corner.Item3)
            < 40,
            $"the region does not show the dream: {mean} against {corner}");
        using var outside = new Mat(b, new Rect(0, 0, region.X, 240));
        using var videoOutside = new Mat(video, new Rect(0, 0, region.X, 240));
        Assert.Equal(0, Cv2.Norm(outside, videoOutside, NormTypes.INF));
    }

    /// <summary>A detector's and a segmenter's marks: boxes (the explained one thick and yellow, with keypoints; one
    /// reaching past the frame), a class mask over the model's view and its legend.</summary>
    internal static SceneMarks Marks()
    {
        var classes = new byte[20 * 30];
        for (int row = 0; row < 20; row++)
            for (int col = 0; col < 30; col++)
                classes[row * 30 + col] = (byte)(row < 6 ? 0 : col < 12 ? 1 : (col + row) % 7 == 0 ? 0 : 2);
        return new SceneMarks(
        [
            new BoxMark(0.10f, 0.15f, 0.40f, 0.55f, "face 0.98", ClassColours.Of(0), true,
                [0.20f, 0.30f, 0.30f, 0.30f, 0.25f, 0.42f]),
            new BoxMark(0.55f, 0.20f, 0.80f, 0.50f, "face 0.71", ClassColours.Of(1), false, []),
            new BoxMark(0.85f, 0.70f, 1.20f, 1.10f, "face 0.52", ClassColours.Of(2), false, [0.95f, 0.80f]),
        ], new ClassMask(20, 30, classes, [new Rgba(0, 0, 0, 0), ClassColours.Of(3), ClassColours.Of(4)]));
    }

    [SkippableFact]
    public void Boxes_keypoints_a_class_mask_and_its_legend_are_drawn_alike()
    {
        using var context = HeadlessGl.Context();
        using var gl = new GlPictureRenderer(context);
        using var cpu = new CpuPictureRenderer();
        using var video = Scene(320, 240);
        var legend = new LegendInset(
            [new LegendRow(ClassColours.Of(3), "person", 0.31f), new LegendRow(ClassColours.Of(4), "sofa", 0.22f)],
            "person");
        foreach (var heatmap in new[] { true, false })
        {
            var picture = Sample(video, new OverlayOptions { Opacity = 0.5f }, inset: legend) with
            {
                Marks = Marks(), Heatmap = heatmap ? Sample(video, new OverlayOptions()).Heatmap : null,
            };
            using var a = new Mat();
            using var b = new Mat();
            gl.Render(picture, a);
            cpu.Render(picture, b);
            var mask = TextMask(picture, 320, 240);
            var (x, y) = (Bytes(a), Bytes(b));
            int off = 0, pixels = 0, worstText = 0;
            for (int row = 0; row < 240; row++)
                for (int col = 0; col < 320; col++)
                {
                    int o = (row * 320 + col) * 3;
                    int worst = Enumerable.Range(0, 3).Max(c => Math.Abs(x[o + c] - y[o + c]));
                    if (mask[row, col])
                    {
                        worstText = Math.Max(worstText, worst);
                        continue;
                    }
                    pixels++;
                    if (worst > 4) off++;
                }
            output.WriteLine($"marks (heatmap {heatmap}): {off} of {pixels} pixels outside text differ by more "
                + $"than 4/255, worst over text {worstText} ({context.Renderer})");
            Assert.True(off <= pixels / 2000,
                $"marks: {off} of {pixels} pixels outside text differ by more than 4/255");
            Assert.True(worstText <= 4, $"marks: text differs by {worstText}/255");

            // The marks are there: the explained box's left edge (below the HUD) is yellow in both, and the picture
            // differs from the same one without marks.
            using var bare = new Mat();
            cpu.Render(picture with { Marks = null }, bare);
            Assert.True(PixelsApart(b, bare, 8) > 2000, "the marks are not drawn");
            var region = picture.HeatmapRegion!.Value;
            int edgeX = (int)(region.X + 0.10f * region.Width), edgeY = (int)(region.Y + 0.35f * region.Height);
            foreach (var drawn in new[] { a, b })
            {
                var pixel = drawn.At<Vec3b>(edgeY, edgeX);
                Assert.True(pixel.Item2 > 200 && pixel.Item1 > 180 && pixel.Item0 < 80,
                    $"the explained box's edge at ({edgeX}, {edgeY}) is {pixel}, not yellow");
            }
        }
    }

    [SkippableFact]
    public void A_returned_picture_is_the_callers_a_later_render_or_disposing_the_renderer_does_not_touch_it()
    {
        using var context = HeadlessGl.Context();
        using var video = Scene(160, 120);
        using var other = new Mat(120, 160, MatType.CV_8UC3, Scalar.Red);
        foreach (var make in new Func<IPictureRenderer>[]
            { () => new GlOffscreenForTest(context), () => new CpuPictureRenderer() })
        {
            using var first = new Mat();
            using var second = new Mat();
            using (var renderer = make())
            {
                renderer.Render(Sample(video, new OverlayOptions()), first);
                using var copy = first.Clone();
                renderer.Render(Sample(other, new OverlayOptions { Mode = OverlayMode.HeatmapOnly }), second);
                Assert.Equal(0, Cv2.Norm(first, copy, NormTypes.INF));
            }
            Assert.Equal((160, 120), (first.Width, first.Height));
            Assert.True(Cv2.Norm(first, second, NormTypes.INF) > 0);
            // the video argument is borrowed, not drawn on
            Assert.Equal(0, Cv2.Norm(video, Scene(160, 120), NormTypes.INF));
        }
    }

    /// <summary>The GL back end on the test's own context and thread.</summary>
    sealed class GlOffscreenForTest(Contexts.IGlContext context) : IPictureRenderer
    {
        readonly GlPictureRenderer _renderer = new(context);
        public string Description => _renderer.Description;
        public void Render(Picture picture, Mat into) => _renderer.Render(picture, into);
        public void Dispose() => _renderer.Dispose();
    }
}
