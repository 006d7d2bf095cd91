using System.Text;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Putting a finished file and its name on the disk, so a power cut after the rename keeps both.</summary>
internal static class DurableFile
{
    public static void Fsync(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
    }

    /// <summary>The rename itself on the disk (POSIX: fsync of the folder).</summary>
    public static void FsyncFolder(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Posix.open([.. Encoding.UTF8.GetBytes(dir), 0], 0);  // O_RDONLY
        if (fd < 0) return;  // the rename still happened; only its durability is not forced
        _ = Posix.fsync(fd);
        _ = Posix.close(fd);
    }

    static class Posix
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] nulTerminatedPath, int flags);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
