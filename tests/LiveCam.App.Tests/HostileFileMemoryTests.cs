using System.Diagnostics;
using System.Globalization;
using LiveCam.Tests;

namespace LiveCam.App.Tests;

/// <summary>
/// Issue 21, point 2, as a user meets it: the real livecam process given tiny files that declare gigabytes (weights
/// written by real torch.save and edited as an attacker would, labels and heads without end) ends in one line naming
/// the file, exit 2, and its peak resident memory (the kernel's count for the process, libtorch loaded) stays under
/// 500 MB. Before, these took 2.5 to 5.9 GB.
/// </summary>
public sealed class HostileFileMemoryTests : IDisposable
{
    const long MaxResidentBytes = 500L << 20;
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-hostile-rss-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs livecam under Python, which reports the peak resident set of the process it waited for.</summary>
    (int Code, string Err, long PeakBytes) Livecam(params string[] args)
    {
        var peakFile = Path.Combine(_dir, "peak");
        var info = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        foreach (var a in (string[])["-c", "import resource, subprocess, sys\ncode = subprocess.call(sys.argv[2:])\n"
            + "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
            + "sys.exit(code)",
            peakFile, "dotnet", Path.Combine(AppContext.BaseDirectory, "livecam.dll"), .. args])
            info.ArgumentList.Add(a);
        info.WorkingDirectory = _dir;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"livecam {string.Join(' ', args)} did not end in 3 minutes");
        }
        _ = stdout.Result;
        return (process.ExitCode, stderr.Result,
            long.Parse(File.ReadAllText(peakFile), CultureInfo.InvariantCulture) * 1024);
    }

    [SkippableFact]
    public void Files_that_declare_gigabytes_end_in_one_line_with_under_500_MB_resident()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/python3"),
            "needs Linux and /usr/bin/python3 (for the peak resident set)");
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("torch_hostile.py", _dir);
        using (var labels = File.Create(Path.Combine(_dir, "labels.txt")))
            labels.SetLength(100L << 20);  // 100 MB of NUL, sparse
        using (var head = File.Create(Path.Combine(_dir, "head.dat")))
            head.SetLength(60L << 20);     // under the old 64 MB cap
        var cases = new (string[] Args, string File, string Says)[]
        {
            (["layers", "--model", "robot", "--weights", "stride0.pt"], "stride0.pt", "declares 2000000000 values"),
            (["layers", "--model", "robot", "--weights", "robot600m.pt"], "robot600m.pt",
                "encoder.0.weight is 600000000 in the file, the network expects 10x3x3x3"),
            (["layers", "--model", "robot", "--weights", "bomb.pt"], "bomb.pt", "holds 1073741824 bytes"),
            (["layers", "--model", "robot", "--weights", "pklbomb.pt"], "pklbomb.pt",
                "data.pkl inflates to over 64 MB"),
            (["layers", "--model", "resnet18", "--labels", "labels.txt"], "labels.txt", "is over 8 MB"),
            (["layers", "--model", "resnet18", "--labels", "/dev/zero"], "/dev/zero", "is over 8 MB"),
            (["layers", "--model", "resnet18", "--head", "head.dat"], "head.dat",
                "is 60 MB; a taught head is at most 8 MB"),
        };
        foreach (var (args, file, says) in cases)
        {
            var (code, error, peak) = Livecam(args);
            var what = $"livecam {string.Join(' ', args)}";
            Assert.True(code == Cli.BadInput, $"{what}: exit {code}: {error}");
            var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("livecam: ", line, StringComparison.Ordinal);
            Assert.Contains(file, line, StringComparison.Ordinal);
            Assert.Contains(says, line, StringComparison.Ordinal);
            Assert.True(peak < MaxResidentBytes, $"{what}: {peak >> 20} MB resident at peak");
        }
    }
}
