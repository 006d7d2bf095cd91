using System.Diagnostics;
using LiveCam.Core;

namespace LiveCam.App.Commands.Bench;

/// <summary>Timing for the bench commands: a short warm-up, then the median and p95 of the runs.</summary>
internal static class BenchTiming
{
    public static (double Median, double P95) Measure(int runs, Action<long> work, int warmUp = 10)
    {
        ArgumentNullException.ThrowIfNull(work);
        for (int i = 0; i < Math.Min(warmUp, runs); i++) work(i);
        var stats = new LatencyStats(runs);
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            work(i);
            stats.Add(Stopwatch.GetElapsedTime(start));
        }
        return (stats.MedianMs, stats.PercentileMs(95));
    }
}
