using LiveCam.Models;
using OpenCvSharp;

namespace LiveCam.App.Tests;

public sealed class CliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-cli-").FullName;

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    static (int Frames, int Width, int Height) ReadVideo(string path)
    {
        using var capture = new VideoCapture(path);
        Assert.True(capture.IsOpened(), $"{path} does not open as a video");
        int frames = 0;
        using var image = new Mat();
        while (capture.Read(image) && !image.Empty()) frames++;
        return (frames, (int)capture.Get(VideoCaptureProperties.FrameWidth),
            (int)capture.Get(VideoCaptureProperties.FrameHeight));
    }

    [Fact]
    public void Models_lists_every_model_that_loads_by_name_and_how_to_bring_weights()
    {
        var (code, stdout, _) = Invoke("models");
        Assert.Equal(0, code);
        foreach (var name in Models.ModelCatalog.Names) Assert.Contains($"  {name} ", stdout, StringComparison.Ordinal);
        Assert.Contains("torch.save(model.state_dict()", stdout, StringComparison.Ordinal);
        // Each name it lists is one --model takes.
        var (layers, listing, err) = Invoke("layers", "--model", "mobilenet_v3_small");
        Assert.True(layers == 0, err);
        Assert.Contains("features.0.0", listing, StringComparison.Ordinal);  // PyTorch's layer names
    }

    [Fact]
    public void A_headless_run_records_every_frame_and_prints_a_summary()
    {
        var output = Path.Combine(_dir, "run.mp4");
        var (code, stdout, stderr) = Invoke("run", "--source", "synthetic:160x120@60", "--frames", "40", "--headless",
            "--timing", "exact", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Equal((40, 160, 120), ReadVideo(output));
        Assert.Contains("frames: 40 captured, 40 shown, 40 analysed, 0 dropped", stdout, StringComparison.Ordinal);
        Assert.Contains("latency capture->sink: median", stdout, StringComparison.Ordinal);
        Assert.Contains($"saved {output}", stdout, StringComparison.Ordinal);
    }

    /// <summary>The start-up choice between ONNX Runtime and libtorch is measured at the thread count the analysis then
    /// runs with: live, one core fewer than the machine has (or --threads), not the loader's count.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_ONNX_models_runtime_is_chosen_at_the_analysiss_thread_count(bool threadsGiven)
    {
        int cores = Environment.ProcessorCount;
        int threads = threadsGiven ? cores : Math.Max(1, cores - 1);
        string[] args = ["run", "--model", "resnet18-imagenet", "--method", "gradcam", "--source", "synthetic:96x72@30",
            "--frames", "2", "--headless", "--out", Path.Combine(_dir, $"threads-{threadsGiven}.mp4")];
        // The calling thread at a count neither of those: a loader that measures at its own count shows it.
        var (code, stdout, stderr) = TorchThreads.With(cores + 3,
            () => Invoke(threadsGiven ? [.. args, "--threads", $"{threads}"] : args));
        Assert.True(code == 0, stderr);
        var plural = threads == 1 ? "" : "s";
        Assert.Contains($"({threads} thread{plural}), weights", stdout, StringComparison.Ordinal);
        var line = stdout.Split('\n').Single(l => l.StartsWith("without gradients: ", StringComparison.Ordinal));
        Assert.Contains($" libtorch at {threads} thread{plural}", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_can_write_a_folder_of_images()
    {
        var folder = Path.Combine(_dir, "frames") + "/";
        var (code, _, stderr) = Invoke("run", "--source", "synthetic:96x72", "--frames", "5", "--fps", "0",
            "--timing", "exact", "--headless", "--out", folder);
        Assert.True(code == 0, stderr);
        var files = Directory.GetFiles(folder, "*.png").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(5, files.Length);
        using var first = Cv2.ImRead(files[0]);
        Assert.Equal((96, 72), (first.Width, first.Height));
    }

    [Fact]
    public void Probe_reports_what_a_source_delivers()
    {
        var video = Path.Combine(_dir, "probe.avi");
        Assert.Equal(0, Invoke("run", "--source", "synthetic:64x48@20", "--frames", "12", "--fps", "0",
            "--timing", "exact", "--headless", "--out", video).Code);
        var (code, stdout, _) = Invoke("probe", "--source", video, "--count");
        Assert.Equal(0, code);
        Assert.Contains("size: 64x48", stdout, StringComparison.Ordinal);
        Assert.Contains("frames: 12", stdout, StringComparison.Ordinal);
        Assert.Contains("decoded: 12 frames", stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["run", "--source", "/nonexistent/clip.mp4", "--headless"], "no such file" },
        { ["run", "--source", "GARBAGE", "--headless"], "not a video" },
        { ["run", "--source", "synthetic:10x10", "--headless"], "size must be" },
        { ["run", "--source", "webcam:63", "--headless"], "cannot open camera" },
        { ["run", "--source", "synthetic", "--headless", "--out", "/nonexistent/out.mp4"], "does not exist" },
        { ["run", "--source", "synthetic", "--headless", "--fps", "-3"], "--fps" },
        { ["probe", "--source", "EMPTYDIR"], "no images" },
        { ["run", "--source", "synthetic", "--headless", "--fps", "NaN"], "--fps" },
        { ["run", "--source", "synthetic", "--headless", "--record", "REC", "--segment-seconds", "NaN"],
            "--segment-seconds" },
        { ["run", "--source", "synthetic", "--headless", "--analysis-fps", "NaN"], "--analysis-fps" },
        { ["run", "--source", "synthetic", "--headless", "--min-analysis-fps", "-1"], "--min-analysis-fps must be" },
        { ["run", "--source", "synthetic", "--headless", "--min-analysis-fps", "NaN"], "--min-analysis-fps must be" },
        { ["run", "--source", "synthetic", "--headless", "--threads", "100000"], "--threads" },
        { ["run", "--source", "synthetic:99999999999x480", "--headless"], "size must be" },
        { ["bench", "explain", "--methods", "gradcam,nosuch"], "unknown method 'nosuch'" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_ends_in_one_clear_line_and_exit_code_2(string[] args, string expected)
    {
        var garbage = Path.Combine(_dir, "garbage.mp4");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray());
        var empty = Path.Combine(_dir, "empty");
        Directory.CreateDirectory(empty);
        args = args.Select(a => a == "GARBAGE" ? garbage
            : a == "EMPTYDIR" ? empty
            : a == "REC" ? Path.Combine(_dir, "rec")
            : a).ToArray();

        var (code, _, stderr) = Invoke(args);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("livecam:", StringComparison.Ordinal)).ToArray();
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    /// <summary>A model file that loads but cannot run (its weights do not fit its input) is the file's fault: bad
    /// input, one line, not an unexpected error.</summary>
    [Fact]
    public void A_model_file_failing_in_its_first_pass_is_bad_input()
    {
        using var error = new StringWriter();
        var failure = new LiveCam.Models.Onnx.OnnxFormatException(
            "node conv (Conv): its input has shape [1, 3, 16, 16]; its weights [8, 3, 3, 3] in 2 group(s) "
            + "read 6 channels");
        Assert.Equal(2, Cli.Report(failure, error));
        Assert.Equal($"livecam: {failure.Message}{Environment.NewLine}", error.ToString());
    }

    [Fact]
    public void Help_lists_the_commands_and_run_options()
    {
        var (code, stdout, _) = Invoke("--help");
        Assert.Equal(0, code);
        foreach (var word in new[] { "run", "probe", "bench" }) Assert.Contains(word, stdout, StringComparison.Ordinal);
        var run = Invoke("run", "--help");
        Assert.Equal(0, run.Code);
        foreach (var option in new[]
            { "--source", "--frames", "--out", "--headless", "--fps", "--timing", "--loop", "--min-analysis-fps" })
            Assert.Contains(option, run.Out, StringComparison.Ordinal);
        // render analyses every frame: no floor to keep.
        Assert.DoesNotContain("--min-analysis-fps", Invoke("render", "--help").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_is_a_usage_error()
    {
        var (code, _, stderr) = Invoke("run", "--no-such-option");
        Assert.NotEqual(0, code);
        Assert.Contains("--no-such-option", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>Hostile and careless inputs that used to end in "unexpected error": each is one line naming what was
/// wrong, exit code 2.</summary>
public sealed class HostileInputTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Safetensors(string dir, string name, string header, int dataBytes = 16)
    {
        var path = Path.Combine(dir, name + ".safetensors");
        var json = System.Text.Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)json.Length));
        file.Write(json);
        file.Write(new byte[dataBytes]);
        return path;
    }

    public static TheoryData<string, string> Headers => new()
    {
        { "no-dtype", """{"w": {"shape": [2, 2], "data_offsets": [0, 16]}}""" },
        { "dtype-number", """{"w": {"dtype": 5, "shape": [2, 2], "data_offsets": [0, 16]}}""" },
        { "one-offset", """{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0]}}""" },
        { "offsets-past-end", """{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 4000000000]}}""" },
        { "shape-not-data", """{"w": {"dtype": "F32", "shape": [100000, 100000], "data_offsets": [0, 16]}}""" },
        { "root-array", """[1, 2, 3]""" },
        { "broken-json", """{"w": {"dtype": "F32", "shape": [2, """ },
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public void A_malformed_safetensors_header_is_one_line_naming_the_file(string name, string header)
    {
        var weights = Safetensors(_dir, name, header);
        var (code, _, error) = CliRunner.Invoke("explain", "--model", "robot", "--weights", weights,
            "--image", CliRunner.SceneImage(_dir), "--out", Path.Combine(_dir, "e.png"));
        Assert.Equal(Cli.BadInput, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("livecam: ", line, StringComparison.Ordinal);
        Assert.Contains(name, line, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_labels_file_without_end_is_refused_and_labels_cannot_send_escape_sequences()
    {
        Skip.IfNot(File.Exists("/dev/zero"), "needs /dev/zero");
        var scene = CliRunner.SceneImage(_dir);
        var (code, _, error) = CliRunner.Invoke("explain", "--model", "resnet18", "--image", scene,
            "--out", Path.Combine(_dir, "e.png"), "--labels", "/dev/zero");
        Assert.Equal(Cli.BadInput, code);
        Assert.Contains("labels '/dev/zero' is over 8 MB",
            Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

        var labels = Path.Combine(_dir, "labels.txt");
        File.WriteAllLines(labels, Enumerable.Range(0, 1000).Select(i => $"class {i}\u001b[2J\u202e"));
        var json = Path.Combine(_dir, "e.json");
        (code, var output, error) = CliRunner.Invoke("explain", "--model", "resnet18", "--image", scene,
            "--out", Path.Combine(_dir, "e.png"), "--labels", labels, "--json", json);
        Assert.True(code == 0, error);
        Assert.DoesNotContain(output + error, c => char.IsControl(c) && c != '\n' && c != '\r');
        Assert.Contains(@"\x1b[2J\u202e", File.ReadAllText(json).Replace(@"\\", @"\", StringComparison.Ordinal),
            StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Outputs_that_cannot_be_written_are_one_line_each()
    {
        Skip.IfNot(Directory.Exists("/proc"), "needs /proc");
        var scene = CliRunner.SceneImage(_dir);
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["explain", "--model", "robot", "--image", scene, "--out", Path.Combine(_dir, "e.png"),
                "--json", "/proc/x.json"], "/proc/x.json"),
            (["explain", "--model", "robot", "--image", scene, "--out", _dir], "it is a folder"),
            (["explain", "--model", "robot", "--image", scene, "--out", Path.Combine(_dir, "e.xyz")], "'.xyz'"),
            (["run", "--source", "synthetic:160x120", "--headless", "--frames", "3",
                "--out", Path.Combine(_dir, "o.mp4"), "--serve", "1.2.3.4:8080"], "--serve"),
        })
        {
            var (code, _, error) = CliRunner.Invoke(args);
            Assert.True(code == Cli.BadInput, $"{string.Join(' ', args)}: exit {code}: {error}");
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries),
                l => l.StartsWith("livecam:", StringComparison.Ordinal));
            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.DoesNotContain("unexpected", line, StringComparison.Ordinal);
        }
    }
}
