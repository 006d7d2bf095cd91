using System.Globalization;
using System.Reactive.Concurrency;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>
/// Turns an <see cref="IFrameReader"/> into an <see cref="IObservable{Frame}"/> driven by a capture loop
/// on a long-running thread of the given scheduler. Nothing downstream can block the loop for long unless
/// it chooses to handle frames on the capture thread; slow consumers take the latest frame on their own thread.
/// </summary>
/// <remarks>Each emitted <see cref="Frame"/> is disposed by the loop after <c>OnNext</c> returns (see
/// <see cref="Frame"/>). One subscription at a time: share it with <c>Publish</c>.</remarks>
public sealed class CaptureSource : IDisposable
{
    readonly IFrameReader _reader;
    readonly CaptureOptions _options;
    readonly ManualResetEventSlim _loopIdle = new(initialState: true);
    SourceInfo? _info;
    int _subscribed;
    bool _disposed;

    public CaptureSource(IFrameReader reader, CaptureOptions? options = null)
    {
        _reader = reader ?? throw new ArgumentNullException(nameof(reader));
        _options = options ?? new CaptureOptions();
    }

    public CaptureStats Stats { get; } = new();

    /// <summary>What the source delivers; opens it if it is not open yet.</summary>
    public SourceInfo Info => _info ??= _reader.Open();

    /// <summary>Opens the source now, so a source that cannot be opened fails before anything starts.</summary>
    public SourceInfo Open() => Info;

    /// <summary>The frame rate frames are paced at (0: unpaced).</summary>
    public double PaceFps =>
        Info.IsLive ? 0 : _options.PaceFps ?? (Info.Fps > 0 ? Info.Fps : CaptureOptions.DefaultImageFps);

    /// <summary>The frames; the capture loop starts on subscription and stops on disposal.</summary>
    public IObservable<Frame> Frames(IScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        return Observable.Create<Frame>(observer =>
        {
            if (Interlocked.Exchange(ref _subscribed, 1) != 0)
            {
                observer.OnError(new InvalidOperationException(
                    "a CaptureSource has one subscriber at a time; share it with Publish()"));
                return Disposable.Empty;
            }
            var stop = new CancellationTokenSource();
            _loopIdle.Reset();
            void Run()
            {
                try { Loop(observer, stop.Token); }
                finally
                {
                    Volatile.Write(ref _subscribed, 0);
                    _loopIdle.Set();
                }
            }
            if (scheduler.AsLongRunning() is { } longRunning) longRunning.ScheduleLongRunning(_ => Run());
            else scheduler.Schedule(Run);
            return Disposable.Create(stop.Cancel);
        });
    }

    void Loop(IObserver<Frame> observer, CancellationToken stop)
    {
        SourceInfo info;
        try { info = Info; }
        catch (SourceOpenException e)
        {
            observer.OnError(e);
            return;
        }
        double pace = PaceFps;
        long emitted = 0;
        var period = pace > 0 ? TimeSpan.FromSeconds(1 / pace) : TimeSpan.Zero;
        TimeSpan? due = null;  // when the next frame is due, on the schedule set by the first one
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (_options.MaxFrames > 0 && emitted >= _options.MaxFrames) break;
                if (due is { } d)
                {
                    var wait = d - MonotonicClock.Now;
                    // Whole milliseconds, rounded up: a wait never ends before the frame is due.
                    if (wait > TimeSpan.Zero
                        && stop.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds))))
                        break;
                }
                var status = _reader.Read(out var image);
                switch (status)
                {
                    case ReadStatus.Frame:
                        var captured = MonotonicClock.Now;
                        // A file's (or image list's) own clock: its frame number over its rate.
                        TimeSpan? media = !info.IsLive && info.Fps > 0
                            ? TimeSpan.FromSeconds(emitted / info.Fps)
                            : null;
                        var frame = new Frame(image!, emitted++, captured, info.Name, media);
                        Stats.OnCaptured();
                        // Keep the schedule; after a stall of more than a period, start it afresh instead of bursting.
                        if (period > TimeSpan.Zero)
                            due = due is { } last && captured - last < period ? last + period : captured + period;
                        try { observer.OnNext(frame); }
                        finally { frame.Dispose(); }
                        break;
                    case ReadStatus.Corrupt:
                        Stats.OnCorrupt();
                        _options.Log?.Invoke($"{info.Name}: skipped an unreadable frame ({Stats.Corrupt} so far)");
                        break;
                    case ReadStatus.End:
                        if (_options.Loop && _reader.Rewind()) continue;
                        observer.OnCompleted();
                        return;
                    case ReadStatus.Lost:
                        if (!Reconnect(info, stop)) 
                        {
                            if (!stop.IsCancellationRequested)
                                observer.OnError(new SourceOpenException($"{info.Name}: lost, and " +
                                    $"{_options.MaxReconnectAttempts} reconnection attempts failed"));
                            return;
                        }
                        due = null;
                        break;
                }
            }
            observer.OnCompleted();
        }
        catch (Exception e) when (e is OpenCVException or SourceOpenException)
        {
            observer.OnError(e);
        }
    }

    /// <summary>Reopens a lost live source with exponential backoff; false when stopped or out of attempts.</summary>
    bool Reconnect(SourceInfo info, CancellationToken stop)
    {
        var lostAt = MonotonicClock.Now;
        var delay = _options.ReconnectDelay;
        for (int attempt = 1; _options.MaxReconnectAttempts == 0 || attempt <= _options.MaxReconnectAttempts; attempt++)
        {
            _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"{info.Name}: lost; reconnecting in {delay.TotalSeconds:0.##} s (attempt {attempt})"));
            if (stop.WaitHandle.WaitOne(delay)) return false;
            try
            {
                _info = _reader.Open();
                var gap = MonotonicClock.Now - lostAt;
                Stats.OnReconnected(gap);
                _options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"{info.Name}: reconnected after a gap of {gap.TotalSeconds:0.00} s"));
                return true;
            }
            catch (SourceOpenException)
            {
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
            }
        }
        return false;
    }

    /// <summary>Stops waiting for the capture loop (it is told to stop by unsubscribing) and releases the source.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // The loop may be inside a native read; release the reader only once it has left.
        if (!_loopIdle.Wait(TimeSpan.FromSeconds(10)))
            _options.Log?.Invoke($"{_info?.Name ?? "source"}: the capture thread did not stop within 10 s");
        else
            _reader.Dispose();
        _loopIdle.Dispose();
    }
}
