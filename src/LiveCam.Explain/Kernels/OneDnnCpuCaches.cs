using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LiveCam.Explain.Kernels;

/// <summary>Data cache sizes in bytes, as oneDNN keeps them: the whole cache at each level.</summary>
public readonly record struct CacheSizes(uint L1, uint L2, uint L3)
{
    /// <summary>What oneDNN assumes where a processor reports no caches at all (its get_per_core_cache_size
    /// guesses).</summary>
    public static CacheSizes OneDnnGuess { get; } = new(32 * 1024, 512 * 1024, 1024 * 1024);

    /// <summary>Sizes no real data cache has: what a zeroed CPUID leaf gives.</summary>
    public bool Implausible => L1 < 1024 || L2 < 1024 || L3 < 1024;

    public override string ToString() => $"L1 {Format(L1)}, L2 {Format(L2)}, L3 {Format(L3)}";

    static string Format(uint bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} B",
    };
}

/// <summary>
/// The cache sizes oneDNN (inside libtorch) sizes its convolution blocks by. oneDNN 3.x reads them through Xbyak's
/// CPUID code, which on AMD processors takes leaf 0x8000001D for granted. Hypervisors that hide that leaf (no
/// topoext; lscpu then shows no caches) leave it zeroed, and Xbyak computes 1-byte caches. oneDNN's AVX-512 and AVX2
/// convolutions, forward and backward, then compute wrong results for some shapes. This class predicts what Xbyak
/// saw, finds oneDNN's copy in the loaded library through its symbol table, and can correct it before the first
/// convolution is planned.
/// </summary>
internal static class OneDnnCpuCaches
{
    const string CpuObject = "_ZZN4dnnl4impl3cpu3x643cpuEvE4cpu_";   // dnnl::impl::cpu::x64::cpu()::cpu_
    const string CpuFunction = "_ZN4dnnl4impl3cpu3x643cpuEv";        // dnnl::impl::cpu::x64::cpu()
    // Xbyak::util::Cpu: Type type_ (16 bytes), bool x2APIC_supported_, uint32_t numCores_[2], then dataCacheSize_[10].
    const int SizesOffset = 28;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate IntPtr CpuAccessor();

    /// <summary>What Xbyak computes from CPUID on this processor, as oneDNN does at its first use; null off
    /// x86.</summary>
    public static CacheSizes? PredictFromCpuid()
    {
        if (!X86Base.IsSupported) return null;
        var (_, _, vendor, _) = X86Base.CpuId(0, 0);
        if (vendor == 0x444D4163) // "cAMD": Xbyak reads leaf 0x8000001D subleaves 0 (L1d), 2 (L2), 3 (L3) unchecked
        {
            uint Size(int subleaf)
            {
                var (_, ebx, ecx, _) = X86Base.CpuId(unchecked((int)0x8000001D), subleaf);
                uint b = (uint)ebx;
                return ((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * ((uint)ecx + 1);
            }
            return new CacheSizes(Size(0), Size(2), Size(3));
        }
        // Intel: leaf 4's data and unified caches in order, as far as they go.
        var sizes = new List<uint>();
        for (int i = 0; sizes.Count < 3 && i < 16; i++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(4, i);
            var type = eax & 0x1F;
            if (type == 0) break;
            if (type is 1 or 3)
            {
                uint b = (uint)ebx;
                sizes.Add(((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * ((uint)ecx + 1));
            }
        }
        return sizes.Count == 3 ? new CacheSizes(sizes[0], sizes[1], sizes[2]) : null;
    }

    /// <summary>The data caches Linux reports (sysfs), or null where it reports none, as on the machines with the
    /// fault.</summary>
    public static CacheSizes? FromOperatingSystem()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root)) return null;
        uint l1 = 0, l2 = 0, l3 = 0;
        foreach (var index in Directory.EnumerateDirectories(root, "index*"))
        {
            string Read(string name) =>
                File.Exists(Path.Combine(index, name)) ? File.ReadAllText(Path.Combine(index, name)).Trim() : "";
            if (Read("type") == "Instruction") continue;
            var size = Read("size");
            if (!size.EndsWith('K')
                || !uint.TryParse(size[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                continue;
            // sysfs gives one cache's size; oneDNN keeps the whole level and divides by the cores sharing it.
            var bytes = kib * 1024;
            switch (Read("level"))
            {
                case "1": l1 = bytes; break;
                case "2": l2 = bytes; break;
                case "3": l3 = bytes; break;
            }
        }
        var os = new CacheSizes(l1, l2, l3 == 0 ? l2 : l3);
        return os.Implausible ? null : os;
    }

    /// <summary>Where oneDNN keeps its sizes in this process, after making sure it has read them; null where the
    /// library or its symbol table cannot be found.</summary>
    public static IntPtr Locate()
    {
        var library = LoadedLibrary("libtorch_cpu.so");
        if (library is null) return IntPtr.Zero;
        var symbols = ElfSymbolTable.Find(library.Value.Path, [CpuObject, CpuFunction]);
        if (!symbols.TryGetValue(CpuObject, out var objectAt) || !symbols.TryGetValue(CpuFunction, out var functionAt))
            return IntPtr.Zero;
        // oneDNN makes the object at its first use: make it now, so that nothing later overwrites a correction.
        var accessor = Marshal.GetDelegateForFunctionPointer<CpuAccessor>(
            checked((IntPtr)(library.Value.Base + (long)functionAt)));
        var cpu = accessor();
        return cpu == checked((IntPtr)(library.Value.Base + (long)objectAt)) ? cpu + SizesOffset : IntPtr.Zero;
    }

    public static CacheSizes Read(IntPtr sizes) =>
        new((uint)Marshal.ReadInt32(sizes), (uint)Marshal.ReadInt32(sizes, 4), (uint)Marshal.ReadInt32(sizes, 8));

    public static void Write(IntPtr sizes, CacheSizes value)
    {
        Marshal.WriteInt32(sizes, unchecked((int)value.L1));
        Marshal.WriteInt32(sizes, 4, unchecked((int)value.L2));
        Marshal.WriteInt32(sizes, 8, unchecked((int)value.L3));
    }

    /// <summary>A loaded shared library's path and load address (its first mapping), from /proc/self/maps.</summary>
    internal static (string Path, long Base)? LoadedLibrary(string fileName)
    {
        if (!File.Exists("/proc/self/maps")) return null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 6 || parts[2] != "00000000") continue;
            var path = parts[5].Trim();
            if (Path.GetFileName(path) != fileName) continue;
            var start = parts[0][..parts[0].IndexOf('-', StringComparison.Ordinal)];
            return (path, long.Parse(start, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return null;
    }
}
