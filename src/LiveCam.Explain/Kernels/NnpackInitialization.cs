using System.Runtime.InteropServices;

namespace LiveCam.Explain.Kernels;

/// <summary>
/// libtorch 2.10 keeps NNPACK's initialization status in a function-local static of at::native::init_nnpack(), and
/// logs "Could not initialize NNPACK! Reason: Unsupported hardware." each time a convolution asks whether NNPACK is
/// available and it is not: on processors NNPACK's cpuinfo does not recognize, every convolution oneDNN does not take.
/// For tests, this writes that status as such a processor leaves it, through libtorch_cpu's symbol table.
/// </summary>
internal static class NnpackInitialization
{
    const string Status = "_ZZN2at6nativeL11init_nnpackEvE13nnpack_status";   // init_nnpack()::nnpack_status
    const string Guard = "_ZGVZN2at6nativeL11init_nnpackEvE13nnpack_status";  // its initialization guard
    const int UnsupportedHardware = 51;                                         // nnp_status_unsupported_hardware

    /// <summary>Makes NNPACK's initialization have failed with "unsupported hardware"; false where the library or its
    /// symbols cannot be found (nothing written then).</summary>
    public static bool SimulateUnsupportedHardware()
    {
        if (OneDnnCpuCaches.LoadedLibrary("libtorch_cpu.so") is not { } library) return false;
        var symbols = ElfSymbolTable.Find(library.Path, [Status, Guard]);
        if (!symbols.TryGetValue(Status, out var status) || !symbols.TryGetValue(Guard, out var guard)) return false;
        Marshal.WriteInt32(checked((IntPtr)(library.Base + (long)status)), UnsupportedHardware);
        // The guard's first byte says the static is made: init_nnpack() then never calls nnp_initialize() itself.
        Marshal.WriteByte(checked((IntPtr)(library.Base + (long)guard)), 1);
        return true;
    }
}
