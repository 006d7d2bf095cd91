using System.Net.Http.Headers;
using System.Text;
using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>
/// An HTTP MJPEG stream (multipart/x-mixed-replace of JPEG images): what IP cameras and robot camera
/// servers (mjpg-streamer, ESP32-CAM, ROS web_video_server) serve. Read here directly, since the FFmpeg
/// inside OpenCvSharp's Linux runtime has no network protocols.
/// </summary>
public sealed class MjpegStreamReader : IFrameReader
{
    static readonly TimeSpan s_connectTimeout = TimeSpan.FromSeconds(5);
    const int MaxPartBytes = 32 << 20;

    readonly Uri _url;
    readonly string _name;
    readonly HttpClient _http;
    readonly TimeSpan _readDeadline;
    // Cancelled by Close: a read blocked on a stalled server ends at once.
    CancellationTokenSource _closing = new();
    HttpResponseMessage? _response;
    Stream? _body;
    byte[] _boundary = [];
    Mat? _first;

    /// <param name="readDeadline">How long a read may wait for the server's next bytes before the stream counts as lost
    /// (and is reconnected); 5 s unless given.</param>
    public MjpegStreamReader(string url, HttpMessageHandler? handler = null, TimeSpan? readDeadline = null)
    {
        _readDeadline = readDeadline ?? TimeSpan.FromSeconds(5);
        _url = new Uri(url);
        _name = url;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.Timeout = Timeout.InfiniteTimeSpan;  // a stream never ends; the connect step has its own limit
    }

    /// <summary>Whether <paramref name="contentType"/> announces an MJPEG stream.</summary>
    public static bool IsMjpeg(MediaTypeHeaderValue? contentType) =>
        contentType?.MediaType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;

