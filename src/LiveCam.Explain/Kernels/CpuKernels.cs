using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace LiveCam.Explain.Kernels;

/// <summary>What the start-up check of this process's CPU kernels found and did.</summary>
public sealed record KernelReport(
    string Processor,
    string Features,
    IReadOnlyList<KernelFamilyResult> Families,
    string? CacheRepair,
    string? Fallback,
    string LibTorch,
    TimeSpan Took)
{
    /// <summary>Every family computed what its reference computes (after any repair or fallback).</summary>
    public bool Right => Families.All(f => f.Passed);

    /// <summary>Whether libtorch may use oneDNN for the rest of this process.</summary>
    public bool OneDnn => Fallback is null;

    /// <summary>The one line to show a user, or null when nothing changes for them. Caches repaired and then proven
    /// right are not: every later start would print the line again, and a bad input's one clear line become two
    /// (<c>livecam doctor</c> shows the repair).</summary>
    public string? Notice => !Right
        ? $"this processor's convolutions give wrong results ({Families.First(f => !f.Passed)}); "
            + "its numbers cannot be trusted (see livecam doctor)"
        : Fallback;

    public IEnumerable<string> Lines()
    {
        yield return $"processor: {Processor}";
        yield return $"features: {Features}";
        var isa = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA");
        yield return $"oneDNN: {(OneDnn ? "on" : "off")}{(isa is null ? "" : $", ONEDNN_MAX_CPU_ISA={isa}")}; "
            + $"libtorch threads: {get_num_threads()}";
        yield return $"libtorch: {LibTorch}";
        if (CacheRepair is not null) yield return $"repair: {CacheRepair}";
        if (Fallback is not null) yield return $"fallback: {Fallback}";
        foreach (var f in Families) yield return $"check: {f}";
        yield return string.Create(CultureInfo.InvariantCulture,
            $"verdict: {(Right ? "the kernels compute right" : "WRONG RESULTS")} "
                + $"(checked in {Took.TotalMilliseconds:0} ms)");
    }
}

/// <summary>
/// The start-up check of the CPU kernels every network relies on. The first time a process asks, before any
/// network runs: corrects oneDNN's cache sizes where this processor's CPUID misleads it (see
/// <see cref="OneDnnCpuCaches"/>), then compares each <see cref="KernelFamilies"/> family with float64. On a mismatch,
/// oneDNN is switched off and the families are checked again on libtorch's own kernels. Other fast paths (the ONNX
/// import's packed convolutions) add their own probes with <see cref="Record"/>.
/// </summary>
public static class CpuKernels
{
    /// <summary>For tests, as the processors with the faults behave: "no-cache-info" makes oneDNN see the 1-byte caches
    /// Xbyak computes from a zeroed CPUID leaf (and ignores what Linux reports); "no-nnpack" makes NNPACK's
    /// initialization have failed ("unsupported hardware"); ",no-repair" leaves libtorch as it is then.</summary>
    public const string SimulationVariable = "LIVECAM_SIMULATE_CPU";

    static readonly Lazy<KernelReport> s_report = new(Check, LazyThreadSafetyMode.ExecutionAndPublication);
    static readonly List<KernelFamilyResult> s_recorded = [];

    /// <summary>Where notices go (the app sends them to stderr); each is said once per process.</summary>
    public static Action<string>? Notify { get; set; }

    /// <summary>Runs the check once per process (later calls return its report).</summary>
    public static KernelReport EnsureChecked() => s_report.Value;

    /// <summary>The report with every family recorded so far, the fast paths' probes included.</summary>
    public static KernelReport Report()
    {
        var report = EnsureChecked();
        lock (s_recorded) return report with { Families = [.. report.Families, .. s_recorded] };
    }

    /// <summary>A fast path's own probe: kept for the report; a failed one is said (the path is then not
    /// used).</summary>
    public static void Record(KernelFamilyResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        lock (s_recorded) s_recorded.Add(result);
        if (!result.Passed) Notify?.Invoke($"{result}; that path is not used");
    }

    static KernelReport Check()
    {
        var clock = Stopwatch.StartNew();
        // The native libraries load with the first tensor: the correction must find them loaded.
        InitializeDeviceType(TorchSharp.DeviceType.CPU);
        var simulation = (Environment.GetEnvironmentVariable(SimulationVariable) ?? "")
            .Split(',', StringSplitOptions.TrimEntries);
        bool simulate = simulation.Contains("no-cache-info"), repair = !simulation.Contains("no-repair");
        if (simulation.Contains("no-nnpack") && !NnpackInitialization.SimulateUnsupportedHardware())
            throw new InvalidOperationException(
                $"{SimulationVariable}=no-nnpack: this libtorch's NNPACK status could not be found");
        var libTorch = repair ? Quieten() : "left as it is";
        var cacheRepair = CorrectCaches(simulate, repair);
        var families = KernelFamilies.All.Select(f => f.Run()).ToList();
        string? fallback = null;
        if (families.Any(f => !f.Passed) && LibTorchSwitches.SetOneDnnEnabled(false))
        {
            var failed = families.First(f => !f.Passed);
            fallback = $"oneDNN's {failed.Family} gave {failed.Wrong} at "
                + $"{failed.WorstCase}; using libtorch's own kernels (slower)";
            families = KernelFamilies.All.Select(f => f.Run()).ToList();
        }
        var report = new KernelReport(
            ProcessorName(), Features(), families, cacheRepair, fallback, libTorch, clock.Elapsed);
        if (report.Notice is { } notice) Notify?.Invoke(notice);
        return report;
    }

