using System.Text.Json;
using System.Diagnostics;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary>The app as its own process: signals, and a real window under Xvfb.</summary>
public sealed class ProcessTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-proc-").FullName;

    readonly List<Process> _started = [];

    Process Start(string arguments, IDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var app = $"\"{Path.Combine(AppContext.BaseDirectory, "livecam.dll")}\" {arguments}";
        // A test run started as a background job inherits SIGINT ignored, and a child cannot undo that from a shell:
        // Ctrl+C would then test nothing. Python puts the default action back before it becomes the app.
        var info = SigIntIgnored() && File.Exists("/usr/bin/python3")
            ? new ProcessStartInfo("/usr/bin/python3",
                $"-c \"import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                + $"os.execvp('dotnet', ['dotnet'] + sys.argv[1:])\" {app}")
            : new ProcessStartInfo("dotnet", app);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) info.Environment[k] = v;
        var process = Process.Start(info)!;
        _started.Add(process);
        return process;
    }

    /// <summary>Whether this process was started with SIGINT ignored (bit 2 of SigIgn in /proc/self/status).</summary>
    static bool SigIntIgnored()
    {
        var line = File.Exists("/proc/self/status")
            ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))
            : null;
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 2) != 0;
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
    public void Ctrl_C_during_a_render_leaves_a_valid_shorter_video()
    {
        Skip.If(OperatingSystem.IsWindows(), "POSIX signals");
        var video = Path.Combine(_dir, "render.mp4");
        using var process = Start($"render synthetic:160x120@30 --out \"{video}\"");
        using var started = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("headless", StringComparison.Ordinal) == true) started.Set();
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the render did not start");
        Thread.Sleep(1500);
        Signal(process, "INT");
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the render did not stop");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr.Result);
        using var capture = new VideoCapture(video);
        Assert.True(capture.IsOpened(), "the video was not finalised");
        Assert.InRange((int)capture.Get(VideoCaptureProperties.FrameCount), 1, 100_000);
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

    /// <summary>What a recording folder holds after the process ended however it ended: every finished segment plays
    /// and holds the frames the index lists, and every log line but the last is whole JSON, frames in order.</summary>
    static (int Segments, int LogLines) CheckRecording(string dir)
    {
        var indexLines = File.Exists(Path.Combine(dir, "segments.jsonl"))
            ? File.ReadAllLines(Path.Combine(dir, "segments.jsonl"))
            : [];
        var listed = new Dictionary<string, int>();
        for (int i = 0; i < indexLines.Length; i++)
        {
            JsonElement entry;
            try { entry = JsonDocument.Parse(indexLines[i]).RootElement; }
            catch (JsonException) when (i == indexLines.Length - 1) { break; }  // killed while writing it
            listed[entry.GetProperty("file").GetString()!] = entry.GetProperty("frames").GetArrayLength();
        }
        var finished = Directory.GetFiles(dir, "segment-*.mp4")
            .Where(f => !f.EndsWith(".partial.mp4", StringComparison.Ordinal)).Order().ToList();
        foreach (var file in finished)
        {
            using var capture = new VideoCapture(file);
            Assert.True(capture.IsOpened(), $"{Path.GetFileName(file)} does not open");
            int frames = 0;
            using var image = new Mat();
            while (capture.Read(image) && !image.Empty()) frames++;
            // Killed between the rename and the index line, a segment is playable but not yet listed.
            if (listed.TryGetValue(Path.GetFileName(file), out var expected)) Assert.Equal(expected, frames);
            else Assert.Equal(finished[^1], file);
            Assert.True(frames > 0, $"{Path.GetFileName(file)} is empty");
        }
        var log = File.Exists(Path.Combine(dir, "log.jsonl"))
            ? File.ReadAllText(Path.Combine(dir, "log.jsonl")).Split('\n')
            : [];
        long previous = -1;
        int whole = 0;
        for (int i = 0; i < log.Length; i++)
        {
            if (log[i].Length == 0) continue;
            JsonElement line;
            try { line = JsonDocument.Parse(log[i]).RootElement; }
            catch (JsonException) when (i == log.Length - 1) { break; }  // the line being written
            long frame = line.GetProperty("frame").GetInt64();
            Assert.True(frame > previous, $"log line {i}: frame {frame} after {previous}");
            previous = frame;
            whole++;
        }
        return (finished.Count, whole);
    }

    [SkippableFact]
    public void A_recording_killed_at_any_moment_keeps_every_finished_segment_and_every_log_line_but_the_last()
    {
        Skip.If(OperatingSystem.IsWindows(), "POSIX signals");
        var random = new Random(Environment.TickCount);
        for (int run = 0; run < 3; run++)
        {
            var dir = Path.Combine(_dir, $"killed-{run}");
            using var process = Start(
                $"run --source synthetic:160x120@30 --headless --record \"{dir}\" --segment-seconds 0.5");
            using var started = new ManualResetEventSlim();
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("headless", StringComparison.Ordinal) == true) started.Set();
            };
            process.BeginOutputReadLine();
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the run did not start");
            // Once a segment is finished and some lines are logged (however busy the machine), a random moment later.
            var log = Path.Combine(dir, "log.jsonl");
            int WholeLines() => File.Exists(log) ? File.ReadAllText(log).Count(c => c == '\n') : 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while ((!File.Exists(Path.Combine(dir, "segment-00000.mp4")) || WholeLines() < 5)
                && DateTime.UtcNow < deadline)
                Thread.Sleep(50);
            int seen = WholeLines();
            Assert.True(seen >= 5, $"the run logged {seen} lines in 90 s");
            int after = random.Next(0, 2000);
            Thread.Sleep(after);
            Signal(process, "KILL");
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "the process did not die");
            var (segments, lines) = CheckRecording(dir);
            Assert.True(segments >= 1, $"killed {after} ms later: no finished segment");
            Assert.True(lines >= seen,
                $"killed {after} ms later: {lines} whole log lines, {seen} had been written before");
        }
    }

    [SkippableTheory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public void A_run_whose_network_camera_stalled_ends_within_seconds_of_a_signal(string signal)
    {
        Skip.If(OperatingSystem.IsWindows(), "POSIX signals");
        using var server = new LiveCam.Tests.StallingMjpegServer(LiveCam.Tests.StallingMjpegServer.Stall.BetweenImages,
            i =>
            {
                using var image = new Mat(120, 160, MatType.CV_8UC3, new Scalar(40 * i, 80, 160));
                return image.ImEncode(".jpg");
            });
        using var process = Start(
            $"run --source {server.Url} --headless --out \"{Path.Combine(_dir, "stalled.mp4")}\"");
        _ = process.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        using var lost = new ManualResetEventSlim();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data?.Contains("lost; reconnecting", StringComparison.Ordinal) == true) lost.Set();
        };
        process.BeginErrorReadLine();
        // The stall after three images is noticed within the 5 s read deadline and reported.
        Assert.True(lost.Wait(TimeSpan.FromSeconds(60)), $"the stall was never reported: {stderr}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Signal(process, signal);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), $"still running 20 s after SIG{signal}: {stderr}");
        process.WaitForExit();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr}");
    }

    [SkippableFact]
    public void A_headless_run_records_crash_safe_segments_unless_it_is_served()
    {
        var alone = Directory.CreateDirectory(Path.Combine(_dir, "alone")).FullName;
        using (var process = Start("run --source synthetic:160x120@30 --headless --frames 45", workingDirectory: alone))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "the run did not finish");
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr.Result);
            var folder = Assert.Single(Directory.GetDirectories(alone, "livecam-*"));
            Assert.Contains($"recording to {folder} (segments of 10 s and log.jsonl)", stdout.Result,
                StringComparison.Ordinal);
            Assert.Matches(@"recorded 1 segment\(s\) \([0-9.]+ MB, about [0-9]+ MB an hour\)", stdout.Result);
            var (segments, _) = CheckRecording(folder);
            Assert.Equal(1, segments);
        }
        var served = Directory.CreateDirectory(Path.Combine(_dir, "served")).FullName;
        using (var process = Start("run --source synthetic:160x120@30 --headless --frames 45 --serve 0",
            workingDirectory: served))
        {
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "the served run did not finish");
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, stderr.Result);
            Assert.Empty(Directory.GetFileSystemEntries(served));
        }
    }

    // Exact timing: every frame is written however loaded the machine is (a live run that drops frames under load
    // could fit the disk).
    [SkippableTheory]
    [InlineData("run --source synthetic:640x480@30 --headless --frames 200 --timing exact --out")]
    [InlineData("render synthetic:640x480@30 --frames 200 --out")]
    public void On_a_disk_too_small_for_the_video_out_says_so_instead_of_saved_and_leaves_no_broken_file(string command)
    {
        using var disk = Tmpfs.Mount(Path.Combine(_dir, "tiny-disk"), "1m");
        var mount = disk.Folder;
        var video = Path.Combine(mount, "out.mp4");
        using var process = Start($"{command} \"{video}\"");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "the run did not finish");
        process.WaitForExit();
        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single(stderr.Result.Split('\n'), l => l.StartsWith("livecam:", StringComparison.Ordinal));
        Assert.StartsWith($"livecam: cannot save '{video}': ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("saved", stdout.Result, StringComparison.Ordinal);
        Assert.False(File.Exists(video), "a video that cannot be played was given the name asked for");
    }

    [SkippableFact]
    public void A_disk_that_fills_during_a_recording_stops_it_with_one_message_and_the_run_goes_on()
    {
        using var disk = Tmpfs.Mount(Path.Combine(_dir, "small-disk"), "48m");
        var mount = disk.Folder;
        var dir = Path.Combine(mount, "rec");
        using var process = Start(
            $"run --source synthetic:320x240@30 --headless --record \"{dir}\" --segment-seconds 0.5 --frames 240");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Once a segment is finished, something else fills the disk.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!File.Exists(Path.Combine(dir, "segment-00001.mp4")) && DateTime.UtcNow < deadline && !process.HasExited)
            Thread.Sleep(50);
        Assert.True(File.Exists(Path.Combine(dir, "segment-00001.mp4")), "no segment was finished");
        int logged = File.ReadAllText(Path.Combine(dir, "log.jsonl")).Count(c => c == '\n');
        using (var filler = new FileStream(Path.Combine(mount, "filler"), FileMode.Create))
        {
            var block = new byte[1 << 20];
            try { while (true) filler.Write(block); }
            catch (IOException) { }  // full
        }
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "the run did not finish");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr.Result);
        var stopped = stderr.Result.Split('\n')
            .Where(l => l.Contains("recording stopped", StringComparison.Ordinal)).ToList();
        Assert.Single(stopped);
        Assert.DoesNotContain("   at ", stderr.Result, StringComparison.Ordinal);
        Assert.Contains("frames: 240 captured", stdout.Result, StringComparison.Ordinal);
        Assert.Contains("recording stopped early", stdout.Result, StringComparison.Ordinal);
        var (segments, lines) = CheckRecording(dir);
        Assert.True(segments >= 2, $"{segments} segments kept");
        Assert.True(lines >= logged, $"{lines} whole log lines kept, {logged} had been written before the disk filled");
    }

    /// <summary>A small disk of its own (a tmpfs), unmounted when disposed; the test is skipped where none can be
    /// made.</summary>
    sealed class Tmpfs : IDisposable
    {
        public string Folder { get; }

        Tmpfs(string folder) => Folder = folder;

        public static Tmpfs Mount(string folder, string size)
        {
            Skip.IfNot(OperatingSystem.IsLinux(), "tmpfs");
            Directory.CreateDirectory(folder);
            using var mounting = Process.Start(
                new ProcessStartInfo("mount", $"-t tmpfs -o size={size} tmpfs \"{folder}\"")
                {
                    RedirectStandardError = true
                })!;
            mounting.WaitForExit();
            Skip.If(mounting.ExitCode != 0,
                $"cannot mount a tmpfs here (needs root): {mounting.StandardError.ReadToEnd().Trim()}");
            return new Tmpfs(folder);
        }

        public void Dispose()
        {
            using var unmounting = Process.Start("umount", $"\"{Folder}\"")!;
            unmounting.WaitForExit();
        }
    }

    public void Dispose()
    {
        // A run a failed test left going would load the machine for every test after it.
        foreach (var process in _started)
        {
            try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            process.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }
}