    public SourceInfo Open()
    {
        Close();
        try
        {
            using var connect = new CancellationTokenSource(s_connectTimeout);
            _response = _http.Send(new HttpRequestMessage(HttpMethod.Get, _url),
                HttpCompletionOption.ResponseHeadersRead, connect.Token);
            if (!_response.IsSuccessStatusCode)
                throw new SourceOpenException($"cannot open stream '{_name}': the server answered " +
                    $"{(int)_response.StatusCode} {_response.ReasonPhrase}");
            var type = _response.Content.Headers.ContentType;
            if (!IsMjpeg(type))
                throw new NotMjpegException($"cannot open stream '{_name}': not an MJPEG stream " +
                    $"(content type '{type?.MediaType ?? "none"}')");
            var boundary = type!.Parameters
                .FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"');
            if (string.IsNullOrEmpty(boundary))
                throw new SourceOpenException($"cannot open stream '{_name}': the multipart stream names no boundary");
            _boundary = Encoding.ASCII.GetBytes(
                boundary.StartsWith("--", StringComparison.Ordinal) ? boundary : "--" + boundary);
            _body = new BufferedStream(
                new DeadlineStream(_response.Content.ReadAsStream(), _readDeadline, _closing.Token), 1 << 16);

            // The size is that of the first image; it is kept and delivered as the first frame.
            var status = ReadPart(out _first);
            if (status != ReadStatus.Frame)
                throw new SourceOpenException($"cannot open stream '{_name}': no image arrived");
            return new SourceInfo(_name, _first!.Width, _first.Height, Fps: 0, FrameCount: -1, IsLive: true);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            Close();
            throw new SourceOpenException($"cannot open stream '{_name}': " +
                $"{(e is OperationCanceledException
                    ? $"no answer within {s_connectTimeout.TotalSeconds:0} s"
                    : e.Message)}", e);
        }
        catch
        {
            Close();
            throw;
        }
    }

    public ReadStatus Read(out Mat? image)
    {
        if (_first is not null)
        {
            (image, _first) = (_first, null);
            return ReadStatus.Frame;
        }
        try { return ReadPart(out image); }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException)
        {
            image = null;
            return ReadStatus.Lost;
        }
    }

    ReadStatus ReadPart(out Mat? image)
    {
        image = null;
        var body = _body;
        if (body is null) return ReadStatus.Lost;
        // Headers of the part: skip to the boundary line, then read header lines until an empty one.
        string? line;
        do
        {
            line = ReadLine(body);
            if (line is null) return ReadStatus.Lost;
        } while (!line.StartsWith(Encoding.ASCII.GetString(_boundary), StringComparison.Ordinal));
        int length = -1;
        while ((line = ReadLine(body)) is { Length: > 0 })
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line[(colon + 1)..].Trim(), out var n))
                length = n;
        }
        if (line is null) return ReadStatus.Lost;

        byte[] data;
        if (length >= 0)
        {
            if (length > MaxPartBytes) return ReadStatus.Corrupt;
            data = new byte[length];
            body.ReadExactly(data);
        }
        else
        {
            data = ReadUntilBoundary(body);
        }
        var mat = Cv2.ImDecode(data, ImreadModes.Color);
        if (mat.Empty())
        {
            mat.Dispose();
            return ReadStatus.Corrupt;
        }
        image = mat;
        return ReadStatus.Frame;
    }

    /// <summary>A part without Content-Length: its bytes run to the next boundary (which is left unread as a line
    /// start).</summary>
    byte[] ReadUntilBoundary(Stream body)
    {
        using var part = new MemoryStream();
        var marker = new byte[_boundary.Length + 2];
        marker[0] = (byte)'\r';
        marker[1] = (byte)'\n';
        _boundary.CopyTo(marker, 2);
        int matched = 0;
        while (true)
        {
            int b = body.ReadByte();
            if (b < 0) throw new IOException("the stream ended inside an image");
            if (b == marker[matched])
            {
                if (++matched == marker.Length) break;
                continue;
            }
            if (matched > 0)
            {
                part.Write(marker, 0, matched);
                matched = b == marker[0] ? 1 : 0;
                if (matched == 0) part.WriteByte((byte)b);
                continue;
            }
            part.WriteByte((byte)b);
            if (part.Length > MaxPartBytes) throw new IOException("an image of the stream is too large");
        }
        _pendingBoundaryLine = true;
        return part.ToArray();
    }

    bool _pendingBoundaryLine;

    string? ReadLine(Stream body)
    {
        if (_pendingBoundaryLine)
        {
            // ReadUntilBoundary consumed the boundary itself; what is left of its line follows.
            _pendingBoundaryLine = false;
            var rest = ReadLine(body);
            return rest is null ? null : Encoding.ASCII.GetString(_boundary) + rest;
        }
        var bytes = new List<byte>(64);
        while (true)
        {
            int b = body.ReadByte();
            if (b < 0) return bytes.Count > 0 ? Encoding.ASCII.GetString(bytes.ToArray()) : null;
            if (b == '\n') break;
            if (b != '\r') bytes.Add((byte)b);
            if (bytes.Count > 8192) throw new IOException("a header line of the stream is too long");
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    public bool Rewind() => false;

    void Close()
    {
        _closing.Cancel();
        _closing.Dispose();
        _closing = new CancellationTokenSource();
        _first?.Dispose();
        _first = null;
        _body?.Dispose();
        _body = null;
        _response?.Dispose();
        _response = null;
        _pendingBoundaryLine = false;
    }

    public void Dispose()
    {
        Close();
        _closing.Dispose();
        _http.Dispose();
    }

    /// <summary>Reads that end within a deadline: a server that keeps the connection open and sends nothing (before
    /// the first image, inside one, or between two) ends the read with an IOException instead of blocking for ever.
    /// </summary>
    sealed class DeadlineStream(Stream inner, TimeSpan deadline, CancellationToken closing) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(closing);
            limit.CancelAfter(deadline);
            try
            {
                return inner.ReadAsync(buffer.AsMemory(offset, count), limit.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e)
            {
                throw new IOException(closing.IsCancellationRequested
                    ? "the stream was closed"
                    : $"no data for {deadline.TotalSeconds:0.#} s", e);
            }
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>The URL answered, but with something other than an MJPEG stream.</summary>
public sealed class NotMjpegException : Exception
{
    public NotMjpegException(string message) : base(message) { }
    public NotMjpegException(string message, Exception inner) : base(message, inner) { }
    public NotMjpegException() { }
}

/// <summary>
/// A network source: HTTP(S) MJPEG streams are read directly; anything else (RTSP, HTTP video files,
/// HLS) goes to OpenCV's FFmpeg, which can read them only where it was built with network protocols.
/// </summary>
public sealed class NetworkStreamReader(SourceSpec spec) : IFrameReader
{
    IFrameReader? _inner;

    public SourceInfo Open()
    {
        if (_inner is not null) return _inner.Open();
        bool http = spec.Path.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || spec.Path.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (http)
        {
            var mjpeg = new MjpegStreamReader(spec.Path);
            try
            {
                var info = mjpeg.Open();
                _inner = mjpeg;
                return info;
            }
            catch (NotMjpegException)
            {
                mjpeg.Dispose();
            }
            catch
            {
                mjpeg.Dispose();
                throw;
            }
        }
        // Other streams through the system's ffmpeg (OpenCV's own FFmpeg on Linux has no network protocols).
        if (FfmpegStreamReader.Available())
        {
            var ffmpeg = new FfmpegStreamReader(spec.Path);
            try
            {
                var info = ffmpeg.Open();
                _inner = ffmpeg;
                return info;
            }
            catch
            {
                ffmpeg.Dispose();
                throw;
            }
        }
        var video = new VideoCaptureReader(spec);
        try
        {
            var info = video.Open();
            _inner = video;
            return info;
        }
        catch (SourceOpenException e)
        {
            video.Dispose();
            throw new SourceOpenException(http
                ? $"cannot open stream '{spec.Path}': not an MJPEG stream, and without ffmpeg installed " +
                    $"(apt-get install ffmpeg) no other stream can be read"
                : $"{e.Message} (network streams need ffmpeg: apt-get install ffmpeg; " +
                    $"MJPEG over HTTP works without it)", e);
        }
    }

    public ReadStatus Read(out Mat? image)
    {
        if (_inner is null)
        {
            image = null;
            return ReadStatus.Lost;
        }
        return _inner.Read(out image);
    }

    public bool Rewind() => false;

    public void Dispose() => _inner?.Dispose();
}
