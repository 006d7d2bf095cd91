using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reactive.Concurrency;

namespace LiveCam.Capture.Tests;

/// <summary>RTSP through the system's ffmpeg, against a real RTSP server on loopback (GStreamer's, driven by
/// Oracle/rtsp_server.py): frames arrive, and after the server drops and comes back the source reconnects by
/// itself.</summary>
public sealed class RtspStreamTests
{
    static string? Missing()
    {
        if (!OperatingSystem.IsLinux()) return "Linux only";
        if (!FfmpegStreamReader.Available()) return "needs ffmpeg (apt-get install ffmpeg; test.sh installs it)";
        using var check = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            "-c \"import gi; gi.require_version('GstRtspServer', '1.0'); "
            + "from gi.repository import GstRtspServer\"")
            { RedirectStandardError = true, UseShellExecute = false });
        if (check is null) return "needs /usr/bin/python3";
        check.WaitForExit();
        return check.ExitCode == 0
            ? null
            : "needs GStreamer's RTSP server for Python "
                + "(apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good)";
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static Process StartServer(int port)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Oracle", "rtsp_server.py");
        var server = Process.Start(new ProcessStartInfo("/usr/bin/python3", $"\"{script}\" {port} 160 120 15")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var ready = server.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result != "ready")
        {
            server.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the RTSP server did not start: {server.StandardError.ReadToEnd()}");
        }
        return server;
    }

    [SkippableFact]
    public void An_rtsp_camera_plays_and_after_a_drop_the_source_reconnects_by_itself()
    {
        var missing = Missing();
        Skip.If(missing is not null, missing);
        int port = FreePort();
        var server = StartServer(port);
        var url = $"rtsp://127.0.0.1:{port}/cam";
        var log = new List<string>();
        using var source = new CaptureSource(new NetworkStreamReader(SourceSpec.Parse(url)),
            new CaptureOptions
            {
                Log = line => { lock (log) log.Add(line); }, ReconnectDelay = TimeSpan.FromMilliseconds(500)
            });
        try
        {
            var info = source.Open();
            Assert.Equal((160, 120, true), (info.Width, info.Height, info.IsLive));
            Assert.Equal(15, info.Fps, 3);
            long frames = 0;
            double brightest = 0;
            using var enough = new ManualResetEventSlim();
            using var subscription = source.Frames(NewThreadScheduler.Default).Subscribe(frame =>
            {
                brightest = Math.Max(brightest, OpenCvSharp.Cv2.Mean(frame.Pixels).Val0);
                if (Interlocked.Increment(ref frames) == 90) enough.Set();
            });
            var deadline = Stopwatch.StartNew();
            while (Interlocked.Read(ref frames) < 20 && deadline.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(50);
            Assert.True(Interlocked.Read(ref frames) >= 20, "no frames from the stream");
            // The camera drops (its server dies) and comes back on the same address a second later.
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
            server.Dispose();
            Thread.Sleep(1000);
            server = StartServer(port);
            Assert.True(enough.Wait(TimeSpan.FromSeconds(60)),
                $"{Interlocked.Read(ref frames)} frames; log: {string.Join(" | ", log)}");
            Assert.True(source.Stats.Reconnects >= 1, string.Join(" | ", log));
            // The camera hangs with its connection open (its server paused): the stall ends the stream, which
            // reconnects.
            long before = Interlocked.Read(ref frames);
            using (var stop = Process.Start("kill", $"-STOP {server.Id}")!) stop.WaitForExit();
            Thread.Sleep(FfmpegStreamReader.StallTimeout + TimeSpan.FromSeconds(2));
            using (var cont = Process.Start("kill", $"-CONT {server.Id}")!) cont.WaitForExit();
            var resumed = Stopwatch.StartNew();
            while (Interlocked.Read(ref frames) < before + 20 && resumed.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(50);
            Assert.True(Interlocked.Read(ref frames) >= before + 20,
                $"no frames after the stall; log: {string.Join(" | ", log)}");
            Assert.True(source.Stats.Reconnects >= 2, $"the stall was not noticed; log: {string.Join(" | ", log)}");
            Assert.True(brightest > 1, "the frames are black");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.Dispose();
        }
    }

    /// <summary>HLS over HTTP (not MJPEG, so it goes to ffmpeg): a playlist ffmpeg wrote, served by a plain HTTP
    /// server.</summary>
    [SkippableFact]
    public void An_hls_stream_over_http_plays_through_ffmpeg()
    {
        Skip.If(!FfmpegStreamReader.Available(), "needs ffmpeg");
        var dir = Directory.CreateTempSubdirectory("livecam-hls-").FullName;
        try
        {
            using (var make = Process.Start(new ProcessStartInfo("ffmpeg",
                "-v error -f lavfi -i testsrc=size=160x120:rate=15 -t 4 -c:v mpeg2video -f hls -hls_time 1 "
                + $"-hls_playlist_type vod \"{Path.Combine(dir, "live.m3u8")}\"")
                { RedirectStandardError = true, UseShellExecute = false })!)
            {
                make.WaitForExit();
                Assert.True(make.ExitCode == 0, make.StandardError.ReadToEnd());
            }
            int port = FreePort();
            using var http = new HttpListener();
            http.Prefixes.Add($"http://127.0.0.1:{port}/");
            http.Start();
            var serving = Task.Run(async () =>
            {
                while (http.IsListening)
                {
                    HttpListenerContext context;
                    try { context = await http.GetContextAsync(); }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                    var file = Path.Combine(dir, Path.GetFileName(context.Request.Url!.AbsolutePath));
                    if (File.Exists(file))
                    {
                        context.Response.ContentType = file.EndsWith(".m3u8", StringComparison.Ordinal)
                            ? "application/vnd.apple.mpegurl"
                            : "video/mp2t";
                        var bytes = await File.ReadAllBytesAsync(file);
                        await context.Response.OutputStream.WriteAsync(bytes);
                    }
                    else context.Response.StatusCode = 404;
                    context.Response.Close();
                }
            });
            using var source = new CaptureSource(
                new NetworkStreamReader(SourceSpec.Parse($"http://127.0.0.1:{port}/live.m3u8")),
                new CaptureOptions { MaxReconnectAttempts = 1, ReconnectDelay = TimeSpan.FromMilliseconds(100) });
            var info = source.Open();
            Assert.Equal((160, 120), (info.Width, info.Height));
            long frames = 0;
            using var done = new ManualResetEventSlim();
            using var subscription = source.Frames(NewThreadScheduler.Default)
                .Subscribe(_ => Interlocked.Increment(ref frames), _ => done.Set(), done.Set);
            var deadline = Stopwatch.StartNew();
            while (Interlocked.Read(ref frames) < 45 && deadline.Elapsed < TimeSpan.FromSeconds(60) && !done.IsSet)
                Thread.Sleep(50);
            Assert.True(Interlocked.Read(ref frames) >= 45,
                $"{Interlocked.Read(ref frames)} of the playlist's 60 frames");
            http.Stop();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public void A_stream_nobody_serves_is_one_clear_error()
    {
        Skip.If(!FfmpegStreamReader.Available(), "needs ffmpeg");
        using var reader = new FfmpegStreamReader($"rtsp://127.0.0.1:{FreePort()}/nothing");
        var e = Assert.Throws<SourceOpenException>(() => reader.Open());
        Assert.StartsWith("cannot open stream", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
    }
}