    /// <summary>
    /// Keeps libtorch from writing to the console. NNPACK goes off: ATen offers it only forward convolutions of 16 or
    /// more images that oneDNN does not take, it plans by its own reading of the caches, and where it cannot start
    /// libtorch logs so at every convolution (54-66 lines a second seen on a field robot). Those convolutions run on
    /// libtorch's own kernels instead. libtorch's log then keeps only errors, unless the user set TORCH_CPP_LOG_LEVEL:
    /// what matters of its warnings, LiveCam checks and says itself, once.
    /// </summary>
    static string Quieten()
    {
        var nnpack = LibTorchSwitches.SetNnpackEnabled(false) ? "NNPACK off" : "NNPACK's switch not found";
        var level = Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL");
        var log = !string.IsNullOrEmpty(level) ? $"its log as TORCH_CPP_LOG_LEVEL={level} says"
            : LibTorchSwitches.SetLogFrom(LibTorchSwitches.LogLevel.Error)
                ? "its log keeps errors only (TORCH_CPP_LOG_LEVEL=WARNING shows warnings)"
            : "its log level not found";
        return $"{nnpack}; {log}";
    }

    /// <summary>Corrects oneDNN's cache sizes where they are implausible; what was done, or null.</summary>
    static string? CorrectCaches(bool simulate, bool repair)
    {
        var predicted = OneDnnCpuCaches.PredictFromCpuid();
        if (predicted is null || (!predicted.Value.Implausible && !simulate)) return null;
        var sizes = OneDnnCpuCaches.Locate();
        if (sizes == IntPtr.Zero)
            return $"this processor's CPUID reports no cache sizes ({predicted}) "
                + "and this libtorch's oneDNN could not be found to correct them";
        // Only where oneDNN holds exactly what Xbyak computed is the object's layout the one known here.
        if (OneDnnCpuCaches.Read(sizes) != predicted.Value)
            return $"this processor's CPUID reports no cache sizes ({predicted}), "
                + $"but oneDNN holds {OneDnnCpuCaches.Read(sizes)}: left alone";
        if (simulate) OneDnnCpuCaches.Write(sizes, predicted.Value with { L1 = 1, L2 = 1, L3 = 1 });
        var seen = OneDnnCpuCaches.Read(sizes);
        if (!repair) return null;
        var corrected = (simulate ? null : OneDnnCpuCaches.FromOperatingSystem()) ?? CacheSizes.OneDnnGuess;
        OneDnnCpuCaches.Write(sizes, corrected);
        return $"this processor's CPUID reports no cache sizes, so oneDNN would plan its convolutions for {seen} "
            + "and compute "
            + $"wrong results; corrected to {corrected}";
    }

    static string ProcessorName()
    {
        const string cpuinfo = "/proc/cpuinfo";
        var name = File.Exists(cpuinfo)
            ? File.ReadLines(cpuinfo)
                .FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{name ?? "unknown"} ({Environment.ProcessorCount} logical cores)";
    }

    /// <summary>The instruction sets the kernels choose between.</summary>
    static string Features()
    {
        var features = new List<string>();
        if (Avx2.IsSupported) features.Add("avx2");
        if (Fma.IsSupported) features.Add("fma");
        if (Avx512F.IsSupported) features.Add("avx512f");
        if (Avx512BW.IsSupported) features.Add("avx512bw");
        if (Avx512Vbmi.IsSupported) features.Add("avx512vbmi");
        if (AvxVnni.IsSupported) features.Add("avx_vnni");
        if (X86Base.IsSupported)
        {
            var (_, _, ecx7, edx7) = X86Base.CpuId(7, 0);
            if ((ecx7 & (1 << 11)) != 0) features.Add("avx512_vnni");
            var (eax71, _, _, _) = X86Base.CpuId(7, 1);
            if ((eax71 & (1 << 5)) != 0) features.Add("avx512_bf16");
            if ((edx7 & (1 << 24)) != 0) features.Add("amx_tile");
        }
        var caches = OneDnnCpuCaches.PredictFromCpuid();
        if (caches is { } c) features.Add($"CPUID caches {c}");
        return features.Count == 0 ? "none of AVX2, AVX-512" : string.Join(' ', features);
    }
}
