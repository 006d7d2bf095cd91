using LiveCam.Core;
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
}
