using LiveCam.Capture.Synthetic;
using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using LiveCam.Capture;
using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Sinks;
using OpenCvSharp;
using Xunit.Abstractions;

namespace LiveCam.Pipeline.Tests;

public sealed class FramePipelineTests(ITestOutputHelper output) : IDisposable
{
    readonly EventLoopScheduler _display = new();
    readonly EventLoopScheduler _analysis = new();
    PipelineSchedulers Schedulers => new(_display, _analysis);

    /// <summary>A sink that records what it was shown and can be made slow.</summary>
    sealed class RecordingSink(TimeSpan delay) : IFrameSink
    {
        public ConcurrentQueue<(long Frame, long? Analysis)> Shown { get; } = new();
        /// <summary>Called after each frame shown, with the count so far.</summary>
        public Action<int>? AfterShow;
        public long PeakLiveBuffers;
        public bool Disposed;
        public int DisposeThread;

        public void Show(Frame frame, Analysis? analysis)
        {
            Assert.False(Disposed);
            Shown.Enqueue((frame.Sequence, analysis?.FrameSequence));
            PeakLiveBuffers = Math.Max(PeakLiveBuffers, Frame.LivePixelBuffers);
            if (delay > TimeSpan.Zero) Thread.Sleep(delay);
            AfterShow?.Invoke(Shown.Count);
        }

        public void Dispose()
        {
            Disposed = true;
            DisposeThread = Environment.CurrentManagedThreadId;
        }
    }

    sealed class SlowAnalyser(TimeSpan delay) : IAnalyser
    {
        readonly PassThroughAnalyser _inner = new();
        public string Name => "slow";
        public int Thread;

        public Analysis Analyse(Frame frame)
        {
            Thread = Environment.CurrentManagedThreadId;
            System.Threading.Thread.Sleep(delay);
            return _inner.Analyse(frame);
        }
    }

    static CaptureSource Synthetic(long frames, double paceFps = 0) =>
        new(new SyntheticSceneReader(64, 48, 30, seed: 1),
            new CaptureOptions { PaceFps = paceFps, MaxFrames = frames });

    [Fact]
    public async Task A_fast_source_into_slow_stages_drops_instead_of_queueing_memory_stays_flat_and_counts_are_exact()
    {
        // A first, short run makes what any run makes once (threads, Rx's and the thread pool's caches), so that what
        // is measured after is what grows with the frames.
        using (var warmUp = Synthetic(200))
            await FramePipeline.RunAsync(warmUp.Frames(NewThreadScheduler.Default),
                    new SlowAnalyser(TimeSpan.FromMilliseconds(3)),
                    () => new RecordingSink(TimeSpan.FromMilliseconds(1)),
                    Schedulers, TimingMode.Live, new PipelineMetrics(), CancellationToken.None)
                .WaitAsync(TimeSpan.FromMinutes(2));
        long buffersBefore = Frame.LivePixelBuffers;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);

