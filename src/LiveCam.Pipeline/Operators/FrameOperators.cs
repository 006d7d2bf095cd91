using System.Reactive.Concurrency;
using LiveCam.Core;

namespace LiveCam.Pipeline.Operators;

public static class FrameOperators
{
    /// <summary>The newest frame, on <paramref name="scheduler"/>, when its consumer is free; replaced frames are
    /// released and counted.</summary>
    public static IObservable<Frame> ObserveLatestFrameOn(
        this IObservable<Frame> frames, IScheduler scheduler, Action<Frame>? dropped = null) =>
        frames.ObserveLatestOn(scheduler, f => f.Share(), f => f.Dispose(), dropped);
}
