using System.Runtime.InteropServices;

namespace LiveCam.Explain.Kernels;

/// <summary>libtorch's global switches that TorchSharp does not bind, reached through the C++ functions and data
/// libtorch_cpu and libc10 export: oneDNN and NNPACK (PyTorch's <c>torch.backends.mkldnn.enabled</c> and
/// <c>torch.backends.nnpack.enabled</c>), and the level below which libtorch's own log messages are dropped.</summary>
internal static class LibTorchSwitches
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate IntPtr GlobalContext();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate void SetFlag(IntPtr context, byte value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] delegate byte GetFlag(IntPtr context);

    static readonly Switch s_oneDnn =
        new("_ZN2at7Context20setUserEnabledMkldnnEb", "_ZNK2at7Context17userEnabledMkldnnEv");
    static readonly Switch s_nnpack =
        new("_ZN2at7Context20setUserEnabledNNPACKEb", "_ZNK2at7Context17userEnabledNNPACKEv");

    /// <summary>Whether libtorch may use oneDNN; null where it cannot be read.</summary>
    public static bool? OneDnnEnabled => s_oneDnn.Get();

    /// <summary>Turns oneDNN off or on for every later operation of this process (off, convolutions run libtorch's own
    /// kernels: im2col and a matrix product); false where the switch cannot be reached.</summary>
    public static bool SetOneDnnEnabled(bool enabled) => s_oneDnn.Set(enabled);

    /// <summary>Whether libtorch may use NNPACK; null where it cannot be read.</summary>
    public static bool? NnpackEnabled => s_nnpack.Get();

    /// <summary>Turns NNPACK off or on for every later convolution of this process; false where it cannot be
    /// reached.</summary>
    public static bool SetNnpackEnabled(bool enabled) => s_nnpack.Set(enabled);

    /// <summary>libtorch's log levels (c10's FLAGS_caffe2_log_level): messages below the level are dropped.</summary>
    public enum LogLevel { Info = 0, Warning = 1, Error = 2, Fatal = 3 }

    /// <summary>The level libtorch logs from; null where it cannot be read.</summary>
    public static LogLevel? LogFrom => LogLevelFlag() is { } flag ? (LogLevel)Marshal.ReadInt32(flag) : null;

    /// <summary>Sets the level libtorch logs from, read at every message; false where it cannot be reached.</summary>
    public static bool SetLogFrom(LogLevel level)
    {
        if (LogLevelFlag() is not { } flag) return false;
        Marshal.WriteInt32(flag, (int)level);
        return true;
    }

    static IntPtr? LogLevelFlag() =>
        Export("libc10.so", "FLAGS_caffe2_log_level") is { } flag && flag != IntPtr.Zero ? flag : null;

    static IntPtr? Export(string library, string symbol) =>
        Handle(library) is { } handle && NativeLibrary.TryGetExport(handle, symbol, out var address) ? address : null;

    // Found once per library: each switch reads three exports, and /proc/self/maps is long in a TorchSharp process.
    // Only a library found is remembered (one asked for before libtorch loads is looked for again).
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, IntPtr> s_handles = new();

    static IntPtr? Handle(string library)
    {
        if (s_handles.TryGetValue(library, out var known)) return known;
        if (OneDnnCpuCaches.LoadedLibrary(library) is not { } loaded
            || !NativeLibrary.TryLoad(loaded.Path, out var handle))
            return null;
        return s_handles.GetOrAdd(library, handle);
    }

    /// <summary>One boolean of at::globalContext(), by its exported setter and getter.</summary>
    sealed record Switch(string Setter, string Getter)
    {
        public bool? Get() => Resolve() is { } e
            ? Marshal.GetDelegateForFunctionPointer<GetFlag>(e.Get)(
                Marshal.GetDelegateForFunctionPointer<GlobalContext>(e.Context)()) != 0
            : null;

        public bool Set(bool enabled)
        {
            if (Resolve() is not { } e) return false;
            var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(e.Context)();
            Marshal.GetDelegateForFunctionPointer<SetFlag>(e.Set)(context, enabled ? (byte)1 : (byte)0);
            return true;
        }

        (IntPtr Context, IntPtr Set, IntPtr Get)? Resolve() =>
            Export("libtorch_cpu.so", "_ZN2at13globalContextEv") is { } context
            && Export("libtorch_cpu.so", Setter) is { } set && Export("libtorch_cpu.so", Getter) is { } get
                ? (context, set, get) : null;
    }
}
