using System.Globalization;
using System.Text;
using LiveCam.Core;
using LiveCam.Drawing;

namespace LiveCam.Pipeline;

/// <summary>What the pipeline did, counted as it runs; safe to read from any thread (the HUD does).</summary>
public sealed class PipelineMetrics : IHudNumbersSource
{
    long _shown, _analysed, _displayDropped, _analysisSkipped, _givenWay,
        _lastShownSequence = -1, _firstShownTicks = -1, _lastShownTicks = -1;

    public long Shown => Interlocked.Read(ref _shown);
    public long Analysed => Interlocked.Read(ref _analysed);
    /// <summary>Frames the display path released unseen because a newer one arrived first.</summary>
    public long DisplayDropped => Interlocked.Read(ref _displayDropped);
    /// <summary>Frames the analysis path skipped (it was busy); normal in live mode.</summary>
    public long AnalysisSkipped => Interlocked.Read(ref _analysisSkipped);
    /// <summary>Frames the display left unshown so the analysis keeps its floor
    /// (<see cref="AnalysisFloor"/>).</summary>
    public long GivenWay => Interlocked.Read(ref _givenWay);
    public long LastShownSequence => Interlocked.Read(ref _lastShownSequence);

    /// <summary>Capture -> written to the sink.</summary>
    public LatencyStats CaptureToSink { get; } = new();
    /// <summary>Capture -> analysis finished.</summary>
    public LatencyStats CaptureToAnalysis { get; } = new();

    /// <summary>Frames shown per second, lately.</summary>
    public RateMeter DisplayRate { get; } = new();
    /// <summary>Analyses finished per second, lately.</summary>
    public RateMeter AnalysisRate { get; } = new();

    /// <summary>The HUD's numbers now: the rates over the last second, the last frame's capture-to-screen time, the
    /// drops.</summary>
    public HudNumbers ReadHudNumbers() => ReadHudNumbers(MonotonicClock.Now);

    /// <summary>The HUD's numbers at <paramref name="now"/> (<see cref="MonotonicClock"/>).</summary>
    public HudNumbers ReadHudNumbers(TimeSpan now) =>
        new(DisplayRate.PerSecond(now), AnalysisRate.PerSecond(now), CaptureToSink.LastMs, DisplayDropped);

    internal void OnShown(Frame frame, TimeSpan at)
    {
        Interlocked.Increment(ref _shown);
        Interlocked.Exchange(ref _lastShownSequence, frame.Sequence);
        Interlocked.CompareExchange(ref _firstShownTicks, at.Ticks, -1);
        Interlocked.Exchange(ref _lastShownTicks, at.Ticks);
        CaptureToSink.Add(at - frame.CaptureTime);
        DisplayRate.Mark(at);
    }

    internal void OnAnalysed(Analysis analysis)
    {
        Interlocked.Increment(ref _analysed);
        CaptureToAnalysis.Add(analysis.Latency);
        AnalysisRate.Mark(analysis.CompletedAt);
    }

    internal void OnDisplayDropped() => Interlocked.Increment(ref _displayDropped);
    internal void OnAnalysisSkipped() => Interlocked.Increment(ref _analysisSkipped);
    internal void OnGivenWay() => Interlocked.Increment(ref _givenWay);

    /// <summary>Seconds from the first frame shown to the last.</summary>
    public double ShowingSeconds
    {
        get
        {
            long first = Interlocked.Read(ref _firstShownTicks), last = Interlocked.Read(ref _lastShownTicks);
            return first < 0 ? 0 : TimeSpan.FromTicks(last - first).TotalSeconds;
        }
    }

    /// <summary>Frames shown per second while frames were being shown (not counting the wait, after the video ends,
    /// for an analysis still running).</summary>
    public double DisplayFps => ShowingSeconds > 0 ? (Shown - 1) / ShowingSeconds : 0;

    /// <summary>The end-of-run summary, a few lines for the terminal.</summary>
    public string Summary(long captured, long corrupt, long reconnects, TimeSpan elapsed)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.Append(c, $"frames: {captured} captured, {Shown} shown, {Analysed} analysed, {DisplayDropped} dropped");
        if (AnalysisSkipped > 0) s.Append(c, $" ({AnalysisSkipped} not analysed)");
        if (GivenWay > 0) s.Append(c, $", {GivenWay} not shown to give the analysis the CPU");
        if (corrupt > 0) s.Append(c, $", {corrupt} unreadable skipped");
        if (reconnects > 0) s.Append(c, $", {reconnects} reconnects");
        s.AppendLine();
        s.Append(c, $"latency capture->sink: median {CaptureToSink.MedianMs:0.00} ms, "
            + $"p95 {CaptureToSink.PercentileMs(95):0.00} ms");
        if (Analysed > 0)
            s.Append(c, $"; capture->analysis: median {CaptureToAnalysis.MedianMs:0.00} ms, "
                + $"p95 {CaptureToAnalysis.PercentileMs(95):0.00} ms");
        s.AppendLine();
        double seconds = elapsed.TotalSeconds;
        s.Append(c, $"run time {seconds:0.0} s, display {DisplayFps:0.0} fps, "
            + $"analysis {(seconds > 0 ? Analysed / seconds : 0):0.0} fps");
        // A slow method's last analysis may still be running when the video ends: the run waits for it.
        if (ShowingSeconds > 0 && seconds - ShowingSeconds > 1)
            s.Append(c, $" (video shown over {ShowingSeconds:0.0} s)");
        return s.ToString();
    }
}
