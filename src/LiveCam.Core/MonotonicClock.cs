using System.Diagnostics;

namespace LiveCam.Core;

/// <summary>The one clock frames and latencies are measured on: monotonic, unaffected by wall-clock changes.</summary>
public static class MonotonicClock
{
    static readonly long s_origin = Stopwatch.GetTimestamp();

    /// <summary>Time since the process's first use of the clock.</summary>
    public static TimeSpan Now => Stopwatch.GetElapsedTime(s_origin);
}
