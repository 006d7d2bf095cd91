using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Rendering.Tests;

/// <summary>The help panel as the CPU back end draws it (its layout is tested with the drawing).</summary>
public sealed class HelpPanelTests
{
    static readonly GlyphAtlas Font = GlyphAtlas.Shared;

    [Theory]
    [InlineData(320, 240)]
    [InlineData(1280, 720)]
    public void The_help_is_opaque_nothing_under_it_shows_through(int width, int height)
    {
        using var renderer = new CpuPictureRenderer();
        using var video = BackEndParityTests.Scene(width, height);
        HelpRow[] help = [.. Enumerable.Range(0, 16).Select(i => new HelpRow($"key {i}", $"does thing number {i}"))];
        var under = BackEndParityTests.Sample(video, new OverlayOptions());
        using var withHud = new Mat();
        using var bare = new Mat();
        renderer.Render(under with { Help = help }, withHud);
        renderer.Render(new Picture { Video = video, Help = help }, bare);
        var quads = new QuadList(Font);
        PictureLayout.Build(new Picture { Video = video, Help = help }, width, height, quads);
        var panel = quads.Items[0];
        Assert.True(panel.X1 - panel.X0 <= width && panel.Y1 - panel.Y0 <= height, "the help does not fit the picture");
        var rect = new Rect((int)MathF.Ceiling(panel.X0), (int)MathF.Ceiling(panel.Y0),
            (int)(panel.X1 - panel.X0) - 1, (int)(panel.Y1 - panel.Y0) - 1);
        using var a = new Mat(withHud, rect);
        using var b = new Mat(bare, rect);
        Assert.Equal(0, Cv2.Norm(a, b, NormTypes.INF));
        // And the help itself is there: light text on the dark panel.
        Cv2.MinMaxLoc(a.CvtColor(ColorConversionCodes.BGR2GRAY), out double darkest, out double brightest);
        Assert.True(darkest < 40 && brightest > 200, $"panel {darkest}..{brightest}");
    }
}