        using var source = Synthetic(4000);
        var sink = new RecordingSink(TimeSpan.FromMilliseconds(1));
        var analyser = new SlowAnalyser(TimeSpan.FromMilliseconds(3));
        var metrics = new PipelineMetrics();
        await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), analyser, () => sink, Schedulers,
                TimingMode.Live, metrics, CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(2));

        long captured = source.Stats.Captured;
        Assert.Equal(4000, captured);
        Assert.True(metrics.DisplayDropped > 0, "the sink was slow; some frames should have been dropped");
        Assert.Equal(captured, metrics.Shown + metrics.DisplayDropped);
        Assert.Equal(captured, metrics.Analysed + metrics.AnalysisSkipped);
        Assert.Equal(metrics.Shown, sink.Shown.Count);
        // At most: one being captured, one in each stage and one waiting in each slot.
        Assert.InRange(sink.PeakLiveBuffers - buffersBefore, 1, 5);
        Assert.Equal(buffersBefore, Frame.LivePixelBuffers);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long grown = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        output.WriteLine($"managed memory grew {grown >> 10} KB over 4000 frames");
        Assert.InRange(grown, long.MinValue, 4 << 20);
    }

    /// <summary>An analyser that says whether it is inside an analysis.</summary>
    sealed class BusyAnalyser(TimeSpan delay) : IAnalyser
    {
        readonly PassThroughAnalyser _inner = new();
        public volatile bool Busy;
        public volatile int Started;
        public string Name => "busy";

        public Analysis Analyse(Frame frame)
        {
            Busy = true;
            Started++;
            System.Threading.Thread.Sleep(delay);
            var analysis = _inner.Analyse(frame);
            Busy = false;
            return analysis;
        }
    }

    [Theory]
    [InlineData(TimingMode.Live)]
    [InlineData(TimingMode.Exact)]
    public async Task A_run_stopped_during_an_analysis_returns_only_after_it_finished(TimingMode mode)
    {
        // The caller disposes the model once the run returns; an analysis still running would use it freed (the
        // SIGSEGV at the end of a live teach run whose analysis was slow).
        using var source = Synthetic(100_000, paceFps: 30);
        var analyser = new BusyAnalyser(TimeSpan.FromMilliseconds(1500));
        using var stop = new CancellationTokenSource();
        var run = FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), analyser,
            () => new RecordingSink(TimeSpan.Zero), Schedulers, mode, new PipelineMetrics(), stop.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!analyser.Busy && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.True(analyser.Busy, "no analysis started");
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.False(analyser.Busy, "the run returned while an analysis was still running");
    }

    [Fact]
    public async Task Live_mode_shows_frames_in_order_with_analyses_of_frames_already_captured()
    {
        using var source = Synthetic(300);
        var sink = new RecordingSink(TimeSpan.Zero);
        var analyser = new SlowAnalyser(TimeSpan.FromMilliseconds(2));
        await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), analyser, () => sink, Schedulers,
                TimingMode.Live, new PipelineMetrics(), CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(1));
        var shown = sink.Shown.ToArray();
        Assert.Equal(shown.Select(s => s.Frame).OrderBy(s => s), shown.Select(s => s.Frame));
        Assert.All(shown, s => Assert.True(s.Analysis is null || s.Analysis <= s.Frame,
            $"frame {s.Frame} shown with analysis of {s.Analysis}"));
        Assert.Contains(shown, s => s.Analysis is not null);
    }

    [Fact]
    public async Task Exact_mode_analyses_and_shows_every_frame_with_its_own_analysis()
    {
        using var source = Synthetic(120);
        var sink = new RecordingSink(TimeSpan.FromMilliseconds(1));
        var metrics = new PipelineMetrics();
        await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default),
                new SlowAnalyser(TimeSpan.FromMilliseconds(2)), () => sink, Schedulers, TimingMode.Exact, metrics,
                CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(Enumerable.Range(0, 120).Select(i => ((long)i, (long?)i)), sink.Shown);
        Assert.Equal((120L, 120L, 0L), (metrics.Shown, metrics.Analysed, metrics.DisplayDropped));
    }

    /// <summary>Frames captured every <paramref name="spacing"/>, by their capture times (disposed after each is handed
    /// on).</summary>
    static IObservable<Frame> Timed(int count, TimeSpan spacing) =>
        System.Reactive.Linq.Observable.Create<Frame>(observer =>
    {
        for (int i = 0; i < count; i++)
        {
            using var frame = new Frame(new Mat(8, 8, MatType.CV_8UC3, Scalar.Gray), i, spacing * i, "timed");
            observer.OnNext(frame);
        }
        observer.OnCompleted();
        return System.Reactive.Disposables.Disposable.Empty;
    });

    [Fact]
    public async Task
    A_capped_analysis_rate_analyses_one_frame_per_period_of_capture_time_and_shows_the_rest_with_the_last()
    {
        var sink = new RecordingSink(TimeSpan.Zero);
        var metrics = new PipelineMetrics();
        await FramePipeline.RunAsync(Timed(100, TimeSpan.FromMilliseconds(10)), new SlowAnalyser(TimeSpan.Zero),
            () => sink, Schedulers, TimingMode.Exact, metrics, CancellationToken.None, maxAnalysisFps: 20)
            .WaitAsync(TimeSpan.FromMinutes(1));
        // 20 a second of frames 10 ms apart: every fifth.
        Assert.Equal(Enumerable.Range(0, 100).Select(i => ((long)i, (long?)(i / 5 * 5))), sink.Shown);
        Assert.Equal((100L, 20L, 80L), (metrics.Shown, metrics.Analysed, metrics.AnalysisSkipped));
    }

    [Fact]
    public async Task Live_a_capped_analysis_rate_never_analyses_two_frames_closer_than_its_period()
    {
        var sink = new RecordingSink(TimeSpan.Zero);
        var analysed = new ConcurrentQueue<Analysis>();
        var metrics = new PipelineMetrics();
        await FramePipeline.RunAsync(Timed(200, TimeSpan.FromMilliseconds(10)), new SlowAnalyser(TimeSpan.Zero),
            () => sink, Schedulers, TimingMode.Live, metrics, CancellationToken.None, analysed.Enqueue,
            maxAnalysisFps: 10)
            .WaitAsync(TimeSpan.FromMinutes(1));
        var times = analysed.Select(a => a.FrameCaptureTime).ToList();
        Assert.InRange(times.Count, 1, 20);
        Assert.All(times.Zip(times.Skip(1)), p =>
            Assert.True(p.Second - p.First >= TimeSpan.FromMilliseconds(100), $"{p.First} then {p.Second}"));
    }

    [Fact]
    public async Task
    Stages_run_on_the_schedulers_the_composition_root_gave_and_the_sink_is_finalised_on_the_display_thread()
    {
        int displayThread = 0, analysisThread = 0;
        _display.Schedule(() => displayThread = Environment.CurrentManagedThreadId);
        _analysis.Schedule(() => analysisThread = Environment.CurrentManagedThreadId);
        using var source = Synthetic(30);
        var sink = new RecordingSink(TimeSpan.Zero);
        var analyser = new SlowAnalyser(TimeSpan.Zero);
        await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), analyser, () => sink, Schedulers,
                TimingMode.Live, new PipelineMetrics(), CancellationToken.None)
            .WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(sink.Disposed);
        Assert.Equal(displayThread, sink.DisposeThread);
        Assert.Equal(analysisThread, analyser.Thread);
    }

    [Fact]
    public async Task Cancelling_stops_the_run_finalises_the_sink_and_releases_every_frame()
    {
        long before = Frame.LivePixelBuffers;
        var sink = new RecordingSink(TimeSpan.FromMilliseconds(2));
        using (var source = Synthetic(0, paceFps: 200))
        {
            // Cancelled once frames flow, however long a busy machine takes to start the source.
            using var cancel = new CancellationTokenSource();
            sink.AfterShow = shown => { if (shown == 20) cancel.CancelAfter(TimeSpan.FromMilliseconds(50)); };
            await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), new PassThroughAnalyser(),
                    () => sink, Schedulers, TimingMode.Live, new PipelineMetrics(), cancel.Token)
                .WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(cancel.IsCancellationRequested);
        }
        Assert.True(sink.Disposed);
        Assert.NotEmpty(sink.Shown);
        Assert.Equal(before, Frame.LivePixelBuffers);
    }

    [Fact]
    public async Task A_source_that_cannot_be_opened_fails_the_run_with_its_error()
    {
        var sink = new RecordingSink(TimeSpan.Zero);
        using var source = new CaptureSource(SourceFactory.CreateReader(SourceSpec.Parse("/nonexistent/clip.mp4")));
        await Assert.ThrowsAsync<SourceOpenException>(() => FramePipeline.RunAsync(
                source.Frames(NewThreadScheduler.Default), new PassThroughAnalyser(), () => sink, Schedulers,
                TimingMode.Live, new PipelineMetrics(), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(sink.Disposed);
    }

    [Fact]
    public async Task The_video_sink_writes_a_file_that_reads_back_with_every_frame()
    {
        var dir = Directory.CreateTempSubdirectory("livecam-sink-").FullName;
        try
        {
            var path = Path.Combine(dir, "out.mp4");
            using (var source = Synthetic(25))
            {
                var metrics = new PipelineMetrics();
                using var renderer = new Rendering.CpuPictureRenderer();
                await FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), new PassThroughAnalyser(),
                    () => new VideoFileSink(path, 64, 48, 25,
                        new Drawing.FramePainter(renderer, new Drawing.PictureComposer(metrics, () => "test"))),
                    Schedulers, TimingMode.Exact, metrics, CancellationToken.None)
                    .WaitAsync(TimeSpan.FromMinutes(1));
            }
            using var capture = new VideoCapture(path);
            Assert.True(capture.IsOpened());
            Assert.Equal((64, 48), (
                (int)capture.Get(VideoCaptureProperties.FrameWidth),
                (int)capture.Get(VideoCaptureProperties.FrameHeight)));
            int frames = 0;
            using var image = new Mat();
            while (capture.Read(image) && !image.Empty()) frames++;
            Assert.Equal(25, frames);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("/nonexistent-folder/out.mp4", "does not exist")]
    [InlineData("out.xyz", "unknown video type")]
    public void A_video_sink_that_cannot_write_says_why(string path, string expected)
    {
        using var renderer = new Rendering.CpuPictureRenderer();
        var e = Assert.Throws<SinkException>(() => new VideoFileSink(path, 64, 48, 25,
            new Drawing.FramePainter(renderer, new Drawing.PictureComposer(new PipelineMetrics(), () => "test"))));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recording_stopped_before_its_first_frame_leaves_no_unplayable_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"livecam-empty-{Guid.NewGuid():N}.mp4");
        using var renderer = new Rendering.CpuPictureRenderer();
        var sink = new VideoFileSink(path, 64, 48, 25,
            new Drawing.FramePainter(renderer, new Drawing.PictureComposer(new PipelineMetrics(), () => "test")));
        // Opened at once (so a bad path fails before the run), under its partial name until it is complete.
        Assert.True(File.Exists(sink.PartialPath));
        Assert.False(File.Exists(path));
        sink.Dispose();
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(sink.PartialPath));
    }

    public void Dispose()
    {
        _display.Dispose();
        _analysis.Dispose();
    }
}
