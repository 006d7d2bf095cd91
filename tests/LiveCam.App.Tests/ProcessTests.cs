using System.Diagnostics;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary>The app as its own process: signals, and a real window under Xvfb.</summary>
public sealed class ProcessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-proc-").FullName;

    static Process Start(string arguments, IDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "livecam.dll")}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) info.Environment[k] = v;
        return Process.Start(info)!;
    }

    static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {process.Id}")!;
        kill.WaitForExit();
    }

    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void A_signal_stops_a_headless_run_cleanly_and_the_video_is_finalised(string signal)
    {
        Skip.If(OperatingSystem.IsWindows(), "POSIX signals");
        var video = Path.Combine(_dir, $"signal-{signal}.mp4");
        using var process = Start($"run --source synthetic:160x120@30 --headless --out \"{video}\"");
        var stdout = new System.Text.StringBuilder();
        using var started = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data?.StartsWith("headless", StringComparison.Ordinal) == true) started.Set();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the run did not start");
        Thread.Sleep(1000);  // let it record about 30 frames
        Signal(process, signal);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the run did not stop");
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, stderr.Result);
        string text;
        lock (stdout) text = stdout.ToString();
        Assert.Contains("stopped", text, StringComparison.Ordinal);
        Assert.Contains("saved", text, StringComparison.Ordinal);
        using var capture = new VideoCapture(video);
        Assert.True(capture.IsOpened(), "the video was not finalised");
        int frames = 0;
        using var image = new Mat();
        while (capture.Read(image) && !image.Empty()) frames++;
        Assert.InRange(frames, 5, 1000);
    }

    [SkippableFact]
    public void Under_Xvfb_the_run_opens_a_window_and_finishes()
    {
        using var xvfb = new LiveCam.Tests.Shared.XvfbDisplay();
        Skip.If(xvfb.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        using var process = Start("run --source synthetic:160x120@30 --frames 30",
            new Dictionary<string, string?> { ["DISPLAY"] = xvfb.Display, ["WAYLAND_DISPLAY"] = null });
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the windowed run did not finish");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr.Result);
        Assert.Contains("showing in a window", stdout.Result, StringComparison.Ordinal);
        Assert.Contains("renderer: ", stdout.Result, StringComparison.Ordinal);
        Assert.Contains("frames: 30 captured", stdout.Result, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
