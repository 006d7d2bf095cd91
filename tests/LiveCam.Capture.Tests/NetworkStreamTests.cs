using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;
using System.Reactive.Linq;

namespace LiveCam.Capture.Tests;

/// <summary>An MJPEG stream served on loopback by the test itself, like an IP camera: each connection
/// delivers ten numbered JPEGs and then drops.</summary>
public sealed class NetworkStreamTests : IDisposable
{
    readonly TestMedia _media = new();
    readonly HttpListener _server = new();
    readonly string _url;
    int _servesLeft;
    int _requests;

    public NetworkStreamTests()
    {
        int port = FreePort();
        _url = $"http://127.0.0.1:{port}/";
        _server.Prefixes.Add(_url);
        _server.Start();
        _ = Task.Run(Serve);
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    async Task Serve()
    {
        while (_server.IsListening)
        {
            HttpListenerContext context;
            try { context = await _server.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            Interlocked.Increment(ref _requests);
            using var response = context.Response;
            if (Volatile.Read(ref _servesLeft) <= 0)
            {
                response.StatusCode = 503;
                continue;
            }
            response.ContentType = "multipart/x-mixed-replace; boundary=frame";
            response.SendChunked = true;
            try
            {
                for (int i = 0; i < 10; i++)
                {
                    using var image = TestMedia.Numbered(i);
                    var jpeg = image.ImEncode(".jpg");
                    // Every other part omits Content-Length: both ways are seen in the wild.
                    var header = i % 2 == 0
                        ? $"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n"
                        : "--frame\r\nContent-Type: image/jpeg\r\n\r\n";
                    await response.OutputStream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(header));
                    await response.OutputStream.WriteAsync(jpeg);
                    await response.OutputStream.WriteAsync("\r\n"u8.ToArray());
                    await response.OutputStream.FlushAsync();
                }
                await response.OutputStream.WriteAsync("--frame\r\n"u8.ToArray());
            }
            catch (HttpListenerException) { /* the reader hung up */ }
            Interlocked.Decrement(ref _servesLeft);
        }
    }

    [Fact]
    public void A_stream_is_read_and_a_dropped_stream_is_reconnected_until_it_is_gone_for_good()
    {
        _servesLeft = 1_000;
        var spec = SourceSpec.Parse(_url + "stream.mjpg");
        Assert.Equal(SourceKind.Stream, spec.Kind);
        var messages = new List<string>();
        int frames = 0;
        using var source = new CaptureSource(SourceFactory.CreateReader(spec), new CaptureOptions
        {
            ReconnectDelay = TimeSpan.FromMilliseconds(20),
            MaxReconnectAttempts = 3,
            Log = m => { lock (messages) messages.Add(m); },
        });
        var info = source.Open();
        Assert.True(info.IsLive);
        Assert.Equal((64, 48), (info.Width, info.Height));

        var e = Assert.Throws<SourceOpenException>(() => source.Frames(NewThreadScheduler.Default)
            .Do(f =>
            {
                Assert.Equal(frames % 10, TestMedia.ReadNumber(f.Pixels));
                // After the second pass, the server goes away.
                if (++frames == 20) Volatile.Write(ref _servesLeft, 0);
            })
            .Timeout(TimeSpan.FromSeconds(60))
            .Wait());

        Assert.Equal(20, frames);
        Assert.Equal(1, source.Stats.Reconnects);
        Assert.Contains("reconnection attempts failed", e.Message, StringComparison.Ordinal);
        Assert.Contains(messages, m => m.Contains("reconnected after a gap", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unreachable_stream_fails_to_open_with_a_clear_error()
    {
        _servesLeft = 0;
        using var source = new CaptureSource(SourceFactory.CreateReader(SourceSpec.Parse(_url + "missing.avi")));
        var e = Assert.Throws<SourceOpenException>(() => source.Open());
        Assert.Contains("cannot open stream", e.Message, StringComparison.Ordinal);
        Assert.Contains("503", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _server.Stop();
        _server.Close();
        _media.Dispose();
    }
}
