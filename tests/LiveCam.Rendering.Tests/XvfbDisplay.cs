using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LiveCam.Tests.Shared;

/// <summary>A private X display for window tests: started on construction, stopped on dispose; null Display when Xvfb
/// is missing.</summary>
internal sealed partial class XvfbDisplay : IDisposable
{
    // .NET's Environment.SetEnvironmentVariable does not reach the C library's environment, which GLFW reads.
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Signal(int pid, int signal);

    readonly Process? _xvfb;
    readonly string? _previous = Environment.GetEnvironmentVariable("DISPLAY");

    public string? Display { get; }

    public XvfbDisplay()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/Xvfb")) return;
        // -displayfd: Xvfb picks a free display itself and prints its number once it accepts connections,
        // so parallel test processes and stale sockets of earlier runs cannot collide.
        _xvfb = Process.Start(new ProcessStartInfo("/usr/bin/Xvfb", "-displayfd 1 -screen 0 800x600x24 -nolisten tcp")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
        if (_xvfb is null) return;
        _xvfb.ErrorDataReceived += (_, _) => { };
        _xvfb.BeginErrorReadLine();
        var line = _xvfb.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(20)) || !int.TryParse(line.Result, out int number)) return;
        Display = $":{number}";
        Environment.SetEnvironmentVariable("DISPLAY", Display);
        _ = SetNativeEnvironment("DISPLAY", Display, 1);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DISPLAY", _previous);
        _ = SetNativeEnvironment("DISPLAY", _previous ?? "", 1);
        if (_xvfb is null) return;
        // SIGTERM, not Kill's SIGKILL: Xvfb then removes its lock and socket for the next run.
        if (!_xvfb.HasExited) _ = Signal(_xvfb.Id, 15);
        if (!_xvfb.WaitForExit(TimeSpan.FromSeconds(10))) _xvfb.Kill();
        _xvfb.WaitForExit();
        _xvfb.Dispose();
    }
}
