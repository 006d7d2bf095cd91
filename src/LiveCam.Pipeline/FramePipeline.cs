using System.Reactive.Concurrency;
using System.Reactive.Linq;
using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Operators;
using LiveCam.Pipeline.Sinks;

namespace LiveCam.Pipeline;

/// <summary>
/// <c>live</c>: the video is shown at the source's rate and the overlay updates as analyses arrive.
/// <c>exact</c>: each shown frame waits for its own analysis and nothing is dropped (recordings, offline work).
/// </summary>
public enum TimingMode { Live, Exact }

/// <summary>The threads the pipeline's stages run on; chosen by the composition root only.</summary>
/// <param name="Display">Runs the sink (the window's thread).</param>
/// <param name="Analysis">Runs the analyser (the thread that owns the torch device).</param>
public sealed record PipelineSchedulers(IScheduler Display, IScheduler Analysis);

/// <summary>
/// The flow: frames -> hub -> display path (every frame it can take) and analysis path (the newest frame
/// when the analyser is free) -> sink. Frames are never queued; what a stage skips is released and counted.
/// </summary>
public static class FramePipeline
{
    /// <summary>Runs until the frames complete, fail, or <paramref name="cancel"/> fires; the sink is disposed
    /// (finalised) on the display scheduler before this returns. Source errors are rethrown.</summary>
    /// <param name="analysed">Told of every analysis as it finishes (a log), on the thread that made it; must return
    /// quickly.</param>
    /// <param name="maxAnalysisFps">At most this many analyses a second (0: as many as the analyser keeps up with):
    /// frames sooner after the last analysed one (in a file's own time, else capture time) are not analysed, and show
    /// the last analysis.</param>
    /// <param name="minAnalysisFps">Live, the floor under the analysis rate (0: none): while fewer analyses a second
    /// finish, the display shows fewer frames (<see cref="AnalysisFloor"/>).</param>
    public static async Task RunAsync(IObservable<Frame> frames, IAnalyser analyser, Func<IFrameSink> createSink,
        PipelineSchedulers schedulers, TimingMode mode, PipelineMetrics metrics, CancellationToken cancel,
        Action<Analysis>? analysed = null,
        double maxAnalysisFps = 0, double minAnalysisFps = 0)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(analyser);
        ArgumentNullException.ThrowIfNull(createSink);
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(metrics);

