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

/// <summary>A sink that wants analyses as they finish, not only with the next frame: a window redraws the frame on
/// screen with its own analysis when the source is slow, stalled or frozen. Called on the analysis thread; must return
/// quickly.</summary>
public interface IAnalysisListener
{
    void OnAnalysis(Analysis analysis);
}

/// <summary>Several sinks fed the same frames (a window that also records).</summary>
public sealed class CompositeSink(IReadOnlyList<IFrameSink> sinks) : IFrameSink, IAnalysisListener
{
    public void OnAnalysis(Analysis analysis)
    {
        foreach (var sink in sinks) (sink as IAnalysisListener)?.OnAnalysis(analysis);
    }

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
