using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LiveCam.Tests.Shared;

/// <summary>A private X display for window tests: started on construction, stopped on dispose; null Display when Xvfb is missing.</summary>
internal sealed partial class XvfbDisplay : IDisposable
{
    // .NET's Environment.SetEnvironmentVariable does not reach the C library's environment, which GLFW reads.
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);

    readonly Process? _xvfb;
    readonly string? _previous = Environment.GetEnvironmentVariable("DISPLAY");

    public string? Display { get; }

    public XvfbDisplay(int offset)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/Xvfb")) return;
        int number = offset + Environment.ProcessId % 9;
        _xvfb = Process.Start(new ProcessStartInfo("/usr/bin/Xvfb", $":{number} -screen 0 800x600x24 -nolisten tcp")
        { RedirectStandardError = true, UseShellExecute = false });
        if (!SpinWait.SpinUntil(() => File.Exists($"/tmp/.X11-unix/X{number}"), TimeSpan.FromSeconds(20))) return;
        Display = $":{number}";
        Environment.SetEnvironmentVariable("DISPLAY", Display);
        _ = SetNativeEnvironment("DISPLAY", Display, 1);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DISPLAY", _previous);
        _ = SetNativeEnvironment("DISPLAY", _previous ?? "", 1);
        if (_xvfb is null) return;
        _xvfb.Kill();
        _xvfb.WaitForExit();
        _xvfb.Dispose();
    }
}