        ArgumentOutOfRangeException.ThrowIfNegative(maxAnalysisFps);
        ArgumentOutOfRangeException.ThrowIfNegative(minAnalysisFps);
        var due = new AnalysisDue(maxAnalysisFps);
        // The sink lives on the display thread from creation to disposal (windows need that).
        var sink = await OnScheduler(schedulers.Display, createSink).ConfigureAwait(false);
        try
        {
            var run = mode == TimingMode.Live
                ? RunLive(frames, analyser, sink, schedulers, metrics, analysed, due,
                    AnalysisFloor.Under(minAnalysisFps, maxAnalysisFps))
                : RunExact(frames, analyser, sink, schedulers, metrics, analysed, due);
            await WaitOrCancel(run, cancel).ConfigureAwait(false);
        }
        finally
        {
            // An analysis under way when the run stops finishes before this returns: the caller disposes the model
            // next, and a process that exits while libtorch runs on another thread dies in its static destructors.
            try
            {
                await OnScheduler(schedulers.Analysis, () => true).WaitAsync(AnalysisFinishLimit).ConfigureAwait(false);
            }
            catch (TimeoutException) { }  // a wedged analysis must not keep Ctrl+C from ending the run
            await OnScheduler(schedulers.Display, () => { sink.Dispose(); return true; }).ConfigureAwait(false);
        }
    }

    /// <summary>How long a stopping run waits for the analysis under way.</summary>
    public static readonly TimeSpan AnalysisFinishLimit = TimeSpan.FromSeconds(30);

    sealed class Running(Task completion, IDisposable subscriptions)
    {
        public Task Completion => completion;
        public IDisposable Subscriptions => subscriptions;
    }

    /// <summary>When the next analysis may start, for a capped analysis rate (a robot's shared CPU).</summary>
    sealed class AnalysisDue(double maxFps)
    {
        readonly TimeSpan _period = maxFps > 0 ? TimeSpan.FromSeconds(1 / maxFps) : TimeSpan.Zero;
        long _nextTicks = long.MinValue;

        public bool Allows(Frame frame) =>
            _period == TimeSpan.Zero || Time(frame).Ticks >= Interlocked.Read(ref _nextTicks);

        // Counted from the analysed frame's time, so the cap holds whatever the analysis costs: a file's own time (a
        // render analyses the same frames on any machine), else the capture time.
        public void Started(Frame frame) => Interlocked.Exchange(ref _nextTicks, (Time(frame) + _period).Ticks);

        static TimeSpan Time(Frame frame) => frame.MediaTime ?? frame.CaptureTime;
    }

    static Running RunLive(IObservable<Frame> frames, IAnalyser analyser, IFrameSink sink,
        PipelineSchedulers schedulers, PipelineMetrics metrics,
        Action<Analysis>? analysed, AnalysisDue due, AnalysisFloor floor)
    {
        var hub = frames.Publish();
        Analysis? latest = null;

        var analyses = hub
            .Where(frame =>
            {
                if (due.Allows(frame)) return true;
                metrics.OnAnalysisSkipped();
                return false;
            })
            .ObserveLatestFrameOn(schedulers.Analysis, _ => metrics.OnAnalysisSkipped())
            .Do(frame =>
            {
                // Checked again where the analysis starts: a frame may have passed the filter before the last one
                // started.
                if (!due.Allows(frame))
                {
                    metrics.OnAnalysisSkipped();
                    return;
                }
                due.Started(frame);
                var analysis = analyser.Analyse(frame);
                Volatile.Write(ref latest, analysis);
                metrics.OnAnalysed(analysis);
                floor.OnAnalysed(analysis.CompletedAt);
                analysed?.Invoke(analysis);
                (sink as IAnalysisListener)?.OnAnalysis(analysis);
            });
        var shown = hub
            .ObserveLatestFrameOn(schedulers.Display, _ => metrics.OnDisplayDropped())
            .Do(frame =>
            {
                if (!floor.Shows(MonotonicClock.Now))
                {
                    metrics.OnGivenWay();
                    return;
                }
                sink.Show(frame, Volatile.Read(ref latest));
                metrics.OnShown(frame, MonotonicClock.Now);
            });

        var analysisDone = Completion(analyses, out var analysisSubscription);
        var displayDone = Completion(shown, out var displaySubscription);
        var connection = hub.Connect();
        var all = Task.WhenAll(displayDone, analysisDone);
        return new Running(all, new CompositeDisposableList(connection, displaySubscription, analysisSubscription));
    }

    static Running RunExact(IObservable<Frame> frames, IAnalyser analyser, IFrameSink sink,
        PipelineSchedulers schedulers, PipelineMetrics metrics,
        Action<Analysis>? analysed, AnalysisDue due)
    {
        Analysis? latest = null;
        // Handled on the capture thread, which waits for both stages: the source slows down instead of dropping.
        var done = Completion(frames.Do(frame =>
        {
            var analysis = latest;
            if (due.Allows(frame))
            {
                due.Started(frame);
                analysis = latest = Invoke(schedulers.Analysis, () => analyser.Analyse(frame));
                metrics.OnAnalysed(analysis);
                analysed?.Invoke(analysis);
            }
            else metrics.OnAnalysisSkipped();
            Invoke(schedulers.Display, () => { sink.Show(frame, analysis); return true; });
            metrics.OnShown(frame, MonotonicClock.Now);
        }), out var subscription);
        return new Running(done, subscription);
    }

    static Task Completion<T>(IObservable<T> stream, out IDisposable subscription)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscription = stream.Subscribe(_ => { }, e => done.TrySetException(e), () => done.TrySetResult());
        return done.Task;
    }

    static async Task WaitOrCancel(Running run, CancellationToken cancel)
    {
        try
        {
            var cancelled = Task.Delay(Timeout.Infinite, cancel);
            await Task.WhenAny(run.Completion, cancelled).ConfigureAwait(false);
        }
        finally
        {
            run.Subscriptions.Dispose();
        }
        if (run.Completion.IsCompleted) await run.Completion.ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> on <paramref name="scheduler"/> and blocks until it is done.</summary>
    static T Invoke<T>(IScheduler scheduler, Func<T> work) => OnScheduler(scheduler, work).GetAwaiter().GetResult();

    static Task<T> OnScheduler<T>(IScheduler scheduler, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Schedule(() =>
        {
            try { done.SetResult(work()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    sealed class CompositeDisposableList(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }
}
