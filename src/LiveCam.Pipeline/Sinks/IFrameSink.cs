using LiveCam.Core;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// Where shown frames go (a window, a video file). Called on the display thread only, for creation's
/// work too where it matters (windows); <see cref="IDisposable.Dispose"/> finalises the output.
/// </summary>
public interface IFrameSink : IDisposable
{
    /// <summary>Shows <paramref name="frame"/> with the newest analysis, if any. Must not keep the frame.</summary>
    void Show(Frame frame, Analysis? analysis);
}

/// <summary>Several sinks fed the same frames (a window that also records).</summary>
public sealed class CompositeSink(IReadOnlyList<IFrameSink> sinks) : IFrameSink
{
    public void Show(Frame frame, Analysis? analysis)
    {
        foreach (var sink in sinks) sink.Show(frame, analysis);
    }

    public void Dispose()
    {
        List<Exception>? errors = null;
        foreach (var sink in sinks)
        {
            try { sink.Dispose(); }
            catch (Exception e) when (e is IOException or OpenCvSharp.OpenCVException) { (errors ??= []).Add(e); }
        }
        if (errors is not null) throw new AggregateException(errors);
    }
}

/// <summary>An output that cannot be created or written; the message is one line for the user.</summary>
public sealed class SinkException : Exception
{
    public SinkException(string message) : base(message) { }
    public SinkException(string message, Exception inner) : base(message, inner) { }
    public SinkException() { }
}
