using System.Runtime.InteropServices;
using LiveCam.Explain.Kernels;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>The start-up check of the CPU kernels: it passes where the kernels are right, catches one that is not,
/// and its way into oneDNN (symbol table, the CPU object, the oneDNN switch) finds what it looks for on this machine.
/// The check on a processor with the fault is run for real, in a process of its own, by the app's doctor
/// tests.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public class KernelCheckTests
{
    [Fact]
    public void Every_family_computes_right_here_after_the_check()
    {
        var report = CpuKernels.Report();
        Assert.True(report.Right, string.Join('\n', report.Lines()));
        Assert.Contains(report.Families, f => f.Family == "convolution forward, channels-last");
        Assert.Contains(report.Families, f => f.Family == "convolution backward, NCHW");
        Assert.All(report.Families, f => Assert.True(f.Cases > 0));
        // The channel counts the issue names, and ones no vector width divides.
        var channels = KernelFamilies.Probes.SelectMany(g => new[] { g.InChannels, g.OutChannels }).ToHashSet();
        Assert.Superset(new HashSet<int> { 1, 3, 10, 17, 1000, 1001 }, channels);
    }

    [Fact]
    public void A_kernel_that_is_off_by_a_thousandth_of_scale_fails_its_family_and_names_the_case()
    {
        var g = ConvolutionGeometry.Same(1, 3, 10, 13, 11, 3);
        double Off(double by)
        {
            using var scope = NewDisposeScope();
            var (x, w, b) = g.Tensors(seed: 9);
            var reference = g.Convolve(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64));
            var actual = g.Convolve(x, w, b);
            actual[0, 9, 12, 10] = actual[0, 9, 12, 10] + by * reference.abs().max().item<double>();
            return KernelFamily.RelativeError(actual, reference);
        }
        var right = new KernelFamily("right", [("exact", () => Off(0))]).Run();
        var wrong = new KernelFamily("wrong", [("exact", () => Off(0)), ("last channel off", () => Off(1e-3))]).Run();
        Assert.True(right.Passed, right.ToString());
        Assert.False(wrong.Passed);
        Assert.Equal("last channel off", wrong.WorstCase);
        Assert.InRange(wrong.WorstError, 0.9e-3, 1.1e-3);
        Assert.Contains(
            "results wrong by 0.1% of scale at last channel off", wrong.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NaN_and_a_case_that_throws_each_fail_their_family()
    {
        var nan = new KernelFamily("nan", [("fine", () => 0), ("nan", () => double.NaN), ("after", () => 0.5)]).Run();
        Assert.False(nan.Passed);
        Assert.Equal("nan", nan.WorstCase);
        Assert.Contains("NaN at nan", nan.ToString(), StringComparison.Ordinal);
        var throws = new KernelFamily(
            "throws", [("boom", () => throw new InvalidOperationException("could not create a primitive"))]).Run();
        Assert.False(throws.Passed);
        Assert.Contains("could not create a primitive", throws.ToString(), StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_symbol_table_reader_finds_exported_functions_where_the_loader_put_them()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "ELF libraries only");
        var library = OneDnnCpuCaches.LoadedLibrary("libtorch_cpu.so");
        Assert.NotNull(library);
        const string name = "_ZN2at13globalContextEv";
        var symbols = ElfSymbolTable.Find(library.Value.Path, [name, "no such symbol"]);
        Assert.Single(symbols);
        var exported = NativeLibrary.GetExport(NativeLibrary.Load(library.Value.Path), name);
        Assert.Equal(exported, checked((IntPtr)(library.Value.Base + (long)symbols[name])));
    }

    [SkippableFact]
    public void OneDnn_holds_the_cache_sizes_Xbyak_computes_from_CPUID_here()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && System.Runtime.Intrinsics.X86.X86Base.IsSupported, "x86 Linux only");
        var predicted = OneDnnCpuCaches.PredictFromCpuid();
        Skip.If(predicted is null, "this processor's CPUID lists no data caches");
        var sizes = OneDnnCpuCaches.Locate();
        Assert.NotEqual(IntPtr.Zero, sizes);
        var held = OneDnnCpuCaches.Read(sizes);
        // Where the processor misleads oneDNN (or is made to, LIVECAM_SIMULATE_CPU), the check has corrected its sizes.
        if (CpuKernels.EnsureChecked().CacheRepair is not null) Assert.False(held.Implausible, held.ToString());
        else Assert.Equal(predicted.Value, held);
    }

    [SkippableFact]
    public void OneDnn_is_on_unless_the_check_turned_it_off()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the switch is found through /proc");
        Assert.Equal(CpuKernels.EnsureChecked().OneDnn, LibTorchSwitches.OneDnnEnabled);
    }

    [SkippableFact]
    public void NNPACK_is_off_and_libtorch_logs_only_errors_unless_the_user_asked()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the switches are found through /proc");
        CpuKernels.EnsureChecked();
        Assert.False(LibTorchSwitches.NnpackEnabled);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("TORCH_CPP_LOG_LEVEL")))
            Assert.Equal(LibTorchSwitches.LogLevel.Error, LibTorchSwitches.LogFrom);
    }
}
