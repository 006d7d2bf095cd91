using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

public class TorchThreadsTests
{
    [Fact]
    public void The_count_holds_during_the_work_and_is_put_back_however_it_ends()
    {
        // Each thread has its own count (OpenMP); the test thread's is put back for the tests after.
        int original = get_num_threads();
        try
        {
            set_num_threads(2);
            Assert.Equal(5, TorchThreads.With(5, get_num_threads));
            Assert.Equal(2, get_num_threads());
            Assert.Equal(2, TorchThreads.With(0, get_num_threads));  // 0: as it is
            Assert.Throws<InvalidOperationException>(() =>
                TorchThreads.With<int>(3, () => throw new InvalidOperationException("failed")));
            Assert.Equal(2, get_num_threads());
        }
        finally { set_num_threads(original); }
    }
}
