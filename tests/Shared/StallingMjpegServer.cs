using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LiveCam.Tests;

/// <summary>A real MJPEG server on loopback that stops sending without closing the connection, at one of the points a
/// camera or a network can stall: before its headers, after them, inside an image, or between two images (after three
/// on each connection). It takes connection after connection until disposed.</summary>
public sealed class StallingMjpegServer : IDisposable
{
    public enum Stall { BeforeHeaders, AfterHeaders, MidImage, BetweenImages }

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly List<TcpClient> _clients = [];
    readonly CancellationTokenSource _stop = new();
    int _connections;

    /// <param name="jpeg">Image number i of a connection, as JPEG bytes.</param>
    public StallingMjpegServer(Stall stall, Func<int, byte[]> jpeg)
    {
        _listener.Start();
        _ = Task.Run(() => Serve(stall, jpeg));
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/stream.mjpg";
    public int Connections => Volatile.Read(ref _connections);

    async Task Serve(Stall stall, Func<int, byte[]> jpeg)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            { return; }
            lock (_clients) _clients.Add(client);
            Interlocked.Increment(ref _connections);
            var stream = client.GetStream();
            try
            {
                _ = await stream.ReadAsync(new byte[4096], _stop.Token);  // the GET and its headers
                if (stall == Stall.BeforeHeaders) continue;
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n"
                    + "Connection: close\r\n\r\n"), _stop.Token);
                if (stall == Stall.AfterHeaders) continue;
                for (int i = 0; i < 3; i++)
                {
                    var image = jpeg(i);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(
                        $"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {image.Length}\r\n\r\n"), _stop.Token);
                    if (stall == Stall.MidImage)
                    {
                        await stream.WriteAsync(image.AsMemory(0, image.Length / 2), _stop.Token);
                        break;
                    }
                    await stream.WriteAsync(image, _stop.Token);
                    await stream.WriteAsync("\r\n"u8.ToArray(), _stop.Token);
                }
                // ...and then nothing, with the connection left open.
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
        _stop.Dispose();
    }
}
