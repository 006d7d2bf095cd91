using LiveCam.Core;

namespace LiveCam.Pipeline;

/// <summary>Events per second over the last second or so (the HUD's fps); safe from any thread.</summary>
public sealed class RateMeter
{
    readonly TimeSpan[] _times = new TimeSpan[64];
    readonly object _gate = new();
    int _next, _count;

    public void Mark(TimeSpan at)
    {
        lock (_gate)
        {
            _times[_next] = at;
            _next = (_next + 1) % _times.Length;
            _count = Math.Min(_count + 1, _times.Length);
        }
    }

    /// <summary>The rate over the events of the last <paramref name="window"/> (default 1 s) before <paramref name="now"/>; 0 when fewer than two.</summary>
    public double PerSecond(TimeSpan now, TimeSpan? window = null)
    {
        var horizon = now - (window ?? TimeSpan.FromSeconds(1));
        lock (_gate)
        {
            int n = 0;
            TimeSpan oldest = default, newest = default;
            for (int i = 1; i <= _count; i++)
            {
                var t = _times[(_next - i + _times.Length) % _times.Length];
                if (t < horizon) break;
                if (n == 0) newest = t;
                oldest = t;
                n++;
            }
            // A source that stopped reads as 0, not as its old rate.
            if (n < 2 || now - newest > TimeSpan.FromSeconds(2)) return 0;
            return (n - 1) / (newest - oldest).TotalSeconds;
        }
    }

    public double PerSecond() => PerSecond(MonotonicClock.Now);
}
