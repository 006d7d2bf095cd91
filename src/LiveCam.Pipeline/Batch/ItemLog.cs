using System.Globalization;
using System.Text;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Models;
using LiveCam.Pipeline.Recording;

namespace LiveCam.Pipeline.Batch;

/// <summary>
/// A batch item's output: <c>OUT/RECORDING/ITEM.jsonl</c>, one line per analysed frame, and beside it
/// <c>ITEM.timings.csv</c> (how long each analysis took). Both are written under <c>.partial</c> names and renamed
/// once complete and on the disk, the log last: a log under its own name is a finished item. The log holds only what
/// the item, model, weights and method decide (no wall clock, no timings), so the same item gives the same bytes
/// on any machine.
/// </summary>
public sealed class ItemLog : IDisposable
{
    const string Partial = ".partial";

    readonly FileStream _log, _timings;
    readonly string _path, _timingsPath;
    readonly WorkItem _item;
    readonly string _model, _weights;
    readonly IPredictionHead _head;
    bool _completed;

    /// <exception cref="ItemOutputException">The output folder cannot be made or written.</exception>
    public ItemLog(string outDir, WorkItem item, string model, string weights, IPredictionHead head)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        _item = item ?? throw new ArgumentNullException(nameof(item));
        (_model, _weights) = (model, weights);
        _head = head ?? throw new ArgumentNullException(nameof(head));
        _path = PathOf(outDir, item);
        _timingsPath = Path.ChangeExtension(_path, ".timings.csv");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            // A run killed before it finished left these: they are started again from nothing.
            _log = new FileStream(_path + Partial, FileMode.Create, FileAccess.Write, FileShare.Read);
            _timings = new FileStream(_timingsPath + Partial, FileMode.Create, FileAccess.Write, FileShare.Read);
            _timings.Write("frame,analysis_ms\n"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log?.Dispose();
            throw new ItemOutputException($"cannot write '{_path}{Partial}': {e.Message}", e);
        }
    }

    /// <summary>Where the item's finished log is.</summary>
    public static string PathOf(string outDir, WorkItem item)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        ArgumentNullException.ThrowIfNull(item);
        return Path.Combine(Path.GetFullPath(outDir), item.Recording, item.Name + ".jsonl");
    }

    /// <summary>The log being written, until it is complete.</summary>
    public string PartialPath => _path + Partial;

    /// <summary>The line for <paramref name="analysis"/> of the recording's frame <paramref name="frame"/>, the
    /// <paramref name="position"/>-th of the recording, at <paramref name="seconds"/> into it; without its
    /// newline.</summary>
    public string Line(Analysis analysis, long frame, long position, double? seconds)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        bool finite = analysis.Outputs is null || analysis.Outputs.All(float.IsFinite);
        var outputs = finite ? analysis.Outputs : null;
        var line = new Dictionary<string, object?>
        {
            ["recording"] = _item.Recording,
            ["item"] = _item.Name,
            ["frame"] = frame,
            ["position"] = position,
            ["time_s"] = seconds is { } s ? Math.Round(s, 6) : null,
            ["model"] = _model,
            ["weights"] = _weights,
            ["method"] = analysis.Choice?.Method,
            ["layer"] = analysis.Choice?.Layer,
            ["target"] = analysis.Choice?.Target,
            ["readings"] = outputs is null ? null : Readings(outputs),
            ["predictions"] = outputs is null ? null : Predictions(outputs, analysis),
            ["outputs"] = outputs is { Count: <= AnalysisLog.MaxRawOutputs } ? outputs : null,
            ["problem"] = analysis.Problem ?? (finite ? null : "analysis gave NaN or infinity"),
        };
        return JsonSerializer.Serialize(line, AnalysisLog.LineJson);
    }

    List<Dictionary<string, object?>> Readings(IReadOnlyList<float> outputs) =>
        _head.Readings(outputs).Select(r => new Dictionary<string, object?>
        {
            ["quantity"] = r.Quantity, ["value"] = r.Value, ["number"] = r.Number, ["tolerance"] = r.Tolerance,
        }).ToList();

    IReadOnlyDictionary<string, object?>? Predictions(IReadOnlyList<float> outputs, Analysis analysis)
    {
        // Outputs the head does not read (a class count it does not know) are logged raw only.
        try { return _head.Json(outputs, analysis.ExplainedOutput, analysis.HeatmapRegion); }
        catch (ArgumentException) { return null; }
    }

    /// <exception cref="ItemOutputException">The disk is full or the file can no longer be written.</exception>
    public void Write(Analysis analysis, long frame, long position, double? seconds)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        var timing = ((analysis.CompletedAt - analysis.StartedAt).TotalMilliseconds).ToString(
            "0.##", CultureInfo.InvariantCulture);
        Guard(() =>
        {
            _log.Write(Encoding.UTF8.GetBytes(Line(analysis, frame, position, seconds) + "\n"));
            _timings.Write(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{frame},{timing}\n")));
        });
    }

    /// <summary>Puts both files on the disk and gives them their own names, the log last.</summary>
    /// <exception cref="ItemOutputException">They cannot be finished.</exception>
    public void Complete()
    {
        Guard(() =>
        {
            _timings.Flush(flushToDisk: true);
            _log.Flush(flushToDisk: true);
            _timings.Dispose();
            _log.Dispose();
            File.Move(_timingsPath + Partial, _timingsPath, overwrite: true);
            File.Move(_path + Partial, _path, overwrite: true);
        });
        _completed = true;
    }

    void Guard(Action write)
    {
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ItemOutputException($"cannot write '{_path}': {e.Message}", e);
        }
    }

    /// <summary>Closes the files; an item not completed stays under its <c>.partial</c> name, which a rerun starts
    /// again.</summary>
    public void Dispose()
    {
        if (_completed) return;
        _log.Dispose();
        _timings.Dispose();
    }
}

/// <summary>A batch item's output cannot be written (a full disk, a lost mount): a retry may succeed.</summary>
public sealed class ItemOutputException : Exception
{
    public ItemOutputException(string message) : base(message) { }
    public ItemOutputException(string message, Exception inner) : base(message, inner) { }
    public ItemOutputException() { }
}
