using System.Diagnostics;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using LiveCam.Tests;
using Stall = LiveCam.Tests.StallingMjpegServer.Stall;

namespace LiveCam.Capture.Tests;

/// <summary>No read of a network camera waits for ever: a server that stalls before the first image makes opening fail
/// in one line; one that stalls later is lost, reported and reconnected.</summary>
public sealed class StalledStreamTests
{
    static byte[] Numbered(int i)
    {
        using var image = TestMedia.Numbered(i);
        return image.ImEncode(".jpg");
    }

    [Theory]
    [InlineData(Stall.BeforeHeaders, "no answer within 5 s")]
    [InlineData(Stall.AfterHeaders, "no data for 1 s")]
    [InlineData(Stall.MidImage, "no data for 1 s")]
    public void A_server_that_stalls_before_the_first_image_fails_to_open_in_one_line(Stall stall, string expected)
    {
        using var server = new StallingMjpegServer(stall, Numbered);
        var clock = Stopwatch.StartNew();
        using var reader = new MjpegStreamReader(server.Url, readDeadline: TimeSpan.FromSeconds(1));
        var e = Assert.Throws<SourceOpenException>(() => reader.Open());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"cannot open stream '{server.Url}'", e.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:0} s");
    }

    [Fact]
    public void A_stream_that_stalls_between_images_is_lost_reported_and_reconnected()
    {
        using var server = new StallingMjpegServer(Stall.BetweenImages, Numbered);
        var messages = new List<string>();
        // The server stalls for good: a deadline of a few seconds costs only time, and a first image that a busy CI
        // machine serves late is not taken for the stall.
        using var source = new CaptureSource(
            new MjpegStreamReader(server.Url, readDeadline: TimeSpan.FromSeconds(4)),
            new CaptureOptions
            {
                ReconnectDelay = TimeSpan.FromMilliseconds(20),
                MaxReconnectAttempts = 2,
                Log = m => { lock (messages) messages.Add(m); },
            });
        source.Open();
        // Three images a connection, then a stall: six images means one stall was noticed and the stream came back.
        var numbers = source.Frames(NewThreadScheduler.Default).Take(6).Select(f => TestMedia.ReadNumber(f.Pixels))
            .Timeout(TimeSpan.FromSeconds(60)).ToList().Wait();
        Assert.Equal([0, 1, 2, 0, 1, 2], numbers);
        Assert.True(server.Connections >= 2);
        lock (messages)
        {
            Assert.Contains(messages, m => m.Contains("lost; reconnecting", StringComparison.Ordinal));
            Assert.Contains(messages, m => m.Contains("reconnected after a gap", StringComparison.Ordinal));
        }
    }
}
