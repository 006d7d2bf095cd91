using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Drawing.Tests;

public sealed class HudTextTests
{
    [Theory]
    [InlineData("/home/robot/field-tests/2026-11-20/thymio_clip_1.avi", "thymio_clip_1.avi")]
    [InlineData("C:\\clips\\booth.mp4", "booth.mp4")]
    [InlineData("http://robot.local:8080/stream.mjpg", "robot.local/stream.mjpg")]
    [InlineData("rtsp://10.0.0.5/live/", "10.0.0.5/live")]
    [InlineData("shots/*.png", "*.png")]
    [InlineData("synthetic", "synthetic")]
    [InlineData("webcam:1", "webcam:1")]
    public void The_HUD_names_a_source_by_its_short_name(string source, string expected) =>
        Assert.Equal(expected, HudText.ShortSourceName(source));

    [Fact]
    public void A_slow_methods_overlay_says_how_old_it_is_on_the_explanation_line_and_keeps_it_on_a_small_picture()
    {
        var analysis = new Analysis(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), "robot")
        {
            Description = "rise, target all outputs"
        };
        using var late = new Frame(new Mat(240, 320, MatType.CV_8UC3), 100, TimeSpan.FromSeconds(4.2), "synthetic");
        var lines = HudText.Lines(late, analysis, HudNumbers.None, "robot", null);
        var shown = PictureLayout.HudText(lines, 320, 240, GlyphAtlas.Shared);
        Assert.Contains(shown, l =>
            l.StartsWith("rise", StringComparison.Ordinal)
            && l.Contains("overlay 3.2 s old", StringComparison.Ordinal));

        using var fresh = new Frame(new Mat(240, 320, MatType.CV_8UC3), 11, TimeSpan.FromSeconds(1.04), "synthetic");
        var quick = HudText.Lines(fresh, analysis, HudNumbers.None, "robot", null);
        Assert.DoesNotContain(quick, l =>
            l.Rank == HudText.Explanation && l.Text.Contains("s old", StringComparison.Ordinal));
    }
}
