using LiveCam.Core;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

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
        var analysis = new Analysis(10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), "robot") { Description = "rise, target all outputs" };
        using var late = new Frame(new Mat(240, 320, MatType.CV_8UC3), 100, TimeSpan.FromSeconds(4.2), "synthetic");
        var lines = HudText.Lines(late, analysis, new PipelineMetrics().ReadHudNumbers(), "robot", null);
        var shown = PictureLayout.HudText(lines, 320, 240, GlyphAtlas.Shared);
        Assert.Contains(shown, l => l.StartsWith("rise", StringComparison.Ordinal) && l.Contains("overlay 3.2 s old", StringComparison.Ordinal));

        using var fresh = new Frame(new Mat(240, 320, MatType.CV_8UC3), 11, TimeSpan.FromSeconds(1.04), "synthetic");
        var quick = HudText.Lines(fresh, analysis, new PipelineMetrics().ReadHudNumbers(), "robot", null);
        Assert.DoesNotContain(quick, l => l.Rank == HudText.Explanation && l.Text.Contains("s old", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(320, 240)]
    [InlineData(400, 300)]
    public void On_a_small_clip_the_HUD_keeps_to_its_share_of_the_height_and_to_the_width_with_the_explanation_and_predictions(int width, int height)
    {
        var outputs = new float[325];
        for (int d = 5; d < 65; d++) outputs[d * 5 + 2] = 0.9f;
        var analysis = new Analysis(40, TimeSpan.Zero, TimeSpan.FromMilliseconds(38), "robot")
        {
            Outputs = outputs,
            Description = "guided-gradcam @ encoder.6 (1x64x8x10), target sensor cx, all distances",
        };
        using var frame = new Frame(new Mat(height, width, MatType.CV_8UC3), 42, TimeSpan.Zero, "/home/robot/field-tests/2026-11-20/thymio_clip_1.avi");
        var lines = HudText.Lines(frame, analysis, new PipelineMetrics().ReadHudNumbers(), "robot", Models.Robot.RobotHead.Instance);
        var shown = PictureLayout.HudText(lines, width, height, GlyphAtlas.Shared);
        float scale = PictureLayout.TextScale(width, height);
        Assert.All(shown, l => Assert.True(GlyphAtlas.Shared.TextWidth(l, scale) <= width - 2 * PictureLayout.Margin(scale)));
        Assert.True(shown.Count * GlyphAtlas.Shared.LineHeight(scale) <= height * PictureLayout.HudHeightShare);
        Assert.Contains(shown, l => l.StartsWith("guided-gradcam @ encoder.6", StringComparison.Ordinal));
        // Every sensor's distance in full: the line's prefix goes first.
        Assert.Contains(shown, l => l.Contains("lx free", StringComparison.Ordinal) && l.Contains("cx 5 cm", StringComparison.Ordinal) && l.EndsWith("rx free", StringComparison.Ordinal));
        Assert.Contains(shown, l => l.StartsWith("thymio_clip_1.avi", StringComparison.Ordinal));
        Assert.DoesNotContain(shown, l => l.Contains("field-tests", StringComparison.Ordinal));
    }

    [Fact]
    public void The_key_table_runs_each_keys_action_and_its_rows_are_the_help()
    {
        var pressed = new List<string>();
        var table = new KeyTable([
            KeyTable.Bind("right / left", "method next / previous", (262, () => pressed.Add("next")), (263, () => pressed.Add("previous"))),
            KeyTable.Bind("q", "quit", ('Q', () => pressed.Add("quit"))),
        ]);
        Assert.True(table.Press(263));
        Assert.True(table.Press('Q'));
        Assert.False(table.Press('Z'));
        Assert.Equal(["previous", "quit"], pressed);
        Assert.Equal([new HelpRow("right / left", "method next / previous"), new HelpRow("q", "quit")], table.Help);
        Assert.Throws<ArgumentException>(() => new KeyTable([KeyTable.Bind("a", "x", ('A', () => { })), KeyTable.Bind("also a", "y", ('A', () => { }))]));
    }
}
