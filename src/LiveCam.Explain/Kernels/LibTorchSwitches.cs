using System.Runtime.InteropServices;

namespace LiveCam.Explain.Kernels;

/// <summary>libtorch's global switch for oneDNN (PyTorch's <c>torch.backends.mkldnn.enabled</c>), which TorchSharp does
/// not bind: reached through the C++ functions libtorch_cpu exports. Off, convolutions run libtorch's own kernels
/// (im2col and a matrix product): slower, and independent of oneDNN's blocking.</summary>
internal static class LibTorchSwitches
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GlobalContext();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate void SetFlag(IntPtr context, byte value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate byte GetFlag(IntPtr context);

    /// <summary>Whether libtorch may use oneDNN (at::globalContext().userEnabledMkldnn()); null where it cannot be read.</summary>
    public static bool? OneDnnEnabled
    {
        get
        {
            if (Exports() is not { } e) return null;
            return Marshal.GetDelegateForFunctionPointer<GetFlag>(e.Get)(Marshal.GetDelegateForFunctionPointer<GlobalContext>(e.Context)()) != 0;
        }
    }

    /// <summary>Turns oneDNN off or on for every later operation of this process; false where the switch cannot be reached.</summary>
    public static bool SetOneDnnEnabled(bool enabled)
    {
        if (Exports() is not { } e) return false;
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(e.Context)();
        Marshal.GetDelegateForFunctionPointer<SetFlag>(e.Set)(context, enabled ? (byte)1 : (byte)0);
        return true;
    }

    static (IntPtr Context, IntPtr Set, IntPtr Get)? Exports()
    {
        if (OneDnnCpuCaches.LoadedLibrary("libtorch_cpu.so") is not { } library
            || !NativeLibrary.TryLoad(library.Path, out var handle)) return null;
        return NativeLibrary.TryGetExport(handle, "_ZN2at13globalContextEv", out var context)
            && NativeLibrary.TryGetExport(handle, "_ZN2at7Context20setUserEnabledMkldnnEb", out var set)
            && NativeLibrary.TryGetExport(handle, "_ZNK2at7Context17userEnabledMkldnnEv", out var get)
            ? (context, set, get) : null;
    }
}
