using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary><c>livecam teach</c>: from folders, a head's use by the other commands, live in a real window under Xvfb
/// with real key presses, and bad input.</summary>
public sealed class TeachCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-teach-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    /// <summary>A red square or a blue disc on a grey table, at a place and size.</summary>
    static void Scene(string path, int kind, int x, int y, int size)
    {
        using var m = new Mat(240, 320, MatType.CV_8UC3, new Scalar(120, 128, 130));
        if (kind == 0) Cv2.Rectangle(m, new Rect(x, y, size, size), new Scalar(40, 40, 210), -1);
        else Cv2.Circle(m, new Point(x + size / 2, y + size / 2), size / 2, new Scalar(200, 90, 30), -1);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Cv2.ImWrite(path, m);
    }

    /// <summary>teach/{disc,square} with 3 images each, and test/ with 3 other views each.</summary>
    (string Teach, string Test) Folders()
    {
        string teach = Path.Combine(_dir, "teach"), test = Path.Combine(_dir, "test");
        var taught = new[] { (60, 50, 90), (150, 80, 110), (100, 40, 70) };
        var unseen = new[] { (30, 30, 80), (180, 100, 100), (120, 60, 120) };
        for (int i = 0; i < 3; i++)
        {
            Scene(Path.Combine(teach, "square", $"{i}.png"), 0, taught[i].Item1, taught[i].Item2, taught[i].Item3);
            Scene(Path.Combine(teach, "disc", $"{i}.png"), 1, taught[i].Item1, taught[i].Item2, taught[i].Item3);
            Scene(Path.Combine(test, "square", $"{i}.png"), 0, unseen[i].Item1, unseen[i].Item2, unseen[i].Item3);
            Scene(Path.Combine(test, "disc", $"{i}.png"), 1, unseen[i].Item1, unseen[i].Item2, unseen[i].Item3);
        }
        return (teach, test);
    }

    /// <summary>Teaches disc and square from <see cref="Folders"/>; the head's path and the unseen views.</summary>
    (string Head, string Test, string Stdout) Taught()
    {
        var (teach, test) = Folders();
        var head = Path.Combine(_dir, "shapes.head.json");
        var (code, stdout, stderr) = Invoke("teach", "--from", teach, "--out", head, "--test", test, "--views", "3");
        Assert.True(code == 0, stderr);
        return (head, test, stdout);
    }

    [Fact]
    public void A_head_taught_from_folders_classifies_unseen_views_and_explain_and_run_use_it()
    {
        var (head, test, stdout) = Taught();
        int code;
        string stderr;
        Assert.Contains("taught 2 classes (disc 3, square 3 images, 3 views each)", stdout, StringComparison.Ordinal);
        Assert.Contains("accuracy on --test: 6/6 = 100.0%", stdout, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(head)))
            Assert.Equal(["disc", "square"],
                doc.RootElement.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));

        // explain --json: the class scores in the head's order, the top class by name.
        var png = Path.Combine(_dir, "square.png");
        var json = Path.Combine(_dir, "square.json");
        (code, _, stderr) = Invoke("explain", "--model", "resnet18-imagenet", "--head", head,
            "--image", Path.Combine(test, "square", "1.png"), "--out", png, "--json", json);
        Assert.True(code == 0, stderr);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var root = doc.RootElement;
            var outputs = root.GetProperty("outputs").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(2, outputs.Length);
            Assert.True(outputs[1] > outputs[0], $"square scored {outputs[1]}, disc {outputs[0]}");
            Assert.Equal("square",
                root.GetProperty("predictions").GetProperty("top")[0].GetProperty("label").GetString());
            Assert.Equal("gradcam", root.GetProperty("method").GetString());
            Assert.Equal(7, root.GetProperty("heatmap").GetProperty("height").GetInt32());
        }

        // run: the recording's log names the taught classes.
        var record = Path.Combine(_dir, "rec");
        (code, _, stderr) = Invoke("run", "--source", Path.Combine(test, "disc"), "--model", "resnet18-imagenet",
            "--head", head, "--headless", "--record", record, "--timing", "exact", "--renderer", "cpu");
        Assert.True(code == 0, stderr);
        var lines = File.ReadAllLines(Path.Combine(record, "log.jsonl"));
        Assert.Equal(3, lines.Length);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal("disc",
                doc.RootElement.GetProperty("predictions").GetProperty("top")[0].GetProperty("label").GetString());
        }

        // A head fits only the network it was taught on.
        (code, _, stderr) = Invoke("explain", "--model", "resnet18", "--head", head, "--image", png,
            "--out", Path.Combine(_dir, "x.png"));
        Assert.Equal(2, code);
        Assert.Equal("livecam: the head was taught on resnet18-imagenet, not resnet18 (use --model resnet18-imagenet)",
            stderr.Trim());
    }

    /// <summary>Minutes of ResNet-18 passes (deletion, insertion, ROAD on each image): a slow check.</summary>
    [Fact]
    [Trait("Category", "Slow")]
    public void Metrics_measure_the_explanations_of_a_taught_head()
    {
        var (head, test, _) = Taught();
        var (code, stdout, stderr) = Invoke("metrics", "--model", "resnet18-imagenet", "--head", head,
            "--images", Path.Combine(test, "square"), "--methods", "gradcam", "--steps", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("gradcam", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("one-class")]
    [InlineData("no-out")]
    [InlineData("empty-class")]
    [InlineData("bad-image")]
    [InlineData("bad-head")]
    public void Bad_input_gives_one_line_and_writes_nothing(string kind)
    {
        var from = Path.Combine(_dir, "from");
        var head = Path.Combine(_dir, "out.json");
        string[] args = ["teach", "--from", from, "--out", head];
        switch (kind)
        {
            case "missing-folder": break;
            case "one-class": Scene(Path.Combine(from, "a", "0.png"), 0, 10, 10, 50); break;
            case "no-out":
                Scene(Path.Combine(from, "a", "0.png"), 0, 10, 10, 50);
                args = ["teach", "--from", from];
                break;
            case "empty-class":
                Scene(Path.Combine(from, "a", "0.png"), 0, 10, 10, 50);
                Directory.CreateDirectory(Path.Combine(from, "b"));
                break;
            case "bad-image":
                Scene(Path.Combine(from, "a", "0.png"), 0, 10, 10, 50);
                Directory.CreateDirectory(Path.Combine(from, "b"));
                File.WriteAllText(Path.Combine(from, "b", "0.png"), "not a picture");
                break;
            case "bad-head":
                File.WriteAllText(head, "{\"format\": \"livecam-taught-head/1\", \"model\": ");
                args = ["explain", "--model", "resnet18-imagenet", "--head", head, "--image", head,
                    "--out", Path.Combine(_dir, "x.png")];
                break;
        }
        var (code, _, stderr) = Invoke(args);
        Assert.Equal(2, code);
        Assert.StartsWith("livecam: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        if (kind != "bad-head") Assert.False(File.Exists(head));
    }

    [SkippableFact]
    public void Live_keys_in_a_real_window_teach_two_classes_and_the_head_is_saved_on_quit()
    {
        Skip.If(!File.Exists("/usr/bin/xdotool"), "needs xdotool (scripts/setup-linux.sh --with-window-tests)");
        using var xvfb = new LiveCam.Tests.Shared.XvfbDisplay();
        Skip.If(xvfb.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        var head = Path.Combine(_dir, "live.json");
        var info = new ProcessStartInfo("dotnet",
            $"\"{Path.Combine(AppContext.BaseDirectory, "livecam.dll")}\" teach --source synthetic:320x240@15 "
            + $"--classes near,far --views 2 --head \"{head}\"")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        info.Environment["DISPLAY"] = xvfb.Display;
        info.Environment["WAYLAND_DISPLAY"] = null;
        using var process = Process.Start(info)!;
        var stdout = new System.Text.StringBuilder();
        using var shown = new ManualResetEventSlim();
        var learnt = new System.Collections.Concurrent.BlockingCollection<string>();
        process.OutputDataReceived += (_, e) =>
        {
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data?.Contains("showing in a window", StringComparison.Ordinal) == true) shown.Set();
            if (e.Data?.StartsWith("teach: learnt ", StringComparison.Ordinal) == true) learnt.Add(e.Data);
        };
        process.BeginOutputReadLine();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            Assert.True(shown.Wait(TimeSpan.FromSeconds(90)), $"no window: {stdout}");
            string window = Xdotool(xvfb.Display!, "search --sync --name LiveCam").Split('\n')[0];
            // Each press is learnt and said on the terminal; a press before the first frame is on screen teaches
            // nothing, so a key is pressed again until its example is learnt. On a busy machine a press can be learnt
            // after the next one was sent: a late line of the class before is one more example of it, not an error.
            string? previous = null;
            foreach (var (key, name) in new[]
            {
                ("1", "near"), ("1", "near"), ("2", "far"), ("2", "far"), ("2", "far")
            })
            {
                string? line = null;
                for (int attempt = 0; attempt < 10 && line is null; attempt++)
                {
                    Xdotool(xvfb.Display!, $"key --window {window} {key}");
                    while (line is null && learnt.TryTake(out var said, TimeSpan.FromSeconds(6)))
                    {
                        if (said.StartsWith($"teach: learnt {name} from frame ", StringComparison.Ordinal)) line = said;
                        else Assert.StartsWith($"teach: learnt {previous} from frame ", said, StringComparison.Ordinal);
                    }
                }
                Assert.True(line is not null, $"key {key} taught nothing: {stdout}");
                previous = name;
            }
            Xdotool(xvfb.Display!, $"key --window {window} q");
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "teach did not stop on q");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}; stderr: {stderr.Result}; stdout: {stdout}");
        Assert.Contains("saved the head (near, far)", stdout.ToString(), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(head));
        // Every example learnt was in the head saved on quit: 2 views of each frame (at least 2 and 3 frames).
        var all = stdout.ToString().Split('\n');
        int near = all.Count(l => l.StartsWith("teach: learnt near ", StringComparison.Ordinal));
        int far = all.Count(l => l.StartsWith("teach: learnt far ", StringComparison.Ordinal));
        Assert.True(near >= 2 && far >= 3, stdout.ToString());
        Assert.Equal([2 * near, 2 * far],
            doc.RootElement.GetProperty("examples").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2 * (near + far), doc.RootElement.GetProperty("memory").GetArrayLength());
    }

    static string Xdotool(string display, string arguments)
    {
        var info = new ProcessStartInfo("/usr/bin/xdotool", arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        info.Environment["DISPLAY"] = display;
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"xdotool {arguments}: {p.StandardError.ReadToEnd()}");
        return output.Trim();
    }

    [SkippableFact]
    public void A_saved_head_of_another_network_is_refused_before_live_teaching_starts()
    {
        using var xvfb = new LiveCam.Tests.Shared.XvfbDisplay();
        Skip.If(xvfb.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        var head = Path.Combine(_dir, "imagenet.json");
        File.WriteAllText(head, "{\"format\":\"livecam-taught-head/1\",\"model\":\"resnet18-imagenet\","
            + "\"features\":512,\"classes\":[\"a\",\"b\"],"
            + "\"examples\":[1,1],\"weight\":[" + string.Join(",", Enumerable.Repeat("0", 1024)) + "],\"bias\":[0,0]}");
        var (code, _, stderr) = Invoke("teach", "--model", "robot", "--head", head, "--source", "synthetic:160x120",
            "--frames", "5");
        Assert.Equal(2, code);
        Assert.Equal("livecam: the head was taught on resnet18-imagenet, not robot (use --model resnet18-imagenet)",
            stderr.Trim());
    }

    [Fact]
    public void Live_teaching_needs_a_window()
    {
        var previous = Environment.GetEnvironmentVariable("DISPLAY");
        var (code, _, stderr) = RunWithout("DISPLAY", () => Invoke("teach", "--source", "synthetic"));
        Assert.Equal(2, code);
        Assert.Equal("livecam: teach needs a window (no display here); teach from folders with --from DIR --out HEAD",
            stderr.Trim());
        Assert.Equal(previous, Environment.GetEnvironmentVariable("DISPLAY"));
    }

    static T RunWithout<T>(string variable, Func<T> action)
    {
        var previous = Environment.GetEnvironmentVariable(variable);
        var wayland = Environment.GetEnvironmentVariable("WAYLAND_DISPLAY");
        Environment.SetEnvironmentVariable(variable, null);
        Environment.SetEnvironmentVariable("WAYLAND_DISPLAY", null);
        try { return action(); }
        finally
        {
            Environment.SetEnvironmentVariable(variable, previous);
            Environment.SetEnvironmentVariable("WAYLAND_DISPLAY", wayland);
        }
    }
}
