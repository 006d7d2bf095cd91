using LiveCam.App.Commands.Shared;
using LiveCam.Pipeline;

namespace LiveCam.App.Commands.Run;

/// <summary>render's progress, twice a second: frames done of the total (when the source knows it), the rate and
/// the time left.</summary>
internal sealed class RenderProgress : IDisposable
{
    readonly Timer _timer;
    readonly ProgressBar _bar;
    readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    bool _disposed;

    public RenderProgress(PipelineMetrics metrics, long total, TextWriter error)
    {
        _bar = new ProgressBar(error, total, "render");
        _timer = new Timer(_ =>
        {
            long done = metrics.Shown;
            _bar.Report(done, Cli.Format($"{done / Math.Max(1e-3, _clock.Elapsed.TotalSeconds):0.0} fps"));
        }, null, 500, 500);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        using (var stopped = new ManualResetEvent(false))
            if (_timer.Dispose(stopped)) stopped.WaitOne();  // no report after the last line
        _bar.Done();
    }
}
