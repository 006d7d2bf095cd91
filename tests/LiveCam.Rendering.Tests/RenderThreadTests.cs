namespace LiveCam.Rendering.Tests;

public class RenderThreadTests
{
    [Fact]
    public void Work_runs_on_the_render_thread_in_order_and_its_exceptions_reach_the_caller()
    {
        using var thread = new RenderThread("test-render", TimeSpan.FromMilliseconds(5));
        var order = new List<int>();
        int callerId = Environment.CurrentManagedThreadId;
        int workerId = thread.Invoke(() => Environment.CurrentManagedThreadId);
        Assert.NotEqual(callerId, workerId);
        Assert.True(thread.Invoke(() => thread.IsCurrent));
        Assert.False(thread.IsCurrent);
        for (int i = 0; i < 5; i++)
        {
            int n = i;
            thread.Post(() => order.Add(n));
        }
        thread.Invoke(() => order.Add(5));
        Assert.Equal([0, 1, 2, 3, 4, 5], order);
        var e = Assert.Throws<InvalidOperationException>(() =>
            thread.Invoke(() => throw new InvalidOperationException("drawing failed")));
        Assert.Equal("drawing failed", e.Message);

        // Posted work has no caller: its failure is reported by the next Invoke.
        thread.Post(() => throw new FormatException("posted failure"));
        Assert.Throws<FormatException>(() => thread.Invoke(() => { }));
        thread.Invoke(() => { });
    }

    [Fact]
    public void Idle_work_runs_when_nothing_is_posted_and_stops_with_the_thread()
    {
        var thread = new RenderThread("test-render", TimeSpan.FromMilliseconds(2));
        using var idled = new CountdownEvent(3);
        thread.Idle = () =>
        {
            if (!idled.IsSet) idled.Signal();
        };
        Assert.True(idled.Wait(TimeSpan.FromSeconds(5)));
        thread.Dispose();
        thread.Dispose();  // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => thread.Post(() => { }));
    }
}
