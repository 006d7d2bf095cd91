using System.Reactive.Linq;
using LiveCam.Core;

namespace LiveCam.Pipeline.Operators;

/// <summary>
/// Freeze frame: while frozen, every frame from the source is replaced by the frozen picture under the new
/// frame's number and time. The analysis keeps running on the frozen picture, so changing the method, layer or
/// target while frozen explains the same image again. Freeze and thaw from any thread.
/// </summary>
public sealed class FreezeGate : IDisposable
{
    readonly object _gate = new();
    Frame? _held;

    public bool IsFrozen
    {
        get { lock (_gate) return _held is not null; }
    }

    /// <summary>Freezes on <paramref name="frame"/> (the one on screen); the gate takes its own handle.</summary>
    public void Freeze(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var handle = frame.Share();
        Frame? old;
        lock (_gate)
        {
            old = _held;
            _held = handle;
        }
        old?.Dispose();
    }

    public void Thaw()
    {
        Frame? old;
        lock (_gate)
        {
            old = _held;
            _held = null;
        }
        old?.Dispose();
    }

    /// <summary>The source's frames, or the frozen picture in their place.</summary>
    public IObservable<Frame> Apply(IObservable<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return Observable.Create<Frame>(observer => frames.Subscribe(
            frame =>
            {
                Frame? standIn;
                lock (_gate) standIn = _held?.Reissue(frame.Sequence, frame.CaptureTime, frame.MediaTime);
                if (standIn is null)
                {
                    observer.OnNext(frame);
                    return;
                }
                // This operator emits the stand-in, so it disposes it (the source disposes the original).
                using (standIn) observer.OnNext(standIn);
            },
            observer.OnError,
            observer.OnCompleted));
    }

    public void Dispose() => Thaw();
}
