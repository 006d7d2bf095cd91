using System.Diagnostics;
using System.Text.Json;
using LiveCam.Explain.Kernels;

namespace LiveCam.App.Tests;

/// <summary>
/// The kernel check on a processor with the fault, for real: the app in a process of its own, with oneDNN made to see
/// the 1-byte caches that Xbyak computes on AMD processors whose hypervisor hides CPUID leaf 0x8000001D
/// (<see cref="CpuKernels.SimulationVariable"/>). Unrepaired, oneDNN's own convolutions are wrong there (the doctor's
/// fallback line shows by how much, against float64): that is the repro. Repaired, or with oneDNN off, every number
/// an explanation gives matches the one computed where nothing was simulated.
/// </summary>
public sealed class DoctorTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-doctor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Out, string Err) Livecam(string simulation, params string[] args) =>
        LivecamLogging(simulation, logLevel: null, args);

    /// <summary>As <see cref="Livecam(string, string[])"/>, with TORCH_CPP_LOG_LEVEL set (or unset: null).</summary>
    static (int Code, string Out, string Err) LivecamLogging(string simulation, string? logLevel,
        params string[] args) =>
        LivecamWith(new() { [CpuKernels.SimulationVariable] = simulation, ["TORCH_CPP_LOG_LEVEL"] = logLevel }, args);

    /// <summary>The app with these environment variables set (null: unset).</summary>
    static (int Code, string Out, string Err) LivecamWith(Dictionary<string, string?> environment,
        params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "livecam.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (name, value) in environment)
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "livecam did not finish");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    static bool X86Linux => OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.X86Base.IsSupported;

    [SkippableFact]
    public void Doctor_names_the_processor_and_finds_every_family_right_here()
    {
        var (code, output, error) = Livecam("", "doctor");
        Assert.True(code == 0, output + error);
        Assert.Matches("(?m)^processor: .+ \\(\\d+ logical cores\\)$", output);
        Assert.Matches("(?m)^features: ", output);
        Assert.Matches("(?m)^oneDNN: on", output);
        Assert.Matches("(?m)^check: convolution forward, channels-last: \\d+ cases right", output);
        Assert.Matches("(?m)^check: packed convolution \\+ sum \\+ ReLU, in place .*: \\d+ cases right", output);
        Assert.Matches("(?m)^libtorch: NNPACK off; its log keeps errors only", output);
        Assert.Matches("(?m)^verdict: the kernels compute right", output);
    }

    /// <summary>libtorch's OpenMP runtime (its own libgomp) itself reports the policy it read at load: LiveCam's
    /// default makes its workers sleep between parallel regions instead of spinning (which took the cores from the
    /// display and ONNX Runtime), and a policy the user set is kept.</summary>
    [SkippableFact]
    public void LibTorchs_OpenMP_workers_sleep_between_regions_unless_the_user_chose_otherwise()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "GNU libgomp's environment report");
        static string Reported(string? policy)
        {
            var (code, output, error) = LivecamWith(
                new() { ["OMP_DISPLAY_ENV"] = "TRUE", ["OMP_WAIT_POLICY"] = policy }, "doctor");
            Assert.True(code == 0, output + error);
            // libgomp prints its settings to stderr when it loads, one per line: "  OMP_WAIT_POLICY = 'PASSIVE'".
            var line = Assert.Single(error.Split('\n'), l => l.Contains("OMP_WAIT_POLICY =",
                StringComparison.Ordinal));
            return line.Trim() + "\n" + output;
        }

        var byDefault = Reported(null);
        Assert.StartsWith("OMP_WAIT_POLICY = 'PASSIVE'", byDefault, StringComparison.Ordinal);
        Assert.Matches("(?m)^OpenMP workers \\(libtorch's\\): sleep between parallel regions", byDefault);
        var chosen = Reported("ACTIVE");
        Assert.StartsWith("OMP_WAIT_POLICY = 'ACTIVE'", chosen, StringComparison.Ordinal);
        Assert.Matches("(?m)^OpenMP workers \\(libtorch's\\): OMP_WAIT_POLICY=ACTIVE, as set$", chosen);
    }

    /// <summary>Issue 21, point 9: where NNPACK cannot start, libtorch 2.10 logs so at every convolution oneDNN does
    /// not take. The repro first (the line at least once a frame), then the same run with NNPACK off says
    /// nothing.</summary>
    [SkippableFact]
    public void Where_NNPACK_cannot_start_a_run_writes_no_libtorch_lines()
    {
        Skip.IfNot(X86Linux, "libtorch_cpu's symbol table");
        const int frames = 20;
        string[] run = ["run", "--source", "synthetic", "--headless", "--frames", $"{frames}",
            "--out", Path.Combine(_dir, "run.mp4")];
        static int Lines(string error) => error.Split('\n').Count(l =>
            l.Contains("Could not initialize NNPACK! Reason: Unsupported hardware.", StringComparison.Ordinal));

        var (code, output, error) = Livecam("no-nnpack,no-repair", run);
        Assert.True(code == 0, output + error);
        Assert.True(Lines(error) >= frames, $"the repro: {Lines(error)} NNPACK lines for {frames} frames");

        (code, output, error) = Livecam("no-nnpack", run);
        Assert.True(code == 0, output + error);
        Assert.DoesNotContain("NNPACK", error, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?m)^\[[WE]", error);

        // NNPACK off is enough on its own: with every libtorch message the user asks for, still none about it.
        (code, output, error) = LivecamLogging("no-nnpack", "INFO", run);
        Assert.True(code == 0, output + error);
        Assert.Equal(0, Lines(error));
        (code, output, error) = LivecamLogging("no-nnpack", "INFO", "doctor");
        Assert.True(code == 0, output + error);
        Assert.Matches("(?m)^libtorch: NNPACK off; its log as TORCH_CPP_LOG_LEVEL=INFO says$", output);
    }

    [SkippableFact]
    public void Where_CPUID_hides_the_caches_oneDNN_is_wrong_and_the_check_switches_it_off()
    {
        Skip.IfNot(X86Linux, "oneDNN's x86 CPU object");
        var (code, output, error) = Livecam("no-cache-info,no-repair", "doctor");
        Assert.True(code == 0, output + error);
        // The repro: oneDNN's own kernels against float64, with the caches such a processor reports.
        var fallback = Assert.Single(output.Split('\n'),
            l => l.StartsWith("fallback: oneDNN's convolution", StringComparison.Ordinal));
        Assert.Matches("gave (NaN|results wrong by [0-9.]+% of scale) at .+; using libtorch's own kernels", fallback);
        Assert.Contains($"livecam: {fallback["fallback: ".Length..]}", error, StringComparison.Ordinal);
        Assert.Matches("(?m)^oneDNN: off", output);
        Assert.Matches("(?m)^packed convolutions .*: not used", output);
        Assert.Matches("(?m)^verdict: the kernels compute right", output);
    }

    [SkippableFact]
    public void Where_CPUID_hides_the_caches_they_are_corrected_and_oneDNN_stays_on()
    {
        Skip.IfNot(X86Linux, "oneDNN's x86 CPU object");
        var (code, output, error) = Livecam("no-cache-info", "doctor");
        Assert.True(code == 0, output + error);
        Assert.Matches("(?m)^repair: .*oneDNN would plan its convolutions for L1 1 B, L2 1 B, L3 1 B .*; "
            + "corrected to L1 32 KiB, L2 512 KiB, L3 1 MiB$", output);
        // Repaired and proven right: nothing for the user's terminal at each start, only doctor's report.
        Assert.DoesNotContain("no cache sizes", error, StringComparison.Ordinal);
        Assert.Matches("(?m)^oneDNN: on", output);
        Assert.DoesNotContain("fallback:", output, StringComparison.Ordinal);
        Assert.Matches("(?m)^packed convolutions .*: used", output);
        Assert.Matches("(?m)^verdict: the kernels compute right", output);
    }

    [SkippableFact]
    public void The_ImageNet_featurizer_gives_the_same_numbers_repaired_and_with_oneDNN_off()
    {
        Skip.IfNot(X86Linux, "oneDNN's x86 CPU object");
        var image = CliRunner.SceneImage(_dir);
        float[] Outputs(string simulation)
        {
            var json = Path.Combine(_dir, $"{simulation.Replace(',', '-')}.json");
            var (code, output, error) = Livecam(simulation, "explain", "--model", "resnet18-imagenet", "--image", image,
                "--json", json, "--out", Path.ChangeExtension(json, ".png"));
            Assert.True(code == 0, output + error);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var heat = doc.RootElement.GetProperty("heatmap").GetProperty("values").EnumerateArray()
                .Select(v => v.GetSingle());
            return [.. doc.RootElement.GetProperty("outputs").EnumerateArray().Select(v => v.GetSingle()), .. heat];
        }
        var here = Outputs("");
        foreach (var simulation in new[] { "no-cache-info", "no-cache-info,no-repair" })
        {
            var there = Outputs(simulation);
            Assert.Equal(here.Length, there.Length);
            var scale = here.Max(Math.Abs);
            var worst = here.Zip(there, (a, b) => Math.Abs(a - b)).Max() / scale;
            Assert.True(worst <= 1e-4, $"{simulation}: outputs differ by {worst:E2} of their scale");
        }
    }
}

/// <summary>A computation that gave NaN ends the command with its one line and exit code 2.</summary>
public class NotFiniteExitTests
{
    [Fact]
    public void NaN_is_bad_input_said_in_one_line()
    {
        using var error = new StringWriter();
        var code = Cli.Report(
            new Core.NotFiniteException("training: the loss became NaN at epoch 1, batch 3 of 3; nothing was saved"),
            error);
        Assert.Equal(Cli.BadInput, code);
        Assert.Equal("livecam: training: the loss became NaN at epoch 1, batch 3 of 3; nothing was saved"
            + Environment.NewLine, error.ToString());
    }
}
