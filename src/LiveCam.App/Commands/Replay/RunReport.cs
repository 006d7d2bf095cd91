using System.Globalization;
using System.Text;
using LiveCam.Models;
using LiveCam.Pipeline.Batch;

namespace LiveCam.App.Commands.Replay;

/// <summary>One frame where two runs read a quantity differently.</summary>
internal sealed record Disagreement(string Recording, long Frame, double? Seconds, string Quantity, string Value,
    string AgainstValue);

/// <summary>Two runs over one recording, frame by frame.</summary>
/// <param name="Compared">Frames both runs analysed.</param>
/// <param name="OneSided">Frames only one of them analysed.</param>
internal sealed record RecordingComparison(string Recording, int Compared, int OneSided, int FramesDisagreeing,
    IReadOnlyDictionary<string, int> ByQuantity, IReadOnlyList<Disagreement> Disagreements);

/// <summary>What <c>summary</c> reports: per recording, what was analysed and what the model read over time; and
/// where two runs over the same recordings disagree. Only the readings the model's head wrote are looked at, so
/// nothing here knows a model.</summary>
internal static class RunReport
{
    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The Markdown report of one run.</summary>
    /// <param name="every">Seconds per row of the table over time; 0: chosen so a recording fits in about 40.</param>
    public static string Summary(string dir, IReadOnlyList<AnalysedRecording> run, double every)
    {
        var text = new StringBuilder();
        text.AppendLine(F($"# LiveCam summary of {dir}")).AppendLine();
        foreach (var recording in run)
        {
            var frames = recording.Frames;
            text.AppendLine(F($"## {recording.Name}")).AppendLine();
            var unfinished = recording.Unfinished > 0 ? F($", {recording.Unfinished} unfinished") : "";
            if (frames.Count == 0)
            {
                text.AppendLine(F($"{recording.Items} item(s){unfinished}, no frame analysed.")).AppendLine();
                continue;
            }
            var first = frames[0];
            double interval = FrameInterval(frames);
            var span = frames[^1].Seconds is { } last && first.Seconds is { } start
                ? F($", {start:0.##} s to {last + interval:0.##} s")
                : "";
            int problems = frames.Count(f => f.Problem is not null);
            text.AppendLine(F($"{recording.Items} item(s){unfinished}, {frames.Count} frames analysed{span}; ")
                + F($"{first.Model} with {first.Weights}, {first.Method}")
                + (problems > 0 ? F($"; {problems} frames without predictions (NaN)") : "") + ".").AppendLine();
            var quantities = Quantities(frames);
            if (quantities.Count == 0) continue;
            OverTime(text, frames, quantities, every);
            TimePerValue(text, frames, quantities, interval);
        }
        return text.ToString();
    }

    /// <summary>The quantities the head read, in the order it reads them.</summary>
    static List<string> Quantities(IEnumerable<AnalysedFrame> frames) =>
        frames.SelectMany(f => f.Readings.Select(r => r.Quantity)).Distinct().ToList();

    /// <summary>Seconds between frames (the median step), so a count of frames becomes time; 0 without times.
    /// </summary>
    static double FrameInterval(IReadOnlyList<AnalysedFrame> frames)
    {
        var steps = frames.Zip(frames.Skip(1))
            .Select(p => p.Second.Seconds is { } b && p.First.Seconds is { } a ? (b - a) / Math.Max(1,
                p.Second.Position - p.First.Position) : double.NaN)
            .Where(s => s > 0).Order().ToList();
        return steps.Count == 0 ? 0 : steps[steps.Count / 2];
    }

