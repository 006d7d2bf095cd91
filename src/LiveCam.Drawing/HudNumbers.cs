namespace LiveCam.Drawing;

/// <summary>
/// The pipeline's numbers the HUD shows, as they were when one picture was composed. The pipeline fills it; drawing
/// reads nothing else of the pipeline.
/// </summary>
/// <param name="DisplayFps">Frames shown per second, lately.</param>
/// <param name="AnalysisFps">Analyses finished per second, lately.</param>
/// <param name="ShownAfterCaptureMs">The last frame on screen: capture to screen, in ms; NaN before the first.</param>
/// <param name="DisplayDropped">Frames the display released unseen so far.</param>
public sealed record HudNumbers(double DisplayFps, double AnalysisFps, double ShownAfterCaptureMs, long DisplayDropped)
{
    /// <summary>Before anything ran: no rates, nothing shown, nothing dropped.</summary>
    public static readonly HudNumbers None = new(0, 0, double.NaN, 0);
}

/// <summary>Where the composer reads the HUD's numbers (the pipeline's metrics): once for each picture.</summary>
public interface IHudNumbersSource
{
    /// <summary>The numbers now, a snapshot that does not change afterwards.</summary>
    HudNumbers ReadHudNumbers();
}
