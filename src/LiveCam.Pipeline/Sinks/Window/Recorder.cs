using System.Globalization;
using LiveCam.Core;
using LiveCam.Drawing;

namespace LiveCam.Pipeline.Sinks.Window;

/// <summary>A recording started and stopped at will (the window's r key): an .mp4 of the pictures its painter draws,
/// at the frame's size, named by the time it started.</summary>
/// <param name="painter">Borrowed.</param>
public sealed class Recorder(string folder, double fps, IFramePainter painter) : IDisposable
{
    VideoFileSink? _file;

    /// <summary>The file being written, while a recording runs.</summary>
    public string? Path => _file?.Path;

    /// <summary>Starts a recording at the size of <paramref name="onScreen"/>, or stops the one running.</summary>
    /// <returns>What happened, for the user.</returns>
    public string Toggle(Frame? onScreen)
    {
        if (_file is not null) return Stop();
        if (onScreen is null) return "nothing to record yet";
        var path = System.IO.Path.Combine(
            folder, string.Create(CultureInfo.InvariantCulture, $"livecam-{DateTime.Now:yyyyMMdd-HHmmss}.mp4"));
        try
        {
            _file = new VideoFileSink(path, onScreen.Width, onScreen.Height, fps, painter);
            return $"recording to {_file.Path}";
        }
        catch (SinkException e)
        {
            return e.Message;
        }
    }

    /// <summary>Adds the frame shown, drawn by the painter, while a recording runs.</summary>
    public void Show(Frame frame, Analysis? analysis) => _file?.Show(frame, analysis);

    string Stop()
    {
        var file = _file!;
        _file = null;
        long frames = file.FramesWritten;
        file.Dispose();
        return frames == 0 ? "recording stopped before its first frame: nothing saved"
            : string.Create(CultureInfo.InvariantCulture, $"saved {file.Path} ({frames} frames)");
    }

    /// <summary>A recording in progress is finalised, not lost.</summary>
    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }
}

/// <summary>Snapshots (the window's s key): the picture at the frame's own size, as a PNG named by the frame
/// number.</summary>
/// <param name="painter">Borrowed.</param>
public sealed class SnapshotWriter(string folder, IFramePainter painter)
{
    /// <returns>The file written.</returns>
    /// <exception cref="SinkException">It could not be written.</exception>
    public string Write(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var path = System.IO.Path.Combine(
            folder, string.Create(CultureInfo.InvariantCulture, $"livecam-snapshot-{frame.Sequence:D6}.png"));
        using var picture = new OpenCvSharp.Mat();
        painter.Paint(frame, analysis, picture);
        bool written;
        try { written = OpenCvSharp.Cv2.ImWrite(path, picture); }
        catch (OpenCvSharp.OpenCVException) { written = false; }
        return written ? path : throw new SinkException($"cannot write '{path}'");
    }
}
