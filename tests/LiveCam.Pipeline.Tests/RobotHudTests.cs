using LiveCam.Core;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

/// <summary>The live HUD with the robot model's predictions (the HUD alone is tested with the drawing).</summary>
public sealed class RobotHudTests
{
    [Theory]
    [InlineData(320, 240)]
    [InlineData(400, 300)]
    public void
    On_a_small_clip_the_HUD_keeps_to_its_share_of_the_height_and_to_the_width_with_the_explanation_and_predictions(
        int width, int height)
    {
        var outputs = new float[325];
        for (int d = 5; d < 65; d++) outputs[d * 5 + 2] = 0.9f;
        var analysis = new Analysis(40, TimeSpan.Zero, TimeSpan.FromMilliseconds(38), "robot")
        {
            Outputs = outputs,
            Description = "guided-gradcam @ encoder.6 (1x64x8x10), target sensor cx, all distances",
        };
        using var frame = new Frame(new Mat(height, width, MatType.CV_8UC3), 42, TimeSpan.Zero,
            "/home/robot/field-tests/2026-11-20/thymio_clip_1.avi");
        var lines = HudText.Lines(
            frame, analysis, new PipelineMetrics().ReadHudNumbers(), "robot", Models.Robot.RobotHead.Instance);
        var shown = PictureLayout.HudText(lines, width, height, GlyphAtlas.Shared);
        float scale = PictureLayout.TextScale(width, height);
        Assert.All(shown, l =>
            Assert.True(GlyphAtlas.Shared.TextWidth(l, scale) <= width - 2 * PictureLayout.Margin(scale)));
        Assert.True(shown.Count * GlyphAtlas.Shared.LineHeight(scale) <= height * PictureLayout.HudHeightShare);
        Assert.Contains(shown, l => l.StartsWith("guided-gradcam @ encoder.6", StringComparison.Ordinal));
        // Every sensor's distance in full: the line's prefix goes first.
        Assert.Contains(shown, l =>
            l.Contains("lx free", StringComparison.Ordinal) && l.Contains("cx 5 cm", StringComparison.Ordinal)
            && l.EndsWith("rx free", StringComparison.Ordinal));
        Assert.Contains(shown, l => l.StartsWith("thymio_clip_1.avi", StringComparison.Ordinal));
        Assert.DoesNotContain(shown, l => l.Contains("field-tests", StringComparison.Ordinal));
    }
}
