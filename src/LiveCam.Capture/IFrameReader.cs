using OpenCvSharp;

namespace LiveCam.Capture;

public enum ReadStatus
{
    /// <summary>A frame was read.</summary>
    Frame,
    /// <summary>This frame could not be decoded; the next one may be fine.</summary>
    Corrupt,
    /// <summary>No more frames (end of a file or of an image list).</summary>
    End,
    /// <summary>A live device or stream stopped delivering; reopening may bring it back.</summary>
    Lost,
}

/// <summary>What a source turned out to deliver once opened.</summary>
/// <param name="Fps">Nominal frame rate, 0 when unknown.</param>
/// <param name="FrameCount">Number of frames for files and image lists, -1 for live sources.</param>
public sealed record SourceInfo(string Name, int Width, int Height, double Fps, long FrameCount, bool IsLive);

/// <summary>
/// Synchronous access to one source, used by <see cref="CaptureSource"/> on its capture thread only.
/// </summary>
public interface IFrameReader : IDisposable
{
    /// <summary>Opens (or reopens) the source. Throws <see cref="SourceOpenException"/> when it cannot.</summary>
    SourceInfo Open();

    /// <summary>Reads the next frame into a new <see cref="Mat"/> the caller owns (set only for
    /// <see cref="ReadStatus.Frame"/>).</summary>
    ReadStatus Read(out Mat? image);

    /// <summary>Starts again from the first frame (files and image lists); false when not possible.</summary>
    bool Rewind();
}

/// <summary>A source that cannot be opened; the message is one line for the user.</summary>
public sealed class SourceOpenException : Exception
{
    public SourceOpenException(string message) : base(message) { }
    public SourceOpenException(string message, Exception inner) : base(message, inner) { }
    public SourceOpenException() { }
}
