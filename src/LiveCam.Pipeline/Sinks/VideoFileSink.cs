using LiveCam.Core;
using LiveCam.Pipeline.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Records shown frames as its painter draws them to a video file (headless output). Dispose finalises the
/// file (removed if no frame was written); the painter is borrowed.</summary>
public sealed class VideoFileSink : IFrameSink
{
    readonly VideoWriter _writer;
    readonly IFramePainter _painter;
    readonly Mat _picture = new(), _resized = new();
    readonly Size _size;
    bool _disposed;

    public string Path { get; }
    public long FramesWritten { get; private set; }

    /// <summary>Opens the file now, so a path that cannot be written fails before the run starts.</summary>
    public VideoFileSink(string path, int width, int height, double fps, IFramePainter painter)
    {
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
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
        _painter.Paint(frame, analysis, _picture);
        if (_picture.Width == _size.Width && _picture.Height == _size.Height) _writer.Write(_picture);
        else
        {
            Cv2.Resize(_picture, _resized, _size, interpolation: InterpolationFlags.Area);
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
        _resized.Dispose();
        _picture.Dispose();
        // A container without frames is a file no player opens: stopped before the first frame, nothing is kept.
        if (FramesWritten == 0) File.Delete(Path);
    }
}
