using System.CommandLine;
using System.Diagnostics;
using LiveCam.Capture;
using LiveCam.Core;
using LiveCam.Pipeline.Batch;

namespace LiveCam.App.Commands.Run;

/// <summary>
/// <c>render --manifest FILE</c>: one item of a manifest analysed per process, as cluster engines run workers (Slurm
/// arrays, Kubernetes Indexed Jobs, AWS Batch array jobs). Idempotent: an item whose log is complete is skipped.
/// Exit codes: 0 done or skipped, 3 the input is bad for good (retrying cannot help), anything else may be retried.
/// </summary>
internal static class RenderWorker
{
    /// <summary>Where the item number comes from when <c>--index</c> is not given, first found first.</summary>
    public static readonly string[] IndexVariables =
        ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"];

    public sealed record Request(string Manifest, int? Index, bool List, string? OutDir);

    public static int Run(ParseResult parsed, RunOptions options, Request request, TextWriter output,
        TextWriter error)
    {
        IReadOnlyList<WorkItem> items;
        try { items = WorkManifest.Read(request.Manifest); }
        catch (ManifestException e) { throw new PermanentInputException(e.Message, e); }
        if (request.List)
        {
            output.WriteLine(items.Count);
            return Cli.Ok;
        }
        if (request.OutDir is not { } outDir)
            throw new PermanentInputException("render --manifest needs --out-dir DIR (or --list)");
        var item = Choose(items, request.Index, request.Manifest);
        try { return Analyse(parsed, options, item, outDir, output, error); }
        catch (Exception e) when (Cli.IsBadInput(e))
        {
            // The item, the model or the options: the same again on any retry.
            throw new PermanentInputException($"item {item.Index} ({item.Label}): {e.Message}", e);
        }
    }

