using LiveCam.Core;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LiveCam.Models.Teach;

/// <summary>
/// A linear classifier taught on a network's pooled features: the logits are <c>W · f/‖f‖ + b</c> for the
/// network's features f (made unit length, so a few examples under different light train a head that holds under
/// other light). Before two classes have examples it has no weights and the network's features pass through
/// unchanged. Immutable: a newer head is a new object.
/// </summary>
/// <param name="Model">The network it was taught on (a head fits only that network's features).</param>
/// <param name="Classes">The classes, in output order.</param>
/// <param name="Examples">How many examples (augmented views counted) each class was taught with.</param>
/// <param name="Weight">[classes x features], row-major; empty while untrained.</param>
/// <param name="Bias">[classes]; empty while untrained.</param>
public sealed record TaughtHead(string Model, int FeatureCount, IReadOnlyList<string> Classes,
    IReadOnlyList<int> Examples, float[] Weight, float[] Bias)
{
    public const string Format = "livecam-taught-head/1";

    /// <summary>The most classes a head has (the window's keys 1 to 9).</summary>
    public const int MaxClasses = 9;
    const long MaxFileBytes = 8L << 20;

    /// <summary>The features of the examples it was taught with (each class's index in <see cref="Classes"/>), so
    /// teaching can go on from a saved head; empty when not kept.</summary>
    public IReadOnlyList<TaughtExample> Memory { get; init; } = [];

    /// <summary>Whether it classifies: two classes or more, with weights.</summary>
    public bool IsTrained =>
        Classes.Count >= 2 && Weight.Length == Classes.Count * FeatureCount && Bias.Length == Classes.Count;

    /// <summary>The logits for one feature vector (the same formula the network runs; for reports and tests).</summary>
    public float[] Logits(IReadOnlyList<float> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (!IsTrained) throw new InvalidOperationException("the head is not trained yet");
        if (features.Count != FeatureCount)
            throw new ArgumentException($"{features.Count} features; the head takes {FeatureCount}", nameof(features));
        double norm = Math.Sqrt(features.Sum(v => (double)v * v));
        double scale = 1 / Math.Max(norm, 1e-12);
        var logits = new float[Classes.Count];
        for (int k = 0; k < logits.Length; k++)
        {
            double sum = Bias[k];
            for (int i = 0; i < FeatureCount; i++) sum += Weight[k * FeatureCount + i] * features[i] * scale;
            logits[k] = (float)sum;
        }
        return logits;
    }

    /// <summary>Writes the head as JSON, whole or not at all (a new file renamed over the old).</summary>
    /// <exception cref="NotFiniteException">The weights or a remembered example hold NaN or infinity (nothing written).
    /// </exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Weight.Concat(Bias).Concat(Memory.SelectMany(m => m.Features))
                .FirstOrDefault(v => !float.IsFinite(v)) is var bad && !float.IsFinite(bad))
            throw new NotFiniteException(
                $"the taught head for {path} holds {NotFiniteException.Kind(bad)}: not written");
        var json = new JsonObject
        {
            ["format"] = Format,
            ["model"] = Model,
            ["features"] = FeatureCount,
            ["classes"] = new JsonArray(Classes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["examples"] = new JsonArray(Examples.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()),
            ["normalise"] = "l2",
            ["weight"] = new JsonArray(Weight.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
            ["bias"] = new JsonArray(Bias.Select(b => (JsonNode?)JsonValue.Create(b)).ToArray()),
            ["memory"] = new JsonArray(Memory.Select(m => (JsonNode?)new JsonObject
            {
                ["class"] = m.Class,
                ["features"] = Convert.ToBase64String(
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(m.Features.AsSpan())),
            }).ToArray()),
        };
        var partial = path + ".partial";
        File.WriteAllText(partial, json.ToJsonString());
        File.Move(partial, path, overwrite: true);
    }

    /// <exception cref="ModelLoadException">A missing, malformed or inconsistent file (one line).</exception>
    public static TaughtHead Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new ModelLoadException($"cannot read head '{path}': no such file");
        try
        {
            var info = new FileInfo(path);
            // Parsed whole into a JSON tree of many times its size: bounded by what a head holds (thousands of examples
            // take a few MB).
            if (info.Length > MaxFileBytes)
                throw new ModelLoadException($"head '{path}' is {info.Length >> 20} MB; " +
                    $"a taught head is at most {MaxFileBytes >> 20} MB");
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new FormatException("not a JSON object");
            if ((string?)root["format"] != Format)
                throw new FormatException($"not a LiveCam head (format is not {Format})");
            string model = (string?)root["model"] ?? throw new FormatException("no model");
            int features = (int?)root["features"] ?? throw new FormatException("no feature count");
            var classes = Array(root, "classes")
                .Select(n => Printable.Escape((string?)n ?? throw new FormatException("a class without a name")))
                .ToList();
            var examples = Array(root, "examples")
                .Select(n => (int?)n ?? throw new FormatException("an example count that is not a number")).ToList();
            var weight = Array(root, "weight")
                .Select(n => (float?)n ?? throw new FormatException("a weight that is not a number")).ToArray();
            var bias = Array(root, "bias")
                .Select(n => (float?)n ?? throw new FormatException("a bias that is not a number")).ToArray();
            if (features is < 1 or > 1 << 20) throw new FormatException($"{features} features");
            if (classes.Count is < 2 or > MaxClasses)
                throw new FormatException($"{classes.Count} classes; a head has 2 to {MaxClasses}");
            if (examples.Count != classes.Count)
                throw new FormatException($"{examples.Count} example counts for {classes.Count} classes");
            if (weight.Length != classes.Count * features || bias.Length != classes.Count)
                throw new FormatException($"weights [{weight.Length}] and bias [{bias.Length}] " +
                    $"do not fit {classes.Count} classes of {features} features");
            if (weight.Concat(bias).Any(v => !float.IsFinite(v)))
                throw new FormatException("weights that are not finite");
            var memory = (root["memory"] as JsonArray ?? [])
                .Select(n => Remembered(n, classes.Count, features)).ToList();
            return new TaughtHead(model, features, classes, examples, weight, bias) { Memory = memory };
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or IOException
            or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"cannot read head '{path}': {e.Message}", e);
        }
    }

    static TaughtExample Remembered(JsonNode? node, int classes, int features)
    {
        int k = (int?)node?["class"] ?? throw new FormatException("a remembered example without a class");
        if (k < 0 || k >= classes)
            throw new FormatException($"a remembered example of class {k}; the head has {classes}");
        var bytes = Convert.FromBase64String((string?)node!["features"]
            ?? throw new FormatException("a remembered example without features"));
        if (bytes.Length != features * sizeof(float))
            throw new FormatException($"a remembered example of {bytes.Length} bytes; " +
                $"{features} features take {features * sizeof(float)}");
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (values.Any(v => !float.IsFinite(v))) throw new FormatException("a remembered example that is not finite");
        return new TaughtExample(k, values);
    }

    static JsonArray Array(JsonObject root, string name) =>
        root[name] as JsonArray ?? throw new FormatException($"no '{name}' list");
}

/// <summary>One example's features and its class (an index into the head's classes).</summary>
public sealed record TaughtExample(int Class, float[] Features);
