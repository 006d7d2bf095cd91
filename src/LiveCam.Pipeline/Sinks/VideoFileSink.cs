using System.Collections.Concurrent;
using System.Reactive.Concurrency;
using System.Runtime.ExceptionServices;
using LiveCam.Core;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Records shown frames as its painter draws them to a video file (headless output, recordings, segments).
/// The video is written as NAME.partial.EXT beside the file and becomes the file only once closed, read back whole and
/// on the disk, so the file is never a broken one: where that fails (a full disk), Dispose says why in a
/// <see cref="SinkException"/> and the partial video is left. Without frames nothing is kept. The painter is borrowed.
/// Given an encoder scheduler, the caller's thread only draws and the encoding runs there, one picture behind: the two
/// overlap instead of adding up on the display thread.</summary>
public sealed class VideoFileSink : IFrameSink
{
    readonly VideoWriter _writer;
    readonly IFramePainter _painter;
    const int Pictures = 2;  // one being drawn, one being encoded

    readonly Mat _resized = new();
    readonly ConcurrentBag<Mat> _pictures = [];
    readonly SemaphoreSlim _free = new(Pictures);
    readonly IScheduler? _encoder;
    readonly Size _size;
    ExceptionDispatchInfo? _encoderFailure;
    long _written;
    bool _disposed;

    public string Path { get; }
    public long FramesWritten => Interlocked.Read(ref _written);

    /// <summary>Where the video is written until it is complete.</summary>
    public string PartialPath { get; }

    /// <summary>Opens the file now, so a path that cannot be written fails before the run starts.</summary>
    /// <param name="encoder">Where frames are encoded (the composition root's thread); null encodes on the caller's
    /// thread.</param>
    public VideoFileSink(
        string path, int width, int height, double fps, IFramePainter painter, IScheduler? encoder = null)
    {
        _encoder = encoder;
        for (int i = 0; i < Pictures; i++) _pictures.Add(new Mat());
        ArgumentNullException.ThrowIfNull(path);
        Path = System.IO.Path.GetFullPath(path);
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(folder))
            throw new SinkException($"cannot write '{path}': folder '{folder}' does not exist");
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
        // Same folder (a rename, not a copy), same extension (the container is chosen by it), hidden.
        PartialPath = System.IO.Path.Combine(
            folder, $"{System.IO.Path.GetFileNameWithoutExtension(Path)}.partial{ext}");
        _writer = new VideoWriter(PartialPath, fourcc, fps > 0 ? fps : 30, _size);
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
        _free.Wait();
        _pictures.TryTake(out var picture);
        try
        {
            _encoderFailure?.Throw();
            _painter.Paint(frame, analysis, picture!);
        }
        catch
        {
            Return(picture!);
            throw;
        }
        if (_encoder is null)
        {
            try { Write(picture!); }
            finally { Return(picture!); }
            return;
        }
        _encoder.Schedule(() =>
        {
            try { Write(picture!); }
            catch (Exception e) { _encoderFailure ??= ExceptionDispatchInfo.Capture(e); }
            finally { Return(picture!); }
        });
    }

    void Return(Mat picture)
    {
        _pictures.Add(picture);
        _free.Release();
    }

    void Write(Mat picture)
    {
        if (picture.Width == _size.Width && picture.Height == _size.Height) _writer.Write(picture);
        else
        {
            Cv2.Resize(picture, _resized, _size, interpolation: InterpolationFlags.Area);
            _writer.Write(_resized);
        }
        Interlocked.Increment(ref _written);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < Pictures; i++) _free.Wait();  // the encoder has written every picture handed to it
        _writer.Release();
        _writer.Dispose();
        _resized.Dispose();
        while (_pictures.TryTake(out var picture)) picture.Dispose();
        _free.Dispose();
        // A container without frames is a file no player opens: stopped before the first frame, nothing is kept.
        if (FramesWritten == 0)
        {
            File.Delete(PartialPath);
            return;
        }
        long readable = ReadableFrames(PartialPath);
        if (readable != FramesWritten)
            throw new SinkException($"cannot save '{Path}': {readable} of its {FramesWritten} frames "
                + "can be read back (a full disk?); "
                + $"what was written is in '{PartialPath}'");
        DurableFile.Fsync(PartialPath);
        File.Move(PartialPath, Path, overwrite: true);
        DurableFile.FsyncFolder(System.IO.Path.GetDirectoryName(Path)!);
    }

    static long ReadableFrames(string path)
    {
        using var capture = new VideoCapture(path);
        return capture.IsOpened() ? (long)capture.Get(VideoCaptureProperties.FrameCount) : 0;
    }
}
