using LiveCam.Core;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using LiveCam.Capture;
using LiveCam.Explain;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Metrics;
using LiveCam.Explain.Targets;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam metrics</c>: how faithful each method's maps are to the model on a set of images, against a
/// random map: deletion and insertion AUC, ROAD most/least relevant first, average drop and increase in
/// confidence.</summary>
internal static class MetricsCommand
{
    const string Random = "random";
    static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions("robot");
        var images = new Option<string[]>("--images")
        {
            Description = "images: files, folders or globs (several allowed); or a video file or synthetic, "
                + "sampled every half second",
            Required = true, AllowMultipleArgumentsPerToken = true
        };
        var frames = SharedOptions.Frames(
            "how many frames to take from a video or the synthetic scene", 20, shortAlias: false);
        var methods = SharedOptions.Methods($"methods, comma-separated ({string.Join(", ", MethodCatalog.Names)})",
            "gradcam,gradcam++,hirescam,eigencam,scorecam,saliency");
        var steps = new Option<int>("--steps")
        {
            Description = "deletion and insertion curve points beyond the first", DefaultValueFactory = _ => 20
        };
        var json = SharedOptions.Json("also write every score, per image and averaged, as JSON");
        var command = new Command("metrics", "Faithfulness of explanation methods on images: deletion and insertion "
            + "AUC (Petsiuk et al. 2018), ROAD with noisy linear imputation (Rong et al. 2022), average drop and "
            + "increase in confidence (Chattopadhay et al. 2018), each against a random map. Confidence is a "
            + "classifier's softmax probability of the class; for other models the target's score as a share of its "
            + "value on the whole image.");
        model.AddTo(command, withExplanation: false);
        command.Add(model.Layer);
        command.Add(model.Target);
        command.Add(images);
        command.Add(methods);
        command.Add(steps);
        command.Add(frames);
        command.Add(json);
        command.SetAction(parsed =>
        {
            var inputs = Inputs(parsed.GetValue(images)!, parsed.GetValue(frames), error);
            try
            {
                bool syntheticScene = parsed.GetValue(images) is { Length: 1 } only
                    && only[0].StartsWith("synthetic", StringComparison.OrdinalIgnoreCase);
                return Run(parsed, model, inputs, syntheticScene, parsed.GetValue(methods)!, parsed.GetValue(steps),
                    parsed.GetValue(json), output, error);
            }
            finally
            {
                foreach (var (_, image) in inputs) image.Dispose();
            }
        });
        return command;
    }

    /// <param name="Explanation">The method; null for the random map.</param>
    sealed record Row(string Method, ExplanationMethod? Explanation, List<FaithfulnessScores> Scores,
        List<double> Milliseconds)
    {
        public string? Problem { get; set; }
        double Mean(Func<FaithfulnessScores, double> f) => Scores.Count == 0 ? double.NaN : Scores.Average(f);
        public double Deletion => Mean(s => s.Deletion);
        public double Insertion => Mean(s => s.Insertion);
        public double Morf => Mean(s => s.RoadMostRelevantFirst);
        public double Lerf => Mean(s => s.RoadLeastRelevantFirst);
        public double Drop => 100 * Mean(s => s.Drop);
        public double Increase => 100 * Mean(s => s.Increase ? 1 : 0);
    }

    /// <summary>The images to measure on, each with its name: image files (unreadable ones skipped with a line on
    /// stderr), or frames of a video or of the synthetic scene, one every half second.</summary>
    static List<(string Name, Mat Image)> Inputs(string[] args, int frames, TextWriter error)
    {
        if (frames < 1) throw new UsageException("--frames must be at least 1");
        var inputs = new List<(string, Mat)>();
        try
        {
            foreach (var arg in args)
            {
                var files = File.Exists(arg) && SourceSpec.IsImageFile(arg) ? [arg] : ImageSequenceReader.Expand(arg);
                if (files.Length > 0)
                {
                    foreach (var file in files)
                    {
                        var image = Cv2.ImRead(file, ImreadModes.Color);
                        if (image.Empty())
                        {
                            image.Dispose();
                            error.WriteLine($"livecam: skipping '{file}': not an image OpenCV can decode");
                        }
                        else inputs.Add((file, image));
                    }
                    continue;
                }
                using var reader = SourceFactory.CreateReader(SourceSpec.Parse(arg));
                var info = reader.Open();
                if (info.IsLive && arg != "synthetic")
                    throw new UsageException($"'{arg}' is a live source: give images, a video file or synthetic");
                int every = Math.Max(1, (int)Math.Round((info.Fps > 0 ? info.Fps : 30) / 2));
                for (long index = 0, taken = 0; taken < frames; index++)
                {
                    var status = reader.Read(out var frame);
                    if (status is ReadStatus.End or ReadStatus.Lost) break;
                    if (status != ReadStatus.Frame || index % every != 0)
                    {
                        frame?.Dispose();
                        continue;
                    }
                    inputs.Add(($"{arg}#{index}", frame!));
                    taken++;
                }
            }
        }
        catch
        {
            foreach (var (_, image) in inputs) image.Dispose();
            throw;
        }
        if (inputs.Count == 0) throw new UsageException($"no images in {string.Join(' ', args)}");
        return inputs;
    }

    static int Run(ParseResult parsed, ModelOptions options, List<(string Name, Mat Image)> inputs,
        bool syntheticScene, string methodList, int steps, string? jsonPath, TextWriter output, TextWriter error)
    {
        if (steps < 2) throw new UsageException("--steps must be at least 2");
        var names = methodList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        List<ExplanationMethod> methods;
        try { methods = names.Select(MethodCatalog.Create).ToList(); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        if (jsonPath is not null) Cli.RequireFolderOf(jsonPath);

        using var model = options.LoadModel(parsed, syntheticScene);
        Target target;
        LayerSelector layer;
        try
        {
            target = model.Head.ParseTarget(parsed.GetValue(options.Target) ?? model.DefaultTarget);
            layer = LayerSelector.Parse(parsed.GetValue(options.Layer) ?? model.DefaultLayer);
        }
        catch (FormatException e) { throw new UsageException(e.Message, e); }
        var explainer = model.CreateExplainer();
        var metrics = new Faithfulness(model.Network, model.Traits, steps);
        var rows = methods.Select(m => new Row(m.Name, m, [], [])).Append(new Row(Random, null, [], [])).ToList();
        var used = new List<string>();
        var progress = new ProgressBar(error, inputs.Count * rows.Count, "metrics");

        for (int i = 0; i < inputs.Count; i++)
        {
            var (name, image) = inputs[i];
            used.Add(name);
            using var scope = NewDisposeScope();
            var input = model.Preprocess(image);
            // Top-k is decided on the whole image; metrics follow the best class.
            Target concrete;
            using (no_grad()) concrete = target.Resolve(model.Network.call(input))[0];
            long height = input.shape[2], width = input.shape[3];
            foreach (var row in rows)
            {
                progress.Advance(1, $"{Path.GetFileName(name)} {row.Method}");
                if (row.Problem is not null) continue;
                Tensor saliency;
                long start = Stopwatch.GetTimestamp();
                if (row.Explanation is null) saliency = rand([height, width], generator: new Generator((ulong)i + 1));
                else
                {
                    try
                    {
                        var item = explainer.Explain(input, row.Explanation, concrete, layer).Items[0];
                        saliency = AtInput(item.Map, height, width);
                    }
                    catch (ArgumentException e)
                    {
                        row.Problem = e.Message.Split(';')[0];
                        continue;
                    }
                    row.Milliseconds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                row.Scores.Add(metrics.Evaluate(input, concrete, saliency));
            }
        }
        progress.Done();

        var random = rows[^1];
        output.WriteLine(Cli.Format($"{model.Name} ({model.Weights}), {used.Count} images, layer {layer}, ")
            + Cli.Format($"target {target.Description}; ")
            + (model.Traits.OutputsAreClassLogits
                ? "confidence = softmax probability"
                : "confidence = score / score on the whole image"));
        output.WriteLine(Cli.Format($"  {"method",-26} {"deletion↓",10} {"insertion↑",11} {"ROAD MoRF↓",11} ")
            + Cli.Format($"{"ROAD LeRF↑",11} {"avg drop↓",10} {"increase↑",10} {"ms",8}  beats random"));
        foreach (var row in rows)
        {
            if (row.Problem is not null)
            {
                output.WriteLine(Cli.Format($"  {row.Method,-26} n/a: {row.Problem}"));
                continue;
            }
            int beats = new[]
            {
                row.Deletion < random.Deletion, row.Insertion > random.Insertion, row.Morf < random.Morf,
                row.Lerf > random.Lerf, row.Drop < random.Drop, row.Increase > random.Increase
            }.Count(b => b);
            string ms = row.Milliseconds.Count > 0 ? Cli.Format($"{row.Milliseconds.Average(),8:0}") : $"{"",8}";
            output.WriteLine(Cli.Format($"  {row.Method,-26} {row.Deletion,10:0.000} {row.Insertion,11:0.000} ")
                + Cli.Format($"{row.Morf,11:0.000} {row.Lerf,11:0.000} {row.Drop,9:0.0}% {row.Increase,9:0}% ")
                + Cli.Format($"{ms}  {(row == random ? "" : $"{beats} of 6")}"));
        }

        if (jsonPath is not null)
        {
            var report = new
            {
                model = model.Name,
                weights = model.Weights,
                layer = layer.ToString(),
                target = target.Description,
                confidence = model.Traits.OutputsAreClassLogits
                    ? "softmax probability of the class"
                    : "target score / its value on the whole image",
                steps,
                images = used,
                methods = rows.Select(r => new
                {
                    method = r.Method,
                    problem = r.Problem,
                    deletion = r.Problem is null ? r.Deletion : (double?)null,
                    insertion = r.Problem is null ? r.Insertion : (double?)null,
                    road_most_relevant_first = r.Problem is null ? r.Morf : (double?)null,
                    road_least_relevant_first = r.Problem is null ? r.Lerf : (double?)null,
                    average_drop_percent = r.Problem is null ? r.Drop : (double?)null,
                    increase_percent = r.Problem is null ? r.Increase : (double?)null,
                    milliseconds = r.Milliseconds.Count > 0 ? r.Milliseconds.Average() : (double?)null,
                    per_image = r.Scores,
                }),
            };
            File.WriteAllText(jsonPath, FiniteJson.Serialize(report, $"the metrics for {jsonPath}", s_json));
        }
        return Cli.Ok;
    }

    /// <summary>A map at the input's resolution (bilinear from a layer's).</summary>
    static Tensor AtInput(Heatmap map, long height, long width)
    {
        var t = tensor(map.Normalised, [1, 1, map.Height, map.Width]);
        if (map.Height == height && map.Width == width) return t[0, 0];
        return nn.functional.interpolate(t, size: [height, width], mode: InterpolationMode.Bilinear,
            align_corners: false)[0, 0];
    }
}
