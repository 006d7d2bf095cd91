using System.Text.Json;
using TorchSharp;
using LiveCam.Models.Classifiers;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>What an ONNX file does not say about itself: its input (size, normalisation, channel order, layout) and
/// its task (what the outputs are and how they are decoded). From the command line over the sidecar
/// <c>MODEL.onnx.json</c>.</summary>
/// <param name="Mean">Per channel (R, G, B, or B, G, R with <paramref name="Bgr"/>), of pixels scaled to [0, 1].
/// </param>
/// <param name="Layout">"nchw" or "nhwc"; null: read from the graph's input shape.</param>
/// <param name="Task">classify, detect or segment (<see cref="ModelTasks"/>); null: classify.</param>
/// <param name="Decoder">How a detector's or segmenter's outputs are decoded; null: guessed from their shapes.
/// </param>
public sealed record OnnxModelOptions(int? Width = null, int? Height = null, float[]? Mean = null, float[]? Std = null,
    bool? Bgr = null, string? Layout = null, string? Task = null, string? Decoder = null,
    IReadOnlyList<string>? Labels = null, float? ScoreThreshold = null, float? IouThreshold = null,
    string? Layer = null)
{
    /// <summary>These, over those of <paramref name="fallback"/>.</summary>
    public OnnxModelOptions Over(OnnxModelOptions? fallback) => fallback is null ? this
        : new(Width ?? fallback.Width, Height ?? fallback.Height, Mean ?? fallback.Mean, Std ?? fallback.Std,
            Bgr ?? fallback.Bgr, Layout ?? fallback.Layout, Task ?? fallback.Task, Decoder ?? fallback.Decoder,
            Labels ?? fallback.Labels, ScoreThreshold ?? fallback.ScoreThreshold,
            IouThreshold ?? fallback.IouThreshold, Layer ?? fallback.Layer);

    /// <summary>Nothing about the input is given (the task may be).</summary>
    public bool IsEmpty => Width is null && Height is null && Mean is null && Std is null && Bgr is null
        && Layout is null && Task is null && Decoder is null && ScoreThreshold is null && IouThreshold is null;

    /// <summary>The sidecar <c>MODEL.onnx.json</c>: <c>{"input_size": [W, H], "mean": [r, g, b], "std": [r, g, b],
    /// "bgr": false, "layout": "nhwc", "task": "detect", "decoder": "yolov8", "labels": ["person", ...],
    /// "score_threshold": 0.25, "iou_threshold": 0.45, "layer": "ONNX tensor name"}</c>, every key optional.</summary>
    public static OnnxModelOptions? Sidecar(string modelPath)
    {
        var path = modelPath + ".json";
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            int[]? size = root.TryGetProperty("input_size", out var s)
                ? s.EnumerateArray().Select(e => e.GetInt32()).ToArray()
                : null;
            if (size is not null && size.Length != 2)
                throw new ModelLoadException($"'{path}': input_size is [width, height]");
            float[]? Triple(string name)
            {
                if (!root.TryGetProperty(name, out var v)) return null;
                var values = v.EnumerateArray().Select(e => e.GetSingle()).ToArray();
                return values.Length == 3
                    ? values
                    : throw new ModelLoadException($"'{path}': {name} needs three values");
            }
            string? Text(string name) => root.TryGetProperty(name, out var v) ? v.GetString() : null;
            float? Number(string name)
            {
                if (!root.TryGetProperty(name, out var v)) return null;
                var f = v.GetSingle();
                return float.IsFinite(f) ? f : throw new ModelLoadException($"'{path}': {name} is not a number");
            }
            var labels = root.TryGetProperty("labels", out var l)
                ? l.EnumerateArray().Select(e => Core.Printable.Escape(e.GetString() ?? "")).ToList()
                : null;
            return new OnnxModelOptions(size?[0], size?[1], Triple("mean"), Triple("std"),
                root.TryGetProperty("bgr", out var b) ? b.GetBoolean() : null, Text("layout"), Text("task"),
                Text("decoder"), labels, Number("score_threshold"), Number("iou_threshold"), Text("layer"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"cannot read '{path}': {e.Message}", e);
        }
    }
}

