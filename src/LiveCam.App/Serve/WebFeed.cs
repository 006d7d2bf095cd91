using System.Reactive.Concurrency;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Pipeline.Sinks;
using OpenCvSharp;

namespace LiveCam.App.Serve;

/// <summary>
/// The shown video for browsers, as JPEG pictures. The display thread only copies the newest frame, and only while
/// someone watches; drawing and encoding happen on the thread given, always of the newest frame (older ones are
/// skipped). Each viewer waits for a picture newer than its last, so a slow viewer skips pictures and slows no one.
/// </summary>
internal sealed class WebFeed : IFrameSink
{
    readonly IFramePainter _painter;
    readonly IScheduler _encoder;
    readonly object _gate = new();
    readonly Mat _picture = new();
    Frame? _pendingFrame;     // a handle of it, for the painter
    Analysis? _pendingAnalysis;
    Frame? _lastShown;        // a handle of the frame on screen, for freezing from the page
    bool _encoding, _disposed;
    (byte[] Jpeg, long Sequence) _latest = ([], 0);
    TaskCompletionSource _newer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _viewers;

    public WebFeed(IFramePainter painter, IScheduler encoder)
    {
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
    }

    /// <summary>Viewers connected now.</summary>
    public int Viewers => Volatile.Read(ref _viewers);

    /// <summary>Pictures encoded so far (none while nobody watches).</summary>
    public long Encoded { get { lock (_gate) return _latest.Sequence; } }

    public bool TryAddViewer(int max)
    {
        while (true)
        {
            int now = Volatile.Read(ref _viewers);
            if (now >= max) return false;
            if (Interlocked.CompareExchange(ref _viewers, now + 1, now) == now) return true;
        }
    }

    public void RemoveViewer() => Interlocked.Decrement(ref _viewers);

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var shown = frame.Share();
        lock (_gate)
        {
            if (_disposed) shown.Dispose();
            else (_lastShown, shown) = (shown, _lastShown!);
        }
        shown?.Dispose();
        if (Volatile.Read(ref _viewers) == 0) return;  // nobody watches: nothing drawn or encoded
        var handle = frame.Share();
        Frame? replaced;
        bool schedule;
        lock (_gate)
        {
            if (_disposed)
            {
                handle.Dispose();
                return;
            }
            replaced = _pendingFrame;
            (_pendingFrame, _pendingAnalysis) = (handle, analysis);
            schedule = !_encoding;
            _encoding = true;
        }
        replaced?.Dispose();  // skipped: a newer frame came before the encoder took it
        if (schedule) _encoder.Schedule(EncodeNewest);
    }

    void EncodeNewest()
    {
        while (true)
        {
            Frame? frame;
            Analysis? analysis;
            lock (_gate)
            {
                (frame, analysis) = (_pendingFrame, _pendingAnalysis);
                (_pendingFrame, _pendingAnalysis) = (null, null);
                if (frame is null || _disposed)
                {
                    _encoding = false;
                    frame?.Dispose();
                    return;
                }
            }
            using (frame)
            {
                _painter.Paint(frame, analysis, _picture);
                Cv2.ImEncode(".jpg", _picture, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 80));
                TaskCompletionSource newer;
                lock (_gate)
                {
                    _latest = (jpeg, _latest.Sequence + 1);
                    newer = _newer;
                    _newer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                newer.TrySetResult();
            }
        }
    }

    /// <summary>A handle of the frame shown last (the caller disposes it); null before the first.</summary>
    public Frame? LastShown()
    {
        lock (_gate) return _lastShown?.Share();
    }

    /// <summary>The newest picture after <paramref name="after"/> (its sequence number), waiting for one.</summary>
    public async Task<(byte[] Jpeg, long Sequence)> NextAsync(long after, CancellationToken cancel)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_latest.Sequence > after) return _latest;
                wait = _newer.Task;
            }
            await wait.WaitAsync(cancel).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Frame? pending;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            pending = _pendingFrame;
            _pendingFrame = null;
        }
        pending?.Dispose();
        lock (_gate)
        {
            _lastShown?.Dispose();
            _lastShown = null;
        }
        // The encoder may be drawing into the picture; it is released once that thread is done with it.
        _encoder.Schedule(() => _picture.Dispose());
    }
}
