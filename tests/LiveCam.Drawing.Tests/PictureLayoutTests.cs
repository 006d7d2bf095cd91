using LiveCam.Tests;
using OpenCvSharp;

namespace LiveCam.Drawing.Tests;

public sealed class PictureLayoutTests
{
    static readonly GlyphAtlas Font = GlyphAtlas.Shared;

    /// <summary>A HUD as a live run draws it, with a long description and the robot's predictions.</summary>
    static IReadOnlyList<HudLine> LiveHud() =>
    [
        new([new HudSegment("thymio_clip_1.avi"), new HudSegment("  #12345", 2), new HudSegment("  display 29.9 fps"),
            new HudSegment("  analysis 14.8 fps", 1)], 2),
        new([new HudSegment("guided-gradcam @ encoder.6"), new HudSegment(" (1x64x8x10)", 2),
            new HudSegment(", target sensor cx, all distances", 1)], 0),
        new HudLine("free distance: lx 10 cm  cl free  cx 3 cm  cr free  rx 12 cm", 1),
        new([new HudSegment("overlay 2 frames old", 1), new HudSegment("  analysis 48 ms after capture", 2),
            new HudSegment("  dropped 3")], 3),
        new([new HudSegment("FROZEN"), new HudSegment("  jet blend 0.45", 1), new HudSegment("  ? keys", 2)], 2),
    ];

