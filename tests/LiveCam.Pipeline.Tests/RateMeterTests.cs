namespace LiveCam.Pipeline.Tests;

public class RateMeterTests
{
    [Fact]
    public void The_rate_counts_the_last_second_and_reads_zero_once_the_events_stop()
    {
        var meter = new RateMeter();
        Assert.Equal(0, meter.PerSecond(TimeSpan.FromSeconds(1)));
        for (int i = 0; i <= 40; i++) meter.Mark(TimeSpan.FromSeconds(i / 20.0));   // 20 per second for 2 s
        Assert.Equal(20, meter.PerSecond(TimeSpan.FromSeconds(2)), 3);
        for (int i = 1; i <= 10; i++) meter.Mark(TimeSpan.FromSeconds(2 + i / 10.0)); // then 10 per second
        Assert.Equal(10, meter.PerSecond(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(0.95)), 3);
        Assert.Equal(0, meter.PerSecond(TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void A_slow_stream_reads_its_pace_while_it_keeps_it()
    {
        var meter = new RateMeter();
        meter.Mark(TimeSpan.FromSeconds(10));
        Assert.Equal(0, meter.PerSecond(TimeSpan.FromSeconds(11)));  // one event: no rate yet
        meter.Mark(TimeSpan.FromSeconds(14));
        Assert.Equal(0.25, meter.PerSecond(TimeSpan.FromSeconds(15)), 6);
        Assert.Equal(0.25, meter.PerSecond(TimeSpan.FromSeconds(19.9)), 6);
        Assert.Equal(0, meter.PerSecond(TimeSpan.FromSeconds(20.5)));   // overdue by half an interval: stopped
    }
}
