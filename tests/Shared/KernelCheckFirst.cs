using System.Runtime.CompilerServices;

namespace LiveCam.Tests;

/// <summary>As the app does before any network runs: the CPU kernels are checked (and oneDNN corrected where this
/// processor misleads it) before any test of this assembly computes anything.</summary>
internal static class KernelCheckFirst
{
    [ModuleInitializer]
    internal static void Run() => Explain.Kernels.CpuKernels.EnsureChecked();
}
