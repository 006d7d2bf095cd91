namespace LiveCam.Core.Tests;

public class LatencyStatsTests
{
    [Fact]
    public void Median_and_percentiles_interpolate_between_samples()
    {
        var stats = new LatencyStats();
        foreach (var ms in new[] { 5, 1, 4, 2, 3 }) stats.Add(TimeSpan.FromMilliseconds(ms));
        Assert.Equal(3, stats.MedianMs, 6);
        Assert.Equal(1, stats.PercentileMs(0), 6);
        Assert.Equal(5, stats.PercentileMs(100), 6);
        Assert.Equal(4.6, stats.PercentileMs(90), 6);
        Assert.Equal(5, stats.Count);
    }

    [Fact]
    public void Empty_stats_say_NaN_rather_than_zero()
    {
        Assert.True(double.IsNaN(new LatencyStats().MedianMs));
    }

    [Fact]
    public void Memory_is_bounded_and_the_sample_stays_representative()
    {
        var stats = new LatencyStats(capacity: 1000);
        for (int i = 0; i < 100_000; i++) stats.Add(TimeSpan.FromMilliseconds(i % 100));
        Assert.Equal(100_000, stats.Count);
        Assert.InRange(stats.MedianMs, 45, 55);
        Assert.InRange(stats.PercentileMs(95), 90, 99);
    }
}
