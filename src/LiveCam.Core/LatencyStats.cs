namespace LiveCam.Core;

/// <summary>Median and percentiles of a stream of durations, in bounded memory (a seeded reservoir sample).</summary>
public sealed class LatencyStats
{
    readonly object _gate = new();
    readonly double[] _samples;
    readonly Random _random = new(12345);
    int _stored;

    public LatencyStats(int capacity = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _samples = new double[capacity];
    }

    /// <summary>How many durations were recorded (not only those kept).</summary>
    public long Count { get; private set; }

    /// <summary>The most recent duration in milliseconds; NaN when empty.</summary>
    public double LastMs
    {
        get { lock (_gate) return Count == 0 ? double.NaN : _last; }
    }

    double _last;

    public void Add(TimeSpan duration)
    {
        lock (_gate)
        {
            _last = duration.TotalMilliseconds;
            Count++;
            if (_stored < _samples.Length) _samples[_stored++] = duration.TotalMilliseconds;
            else
            {
                long slot = _random.NextInt64(Count);
                if (slot < _samples.Length) _samples[slot] = duration.TotalMilliseconds;
            }
        }
    }

    /// <summary>The p-th percentile in milliseconds (p in [0, 100], linear interpolation); NaN when empty.</summary>
    public double PercentileMs(double p)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(p, 100);
        double[] sorted;
        lock (_gate)
        {
            if (_stored == 0) return double.NaN;
            sorted = _samples[.._stored];
        }
        Array.Sort(sorted);
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public double MedianMs => PercentileMs(50);
}
