using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LiveCam.Core;

namespace LiveCam.Pipeline.Recording;

/// <summary>What every log line says about the run besides its analysis.</summary>
/// <param name="Predictions">The model's outputs as plain values (its prediction head's JSON, given the explained
/// output and the part of the frame the model saw, so boxes are in the frame's pixels); null without a model.</param>
public sealed record RecordingContext(string Source, string? Model, string? Weights,
    Func<IReadOnlyList<float>, int?, PixelRect?, IReadOnlyDictionary<string, object?>>? Predictions);

/// <summary>
/// <c>log.jsonl</c>: one JSON object per analysed frame, each line written and handed to the operating system as it
/// comes, so a killed process loses at most the line being written. <see cref="Sync"/> also puts it on the disk.
/// </summary>
public sealed class AnalysisLog : IDisposable
{
    /// <summary>How log lines are serialised (floats to 5 significant digits, never NaN); the batch worker's item
    /// logs are written the same way.</summary>
    internal static JsonSerializerOptions LineJson => s_json;

    static readonly JsonSerializerOptions s_json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new FiveDigitFloats() },
    };

    /// <summary>Outputs and probabilities to 5 significant digits: a third shorter lines, far finer than any
    /// display.</summary>
    sealed class FiveDigitFloats : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (!float.IsFinite(value))
                throw new NotFiniteException($"a log line would hold {NotFiniteException.Kind(value)}");
            writer.WriteRawValue(value.ToString("G5", CultureInfo.InvariantCulture), skipInputValidation: true);
        }
    }

    readonly FileStream _file;
    readonly RecordingContext _context;
    // Capture times are monotonic; the wall clock of one is the wall clock now less the time since.
    readonly TimeSpan _monotonicAtOpen = MonotonicClock.Now;
    readonly DateTime _utcAtOpen = DateTime.UtcNow;

    public string Path { get; }

    /// <exception cref="IOException">The file cannot be created.</exception>
    public AnalysisLog(string path, RecordingContext context)
    {
        Path = path ?? throw new ArgumentNullException(nameof(path));
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    /// <summary>The line for <paramref name="analysis"/>, without its newline.</summary>
    public string Line(Analysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        var capturedUtc = _utcAtOpen + (analysis.FrameCaptureTime - _monotonicAtOpen);
        // Only finite numbers are written: a line with NaN says so instead.
        bool finite = analysis.Outputs is null || analysis.Outputs.All(float.IsFinite);
        var line = new Dictionary<string, object?>
        {
            ["frame"] = analysis.FrameSequence,
            ["capture_monotonic_s"] = Math.Round(analysis.FrameCaptureTime.TotalSeconds, 6),
            ["capture_utc"] = capturedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["source"] = _context.Source,
            ["model"] = _context.Model,
            ["weights"] = _context.Weights,
            ["method"] = analysis.Choice?.Method,
            ["layer"] = analysis.Choice?.Layer,
            ["target"] = analysis.Choice?.Target,
            ["predictions"] = finite && analysis.Outputs is { } outputs && _context.Predictions is { } read
                ? Predictions(read, outputs, analysis)
                : null,
            // A detector's or segmenter's raw outputs (thousands of values a frame) are left to its predictions.
            ["outputs"] = finite && analysis.Outputs is { Count: <= MaxRawOutputs } ? analysis.Outputs : null,
            ["problem"] = analysis.Problem ?? (finite ? null : "analysis gave NaN or infinity"),
            ["analysis_ms"] = Math.Round((analysis.CompletedAt - analysis.StartedAt).TotalMilliseconds, 2),
            ["latency_ms"] = Math.Round(analysis.Latency.TotalMilliseconds, 2),
        };
        return JsonSerializer.Serialize(line, s_json);
    }

    /// <summary>The most raw outputs a line carries (ImageNet's 1000 logits fit).</summary>
    public const int MaxRawOutputs = 4096;

    static IReadOnlyDictionary<string, object?>? Predictions(
        Func<IReadOnlyList<float>, int?, PixelRect?, IReadOnlyDictionary<string, object?>> read,
        IReadOnlyList<float> outputs, Analysis analysis)
    {
        // Outputs the head does not read (a class count it does not know) are logged raw only.
        try { return read(outputs, analysis.ExplainedOutput, analysis.HeatmapRegion); }
        catch (ArgumentException) { return null; }
    }

    /// <exception cref="IOException">The disk is full or the file can no longer be written.</exception>
    public void Write(Analysis analysis)
    {
        _file.Write(Encoding.UTF8.GetBytes(Line(analysis) + "\n"));
        _file.Flush();
    }

    /// <summary>Puts everything written so far on the disk (survives a power cut).</summary>
    public void Sync() => _file.Flush(flushToDisk: true);

    public void Dispose()
    {
        try { Sync(); }
        catch (IOException) { }  // a full disk: what could be written is there
        _file.Dispose();
    }
}
