using System.Reactive.Concurrency;
using System.Reactive.Linq;
using System.Reactive.Subjects;
using LiveCam.Pipeline.Operators;

namespace LiveCam.Pipeline.Tests;

public class ObserveLatestOnTests
{
    sealed class Counted(int value)
    {
        public int Value { get; } = value;
        public int Retained;
        public int Released;
    }

    [Fact]
    public void A_slow_consumer_gets_the_newest_items_in_order_and_every_other_item_is_released_as_dropped()
    {
        var items = Enumerable.Range(0, 2000).Select(i => new Counted(i)).ToArray();
        var delivered = new List<int>();
        int dropped = 0;
        using var consumer = new EventLoopScheduler();
        using var done = new ManualResetEventSlim();
        using var subject = new Subject<Counted>();
        using var _ = subject
            .ObserveLatestOn(consumer, c => { Interlocked.Increment(ref c.Retained); return c; },
                c => Interlocked.Increment(ref c.Released), _ => Interlocked.Increment(ref dropped))
            .Subscribe(c => { delivered.Add(c.Value); Thread.Sleep(1); }, done.Set);

        foreach (var item in items) subject.OnNext(item);
        subject.OnCompleted();
        Assert.True(done.Wait(TimeSpan.FromSeconds(30)));

        Assert.True(delivered.Count < items.Length / 2, $"delivered {delivered.Count}: the consumer was not slow");
        Assert.Equal(delivered.OrderBy(v => v), delivered);
        Assert.Equal(items.Length - 1, delivered[^1]);  // the newest item is never lost at the end
        Assert.Equal(items.Length, delivered.Count + dropped);
        Assert.All(items, c => Assert.Equal((1, 1), (c.Retained, c.Released)));
    }

    [Fact]
    public void Disposing_releases_the_item_waiting_in_the_slot()
    {
        var item = new Counted(1);
        var blocker = new Counted(0);
        using var consumer = new EventLoopScheduler();
        using var gate = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        using var subject = new Subject<Counted>();
        var subscription = subject
            .ObserveLatestOn(consumer, c => { c.Retained++; return c; }, c => Interlocked.Increment(ref c.Released))
            .Subscribe(_ => { started.Set(); gate.Wait(); });
        subject.OnNext(blocker);
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        subject.OnNext(item);  // waits in the slot while the consumer is busy
        subscription.Dispose();
        Assert.Equal(1, item.Released);
        gate.Set();
        SpinWait.SpinUntil(() => Volatile.Read(ref blocker.Released) == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(1, blocker.Released);
        subject.OnNext(new Counted(2));  // after disposal: nothing is kept
    }

    [Fact]
    public void Errors_reach_the_consumer_after_the_last_item()
    {
        using var consumer = new EventLoopScheduler();
        var seen = new List<int>();
        Exception? error = null;
        using var done = new ManualResetEventSlim();
        using var subject = new Subject<int>();
        using var _ = subject.ObserveLatestOn(consumer, i => i, _ => { })
            .Subscribe(seen.Add, e => { error = e; done.Set(); });
        subject.OnNext(1);
        subject.OnError(new InvalidOperationException("boom"));
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal("boom", error!.Message);
        Assert.Equal([1], seen);
    }

    [Fact]
    public void A_stage_that_fails_ends_the_stream_with_its_error_and_releases_its_item()
    {
        using var consumer = new EventLoopScheduler();
        Exception? error = null;
        int retained = 0, released = 0;
        using var done = new ManualResetEventSlim();
        using var _ = Observable.Range(0, 5)
            .ObserveLatestOn(consumer, i => { Interlocked.Increment(ref retained); return i; },
                _ => Interlocked.Increment(ref released))
            .Do(i => throw new InvalidOperationException($"bad {i}"))
            .Subscribe(_ => { }, e => { error = e; done.Set(); });
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        Assert.StartsWith("bad", error!.Message, StringComparison.Ordinal);
        // The source may stop early once unsubscribed; whatever was retained is released.
        SpinWait.SpinUntil(() => Volatile.Read(ref released) == Volatile.Read(ref retained), TimeSpan.FromSeconds(10));
        Assert.InRange(retained, 1, 5);
        Assert.Equal(retained, released);
    }
}
