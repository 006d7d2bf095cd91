using System.Buffers.Binary;
using System.Text;

namespace LiveCam.Explain.Kernels;

/// <summary>Addresses of symbols in a 64-bit little-endian ELF file's full symbol table (.symtab), local ones included:
/// what the dynamic loader does not export. Read only when needed: libtorch's table is about 90 MB.</summary>
internal static class ElfSymbolTable
{
    const uint ShtSymtab = 2;

    /// <summary>Each name's st_value (an address relative to where the library is loaded), or none where
    /// absent.</summary>
    public static Dictionary<string, ulong> Find(string path, IReadOnlyCollection<string> names)
    {
        var found = new Dictionary<string, ulong>();
        using var file = File.OpenHandle(path);
        var header = new byte[64];
        if (RandomAccess.Read(file, header, 0) < 64
            || !header.AsSpan(0, 4).SequenceEqual((ReadOnlySpan<byte>)[0x7f, (byte)'E', (byte)'L', (byte)'F'])
            || header[4] != 2 || header[5] != 1)
            return found;
        var sectionsAt = (long)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(0x28));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3A)),
            count = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x3C));
        if (entrySize < 64 || count == 0) return found;
        var sections = new byte[entrySize * count];
        if (RandomAccess.Read(file, sections, sectionsAt) < sections.Length) return found;
        for (int i = 0; i < count; i++)
        {
            var s = sections.AsSpan(i * entrySize, entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(s[4..]) != ShtSymtab) continue;
            var link = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[0x28..]);
            if (link >= count) return found;
            var strings = sections.AsSpan(link * entrySize, entrySize);
            var table = ReadSection(file, s);
            var text = ReadSection(file, strings);
            var wanted = names.Select(n => (Name: n, Bytes: Encoding.ASCII.GetBytes(n + "\0"))).ToList();
            for (int e = 0; e + 24 <= table.Length && found.Count < wanted.Count; e += 24)
            {
                var nameAt = (int)BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(e));
                if (nameAt <= 0 || nameAt >= text.Length) continue;
                var name = text.AsSpan(nameAt);
                foreach (var (n, bytes) in wanted)
                    if (name.StartsWith(bytes)) found[n] = BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(e + 8));
            }
            return found;
        }
        return found;
    }

    static byte[] ReadSection(Microsoft.Win32.SafeHandles.SafeFileHandle file, ReadOnlySpan<byte> section)
    {
        var offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(section[0x18..]);
        var size = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(section[0x20..]));
        var bytes = new byte[size];
        int read = 0;
        while (read < size)
        {
            var n = RandomAccess.Read(file, bytes.AsSpan(read), offset + read);
            if (n <= 0) throw new EndOfStreamException();
            read += n;
        }
        return bytes;
    }
}
