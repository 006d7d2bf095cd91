namespace LiveCam.Core;

/// <summary>What the analysis stage produced for one frame; always names the frame it explains.</summary>
/// <param name="FrameSequence">The sequence number of the analysed frame.</param>
/// <param name="FrameCaptureTime">That frame's capture time (<see cref="MonotonicClock"/>).</param>
/// <param name="CompletedAt">When the analysis finished (<see cref="MonotonicClock"/>).</param>
/// <param name="AnalyserName">Which analyser made it.</param>
public sealed record Analysis(long FrameSequence, TimeSpan FrameCaptureTime, TimeSpan CompletedAt, string AnalyserName)
{
    public TimeSpan Latency => CompletedAt - FrameCaptureTime;
}
