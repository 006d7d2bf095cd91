namespace LiveCam.Capture;

/// <summary>How a <see cref="CaptureSource"/> delivers frames.</summary>
public sealed record CaptureOptions
{
    /// <summary>Frames per second for files, image lists and the synthetic scene: null = the source's own
    /// rate (or <see cref="DefaultImageFps"/> for images), 0 = as fast as possible (offline work).
    /// Live sources (cameras, streams) are paced by the device.</summary>
    public double? PaceFps { get; init; }

    public const double DefaultImageFps = 10;

    /// <summary>Start again at the end of a file or image list instead of completing.</summary>
    public bool Loop { get; init; }

    /// <summary>Stop after this many frames (0: no limit).</summary>
    public long MaxFrames { get; init; }

    /// <summary>Delay before the first reconnection attempt of a lost live source; doubles up to
    /// <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Give up after this many failed reconnection attempts in a row (0: never).</summary>
    public int MaxReconnectAttempts { get; init; }

    /// <summary>Where the capture reports events a user should see (source lost, reconnected, corrupt frames).
    /// </summary>
    public Action<string>? Log { get; init; }
}

/// <summary>Counters a capture loop updates; safe to read from any thread.</summary>
public sealed class CaptureStats
{
    long _captured, _corrupt, _reconnects, _gapTicks;

    public long Captured => Interlocked.Read(ref _captured);
    /// <summary>Frames that could not be decoded and were skipped.</summary>
    public long Corrupt => Interlocked.Read(ref _corrupt);
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>Total time the source was lost before it came back.</summary>
    public TimeSpan TotalGap => TimeSpan.FromTicks(Interlocked.Read(ref _gapTicks));

    internal void OnCaptured() => Interlocked.Increment(ref _captured);
    internal void OnCorrupt() => Interlocked.Increment(ref _corrupt);
    internal void OnReconnected(TimeSpan gap)
    {
        Interlocked.Increment(ref _reconnects);
        Interlocked.Add(ref _gapTicks, gap.Ticks);
    }
}
