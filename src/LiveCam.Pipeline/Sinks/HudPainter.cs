using System.Globalization;
using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Draws the frame's identity and timing over a copy of it (CPU, OpenCV text).</summary>
public sealed class HudPainter(PipelineMetrics metrics, Func<string> describeAnalysis) : IDisposable
{
    readonly HeatmapOverlay _overlay = new();

    public void Dispose() => _overlay.Dispose();

    /// <summary>The HUD's lines: source, frame and time; the analysis it shows, its lag and latency, drops;
    /// method, layer and target; what the model predicts. The CPU and GPU painters both draw these.</summary>
    public static List<string> Lines(Frame frame, Analysis? analysis, PipelineMetrics metrics, string analyser)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(metrics);
        var c = CultureInfo.InvariantCulture;
        var now = MonotonicClock.Now;
        var lines = new List<string>
        {
            string.Create(c, $"{frame.SourceName}  frame {frame.Sequence}  t {frame.CaptureTime.TotalSeconds:0.000} s"),
            analysis is null
                ? string.Create(c, $"{analyser}: waiting  dropped {metrics.DisplayDropped}")
                : string.Create(c, $"analysis of frame {analysis.FrameSequence} ({frame.Sequence - analysis.FrameSequence} behind), took {analysis.Latency.TotalMilliseconds:0} ms from capture"),
            // The frame being drawn is not on screen yet: the HUD shows the previous frame's capture->screen time.
            Ms(metrics.CaptureToSink.LastMs) is { } screen
                ? string.Create(c, $"latency capture->screen {screen:0.0} ms  dropped {metrics.DisplayDropped}")
                : string.Create(c, $"dropped {metrics.DisplayDropped}"),
            string.Create(c, $"display {metrics.DisplayRate.PerSecond(now):0.0} fps  analysis {metrics.AnalysisRate.PerSecond(now):0.0} fps"),
        };
        if (analysis?.Description is { } description) lines.Add(description);
        if (analysis is not null && PredictionSummary.Line(analysis) is { } predictions) lines.Add(predictions);
        return lines;
    }

    static double? Ms(double value) => double.IsNaN(value) ? null : value;

    /// <summary>Copies the frame into <paramref name="canvas"/> (reallocated only on size change) and draws the HUD.</summary>
    public void Paint(Frame frame, Analysis? analysis, Mat canvas)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(canvas);
        frame.Pixels.CopyTo(canvas);
        if (analysis is not null) _overlay.Blend(canvas, analysis);
        var lines = Lines(frame, analysis, metrics, describeAnalysis());
        double scale = Math.Clamp(canvas.Width / 1100.0, 0.35, 1.2);
        int thickness = scale > 0.7 ? 2 : 1;
        int lineHeight = (int)(24 * scale) + 4;
        int y = lineHeight;
        foreach (var line in lines)
        {
            var size = Cv2.GetTextSize(line, HersheyFonts.HersheySimplex, scale, thickness, out int baseline);
            var box = new Rect(4, y - size.Height - 4, size.Width + 8, size.Height + baseline + 6) & new Rect(0, 0, canvas.Width, canvas.Height);
            if (box.Width > 0 && box.Height > 0)
            {
                using var roi = new Mat(canvas, box);
                roi.ConvertTo(roi, -1, 0.35);  // a dark band behind the text keeps it readable on any scene
            }
            Cv2.PutText(canvas, line, new Point(8, y), HersheyFonts.HersheySimplex, scale, Scalar.White, thickness, LineTypes.AntiAlias);
            y += lineHeight;
        }
    }
}
