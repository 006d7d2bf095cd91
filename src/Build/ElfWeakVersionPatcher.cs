// Marks one GNU version requirement of an ELF shared library as weak (VER_FLG_WEAK), so the dynamic
// loader accepts a system library that lacks that version. Used at build time for LibTorchSharp
// (see LibTorchSharpFix.targets): it requires GLIBCXX_3.4.32 only for a marker symbol it never binds.
// This file is compiled twice: as an MSBuild inline task, and into the build tests (LIVECAM_BUILD_TESTS).
#pragma warning disable IDE0161 // one file holds the task (global namespace) and the logic
#pragma warning disable IDE0005 // the inline task compiles without implicit usings: these are needed there
using System;
using System.IO;
using System.Text;

#if !LIVECAM_BUILD_TESTS
public sealed class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public string OutputDirectory { get; set; } = "";

    public override bool Execute()
    {
        const string version = "GLIBCXX_3.4.32";
        if (LiveCamBuild.ElfWeakVersionPatcher.SystemLibStdCxxHas(version))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low,
                $"System libstdc++ has {version}: LibTorchSharp needs no patch.");
            return true;
        }
        if (!Directory.Exists(OutputDirectory)) return true;
        foreach (var file in Directory.EnumerateFiles(OutputDirectory, "libLibTorchSharp.so",
            SearchOption.AllDirectories))
        {
            var result = LiveCamBuild.ElfWeakVersionPatcher.MakeWeak(file, version);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, $"LibTorchSharp fix: {file}: {result}");
            if (result == LiveCamBuild.PatchResult.NotElf)
            {
                Log.LogError($"LibTorchSharp fix: {file} is not a 64-bit little-endian ELF file.");
                return false;
            }
        }
        return true;
    }
}
#endif

namespace LiveCamBuild
{
    public enum PatchResult { Patched, AlreadyWeak, NoSuchRequirement, NotElf }

    public static class ElfWeakVersionPatcher
    {
        const uint ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlgWeak = 2;

        /// <summary>Sets VER_FLG_WEAK on the requirement named <paramref name="version"/>; idempotent.
        /// Writes a new file and renames it over the old one, so a hard-linked original is never touched.</summary>
        public static PatchResult MakeWeak(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindRequirementFlags(bytes, version, out var result);
            if (offset < 0) return result;
            var flags = BitConverter.ToUInt16(bytes, offset);
            if ((flags & VerFlgWeak) != 0) return PatchResult.AlreadyWeak;
            var patched = (ushort)(flags | VerFlgWeak);
            bytes[offset] = (byte)(patched & 0xff);
            bytes[offset + 1] = (byte)(patched >> 8);
            var temp = path + ".patching";
            File.WriteAllBytes(temp, bytes);
            File.Delete(path);  // unlinks this name only: a hard-linked original keeps its bytes
            File.Move(temp, path);
            return PatchResult.Patched;
        }

        /// <summary>Whether the requirement is present and already weak, without changing the file.</summary>
        public static PatchResult Inspect(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            var offset = FindRequirementFlags(bytes, version, out var result);
            if (offset < 0) return result;
            return (BitConverter.ToUInt16(bytes, offset) & VerFlgWeak) != 0
                ? PatchResult.AlreadyWeak
                : PatchResult.Patched;
        }

        /// <summary>Offset of vna_flags of the Vernaux entry named <paramref name="version"/>, or -1.</summary>
        static int FindRequirementFlags(byte[] b, string version, out PatchResult result)
        {
            result = PatchResult.NotElf;
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F'
                || b[4] != 2 /* 64-bit */ || b[5] != 1 /* little endian */)
                return -1;
            long shoff = BitConverter.ToInt64(b, 0x28);
            int shentsize = BitConverter.ToUInt16(b, 0x3A);
            int shnum = BitConverter.ToUInt16(b, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > b.Length) return -1;

            result = PatchResult.NoSuchRequirement;
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (BitConverter.ToUInt32(b, sh + 4) != ShtGnuVerneed) continue;
                long secOffset = BitConverter.ToInt64(b, sh + 24);
                int link = (int)BitConverter.ToUInt32(b, sh + 40);
                int count = (int)BitConverter.ToUInt32(b, sh + 44);
                if (link >= shnum) { result = PatchResult.NotElf; return -1; }
                long strOffset = BitConverter.ToInt64(b, checked((int)(shoff + (long)link * shentsize)) + 24);

                long vn = secOffset;
                for (int n = 0; n < count; n++)
                {
                    int auxCount = BitConverter.ToUInt16(b, (int)vn + 2);
                    long aux = vn + BitConverter.ToUInt32(b, (int)vn + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        uint name = BitConverter.ToUInt32(b, (int)aux + 8);
                        if (ReadCString(b, strOffset + name) == version) return (int)aux + 4;
                        uint next = BitConverter.ToUInt32(b, (int)aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = BitConverter.ToUInt32(b, (int)vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
            return -1;
        }

        static string ReadCString(byte[] b, long start)
        {
            int s = checked((int)start), e = s;
            while (e < b.Length && b[e] != 0) e++;
            return Encoding.ASCII.GetString(b, s, e - s);
        }

        // Compiled by MSBuild against netstandard2.0 too: no spans here.
        static int IndexOf(byte[] haystack, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && haystack[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        /// <summary>Whether the system's libstdc++.so.6 defines the symbol version <paramref name="version"/>.
        /// False when no libstdc++ is found (then patching is the safe choice).</summary>
        public static bool SystemLibStdCxxHas(string version)
        {
            string[] dirs =
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib"
            };
            var needle = Encoding.ASCII.GetBytes(version + "\0");
            foreach (var dir in dirs)
            {
                var path = Path.Combine(dir, "libstdc++.so.6");
                if (!File.Exists(path)) continue;
                return IndexOf(File.ReadAllBytes(path), needle) >= 0;
            }
            return false;
        }
    }
}
