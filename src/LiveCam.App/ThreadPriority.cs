using System.Runtime.InteropServices;

namespace LiveCam.App;

/// <summary>
/// Lowers the calling thread's scheduling priority, so on a busy machine the display (capture, drawing, encoding)
/// gets the cores first and the analysis takes what is left. On Linux .NET does not apply
/// <see cref="Thread.Priority"/>, so the thread's nice value is raised directly (Linux keeps one per thread).
/// </summary>
internal static partial class ThreadPriority
{
    /// <returns>Whether the priority was lowered.</returns>
    public static bool LowerCurrent()
    {
        if (OperatingSystem.IsLinux())
        {
            try { return SetPriority(0 /* PRIO_PROCESS: with a thread id, that thread alone */, GetTid(), 10) == 0; }
            catch (EntryPointNotFoundException) { return false; }
            catch (DllNotFoundException) { return false; }
        }
        Thread.CurrentThread.Priority = System.Threading.ThreadPriority.BelowNormal;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
