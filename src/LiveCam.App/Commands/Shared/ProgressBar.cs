using System.Diagnostics;

namespace LiveCam.App.Commands.Shared;

/// <summary>A command's progress on stderr: drawn in place on a terminal; when redirected, a line per tenth done (per
/// 100 items when the total is not known).</summary>
/// <param name="total">Items to do; 0 or less when not known (a live source).</param>
internal sealed class ProgressBar(TextWriter error, long total, string command)
{
    readonly bool _terminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _done, _lastStep = total > 0 ? 0 : -1;
    bool _drawn;

    public void Advance(long by, string what) => Report(_done + by, what);

    /// <summary>Sets how many are done (any thread).</summary>
    public void Report(long done, string what)
    {
        lock (_clock)
        {
            _done = total > 0 ? Math.Min(total, done) : done;
            double fraction = total > 0 ? (double)_done / total : 0;
            var eta = total > 0 && _done > 0
                ? Cli.Format($", {_clock.Elapsed.TotalSeconds * (total - _done) / _done:0} s left")
                : "";
            var count = total > 0 ? Cli.Format($"{_done}/{total}") : Cli.Format($"{_done}");
            if (_terminal)
            {
                int filled = (int)(fraction * 30);
                var bar = total > 0 ? $"[{new string('#', filled)}{new string('.', 30 - filled)}] " : "";
                error.Write($"\r{bar}{count}{eta}  {what,-40}");
                _drawn = true;
                return;
            }
            long step = total > 0 ? (long)(fraction * 10) : _done / 100;
            if (step <= _lastStep) return;
            _lastStep = step;
            error.WriteLine(Cli.Format($"livecam {command}: {count}")
                + Cli.Format($"{(total > 0 ? Cli.Format($" ({fraction:P0})") : "")}{eta}")
                + Cli.Format($"{(what.Length > 0 ? ", " + what : "")}"));
        }
    }

    public void Done()
    {
        lock (_clock)
            if (_terminal && _drawn) error.WriteLine();
    }
}
