using System.Globalization;
using LiveCam.Core;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Writes each shown frame, as its painter draws it, as a PNG named by its sequence number (frame-000042.png).
/// The painter is borrowed.</summary>
public sealed class ImageFolderSink : IFrameSink
{
    readonly IFramePainter _painter;
    readonly Mat _picture = new();
    bool _disposed;

    public string Folder { get; }

    public ImageFolderSink(string folder, IFramePainter painter)
    {
        ArgumentNullException.ThrowIfNull(folder);
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
        Folder = Path.GetFullPath(folder);
        try { Directory.CreateDirectory(Folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SinkException($"cannot write to '{folder}': {e.Message}", e);
        }
    }

    /// <summary>Whether an --out value names a folder of images rather than a video file.</summary>
    public static bool IsFolder(string path) =>
        path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar) || Directory.Exists(path);

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _painter.Paint(frame, analysis, _picture);
        var file = Path.Combine(Folder, string.Create(CultureInfo.InvariantCulture, $"frame-{frame.Sequence:D6}.png"));
        if (!Cv2.ImWrite(file, _picture)) throw new SinkException($"cannot write '{file}'");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _picture.Dispose();
    }
}
