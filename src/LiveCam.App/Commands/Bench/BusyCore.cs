using System.Diagnostics;

namespace LiveCam.App.Commands.Bench;

/// <summary>A competing CPU load for the live benchmark: another program keeping one core busy at the usual
/// priority (as a browser or a robot's own software would), until disposed.</summary>
/// <remarks>A process of its own where there is a shell; it also ends when this process does, however that ends,
/// so a killed benchmark leaves no core spinning. On Windows a thread at normal priority stands in for it.</remarks>
internal sealed class BusyCore : IDisposable
{
    readonly Process? _process;
    readonly Thread? _thread;
    volatile bool _stop;

    public BusyCore()
    {
        if (OperatingSystem.IsWindows())
        {
            _thread = new Thread(Spin) { Name = "busy core", IsBackground = true };
            _thread.Start();
            return;
        }
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("while kill -0 $PPID 2>/dev/null; do :; done");
        _process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /bin/sh");
    }

    /// <summary>What the load is, for the benchmark's output.</summary>
    public string Description => _process is null ? "a busy thread" : "a busy process";

    void Spin()
    {
        while (!_stop) { }
    }

    public void Dispose()
    {
        _stop = true;
        _thread?.Join();
        if (_process is null) return;
        try { _process.Kill(); }
        catch (InvalidOperationException) { }  // it had already ended
        _process.WaitForExit();
        _process.Dispose();
    }
}