    public static TheoryData<int, int> Sizes =>
        new() { { 320, 240 }, { 400, 300 }, { 640, 480 }, { 1280, 720 }, { 1920, 1080 }, { 3840, 2160 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void The_HUD_fits_every_frame_from_320x240_to_4K_abbreviated_not_cut(int width, int height)
    {
        float scale = PictureLayout.TextScale(width, height);
        var quads = new QuadList(Font);
        using var video = new Mat(height, width, MatType.CV_8UC3, Scalar.Gray);
        PictureLayout.Build(new Picture { Video = video, Hud = LiveHud() }, width, height, quads);
        var band = quads.Items[0];  // the band behind the text comes first
        Assert.True(band.X1 <= width - PictureLayout.Margin(scale) + 0.01f, $"the HUD runs to x {band.X1} of {width}");
        Assert.True(band.Y1 <= height * PictureLayout.HudHeightShare + 0.01f,
            $"the HUD covers {band.Y1 / height:P0} of the height");
        // Each glyph starts inside the band (its cell may reach past the ink of the last letter).
        foreach (var glyph in quads.Items.Skip(1))
            Assert.True(glyph.X0 < band.X1 && glyph.Y1 <= band.Y1 + 0.01f, "text outside the HUD's band");

        var lines = PictureLayout.HudText(LiveHud(), width, height, Font);
        // The most important line is always there and never shortened below its first segment.
        Assert.Contains(lines, l => l.StartsWith("guided-gradcam @ encoder.6", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("free distance", StringComparison.Ordinal));
        if (width >= 640) Assert.Equal(5, lines.Count);
        if (width >= 1280) Assert.Equal(LiveHud().Select(l => l.Text), lines);  // room for everything
    }

    [Fact]
    public void Text_grows_with_the_frame_but_more_slowly()
    {
        var scales = new[] { (320, 240), (400, 300), (640, 480), (1920, 1080), (3840, 2160) }
            .Select(s => PictureLayout.TextScale(s.Item1, s.Item2)).ToArray();
        for (int i = 1; i < scales.Length; i++) Assert.True(scales[i] > scales[i - 1]);
        Assert.True(Font.LineHeight(scales[0]) >= 10, "text on a 320x240 frame is too small to read");
        Assert.True(scales[^1] / scales[2] < 4.5 / 1.5, "4K text should grow less than the frame");
    }

    [Fact]
    public void A_line_too_wide_drops_its_least_important_parts_first_then_is_shortened()
    {
        var line = new HudLine([new HudSegment("gradcam @ layer4"), new HudSegment(" (512x7x7)", 2),
            new HudSegment(", target class 281 (tabby)", 1)]);
        float scale = 1;
        Assert.Equal(line.Text, line.Fit(Font, scale, 10_000));
        Assert.Equal("gradcam @ layer4, target class 281 (tabby)",
            line.Fit(Font, scale, Font.TextWidth("gradcam @ layer4, target class 281 (tabby)", scale) + 1));
        Assert.Equal("gradcam @ layer4", line.Fit(Font, scale, Font.TextWidth("gradcam @ layer4", scale) + 5));
        var shortened = line.Fit(Font, scale, Font.TextWidth("gradcam @ la..", scale) + 1);
        Assert.Equal("gradcam @ la..", shortened);
    }

    public static TheoryData<Corner> Corners =>
        new() { Corner.BottomRight, Corner.BottomLeft, Corner.TopLeft, Corner.TopRight };

    [Theory]
    [MemberData(nameof(Corners))]
    public void The_inset_sits_in_its_corner_clear_of_the_HUD_and_scales_with_the_frame(Corner corner)
    {
        var inset = new CellsInset(5, 31, (d, s) => 0.5f);
        foreach (var (width, height) in new[] { (400, 300), (1920, 1080) })
        {
            float scale = PictureLayout.TextScale(width, height), margin = PictureLayout.Margin(scale);
            var (w, h) = inset.Size(Font, scale, width, height);
            Assert.InRange(w * h / (width * (double)height), 0.01, 0.06);  // a small part of the picture at any size
            var quads = new QuadList(Font);
            using var video = new Mat(height, width, MatType.CV_8UC3);
            PictureLayout.Build(
                new Picture { Video = video, Hud = LiveHud(), Inset = inset, InsetCorner = corner },
                width, height, quads);
            var hudBand = quads.Items[0];
            var box = quads.Items.First(q => Math.Abs(q.X1 - q.X0 - w) < 0.01f && Math.Abs(q.Y1 - q.Y0 - h) < 0.01f);
            bool right = corner is Corner.BottomRight or Corner.TopRight,
                bottom = corner is Corner.BottomRight or Corner.BottomLeft;
            Assert.Equal(right, box.X0 > width / 2f);
            Assert.Equal(bottom, box.Y0 > height / 2f);
            bool overlapsHud = box.X0 < hudBand.X1 && box.Y0 < hudBand.Y1;
            Assert.False(overlapsHud, $"the inset at {corner} overlaps the HUD in a {width}x{height} picture");
            Assert.True(box.X0 >= margin - 0.01f && box.Y0 >= margin - 0.01f
                && box.X1 <= width - margin + 0.01f && box.Y1 <= height - margin + 0.01f);
        }
    }

    [Fact]
    public void The_part_of_the_frame_the_model_sees_is_outlined_when_it_is_not_the_whole_frame()
    {
        using var video = new Mat(480, 640, MatType.CV_8UC3);
        var quads = new QuadList(Font);
        // A centre crop of a 640x480 frame, shown in an 800x480 window (letterboxed 80 px each side).
        PictureLayout.Build(
            new Picture { Video = video, HeatmapRegion = new LiveCam.Core.PixelRect(110, 30, 420, 420) },
            800, 480, quads);
        Assert.Equal(4, quads.Items.Count);
        Assert.Equal(80 + 110, quads.Items.Min(q => q.X0), 2);
        Assert.Equal(80 + 530, quads.Items.Max(q => q.X1), 2);
        Assert.Equal(30, quads.Items.Min(q => q.Y0), 2);
        Assert.Equal(450, quads.Items.Max(q => q.Y1), 2);
        foreach (var whole in new[]
            { new LiveCam.Core.PixelRect(0, 0, 640, 480), new LiveCam.Core.PixelRect(0, -80, 640, 640) })
        {
            quads.Clear();
            PictureLayout.Build(new Picture { Video = video, HeatmapRegion = whole }, 640, 480, quads);
            Assert.Empty(quads.Items);  // the whole frame (stretched or padded): nothing to outline
        }
    }

    /// <summary>A box is given in fractions of the model's view; the view of a padded fit reaches past the frame (here
    /// 80 px above and below a 640x480 frame), and the window letterboxes the frame.</summary>
    [Theory]
    [InlineData(640, 480, 0f, 1f)]
    [InlineData(800, 480, 80f, 1f)]
    [InlineData(1280, 960, 0f, 2f)]
    public void A_box_lands_on_the_pixels_of_its_fractions_of_a_padded_view(
        int width, int height, float offsetX, float zoom)
    {
        using var video = new Mat(480, 640, MatType.CV_8UC3);
        var quads = new QuadList(Font);
        var box = new BoxMark(0.25f, 0.25f, 0.75f, 0.5f, "", new Rgba(0, 1, 0), false, [0.5f, 0.375f]);
        PictureLayout.Build(new Picture
        {
            Video = video,
            HeatmapRegion = new LiveCam.Core.PixelRect(0, -80, 640, 640),
            Marks = new SceneMarks([box]),
        }, width, height, quads);
        // Four edges and a keypoint's dot; nothing else (the padded view covers the whole frame: no outline).
        Assert.Equal(5, quads.Items.Count);
        var edges = quads.Items.Take(4).ToList();
        // x: 0.25 and 0.75 of 640; y: -80 + 0.25 * 640 = 80 and -80 + 0.5 * 640 = 240.
        Assert.Equal(offsetX + 160 * zoom, edges.Min(q => q.X0), 2);
        Assert.Equal(offsetX + 480 * zoom, edges.Max(q => q.X1), 2);
        Assert.Equal(80 * zoom, edges.Min(q => q.Y0), 2);
        Assert.Equal(240 * zoom, edges.Max(q => q.Y1), 2);
        var dot = quads.Items[4];
        Assert.Equal(offsetX + 320 * zoom, (dot.X0 + dot.X1) / 2, 2);
        Assert.Equal(160 * zoom, (dot.Y0 + dot.Y1) / 2, 2);

        // A box reaching past the frame is clipped to it: no quad outside the frame's pixels.
        quads.Clear();
        PictureLayout.Build(new Picture
        {
            Video = video,
            HeatmapRegion = new LiveCam.Core.PixelRect(0, -80, 640, 640),
            Marks = new SceneMarks([box with { X1 = 1.3f, Y0 = -0.2f, Text = "face 0.9" }]),
        }, width, height, quads);
        Assert.NotEmpty(quads.Items);
        foreach (var q in quads.Items)
            Assert.True(q.X0 >= offsetX - 0.01f && q.X1 <= offsetX + 640 * zoom + 0.01f
                && q.Y0 >= -0.01f && q.Y1 <= 480 * zoom + 0.01f, $"a quad outside the frame: {q}");
    }

    /// <summary>A mask is drawn as one quad per run of a class along a row, translucent, and the background
    /// (transparent in the palette) not at all.</summary>
    [Fact]
    public void A_run_of_mask_cells_of_one_class_becomes_one_quad()
    {
        using var video = new Mat(480, 640, MatType.CV_8UC3);
        var quads = new QuadList(Font);
        var red = new Rgba(1, 0, 0);
        var blue = new Rgba(0, 0, 1);
        var mask = new ClassMask(2, 4, [0, 1, 1, 1, 2, 2, 0, 1], [new Rgba(0, 0, 0, 0), red, blue]);
        PictureLayout.Build(new Picture { Video = video, Marks = new SceneMarks([], mask) }, 640, 480, quads);
        Assert.Equal(
        [
            (160f, 0f, 640f, 240f, red with { A = PictureLayout.MaskOpacity }),
            (0f, 240f, 320f, 480f, blue with { A = PictureLayout.MaskOpacity }),
            (480f, 240f, 640f, 480f, red with { A = PictureLayout.MaskOpacity }),
        ], quads.Items.Select(q => (q.X0, q.Y0, q.X1, q.Y1, q.Colour)));
    }
}
