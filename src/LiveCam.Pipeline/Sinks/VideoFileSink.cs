using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Records shown frames, with the HUD, to a video file (headless output). Dispose finalises the file.</summary>
public sealed class VideoFileSink : IFrameSink
{
    readonly VideoWriter _writer;
    readonly HudPainter _hud;
    readonly Mat _canvas = new();
    readonly Mat _resized = new();
    readonly Size _size;
    bool _disposed;

    public string Path { get; }
    public long FramesWritten { get; private set; }

    /// <summary>Opens the file now, so a path that cannot be written fails before the run starts.</summary>
    public VideoFileSink(string path, int width, int height, double fps, HudPainter hud)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
        _hud = hud ?? throw new ArgumentNullException(nameof(hud));
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(folder)) throw new SinkException($"cannot write '{path}': folder '{folder}' does not exist");
        var ext = System.IO.Path.GetExtension(Path).ToLowerInvariant();
        var fourcc = ext switch
        {
            ".mp4" or ".mov" or ".m4v" => VideoWriter.FourCC('m', 'p', '4', 'v'),
            ".avi" => VideoWriter.FourCC('M', 'J', 'P', 'G'),
            ".mkv" => VideoWriter.FourCC('X', 'V', 'I', 'D'),
            _ => throw new SinkException($"cannot write '{path}': unknown video type '{ext}' (use .mp4, .avi or .mkv)"),
        };
        // Even sizes keep every codec happy.
        _size = new Size(width & ~1, height & ~1);
        _writer = new VideoWriter(Path, fourcc, fps > 0 ? fps : 30, _size);
        if (!_writer.IsOpened())
        {
            _writer.Dispose();
            throw new SinkException($"cannot write '{path}': the video writer could not open it");
        }
    }

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _hud.Paint(frame, analysis, _canvas);
        if (_canvas.Width == _size.Width && _canvas.Height == _size.Height) _writer.Write(_canvas);
        else
        {
            Cv2.Resize(_canvas, _resized, _size, interpolation: InterpolationFlags.Area);
            _writer.Write(_resized);
        }
        FramesWritten++;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _writer.Release();
        _writer.Dispose();
        _canvas.Dispose();
        _resized.Dispose();
    }
}
