using System.Text.Json;
using LiveCam.Models.Classifiers;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>How an ONNX model's input is made, where the file does not say: size, normalisation, channel order.
/// </summary>
/// <param name="Mean">Per channel (R, G, B, or B, G, R with <paramref name="Bgr"/>), of pixels scaled to [0, 1].
/// </param>
public sealed record OnnxInputOptions(int? Width = null, int? Height = null, float[]? Mean = null, float[]? Std = null,
    bool? Bgr = null)
{
    /// <summary>These, over those of <paramref name="fallback"/>.</summary>
    public OnnxInputOptions Over(OnnxInputOptions? fallback) => fallback is null ? this
        : new(Width ?? fallback.Width, Height ?? fallback.Height, Mean ?? fallback.Mean, Std ?? fallback.Std,
            Bgr ?? fallback.Bgr);

    public bool IsEmpty => Width is null && Height is null && Mean is null && Std is null && Bgr is null;

    /// <summary>The sidecar <c>MODEL.onnx.json</c>: <c>{"input_size": [W, H], "mean": [r, g, b], "std": [r, g, b],
    /// "bgr": false}</c>.</summary>
    public static OnnxInputOptions? Sidecar(string modelPath)
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
            return new OnnxInputOptions(size?[0], size?[1], Triple("mean"), Triple("std"),
                root.TryGetProperty("bgr", out var b) ? b.GetBoolean() : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"cannot read '{path}': {e.Message}", e);
        }
    }
}

/// <summary>An ONNX file as a model (<c>--model PATH.onnx</c>): the graph run by TorchSharp; its input from the graph's
/// shape when fixed, else the options (a sidecar JSON, the command line), else ImageNet's.</summary>
public static class OnnxModel
{
    public static bool IsOnnxPath(string name) => name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <exception cref="ModelLoadException">The file cannot be read or run; one line naming why.</exception>
    public static VisionModel Load(string path, Device device, OnnxInputOptions? options = null)
    {
        options = (options ?? new OnnxInputOptions()).Over(OnnxInputOptions.Sidecar(path));
        OnnxNetwork network;
        try { network = new OnnxNetwork(OnnxFile.Read(path)); }
        catch (OnnxFormatException e) { throw new ModelLoadException($"cannot load '{path}': {e.Message}", e); }
        try
        {
            var dims = network.Input.Dims;
            if (dims is { Length: 4 } && dims[1] is not (-1 or 3))
                throw new ModelLoadException(
                    $"cannot load '{path}': its input has {dims[1]} channels; an image model has 3");
            // The graph's fixed size wins; a symbolic one takes the options' or ImageNet's 224.
            // --input-size takes 8 to 4096 a side; a graph declaring more is refused before any image that size is
            // made.
            if (dims is { Length: 4 } && (dims[2] > 4096 || dims[3] > 4096))
                throw new ModelLoadException(
                    $"cannot load '{path}': its input is {dims[3]}x{dims[2]}; LiveCam takes at most 4096x4096");
            int height = dims is { Length: 4 } && dims[2] > 0 ? (int)dims[2] : options.Height ?? 224;
            int width = dims is { Length: 4 } && dims[3] > 0 ? (int)dims[3] : options.Width ?? 224;
            if (options.Width is { } w && options.Height is { } h && (w, h) != (width, height))
                throw new ModelLoadException(
                    $"cannot load '{path}': its input is fixed at {width}x{height}, not {w}x{h}");
            var mean = options.Mean;
            var std = options.Std;
            bool bgr = options.Bgr ?? false;
            var imageNet = new ImageNetPreprocessing(Math.Min(width, height),
                (int)Math.Round(Math.Min(width, height) * 256 / 224.0)).Input;
            var input = imageNet with
            {
                Width = width,
                Height = height,
                Normalise = (image, d) => ImageNetPreprocessing.Normalise(image, d, mean, std, bgr),
                Range = ImageNetPreprocessing.Range(mean, std),
                Denormalise = x => ImageNetPreprocessing.Denormalise(x, mean, std, bgr),
            };
            network.to(device);
            return new VisionModel(Path.GetFileName(path), network, device, input, new ClassifierHead(),
                network.DefaultLayer(), Path.GetFileName(path));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
