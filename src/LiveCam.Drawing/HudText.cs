using System.Globalization;
using System.Text.RegularExpressions;
using LiveCam.Core;

namespace LiveCam.Drawing;

/// <summary>
/// The HUD's lines, most important first by rank: what is explained (method, layer, target), what the model predicts,
/// the source and rates, then timing. Each line is made of segments that a small picture drops, least useful first.
/// </summary>
public static partial class HudText
{
    /// <summary>Ranks: the lower, the longer a line stays as the picture gets smaller.</summary>
    public const int Explanation = 0, Predictions = 1, Source = 2, Timing = 3, State = 2, Notice = 0;

    /// <summary>How old an overlay is before the explanation line says so.</summary>
    public static readonly TimeSpan StaleOverlay = TimeSpan.FromSeconds(0.5);

    /// <param name="numbers">The pipeline's rates and counts when the picture is composed.</param>
    /// <param name="head">How the model's outputs are shown; null when nothing is predicted.</param>
    public static List<HudLine> Lines(
        Frame frame, Analysis? analysis, HudNumbers numbers, string analyser, IPredictionDrawing? head)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(numbers);
        var c = CultureInfo.InvariantCulture;
        var lines = new List<HudLine>
        {
            Spaced(Source,
                new HudSegment(ShortSourceName(frame.SourceName)),
                new HudSegment(string.Create(c, $"#{frame.Sequence}"), 2),
                new HudSegment(string.Create(c, $"display {numbers.DisplayFps:0.0} fps")),
                new HudSegment(string.Create(c, $"analysis {numbers.AnalysisFps:0.0} fps"), 1)),
            analysis?.Description is { } description
                ? FromDescription(description)
                : new HudLine(analysis is null ? $"{analyser}: waiting" : analyser, Explanation),
        };
        if (analysis?.Problem is { } problem)
            lines[1] = lines[1] with
            {
                Segments = [new HudSegment(problem + HudLine.Separator),
                    .. lines[1].Segments.Select(s => s with { Drop = Math.Max(s.Drop, 1) })]
            };
        // A slow method (Score-CAM, RISE, occlusion) leaves the overlay behind the video, which keeps its full rate:
        // its age then belongs with what it explains, where it is the last thing to go.
        if (analysis is not null && frame.CaptureTime - analysis.FrameCaptureTime is var age && age >= StaleOverlay)
            lines[1] = lines[1] with
            {
                Segments = [.. lines[1].Segments,
                    new HudSegment(string.Create(c, $"{HudLine.Separator}overlay {age.TotalSeconds:0.0} s old"))]
            };
        if (analysis?.Outputs is { Count: > 0 } outputs
            && head?.Line(outputs, analysis.ExplainedOutput) is { } predictions)
            lines.Add(predictions with { Rank = Predictions });
        var timing = new List<HudSegment>();
        if (analysis is not null)
        {
            timing.Add(new HudSegment(
                string.Create(c, $"overlay {frame.Sequence - analysis.FrameSequence} frames old"), 1));
            timing.Add(new HudSegment(
                string.Create(c, $"analysis {analysis.Latency.TotalMilliseconds:0} ms after capture"), 2));
        }
        // The frame being drawn is not on screen yet: the HUD shows the previous frame's capture->screen time.
        if (!double.IsNaN(numbers.ShownAfterCaptureMs))
            timing.Add(new HudSegment(string.Create(c, $"shown {numbers.ShownAfterCaptureMs:0} ms after capture"), 2));
        timing.Add(new HudSegment(string.Create(c, $"dropped {numbers.DisplayDropped}")));
        lines.Add(Spaced(Timing, [.. timing]));
        return lines;
    }

    /// <summary>Segments joined by two spaces (each after the first carries its own).</summary>
    public static HudLine Spaced(int rank, params HudSegment[] segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        return new HudLine(
            segments.Select((s, i) => i == 0 ? s : s with { Text = HudLine.Separator + s.Text }).ToList(), rank);
    }

    /// <summary>An analyser's description ("gradcam @ encoder.6 (64x8x10), target all outputs"): the parenthesised
    /// details go first when it is too wide, then the parts after the first comma.</summary>
    public static HudLine FromDescription(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var segments = new List<HudSegment>();
        var parts = description.Split(", ");
        for (int p = 0; p < parts.Length; p++)
        {
            if (p > 0) parts[p] = ", " + parts[p];
            int at = 0;
            foreach (Match m in Parenthesised().Matches(parts[p]))
            {
                if (m.Index > at) segments.Add(new HudSegment(parts[p][at..m.Index], p == 0 ? 0 : 1));
                segments.Add(new HudSegment(m.Value, 2));
                at = m.Index + m.Length;
            }
            string rest = parts[p][at..];
            if (rest.Length > 0) segments.Add(new HudSegment(rest, p == 0 ? 0 : 1));
        }
        return new HudLine(segments, Explanation);
    }

    [GeneratedRegex(@" \([^()]*\)")]
    private static partial Regex Parenthesised();

    /// <summary>A source's name as the HUD shows it: a file's name without its folder, a stream's host and last
    /// part.</summary>
    public static string ShortSourceName(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Uri.TryCreate(source, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https" or "rtsp" or "rtmp" or "udp" or "tcp")
        {
            var last = uri.Segments.Length > 1 ? uri.Segments[^1].TrimEnd('/') : "";
            return last.Length == 0 ? uri.Host : $"{uri.Host}/{last}";
        }
        // A path from this system or another (a Windows path in a log read on Linux): the part after the last
        // separator.
        var trimmed = source.TrimEnd('/', '\\');
        int cut = trimmed.LastIndexOfAny(['/', '\\']);
        if (cut >= 0 && cut < trimmed.Length - 1) return trimmed[(cut + 1)..];
        return source;
    }
}
