using System.Globalization;
using System.Text.Json;

namespace LiveCam.Pipeline.Recording;

/// <summary>One finished segment: its file, rate, the frame numbers it holds in order, and with each the frame whose
/// analysis was drawn over it (-1: none yet).</summary>
public sealed record RecordedSegment(string Path, double Fps, long[] Frames, long[] AnalysedFrames);

/// <summary>One line of <c>log.jsonl</c>, as replay needs it.</summary>
/// <param name="Outputs">The raw outputs, where the log holds them (not a detector's or segmenter's thousands).
/// </param>
public sealed record LoggedAnalysis(
    long Frame, DateTime? CaptureUtc, string? Model, string? Weights, string? Method, string? Layer,
    string? Target, float[]? Outputs, double AnalysisMs, double LatencyMs)
{
    /// <summary>The head's predictions as logged (boxes, class areas), as JSON text; null when none.</summary>
    public string? Predictions { get; init; }
}

/// <summary>
/// What a <c>--record</c> folder holds, read back: the finished segments in order and the analysis log. A line cut
/// short by a crash (the last one of either file) is left out; so is anything that is not whole JSON.
/// </summary>
public sealed class RecordingIndex
{
    public IReadOnlyList<RecordedSegment> Segments { get; }
    public IReadOnlyList<LoggedAnalysis> Log { get; }
    public string Folder { get; }

    RecordingIndex(string folder, List<RecordedSegment> segments, List<LoggedAnalysis> log) =>
        (Folder, Segments, Log) = (folder, segments, log);

    /// <exception cref="IOException">Not a recording folder: the message is one line for the user.</exception>
    public static RecordingIndex Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var dir = System.IO.Path.GetFullPath(folder);
        var segments = ReadSegments(folder);
        if (segments.Count == 0) throw new IOException($"'{folder}' holds no finished segment");
        var log = new List<LoggedAnalysis>();
        var logPath = System.IO.Path.Combine(dir, "log.jsonl");
        if (File.Exists(logPath))
        {
            foreach (var line in WholeLines(logPath, "frame"))
            {
                static string? Text(JsonElement e, string name) =>
                    e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                        ? v.GetString()
                        : null;
                static double Number(JsonElement e, string name) =>
                    e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
                        ? v.GetDouble()
                        : double.NaN;
                DateTime? utc = DateTime.TryParse(Text(line, "capture_utc"), CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null;
                float[]? outputs = line.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Array
                    ? o.EnumerateArray()
                        .Select(v => v.ValueKind == JsonValueKind.Number ? v.GetSingle() : float.NaN).ToArray()
                    : null;
                log.Add(new LoggedAnalysis(
                    line.GetProperty("frame").GetInt64(), utc, Text(line, "model"), Text(line, "weights"),
                    Text(line, "method"), Text(line, "layer"), Text(line, "target"), outputs,
                    Number(line, "analysis_ms"), Number(line, "latency_ms"))
                {
                    Predictions = line.TryGetProperty("predictions", out var p) && p.ValueKind == JsonValueKind.Object
                        ? p.GetRawText()
                        : null,
                });
            }
        }
        log.Sort((a, b) => a.Frame.CompareTo(b.Frame));
        return new RecordingIndex(dir, segments, log);
    }

    /// <summary>The finished segments alone, in order, without reading the log (hours of it are large).</summary>
    /// <param name="keepMissing">Keeps segments listed whose file is gone, so a list of work numbered from it stays
    /// the same whatever was lost since.</param>
    /// <exception cref="IOException">Not a recording folder: the message is one line for the user.</exception>
    public static List<RecordedSegment> ReadSegments(string folder, bool keepMissing = false)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var dir = System.IO.Path.GetFullPath(folder);
        var index = System.IO.Path.Combine(dir, "segments.jsonl");
        if (!File.Exists(index))
            throw new IOException($"'{folder}' is not a recording: it has no segments.jsonl (made by run --record)");
        var segments = new List<RecordedSegment>();
        foreach (var entry in WholeLines(index, "file"))
        {
            var file = System.IO.Path.Combine(
                dir, System.IO.Path.GetFileName(entry.GetProperty("file").GetString() ?? ""));
            if (!keepMissing && !File.Exists(file)) continue;
            var frames = entry.GetProperty("frames").EnumerateArray().Select(f => f.GetInt64()).ToArray();
            var analysed = entry.TryGetProperty("analysed_frames", out var a)
                ? a.EnumerateArray().Select(f => f.GetInt64()).ToArray()
                : frames;
            segments.Add(new RecordedSegment(file, entry.GetProperty("fps").GetDouble(), frames,
                analysed.Length == frames.Length ? analysed : frames));
        }
        return segments;
    }

    /// <summary>The file's lines that are whole JSON objects with <paramref name="required"/>.</summary>
    static IEnumerable<JsonElement> WholeLines(string path, string required)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line);
                element = document.RootElement.Clone();
            }
            catch (JsonException) { continue; }
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(required, out _))
                yield return element;
        }
    }

    /// <summary>The logged analysis of <paramref name="frame"/>, else the newest one before it.</summary>
    public LoggedAnalysis? AnalysisFor(long frame)
    {
        if (frame < 0) return null;
        int lo = 0, hi = Log.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (Log[mid].Frame <= frame) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : Log[found];
    }

    /// <summary>Where to start: <paramref name="at"/> as seconds into the recording (<c>12.5</c>) or a UTC time of the
    /// log (<c>2026-11-26T18:26:55Z</c>); the number of frames to skip.</summary>
    /// <exception cref="ArgumentException">Neither, or past the end.</exception>
    public long FramesBefore(string at)
    {
        ArgumentNullException.ThrowIfNull(at);
        long total = Segments.Sum(s => (long)s.Frames.Length);
        long skip;
        if (double.TryParse(at, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            skip = 0;
            double time = 0;
            foreach (var s in Segments)
            {
                if (time + s.Frames.Length / s.Fps > seconds) return skip + (long)Math.Floor((seconds - time) * s.Fps);
                time += s.Frames.Length / s.Fps;
                skip += s.Frames.Length;
            }
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"--at {at}: the recording lasts {time:0.##} s"));
        }
        if (DateTime.TryParse(at, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var utc))
        {
            var first = Log.FirstOrDefault(l => l.CaptureUtc >= utc)
                ?? throw new ArgumentException($"--at {at}: the log ends before that time");
            skip = 0;
            foreach (var s in Segments)
                foreach (var f in s.Frames)
                {
                    if (f >= first.Frame) return skip;
                    skip++;
                }
            throw new ArgumentException($"--at {at}: no recorded frame at or after that time");
        }
        throw new ArgumentException($"--at '{at}': expected seconds into the recording (12.5) "
            + $"or a UTC time (2026-11-26T18:26:55Z); {total} frames recorded");
    }
}
