using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>libtorch's thread count for a while on the calling thread: with OpenMP the count is each thread's own
/// setting, so it is set where the work runs and put back after.</summary>
public static class TorchThreads
{
    /// <summary><paramref name="work"/> run with <paramref name="threads"/> threads on this thread (0: as it is);
    /// the count before is put back however it ends.</summary>
    public static T With<T>(int threads, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        int before = get_num_threads();
        if (threads > 0) set_num_threads(threads);
        try { return work(); }
        finally { set_num_threads(before); }
    }
}