    static WorkItem Choose(IReadOnlyList<WorkItem> items, int? given, string manifest)
    {
        int index;
        if (given is { } i) index = i;
        else
        {
            var variable = IndexVariables
                .FirstOrDefault(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)))
                ?? throw new PermanentInputException(
                    $"render --manifest: which item? give --index I or set {string.Join(", ", IndexVariables)}");
            var text = Environment.GetEnvironmentVariable(variable)!;
            if (!int.TryParse(text, System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out index))
                throw new PermanentInputException($"{variable}='{text}' is not an item number");
        }
        if (index < 0 || index >= items.Count)
            throw new PermanentInputException(items.Count == 0
                ? $"item {index}: the manifest '{manifest}' lists nothing"
                : $"item {index}: the manifest '{manifest}' has items 0 to {items.Count - 1}");
        return items[index];
    }

    static int Analyse(ParseResult parsed, RunOptions options, WorkItem item, string outDir, TextWriter output,
        TextWriter error)
    {
        var settings = options.Settings(parsed, null, headless: true, Pipeline.TimingMode.Exact, render: true, null);
        if (!options.Model.WantsModel(parsed))
            throw new UsageException("render --manifest needs a model (--model), not none");
        if (settings.MaxAnalysisFps > 0)
            throw new UsageException("render --manifest analyses every frame: no --analysis-fps");
        var logPath = ItemLog.PathOf(outDir, item);
        // The source first: a missing or corrupt file fails before the model is loaded.
        using var reader = OpenReader(parsed, options, item);
        var info = reader.Open();
        int threads = settings.Threads > 0
            ? settings.Threads
            : LiveSession.AnalysisThreads(Pipeline.TimingMode.Exact, Environment.ProcessorCount);
        // Before the model: a loader that measures which runtime is faster measures at the count the frames get.
        TorchSharp.torch.set_num_threads(threads);
        using var vision = options.Model.LoadModel(parsed);
        var analyser = LiveSession.CreateAnalyser(parsed, options.Model, vision);
        if (File.Exists(logPath))
        {
            RequireSameAnalysis(logPath, vision.Name, vision.Weights, analyser.Method);
            output.WriteLine($"item {item.Index} ({item.Label}): skipped, already done: {logPath}");
            return Cli.Ok;
        }
        output.WriteLine(Cli.Format($"item {item.Index} ({item.Label}): {info.Width}x{info.Height}, ")
            + Cli.Format($"{analyser.Name} ({threads} thread{(threads == 1 ? "" : "s")}), weights {vision.Weights}"));
        using var log = new ItemLog(outDir, item, vision.Name, vision.Weights, vision.Head);
        double fps = item.Fps > 0 ? item.Fps : info.Fps > 0 ? info.Fps : parsed.GetValue(options.Source.Fps) ?? 0;
        long count = 0, corrupt = 0, limit = item.Frames?.LongLength ?? long.MaxValue;
        if (settings.MaxFrames > 0) limit = Math.Min(limit, settings.MaxFrames);
        var clock = Stopwatch.StartNew();
        // A corrupt frame keeps its place: the frames after it keep the recording's numbers.
        for (long read = 0; read < limit; read++)
        {
            var status = reader.Read(out var image);
            if (status == ReadStatus.Corrupt)
            {
                corrupt++;
                continue;
            }
            if (status != ReadStatus.Frame) break;
            long frameNumber = item.Frames?[read] ?? read, position = item.FramesBefore + read;
            double? seconds = fps > 0 ? position / fps : null;
            // The capture time comes from the source, not the clock: the analysis sees the same frame everywhere.
            using var frame = new Frame(image!, frameNumber, TimeSpan.FromSeconds(seconds ?? 0), item.Label);
            var analysis = analyser.Analyse(frame);
            log.Write(analysis, frameNumber, position, seconds);
            count++;
        }
        if (count == 0)
            throw new SourceOpenException($"'{item.Source}': no frame could be decoded"
                + (corrupt > 0 ? Cli.Format($" ({corrupt} corrupt)") : ""));
        log.Complete();
        var expected = item.Frames is { } frames && settings.MaxFrames == 0 && count < frames.Length
            ? Cli.Format($" (the recording lists {frames.Length}: the file ends early)")
            : "";
        output.WriteLine(Cli.Format($"item {item.Index} ({item.Label}): {count} frames analysed")
            + Cli.Format($" in {clock.Elapsed.TotalSeconds:0.0} s{expected}; wrote {logPath}"));
        if (expected.Length > 0) error.WriteLine($"livecam: {item.Label}{expected}");
        return Cli.Ok;
    }

    /// <summary>The item's reader, cut to <c>--roi</c> when one is given.</summary>
    static IFrameReader OpenReader(ParseResult parsed, RunOptions options, WorkItem item)
    {
        var spec = SourceSpec.Parse(item.Source);
        if (spec.Kind is not (SourceKind.VideoFile or SourceKind.Images))
            throw new SourceOpenException($"'{item.Source}' is not a video file, image folder or recording");
        double imageFps = parsed.GetValue(options.Source.Fps) is > 0 and var fps ? fps
            : CaptureOptions.DefaultImageFps;
        var reader = SourceFactory.CreateReader(spec, imageFps: imageFps);
        if (parsed.GetValue(options.Source.Region) is not { } region) return reader;
        try { return new RegionReader(reader, RegionReader.Parse(region)); }
        catch (ArgumentException e)
        {
            reader.Dispose();
            throw new UsageException(e.Message, e);
        }
    }

    /// <summary>A finished item is skipped only when it was analysed the same way: an output folder of other weights
    /// would otherwise pass for this run's.</summary>
    static void RequireSameAnalysis(string logPath, string model, string weights, string method)
    {
        var first = File.ReadLines(logPath).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        string? Text(System.Text.Json.JsonElement line, string name) =>
            line.TryGetProperty(name, out var v) ? v.GetString() : null;
        (string?, string?, string?) done = (null, null, null);
        if (first is not null)
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(first);
                var line = document.RootElement;
                done = (Text(line, "model"), Text(line, "weights"), Text(line, "method"));
            }
            catch (System.Text.Json.JsonException) { }
        }
        if (done != (model, weights, method))
            throw new UsageException($"'{logPath}' holds an analysis by {done.Item1 ?? "?"} with {done.Item2 ?? "?"} "
                + $"and {done.Item3 ?? "?"}, not {model} with {weights} and {method}: give another --out-dir");
    }
}

/// <summary><c>render --manifest</c>: the item's input, the manifest or the options are bad, and a retry would
/// fail the same way (exit code 3).</summary>
public sealed class PermanentInputException : Exception
{
    public PermanentInputException(string message) : base(message) { }
    public PermanentInputException(string message, Exception inner) : base(message, inner) { }
    public PermanentInputException() { }
}
