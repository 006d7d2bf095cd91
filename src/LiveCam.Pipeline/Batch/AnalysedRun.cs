using System.Text.Json;
using LiveCam.Models;

namespace LiveCam.Pipeline.Batch;

/// <summary>One frame of an item's log, as <c>summary</c> needs it.</summary>
/// <param name="Position">Its place among the recording's frames, from 0.</param>
/// <param name="Seconds">Its time into the recording; null when the source has no frame rate.</param>
public sealed record AnalysedFrame(string Item, long Frame, long Position, double? Seconds, string? Model,
    string? Weights, string? Method, IReadOnlyList<PredictionReading> Readings, string? Problem);

/// <summary>One recording of a batch run: its frames from every finished item, in the recording's order.</summary>
/// <param name="Unfinished">Items begun and not finished (a worker killed, or still running).</param>
public sealed record AnalysedRecording(string Name, IReadOnlyList<AnalysedFrame> Frames, int Items, int Unfinished);

/// <summary>
/// What a batch run's <c>--out-dir</c> holds, read back: per recording, the finished items' logs merged in the
/// recording's order. A line that is not whole JSON (a disk that failed under the worker) is left out.
/// </summary>
public static class AnalysedRun
{
    /// <exception cref="IOException">Not a batch run's folder: the message is one line for the user.</exception>
    public static IReadOnlyList<AnalysedRecording> Read(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir)) throw new IOException($"'{dir}' is not a folder");
        var recordings = new List<AnalysedRecording>();
        foreach (var folder in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
        {
            var logs = Directory.GetFiles(folder, "*.jsonl").Order(StringComparer.Ordinal).ToList();
            int unfinished = Directory.GetFiles(folder, "*.jsonl.partial").Length;
            if (logs.Count == 0 && unfinished == 0) continue;
            var frames = logs.SelectMany(ReadLog).OrderBy(f => f.Position).ThenBy(f => f.Frame).ToList();
            recordings.Add(new AnalysedRecording(Path.GetFileName(folder), frames, logs.Count, unfinished));
        }
        if (recordings.Count == 0)
            throw new IOException($"'{dir}' holds no item logs (made by render --manifest ... --out-dir)");
        return recordings;
    }

    static IEnumerable<AnalysedFrame> ReadLog(string path)
    {
        foreach (var text in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(text)) continue;
            AnalysedFrame? frame;
            try
            {
                using var document = JsonDocument.Parse(text);
                frame = Frame(document.RootElement);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                continue;
            }
            if (frame is not null) yield return frame;
        }
    }

    static AnalysedFrame? Frame(JsonElement line)
    {
        if (line.ValueKind != JsonValueKind.Object || !line.TryGetProperty("frame", out var frame)
            || !line.TryGetProperty("position", out var position)) return null;
        var readings = new List<PredictionReading>();
        if (line.TryGetProperty("readings", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in list.EnumerateArray())
            {
                readings.Add(new PredictionReading(r.GetProperty("quantity").GetString() ?? "",
                    r.GetProperty("value").GetString() ?? "", Number(r, "number"), Number(r, "tolerance") ?? 0));
            }
        }
        return new AnalysedFrame(Text(line, "item") ?? "", frame.GetInt64(), position.GetInt64(),
            Number(line, "time_s"), Text(line, "model"), Text(line, "weights"), Text(line, "method"), readings,
            Text(line, "problem"));
    }

    static string? Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static double? Number(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
