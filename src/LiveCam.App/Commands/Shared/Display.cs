namespace LiveCam.App.Commands.Shared;

/// <summary>Whether a window can be opened here.</summary>
internal static class Display
{
    public static bool Available()
    {
        if (!OperatingSystem.IsLinux()) return true;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))) return true;
        var display = Environment.GetEnvironmentVariable("DISPLAY");
        if (string.IsNullOrEmpty(display)) return false;
        // A local X display (":N") must have its socket; GTK ends the process when it cannot connect.
        if (display.StartsWith(':'))
        {
            var number = display[1..].Split('.')[0];
            return File.Exists($"/tmp/.X11-unix/X{number}") || Directory.Exists($"/tmp/.X11-unix/X{number}");
        }
        return true;
    }
}
