using System.Diagnostics;
using System.Globalization;
using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>
/// A network stream (RTSP, RTMP, UDP/TCP MPEG-TS, HLS, HTTP video) through the system's <c>ffmpeg</c>, run as a
/// subprocess that pipes raw BGR frames: OpenCV's bundled FFmpeg on Linux has no network protocols. <c>ffprobe</c>
/// learns the size first; frames are scaled to it, so a camera that changes resolution keeps one size. A stream that
/// ends or stalls reads as lost, and <see cref="CaptureSource"/> reconnects as for any live source.
/// </summary>
public sealed class FfmpegStreamReader : IFrameReader
{
    /// <summary>How long a read waits for a frame before the stream counts as lost.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(5);

    readonly string _url;
    Process? _ffmpeg;
    Stream? _frames;
    int _width, _height;
    bool _first;

    public FfmpegStreamReader(string url) => _url = url ?? throw new ArgumentNullException(nameof(url));

    /// <summary>Whether <c>ffmpeg</c> and <c>ffprobe</c> are on the PATH.</summary>
    public static bool Available() => OnPath("ffmpeg") && OnPath("ffprobe");

    static bool OnPath(string program)
    {
        var names = OperatingSystem.IsWindows() ? new[] { program + ".exe" } : [program];
        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => names.Any(n => File.Exists(Path.Combine(dir, n))));
    }

    bool Rtsp => _url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase);

    public SourceInfo Open()
    {
        Stop();
        var (width, height, fps) = Probe();
        (_width, _height) = (width, height);
        var info = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-nostdin", "-hide_banner", "-loglevel", "error" }) info.ArgumentList.Add(a);
        if (Rtsp) foreach (var a in new[] { "-rtsp_transport", "tcp" }) info.ArgumentList.Add(a);
        foreach (var a in new[]
            {
                "-i", _url, "-an", "-vf", Invariant($"scale={width}:{height}"), "-pix_fmt", "bgr24", "-f", "rawvideo",
                "pipe:1"
            })
            info.ArgumentList.Add(a);
        try { _ffmpeg = Process.Start(info) ?? throw new SourceOpenException($"cannot start ffmpeg for '{_url}'"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SourceOpenException($"cannot start ffmpeg for '{_url}': {e.Message}", e);
        }
        _ffmpeg.ErrorDataReceived += (_, _) => { };  // drained: a full stderr pipe would stall ffmpeg
        _ffmpeg.BeginErrorReadLine();
        _frames = _ffmpeg.StandardOutput.BaseStream;
        _first = true;
        return new SourceInfo(_url, width, height, fps, -1, IsLive: true);
    }

    (int Width, int Height, double Fps) Probe()
    {
        var info = new ProcessStartInfo("ffprobe")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false
        };
        foreach (var a in new[] { "-v", "error" }) info.ArgumentList.Add(a);
        if (Rtsp) foreach (var a in new[] { "-rtsp_transport", "tcp" }) info.ArgumentList.Add(a);
        foreach (var a in new[]
            {
                "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate",
                "-of", "csv=p=0", _url
            })
            info.ArgumentList.Add(a);
        Process probe;
        try { probe = Process.Start(info) ?? throw new SourceOpenException($"cannot start ffprobe for '{_url}'"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new SourceOpenException($"cannot start ffprobe for '{_url}': {e.Message}", e);
        }
        using (probe)
        {
            var output = probe.StandardOutput.ReadToEndAsync();
            var error = probe.StandardError.ReadToEndAsync();
            if (!probe.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                try { probe.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }  // it ended just now
                throw new SourceOpenException($"cannot open stream '{_url}': no answer within 15 s");
            }
            var fields = output.Result.Trim().Split('\n')[0].Split(',');
            if (probe.ExitCode != 0 || fields.Length < 2 || !int.TryParse(fields[0], out var w)
                || !int.TryParse(fields[1], out var h) || w <= 0 || h <= 0)
            {
                var why = error.Result.Trim().Split('\n').LastOrDefault(l => l.Length > 0) ?? "no video stream";
                throw new SourceOpenException($"cannot open stream '{_url}': {why}");
            }
            double fps = fields.Skip(2).Select(Rate).FirstOrDefault(r => r > 0 && r < 1000);
            return (w, h, fps);
        }
    }

    static double Rate(string text)
    {
        var parts = text.Trim().Split('/');
        return parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
                ? n / d
                : 0;
    }

    public ReadStatus Read(out Mat? image)
    {
        image = null;
        if (_frames is null) return ReadStatus.Lost;
        // Read straight into the new picture's pixels: no second copy of every frame.
        var picture = new Mat(_height, _width, MatType.CV_8UC3);
        int size = _width * _height * 3, filled = 0;
        // A pipe read cannot be cancelled: a stall ends ffmpeg, which ends the read. The first frame may wait for a
        // camera's next key frame, so it gets longer.
        var process = _ffmpeg;
        using var stall = new CancellationTokenSource(_first ? StallTimeout * 3 : StallTimeout);
        using var onStall = stall.Token.Register(() =>
        {
            try { process?.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }  // already gone
        });
        _first = false;
        try
        {
            while (filled < size)
            {
                int n = _frames.Read(picture.AsSpan<byte>()[filled..size]);
                if (n == 0) break;
                filled += n;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException) { filled = -1; }
        if (filled != size)
        {
            picture.Dispose();
            Stop();
            return ReadStatus.Lost;
        }
        image = picture;
        return ReadStatus.Frame;
    }

    public bool Rewind() => false;

    void Stop()
    {
        _frames = null;
        if (_ffmpeg is null) return;
        try
        {
            if (!_ffmpeg.HasExited) _ffmpeg.Kill(entireProcessTree: true);
            _ffmpeg.WaitForExit(2000);
        }
        catch (InvalidOperationException) { }  // already gone
        _ffmpeg.Dispose();
        _ffmpeg = null;
    }

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => Stop();
}
