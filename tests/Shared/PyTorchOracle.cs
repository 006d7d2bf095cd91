using System.Diagnostics;

namespace LiveCam.Tests;

/// <summary>Real PyTorch (Debian's python3-torch and python3-torchvision, installed by the test setup where it can),
/// run at test time as the judge of what a weight file means. Tests skip with the reason where it is missing.</summary>
internal static class PyTorchOracle
{
    const string Python = "/usr/bin/python3";
    static readonly Lazy<string?> s_missing = new(Check);
    static readonly Lazy<string?> s_missingOnnx = new(() => Missing
        ?? (Run(["-c", "import onnx"], TimeSpan.FromMinutes(1)).Code == 0
            ? null
            : "the onnx Python package is not installed (apt-get install python3-onnx)"));

    /// <summary>Why ONNX's own Python package (to build graphs by hand) cannot run here, or null when it can.</summary>
    public static string? MissingOnnx => s_missingOnnx.Value;

    /// <summary>Why the oracle cannot run here, or null when it can.</summary>
    public static string? Missing => s_missing.Value;

    static string? Check()
    {
        if (!File.Exists(Python)) return $"{Python} is missing";
        var (code, _, err) = Run(["-c", "import torch, torchvision"], TimeSpan.FromMinutes(2));
        return code == 0
            ? null
            : "PyTorch is not installed (apt-get install python3-torch python3-torchvision): "
                + $"{err.Trim().Split('\n')[^1]}";
    }

    /// <summary>Runs one of the oracle scripts shipped with the tests (Oracle/*.py) and fails the test on an
    /// error.</summary>
    public static void Script(string script, params string[] args) => Script(TimeSpan.FromMinutes(5), script, args);

    /// <summary>The same with a time limit of its own (the slow checks' oracles run for many minutes).</summary>
    public static void Script(TimeSpan timeout, string script, params string[] args)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Oracle", script);
        var (code, output, error) = Run([path, .. args], timeout);
        Assert.True(code == 0, $"{script} {string.Join(' ', args)} failed ({code}): {output}{error}");
    }

    static (int Code, string Out, string Err) Run(string[] args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        // One thread each, as the tests run beside others on a small machine.
        info.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "", $"timed out after {timeout.TotalSeconds:0} s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The largest difference between two output vectors, as a share of the expected outputs' scale (at least
    /// 1): randomly initialised deep networks reach 1e12 where others stay near 1.</summary>
    public static double RelativeDifference(IReadOnlyList<float> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        return expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() / Math.Max(1, expected.Max(Math.Abs));
    }

    /// <summary>Raw little-endian float32 values, as numpy's tofile writes them.</summary>
    public static float[] Floats(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * 4);
        return values;
    }
}