/// <summary>An ONNX file as a model (<c>--model PATH.onnx</c>): the graph run by TorchSharp; its input from the graph's
/// shape when fixed, else the options (a sidecar JSON, the command line), else ImageNet's; its head from the task the
/// options name.</summary>
public static class OnnxModel
{
    public static bool IsOnnxPath(string name) => name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <param name="name">The model's name (a catalog's); null: the file's.</param>
    /// <param name="weights">Where its weights come from, for the HUD; null: the file's name.</param>
    /// <exception cref="ModelLoadException">The file cannot be read or run; one line naming why.</exception>
    public static VisionModel Load(string path, Device device, OnnxModelOptions? options = null, string? name = null,
        string? weights = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options = (options ?? new OnnxModelOptions()).Over(OnnxModelOptions.Sidecar(path));
        var file = Read(path);
        var dims = file.Inputs.Count > 0 ? file.Inputs[0].Dims : null;
        bool channelsLast = options.Layout?.Trim().ToLowerInvariant() switch
        {
            null => dims is { Length: 4 } && dims[1] is not (-1 or 3) && dims[3] == 3,
            "nhwc" => true,
            "nchw" => false,
            var other => throw new ModelLoadException($"cannot load '{path}': layout '{other}': expected nchw or nhwc"),
        };
        OnnxNetwork network;
        try { network = new OnnxNetwork(file, channelsLast); }
        catch (OnnxFormatException e) { throw new ModelLoadException($"cannot load '{path}': {e.Message}", e); }
        try
        {
            // [N, C, H, W] as LiveCam sees it, whatever the graph's layout.
            long[]? shape = dims is { Length: 4 } ? channelsLast ? [dims[0], dims[3], dims[1], dims[2]] : dims : null;
            if (shape is not null && shape[1] is not (-1 or 3))
                throw new ModelLoadException($"cannot load '{path}': its input has {shape[1]} channels; an image "
                    + "model has 3" + (channelsLast ? "" : " (a graph taking [1, H, W, 3] says \"layout\": \"nhwc\")"));
            // The graph's fixed size wins; a symbolic one takes the options' or ImageNet's 224.
            // --input-size takes 8 to 4096 a side; a graph declaring more is refused before any image that size is
            // made.
            if (shape is not null && (shape[2] > 4096 || shape[3] > 4096))
                throw new ModelLoadException(
                    $"cannot load '{path}': its input is {shape[3]}x{shape[2]}; LiveCam takes at most 4096x4096");
            int height = shape is not null && shape[2] > 0 ? (int)shape[2] : options.Height ?? 224;
            int width = shape is not null && shape[3] > 0 ? (int)shape[3] : options.Width ?? 224;
            if (options.Width is { } w && options.Height is { } h && (w, h) != (width, height))
                throw new ModelLoadException(
                    $"cannot load '{path}': its input is fixed at {width}x{height}, not {w}x{h}");
            var mean = options.Mean;
            var std = options.Std;
            bool bgr = options.Bgr ?? false;
            var imageNet = new ImageNetPreprocessing(Math.Min(width, height),
                (int)Math.Round(Math.Min(width, height) * 256 / 224.0)).Input;
            var task = ModelTasks.Find(options.Task ?? "classify");
            var input = imageNet with
            {
                Width = width,
                Height = height,
                Normalise = (image, d) => ImageNetPreprocessing.Normalise(image, d, mean, std, bgr),
                Range = ImageNetPreprocessing.Range(mean, std),
                Denormalise = x => ImageNetPreprocessing.Denormalise(x, mean, std, bgr),
                // A detector or segmenter sees the whole frame (YOLO's letterbox is --fit pad).
                DefaultFit = task is ClassifyTask ? imageNet.DefaultFit : FrameFit.Stretch,
            };
            network.to(device);
            if (device.type == DeviceType.CPU) OfferOnnxRuntime(network, path, height, width);
            IPredictionHead head;
            try
            {
                // A classifier's head needs no shapes; other tasks' are read from one pass of a blank input.
                IReadOnlyList<long[]> outputShapes = [];
                if (task is not ClassifyTask)
                {
                    using var scope = NewDisposeScope();
                    outputShapes = network.OutputShapes(zeros(1, 3, height, width, device: device))
                        .Select(s => s[1..]).ToList();
                }
                head = task.CreateHead(new TaskContext(outputShapes, width, height, options.Decoder, options.Labels,
                    options.ScoreThreshold, options.IouThreshold));
            }
            catch (Exception e) when (e is ModelLoadException or OnnxFormatException)
            {
                throw new ModelLoadException($"cannot load '{path}': {e.Message}", e);
            }
            return new VisionModel(name ?? Path.GetFileName(path), network, device, input, head,
                options.Layer ?? (task.ExplainsHeadInputs ? network.HeadInputLayer() : network.DefaultLayer()),
                weights ?? Path.GetFileName(path))
            {
                DefaultMethod = task.DefaultMethod,
                GradientFreeRuntime = network.GradientFreeRuntime,
            };
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>What needs no gradient (predictions, the part before a CAM's layer, Eigen-CAM, the many passes of
    /// Score-CAM, RISE and occlusion) runs in ONNX Runtime where that measures faster here and agrees.</summary>
    internal static void OfferOnnxRuntime(OnnxNetwork network, string path, int height, int width)
    {
        if (Environment.GetEnvironmentVariable("LIVECAM_ONNX_RUNTIME") == "0")
        {
            network.UsesOnnxRuntime = false;
            return;
        }
        using var scope = NewDisposeScope();
        // A fixed pseudo-random image: the choice does not depend on a seed elsewhere.
        var example = (arange(3L * height * width, ScalarType.Float32).mul(12.9898f).sin().mul(43758.547f)).frac()
            .reshape(1, 3, height, width);
        network.OfferOnnxRuntime(File.ReadAllBytes(path), example);
    }

    static OnnxGraph Read(string path)
    {
        try { return OnnxFile.Read(path); }
        catch (OnnxFormatException e) { throw new ModelLoadException($"cannot load '{path}': {e.Message}", e); }
    }
}
