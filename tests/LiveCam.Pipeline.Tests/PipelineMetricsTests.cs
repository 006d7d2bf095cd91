using LiveCam.Core;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

public sealed class PipelineMetricsTests
{
    [Fact]
    public void The_display_rate_counts_the_time_frames_were_shown_not_the_wait_for_a_slow_methods_last_analysis()
    {
        var metrics = new PipelineMetrics();
        using var pixels = new Mat(2, 2, MatType.CV_8UC3);
        for (int i = 0; i <= 300; i++)
        {
            using var frame = new Frame(pixels.Clone(), i, TimeSpan.FromSeconds(5 + i / 30.0), "test");
            metrics.OnShown(frame, TimeSpan.FromSeconds(5 + i / 30.0));
        }
        Assert.Equal(30, metrics.DisplayFps, 6);
        // The run lasted 25 s: the video (10 s) and then the wait for a Score-CAM still running.
        var summary = metrics.Summary(301, 0, 0, TimeSpan.FromSeconds(25));
        Assert.Contains("run time 25.0 s, display 30.0 fps", summary, StringComparison.Ordinal);
        Assert.Contains("(video shown over 10.0 s)", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void The_HUDs_numbers_are_the_rates_the_last_capture_to_screen_time_and_the_drops_of_that_moment()
    {
        var metrics = new PipelineMetrics();
        Assert.Equal(HudNumbers.None, metrics.ReadHudNumbers(TimeSpan.FromSeconds(1)));
        using var pixels = new Mat(2, 2, MatType.CV_8UC3);
        for (int i = 0; i < 30; i++)
        {
            using var frame = new Frame(pixels.Clone(), i, TimeSpan.FromSeconds(i / 30.0), "test");
            metrics.OnShown(frame, TimeSpan.FromSeconds(i / 30.0) + TimeSpan.FromMilliseconds(40));
        }
        metrics.OnDisplayDropped();
        var now = TimeSpan.FromSeconds(29 / 30.0) + TimeSpan.FromMilliseconds(40);
        var numbers = metrics.ReadHudNumbers(now);
        Assert.Equal(metrics.DisplayRate.PerSecond(now), numbers.DisplayFps);
        Assert.Equal(30, numbers.DisplayFps, 3);
        Assert.Equal(0, numbers.AnalysisFps);
        Assert.Equal(40, numbers.ShownAfterCaptureMs, 3);
        Assert.Equal(1, numbers.DisplayDropped);
    }

    [Fact]
    public void The_summary_counts_the_frames_the_display_gave_the_analysis_apart_from_its_drops()
    {
        var metrics = new PipelineMetrics();
        Assert.DoesNotContain("give the analysis", metrics.Summary(10, 0, 0, TimeSpan.FromSeconds(1)),
            StringComparison.Ordinal);
        metrics.OnDisplayDropped();
        for (int i = 0; i < 3; i++) metrics.OnGivenWay();
        Assert.Equal(3, metrics.GivenWay);
        Assert.Contains("1 dropped, 3 not shown to give the analysis the CPU",
            metrics.Summary(10, 0, 0, TimeSpan.FromSeconds(1)), StringComparison.Ordinal);
    }
}
