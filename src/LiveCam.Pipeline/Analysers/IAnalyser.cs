using LiveCam.Core;

namespace LiveCam.Pipeline.Analysers;

/// <summary>The analysis stage: called on the analysis thread, one frame at a time; must not keep the frame.</summary>
public interface IAnalyser
{
    string Name { get; }
    Analysis Analyse(Frame frame);
}

/// <summary>Analyses nothing: names the frame and stamps the time. The pipeline's own overhead is measured with
/// it.</summary>
public sealed class PassThroughAnalyser : IAnalyser
{
    public string Name => "pass-through";

    public Analysis Analyse(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var now = MonotonicClock.Now;
        return new Analysis(frame.Sequence, frame.CaptureTime, now, Name) { StartedAt = now };
    }
}
