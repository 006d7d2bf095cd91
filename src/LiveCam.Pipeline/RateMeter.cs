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

    /// <summary>The rate over the events of the last <paramref name="window"/> (default 1 s) before
    /// <paramref name="now"/>. A slower stream (fewer than two events in the window) is measured by its last interval,
    /// while it keeps that pace; a stream that stopped reads 0, not its old rate.</summary>
    public double PerSecond(TimeSpan now, TimeSpan? window = null)
    {
        var horizon = now - (window ?? TimeSpan.FromSeconds(1));
        lock (_gate)
        {
            if (_count < 2) return 0;
            var newest = At(1);
            int n = 0;
            TimeSpan oldest = default;
            for (int i = 1; i <= _count && At(i) >= horizon; i++)
            {
                oldest = At(i);
                n++;
            }
            if (n >= 2) return now - newest > TimeSpan.FromSeconds(2) ? 0 : (n - 1) / (newest - oldest).TotalSeconds;
            var interval = newest - At(2);
            return interval > TimeSpan.Zero && now - newest <= interval * 1.5 ? 1 / interval.TotalSeconds : 0;
        }
    }

    TimeSpan At(int back) => _times[(_next - back + _times.Length) % _times.Length];

    public double PerSecond() => PerSecond(MonotonicClock.Now);
}
