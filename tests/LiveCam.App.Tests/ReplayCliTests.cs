namespace LiveCam.App.Tests;

/// <summary><c>run --record</c> then <c>replay</c>, as a user runs them.</summary>
public sealed class ReplayCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-replay-").FullName;

    [Fact]
    public void A_recording_replays_frame_by_frame_beside_its_log_from_any_moment()
    {
        var rec = Path.Combine(_dir, "rec");
        var (code, output, error) = CliRunner.Invoke("run", "--source", "synthetic:160x120@30", "--headless",
            "--timing", "exact", "--record", rec, "--segment-seconds", "1", "--frames", "75");
        Assert.True(code == 0, error);
        Assert.Contains("recorded 3 segment(s)", output, StringComparison.Ordinal);

        var all = Path.Combine(_dir, "all") + "/";
        (code, output, error) = CliRunner.Invoke("replay", rec, "--out", all);
        Assert.True(code == 0, error);
        Assert.Contains("replay: 3 segment(s), 75 frames at 30 fps, 75 log lines", output, StringComparison.Ordinal);
        var pictures = Directory.GetFiles(all, "*.png").Order().ToList();
        Assert.Equal(75, pictures.Count);
        using (var first = OpenCvSharp.Cv2.ImRead(pictures[0]))
            Assert.Equal((320, 120), (first.Width, first.Height));  // the frame and the log's panel beside it

        var later = Path.Combine(_dir, "later") + "/";
        (code, output, error) = CliRunner.Invoke("replay", rec, "--at", "1.5", "--frames", "4", "--out", later);
        Assert.True(code == 0, error);
        Assert.Equal(["frame-000045.png", "frame-000046.png", "frame-000047.png", "frame-000048.png"],
            Directory.GetFiles(later).Select(f => Path.GetFileName(f)!).Order().ToArray());
    }

    [Theory]
    [InlineData("no-such-folder", null, "is not a recording")]
    [InlineData("rec", "99", "the recording lasts")]
    [InlineData("rec", "tomorrow", "expected seconds")]
    public void Bad_input_is_one_line_and_a_non_zero_exit(string folder, string? at, string message)
    {
        if (folder == "rec")
        {
            var (c, _, e) = CliRunner.Invoke("run", "--source", "synthetic:160x120@30", "--headless",
                "--record", Path.Combine(_dir, "rec"), "--frames", "10", "--model", "none");
            Assert.True(c == 0, e);
        }
        string[] args = at is null
            ? ["replay", Path.Combine(_dir, folder), "--out", _dir + "/x/"]
            : ["replay", Path.Combine(_dir, folder), "--at", at, "--out", _dir + "/x/"];
        var (code, _, error) = CliRunner.Invoke(args);
        Assert.NotEqual(0, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary><c>render</c>, <c>--analysis-fps</c> and <c>--threads</c> as a user runs them.</summary>
public sealed class RenderCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-render-").FullName;

    [Fact]
    public void Render_analyses_and_writes_every_frame()
    {
        var video = Path.Combine(_dir, "out.mp4");
        var (code, output, error) = CliRunner.Invoke("render", "synthetic:160x120@30", "--frames", "40", "--out", video,
            "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("frames: 40 captured, 40 shown, 40 analysed, 0 dropped", output, StringComparison.Ordinal);
        Assert.Contains("(1 thread)", output, StringComparison.Ordinal);
        using var capture = new OpenCvSharp.VideoCapture(video);
        Assert.Equal(40, (int)capture.Get(OpenCvSharp.VideoCaptureProperties.FrameCount));
    }

    [Fact]
    public void Render_with_a_capped_analysis_rate_shows_every_frame_and_analyses_one_per_period_of_video_time()
    {
        var folder = Path.Combine(_dir, "pngs") + "/";
        // 60 frames of a 30 fps source are two seconds of video, however fast the machine renders them: at 5 a second,
        // every sixth frame is analysed.
        var (code, output, error) = CliRunner.Invoke("render", "synthetic:160x120@30", "--frames", "60",
            "--out", folder, "--analysis-fps", "5");
        Assert.True(code == 0, error);
        Assert.Contains("at most 5 a second", output, StringComparison.Ordinal);
        Assert.Contains("frames: 60 captured, 60 shown, 10 analysed", output, StringComparison.Ordinal);
        Assert.Equal(60, Directory.GetFiles(folder, "*.png").Length);
    }

    [Theory]
    [InlineData(new[] { "render", "synthetic" }, "render needs --out FILE or --record DIR")]
    [InlineData(new[] { "render", "synthetic", "--out", "x.mp4", "--analysis-fps", "-1" }, "--analysis-fps must be")]
    [InlineData(new[] { "run", "--threads", "-2" }, "--threads must be")]
    public void Bad_options_are_one_line(string[] args, string message)
    {
        var (code, _, error) = CliRunner.Invoke(args);
        Assert.NotEqual(0, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
