using LiveCam.Capture.Synthetic;
using System.Diagnostics;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Capture.Tests;

public sealed class CaptureSourceTests : IDisposable
{
    readonly TestMedia _media = new();

    /// <summary>Runs a source to its end and returns what each frame carried.</summary>
    static List<(long Sequence, int Number, TimeSpan Time, int Width)> Drain(CaptureSource source)
    {
        var seen = new List<(long, int, TimeSpan, int)>();
        source.Frames(NewThreadScheduler.Default)
            .Do(f => seen.Add((f.Sequence, TestMedia.ReadNumber(f.Pixels), f.CaptureTime, f.Width)))
            .DefaultIfEmpty()
            .Timeout(TimeSpan.FromSeconds(30))
            .Wait();
        return seen;
    }

    [Fact]
    public void A_video_file_delivers_every_frame_in_order_then_completes()
    {
        var path = _media.WriteVideo("clip.avi", 20);
        using var source = new CaptureSource(
            new VideoCaptureReader(SourceSpec.Parse(path)), new CaptureOptions { PaceFps = 0 });
        var info = source.Open();
        Assert.Equal((64, 48, 20L, false), (info.Width, info.Height, info.FrameCount, info.IsLive));
        Assert.Equal(25, info.Fps, 3);

        var frames = Drain(source);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), frames.Select(f => f.Sequence));
        Assert.Equal(Enumerable.Range(0, 20), frames.Select(f => f.Number));
        Assert.True(
            frames.Zip(frames.Skip(1)).All(p => p.Second.Time >= p.First.Time), "capture times must not go back");
        Assert.Equal(20, source.Stats.Captured);
    }

    [Fact]
    public void A_file_is_paced_at_its_own_rate_by_default()
    {
        var path = _media.WriteVideo("paced.avi", 10, fps: 50);
        using var source = new CaptureSource(new VideoCaptureReader(SourceSpec.Parse(path)));
        Assert.Equal(50, source.PaceFps, 3);
        var watch = Stopwatch.StartNew();
        var frames = Drain(source);
        // 10 frames at 50 fps cannot arrive in less than 9 frame periods.
        Assert.Equal(10, frames.Count);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(170), $"took {watch.Elapsed.TotalMilliseconds} ms");
        var span = frames[^1].Time - frames[0].Time;
        Assert.True(span >= TimeSpan.FromMilliseconds(170), $"frames spanned {span.TotalMilliseconds} ms");
    }

    [Fact]
    public void A_looping_file_starts_again_and_stops_at_the_frame_limit()
    {
        var path = _media.WriteVideo("loop.avi", 7);
        using var source = new CaptureSource(new VideoCaptureReader(SourceSpec.Parse(path)),
            new CaptureOptions { PaceFps = 0, Loop = true, MaxFrames = 16 });
        var frames = Drain(source);
        Assert.Equal(16, frames.Count);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1 }, frames.Select(f => f.Number));
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i), frames.Select(f => f.Sequence));
    }

    [Fact]
    public void An_image_folder_is_read_in_natural_order_and_unreadable_files_are_skipped_and_counted()
    {
        var dir = _media.WriteImages("imgs", 10, 2, 1);
        File.WriteAllBytes(Path.Combine(dir, "img3.png"), [1, 2, 3, 4, 5]);  // corrupt
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image");
        var messages = new List<string>();
        using var source = new CaptureSource(new ImageSequenceReader(SourceSpec.Parse(dir), 10),
            new CaptureOptions { PaceFps = 0, Log = messages.Add });
        Assert.Equal(4, source.Open().FrameCount);

        var frames = Drain(source);
        Assert.Equal(new[] { 1, 2, 10 }, frames.Select(f => f.Number));
        Assert.Equal(1, source.Stats.Corrupt);
        Assert.Contains(messages, m => m.Contains("unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public void A_glob_selects_matching_images_only()
    {
        var dir = _media.WriteImages("glob", 1, 2, 3);
        using (var other = TestMedia.Numbered(9)) Cv2.ImWrite(Path.Combine(dir, "other9.png"), other);
        using var source = new CaptureSource(
            new ImageSequenceReader(SourceSpec.Parse(Path.Combine(dir, "img*.png")), 10),
            new CaptureOptions { PaceFps = 0 });
        Assert.Equal(new[] { 1, 2, 3 }, Drain(source).Select(f => f.Number));
    }

    [Fact]
    public void The_synthetic_source_is_deterministic_through_the_capture_loop()
    {
        static List<double> Means()
        {
            var means = new List<double>();
            using var source = new CaptureSource(
                new SyntheticSceneReader(96, 72, 30, seed: 5), new CaptureOptions { PaceFps = 0, MaxFrames = 12 });
            source.Frames(NewThreadScheduler.Default).Do(f =>
            {
                var m = f.Pixels.Mean();
                means.Add(m.Val0 + 1000 * m.Val1 + 1e6 * m.Val2);
            }).Wait();
            return means;
        }
        Assert.Equal(Means(), Means());
    }

    [Theory]
    [InlineData("missing.mp4", "no such file")]
    [InlineData("garbage.mp4", "cannot open")]
    [InlineData("emptydir", "no images")]
    public void Sources_that_cannot_be_opened_fail_with_one_clear_line(string name, string expected)
    {
        string path = Path.Combine(_media.Folder, name);
        if (name == "garbage.mp4") _media.WriteGarbage(name);
        if (name == "emptydir") Directory.CreateDirectory(path);
        var spec = SourceSpec.Parse(path);
        using var source = new CaptureSource(SourceFactory.CreateReader(spec));
        var e = Assert.Throws<SourceOpenException>(() => source.Open());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_camera_that_does_not_exist_fails_to_open_with_a_clear_error()
    {
        using var source = new CaptureSource(SourceFactory.CreateReader(SourceSpec.Parse("webcam:63")));
        var e = Assert.Throws<SourceOpenException>(() => source.Open());
        Assert.Contains("camera", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_open_failure_reaches_subscribers_as_an_error()
    {
        using var source = new CaptureSource(
            SourceFactory.CreateReader(SourceSpec.Parse(Path.Combine(_media.Folder, "none.avi"))));
        var e = Assert.Throws<SourceOpenException>(() =>
            source.Frames(NewThreadScheduler.Default).Timeout(TimeSpan.FromSeconds(10)).Wait());
        Assert.Contains("no such file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_source_that_drops_mid_stream_reconnects_with_backoff_and_reports_the_gap()
    {
        var reader = new FlakyCamera(framesPerConnection: 5, connections: 3, failedReopens: 2);
        var messages = new List<string>();
        using var source = new CaptureSource(reader, new CaptureOptions
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(5),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(20),
            Log = m => { lock (messages) messages.Add(m); },
        });
        var frames = Drain(source);

        Assert.Equal(15, frames.Count);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => (long)i), frames.Select(f => f.Sequence));
        Assert.Equal(2, source.Stats.Reconnects);
        Assert.True(source.Stats.TotalGap > TimeSpan.Zero);
        Assert.Equal(2 + 2 * 2, reader.OpenAttempts - 1);  // each loss: two failed reopens, then one that works
        Assert.Contains(messages, m => m.Contains("lost; reconnecting", StringComparison.Ordinal));
        Assert.Equal(2, messages.Count(m => m.Contains("reconnected after a gap", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_live_source_that_never_comes_back_ends_in_an_error_after_the_allowed_attempts()
    {
        var reader = new FlakyCamera(framesPerConnection: 3, connections: 2, failedReopens: int.MaxValue);
        using var source = new CaptureSource(reader, new CaptureOptions
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(1),
            MaxReconnectAttempts = 3,
        });
        int frames = 0;
        var e = Assert.Throws<SourceOpenException>(() =>
            source.Frames(NewThreadScheduler.Default).Do(_ => frames++).Timeout(TimeSpan.FromSeconds(10)).Wait());
        Assert.Equal(3, frames);
        Assert.Contains("3 reconnection attempts failed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsubscribing_stops_the_capture_loop_and_releases_every_frame()
    {
        long before = Frame.LivePixelBuffers;
        using (var source = new CaptureSource(
            new SyntheticSceneReader(64, 48, 1000), new CaptureOptions { PaceFps = 0 }))
        {
            using var got = new CountdownEvent(50);
            var subscription = source.Frames(NewThreadScheduler.Default)
                .Subscribe(_ => { if (!got.IsSet) got.Signal(); });
            Assert.True(got.Wait(TimeSpan.FromSeconds(10)));
            subscription.Dispose();
        }  // Dispose waits for the loop to leave
        Assert.Equal(before, Frame.LivePixelBuffers);
    }

    public void Dispose() => _media.Dispose();

    /// <summary>A camera that delivers a few frames per connection, then drops; reopening fails a few times
    /// first.</summary>
    sealed class FlakyCamera(int framesPerConnection, int connections, int failedReopens) : IFrameReader
    {
        int _connections, _inConnection, _failedThisLoss;
        bool _lost;
        public int OpenAttempts { get; private set; }

        public SourceInfo Open()
        {
            OpenAttempts++;
            if (_lost && _failedThisLoss < failedReopens)
            {
                _failedThisLoss++;
                throw new SourceOpenException("camera busy");
            }
            (_lost, _failedThisLoss, _inConnection) = (false, 0, 0);
            _connections++;
            return new SourceInfo("flaky", 32, 24, 30, -1, IsLive: true);
        }

        public ReadStatus Read(out Mat? image)
        {
            image = null;
            if (_lost) return ReadStatus.Lost;
            if (_inConnection == framesPerConnection)
            {
                if (_connections == connections) return ReadStatus.End;
                _lost = true;
                return ReadStatus.Lost;
            }
            image = TestMedia.Numbered(_inConnection++, 32, 24);
            return ReadStatus.Frame;
        }

        public bool Rewind() => false;
        public void Dispose() { }
    }
}
