using OpenCvSharp;

namespace LiveCam.Core;

/// <summary>
/// One captured image with its identity: sequence number, capture time and source name.
/// </summary>
/// <remarks>
/// Ownership: pixels are BGR 8UC3 and never written after capture, so a frame can be shared
/// between threads without copying. Each <see cref="Frame"/> object is one handle on the shared
/// pixels; the native buffer is released when the last handle is disposed.
/// The rule everywhere in LiveCam: whoever emits a frame (an <c>OnNext</c> call) disposes its
/// handle after <c>OnNext</c> returns. A subscriber that keeps the frame longer (another thread,
/// a "latest" slot) takes its own handle with <see cref="Share"/> and disposes that.
/// </remarks>
public sealed class Frame : IDisposable
{
    static long s_liveBuffers;

    readonly PixelBuffer _buffer;
    int _disposed;

    /// <summary>Takes ownership of <paramref name="pixels"/>.</summary>
    /// <param name="mediaTime">Where the frame sits in a recorded medium (a file's frame number over its rate); null
    /// for live sources.</param>
    public Frame(Mat pixels, long sequence, TimeSpan captureTime, string sourceName, TimeSpan? mediaTime = null)
        : this(new PixelBuffer(pixels), sequence, captureTime, sourceName, mediaTime)
    {
        ArgumentNullException.ThrowIfNull(pixels);
    }

    Frame(PixelBuffer buffer, long sequence, TimeSpan captureTime, string sourceName, TimeSpan? mediaTime)
    {
        _buffer = buffer;
        Sequence = sequence;
        CaptureTime = captureTime;
        SourceName = sourceName;
        MediaTime = mediaTime;
    }

    /// <summary>BGR pixels, 8 bits per channel. Read only: other handles may be reading them.</summary>
    public Mat Pixels => _disposed == 0 ? _buffer.Mat : throw new ObjectDisposedException(nameof(Frame));

    /// <summary>Number of this frame in its source, from 0, in capture order; gaps mean frames the source lost.
    /// </summary>
    public long Sequence { get; }

    /// <summary>When the frame was captured, on <see cref="MonotonicClock"/>.</summary>
    public TimeSpan CaptureTime { get; }

    public string SourceName { get; }

    /// <summary>The frame's time in its medium (files, image lists at their rate); null for live sources. Read as fast
    /// as the machine goes, a file's frames are captured milliseconds apart; this is when they happen in the video.
    /// </summary>
    public TimeSpan? MediaTime { get; }

    public int Width => _buffer.Mat.Width;
    public int Height => _buffer.Mat.Height;

    /// <summary>Native pixel buffers alive in this process: a leak shows as a number that keeps growing.</summary>
    public static long LivePixelBuffers => Interlocked.Read(ref s_liveBuffers);

    /// <summary>A new handle on the same pixels, owned (and disposed) by the caller.</summary>
    public Frame Share()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _buffer.AddRef();
        return new Frame(_buffer, Sequence, CaptureTime, SourceName, MediaTime);
    }

    /// <summary>A new handle on the same pixels under another identity (a frozen picture standing in for newer
    /// frames), owned by the caller.</summary>
    public Frame Reissue(long sequence, TimeSpan captureTime, TimeSpan? mediaTime = null)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _buffer.AddRef();
        return new Frame(_buffer, sequence, captureTime, SourceName, mediaTime);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _buffer.Release();
    }

    sealed class PixelBuffer
    {
        int _refs = 1;
        public Mat Mat { get; }

        public PixelBuffer(Mat mat)
        {
            Mat = mat;
            Interlocked.Increment(ref s_liveBuffers);
        }

        public void AddRef() => Interlocked.Increment(ref _refs);

        public void Release()
        {
            if (Interlocked.Decrement(ref _refs) != 0) return;
            Mat.Dispose();
            Interlocked.Decrement(ref s_liveBuffers);
        }
    }
}