    /// <summary>One row per period: the value read most often in it (the median of numbers).</summary>
    static void OverTime(StringBuilder text, IReadOnlyList<AnalysedFrame> frames, List<string> quantities,
        double every)
    {
        bool timed = frames.All(f => f.Seconds is not null);
        double duration = timed ? frames[^1].Seconds!.Value - frames[0].Seconds!.Value : frames.Count;
        double step = every > 0 ? every : Math.Max(1, Math.Ceiling(duration / 40));
        text.AppendLine(F($"Over time (each row {step:0.##} {(timed ? "s" : "frames")}: the value read most often, ")
            + "the median of distances and counts):").AppendLine();
        var header = string.Join(" | ", quantities.Select(Cell));
        text.AppendLine(F($"| {(timed ? "time (s)" : "position")} | frames | {header} |"));
        text.AppendLine(F($"|---|---|{string.Concat(quantities.Select(_ => "---|"))}"));
        foreach (var bin in frames.GroupBy(f => Math.Floor((timed ? f.Seconds!.Value : f.Position) / step)))
        {
            var cells = quantities.Select(q =>
                Cell(Typical(bin.SelectMany(f => f.Readings).Where(r => r.Quantity == q))));
            text.AppendLine(F($"| {bin.Key * step:0.##} | {bin.Count()} | {string.Join(" | ", cells)} |"));
        }
        text.AppendLine();
    }

    static string Typical(IEnumerable<PredictionReading> readings)
    {
        var list = readings.ToList();
        if (list.Count == 0) return "";
        var numbers = list.Where(r => r.Number is not null).OrderBy(r => r.Number).ToList();
        // Numbers when most are numbers (a sensor that sees something), else the most frequent text ("free").
        if (numbers.Count * 2 > list.Count) return numbers[numbers.Count / 2].Value;
        return list.GroupBy(r => r.Value).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .First().Key;
    }

    /// <summary>Per quantity, how long each value was read (a classifier: time per class), the longest five.</summary>
    static void TimePerValue(StringBuilder text, IReadOnlyList<AnalysedFrame> frames, List<string> quantities,
        double interval)
    {
        text.AppendLine(interval > 0 ? "Time per value (the five longest):" : "Frames per value (the five most):")
            .AppendLine();
        text.AppendLine(F($"| quantity | value | {(interval > 0 ? "seconds" : "frames")} | share |"));
        text.AppendLine("|---|---|---|---|");
        foreach (var q in quantities)
        {
            var readings = frames.SelectMany(f => f.Readings).Where(r => r.Quantity == q).ToList();
            foreach (var g in readings.GroupBy(r => r.Value).OrderByDescending(g => g.Count())
                .ThenBy(g => g.Key, StringComparer.Ordinal).Take(5))
            {
                var amount = interval > 0 ? F($"{g.Count() * interval:0.##}") : F($"{g.Count()}");
                var share = g.Count() / (double)readings.Count;
                text.AppendLine(F($"| {Cell(q)} | {Cell(g.Key)} | {amount} | {share:P0} |"));
            }
        }
        text.AppendLine();
    }

    /// <summary>Every frame's readings as CSV: recording, frame, time, quantity, value.</summary>
    public static string ReadingsCsv(IReadOnlyList<AnalysedRecording> run)
    {
        var csv = new StringBuilder("recording,frame,time_s,quantity,value\n");
        foreach (var recording in run)
            foreach (var frame in recording.Frames)
                foreach (var r in frame.Readings)
                    csv.Append(F($"{Csv(recording.Name)},{frame.Frame},{Time(frame.Seconds)},{Csv(r.Quantity)},"))
                        .Append(Csv(r.Value)).Append('\n');
        return csv.ToString();
    }

    /// <summary>The recordings both runs hold, paired frame by frame (by the recording's frame numbers).</summary>
    public static List<RecordingComparison> Compare(IReadOnlyList<AnalysedRecording> run,
        IReadOnlyList<AnalysedRecording> against)
    {
        var others = against.ToDictionary(r => r.Name, StringComparer.Ordinal);
        var comparisons = new List<RecordingComparison>();
        foreach (var recording in run)
        {
            if (!others.TryGetValue(recording.Name, out var other)) continue;
            var theirs = other.Frames.GroupBy(f => f.Frame).ToDictionary(g => g.Key, g => g.First());
            var byQuantity = Quantities(recording.Frames.Concat(other.Frames)).ToDictionary(q => q, _ => 0);
            var found = new List<Disagreement>();
            int compared = 0, disagreeing = 0;
            foreach (var frame in recording.Frames.GroupBy(f => f.Frame).Select(g => g.First()))
            {
                if (!theirs.TryGetValue(frame.Frame, out var twin)) continue;
                compared++;
                bool differs = false;
                foreach (var q in byQuantity.Keys.ToList())
                {
                    var mine = frame.Readings.FirstOrDefault(r => r.Quantity == q);
                    var their = twin.Readings.FirstOrDefault(r => r.Quantity == q);
                    if (mine is null && their is null) continue;
                    if (mine is not null && their is not null && mine.AgreesWith(their)) continue;
                    differs = true;
                    byQuantity[q]++;
                    found.Add(new Disagreement(recording.Name, frame.Frame, frame.Seconds ?? twin.Seconds, q,
                        mine?.Value ?? "(none)", their?.Value ?? "(none)"));
                }
                if (differs) disagreeing++;
            }
            int oneSided = recording.Frames.Select(f => f.Frame).Distinct().Count() + theirs.Count - 2 * compared;
            comparisons.Add(new RecordingComparison(
                recording.Name, compared, oneSided, disagreeing, byQuantity, found));
        }
        return comparisons;
    }

    /// <summary>The comparison as CSV, one row per frame and quantity that disagree.</summary>
    public static string ComparisonCsv(IEnumerable<RecordingComparison> comparisons)
    {
        var csv = new StringBuilder("recording,frame,time_s,quantity,value,against_value\n");
        foreach (var d in comparisons.SelectMany(c => c.Disagreements))
            csv.Append(F($"{Csv(d.Recording)},{d.Frame},{Time(d.Seconds)},{Csv(d.Quantity)},{Csv(d.Value)},"))
                .Append(Csv(d.AgainstValue)).Append('\n');
        return csv.ToString();
    }

    /// <summary>The comparison as a short Markdown report: counts per recording, then the first disagreements.
    /// </summary>
    public static string ComparisonMarkdown(string dir, string againstDir, string what, string againstWhat,
        IReadOnlyList<RecordingComparison> comparisons, int rows = 20)
    {
        var text = new StringBuilder();
        text.AppendLine(F($"# {dir} ({what}) against {againstDir} ({againstWhat})")).AppendLine();
        if (comparisons.Count == 0)
            return text.AppendLine("No recording is in both runs.").ToString();
        var quantities = comparisons.SelectMany(c => c.ByQuantity.Keys).Distinct().ToList();
        text.AppendLine(F($"| recording | frames compared | frames that disagree | only in one run | ")
            + string.Concat(quantities.Select(q => F($"{Cell(q)} | "))).TrimEnd());
        text.AppendLine(F($"|---|---|---|---|{string.Concat(quantities.Select(_ => "---|"))}"));
        foreach (var c in comparisons)
        {
            var share = c.Compared > 0 ? F($" ({c.FramesDisagreeing / (double)c.Compared:P0})") : "";
            text.AppendLine(F($"| {Cell(c.Recording)} | {c.Compared} | {c.FramesDisagreeing}{share} | {c.OneSided} | ")
                + string.Concat(quantities.Select(q => F($"{c.ByQuantity.GetValueOrDefault(q)} | "))).TrimEnd());
        }
        var all = comparisons.SelectMany(c => c.Disagreements).ToList();
        text.AppendLine();
        if (all.Count == 0) return text.AppendLine("They agree on every frame compared.").ToString();
        text.AppendLine(F($"The first {Math.Min(rows, all.Count)} of {all.Count} disagreements:")).AppendLine();
        text.AppendLine("| recording | time (s) | frame | quantity | this run | against |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var d in all.Take(rows))
            text.AppendLine(F($"| {Cell(d.Recording)} | {Time(d.Seconds)} | {d.Frame} | {Cell(d.Quantity)} | ")
                + F($"{Cell(d.Value)} | {Cell(d.AgainstValue)} |"));
        return text.ToString();
    }

    /// <summary>Text from a model (a class label may hold '|' or a line break) as one Markdown table cell.</summary>
    internal static string Cell(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    static string Time(double? seconds) => seconds is { } s ? s.ToString("0.###", CultureInfo.InvariantCulture) : "";

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    static string Csv(string value) => value.IndexOfAny([',', '"', '\n', '\r']) < 0
        ? value
        : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
