using System.Collections.Concurrent;
using System.Text.Json;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Tests;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>Every method against an independent implementation of its paper's formula on real PyTorch
/// (Oracle/explain_oracle.py), on the same weights (written by PyTorch) and the same input: the raw maps, after
/// max-normalisation, within 1e-5. ResNet-18 has ReLUs applied as functions, VGG-16 in-place ReLU modules in a
/// Sequential, the robot net plain ReLU modules and a regression target.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class ReferenceParityTests(ReferenceParityTests.Oracles oracles)
    : IClassFixture<ReferenceParityTests.Oracles>
{
    const double Tolerance = 1e-5;

    /// <summary>Methods of hundreds of passes, on the networks where that takes minutes: the slow run (as the oracle
    /// says). On VGG-16 that is every method of hundreds of passes or more, on ResNet-18 those of a thousand.</summary>
    static bool Heavy(string architecture, MethodEntry method) => architecture switch
    {
        "vgg16" => method.Cost >= MethodCost.Hundreds,
        "resnet18" => method.Cost >= MethodCost.Thousand,
        _ => false,
    };

    static TheoryData<string, string> Cases(bool heavy)
    {
        var data = new TheoryData<string, string>();
        foreach (var arch in new[] { "robot", "resnet18", "vgg16" })
            foreach (var method in MethodCatalog.All)
            {
                if (method.Name == "cam" && arch != "resnet18") continue;  // CAM needs a pooled linear head
                if (Heavy(arch, method) == heavy) data.Add(arch, method.Name);
            }
        return data;
    }

    public static TheoryData<string, string> Quick => Cases(heavy: false);
    public static TheoryData<string, string> Slow => Cases(heavy: true);

    [SkippableTheory]
    [MemberData(nameof(Quick))]
    public void The_map_equals_the_reference_implementation_on_PyTorch(string architecture, string method) =>
        Compare(architecture, method, slow: false);

    [SkippableTheory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(Slow))]
    public void The_methods_of_hundreds_of_passes_on_the_big_networks_equal_the_reference_too(
        string architecture, string method) => Compare(architecture, method, slow: true);

    [SkippableTheory]
    [InlineData("robot")]
    [InlineData("resnet18")]
    [InlineData("vgg16")]
    public void Several_layers_combine_into_one_map_as_the_reference_combines_them(string architecture) =>
        Compare(architecture, "gradcam", slow: false, several: true);

    void Compare(string architecture, string method, bool slow, bool several = false)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        var (oracle, model) = oracles.Get(architecture, slow);
        using var scope = NewDisposeScope();
        var input = tensor(
                PyTorchOracle.Floats(Path.Combine(oracle.Dir, "input.f32")), [1, 3, oracle.Height, oracle.Width])
            .to_type(oracle.Precision);
        var target = oracle.Target is { } k ? Target.Class(k) : Target.Sum();
        var set = model.CreateExplainer().Explain(
            input, MethodCatalog.Create(method), target, LayerSelector.Parse(several ? oracle.Several : oracle.Layer));

        var actual = Assert.Single(set.Items).Map;
        if (several) method += "@several";
        var shape = oracle.Shapes[method];
        Assert.Equal((shape[0], shape[1]), (actual.Height, actual.Width));
        var expected = Normalise(PyTorchOracle.Floats(Path.Combine(oracle.Dir, method.Replace(':', '_') + ".f32")));
        Assert.True(expected.Max() > 0, "the reference map is all zero: the comparison would prove nothing");
        double worst = expected.Zip(actual.Normalised, (e, a) => Math.Abs(e - a)).Max();
        int at = Array.FindIndex(expected, e => e == expected.Max());
        // Ablation-CAM and occlusion weigh by the difference of two scores 1e-4 apart: in float32 (the big networks)
        // that difference carries float32's rounding of the scores themselves (measured 1.7e-5 and 2.7e-5 on ResNet-18,
        // 6.0e-5 for occlusion on VGG-16); in float64 (the robot) they meet 1e-5 like every other method. ReciproCAM's
        // map is probabilities less their minimum, as close together (1.7e-5 on VGG-16, 1.6e-6 on ResNet-18).
        double tolerance = oracle.Precision == ScalarType.Float32 && method is "ablationcam" or "occlusion"
            or "reciprocam"
            ? 1e-4
            : Tolerance;
        Assert.True(worst <= tolerance,
            $"{method} on {architecture}: differs from PyTorch by up to {worst:G3} "
            + $"(peak at {at}: PyTorch {expected[at]}, LiveCam {actual.Normalised[at]})");
    }

    /// <summary>As a heatmap shows a map: negatives cut, scaled by the maximum.</summary>
    static float[] Normalise(float[] raw)
    {
        var cut = raw.Select(v => Math.Max(0, v)).ToArray();
        float max = cut.Max();
        return max > 0 ? cut.Select(v => v / max).ToArray() : cut;
    }

    /// <param name="Precision">The robot runs in float64 on both sides (its scores differ by 1e-4 of themselves where
    /// methods subtract them, below float32's resolution); the big networks in float32.</param>
    public sealed record Oracle(string Dir, int Height, int Width, string Layer, string Several, int? Target,
        IReadOnlyDictionary<string, int[]> Shapes, ScalarType Precision);

    /// <summary>One run of the oracle per architecture (and per slow flag), and the model loaded from its weights once,
    /// shared by its methods' tests.</summary>
    public sealed class Oracles : IDisposable
    {
        readonly ConcurrentDictionary<string, Lazy<(Oracle, VisionModel)>> _runs = new();
        readonly string _root = Directory.CreateTempSubdirectory("livecam-parity-").FullName;

        public (Oracle Oracle, VisionModel Model) Get(string architecture, bool slow) =>
            _runs.GetOrAdd($"{architecture}{(slow ? "-slow" : "")}", key => new Lazy<(Oracle, VisionModel)>(() =>
            {
                var dir = Directory.CreateDirectory(Path.Combine(_root, key)).FullName;
                PyTorchOracle.Script(TimeSpan.FromMinutes(slow ? 40 : 5), "explain_oracle.py", architecture, dir,
                    slow ? "slow" : "fast");
                using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "meta.json")));
                var root = meta.RootElement;
                var shapes = root.GetProperty("maps").EnumerateObject()
                    .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetInt32()).ToArray());
                int? target = root.GetProperty("target").ValueKind == JsonValueKind.Null
                    ? null
                    : root.GetProperty("target").GetInt32();
                var precision = architecture == "robot" ? ScalarType.Float64 : ScalarType.Float32;
                var oracle = new Oracle(dir,
                    root.GetProperty("height").GetInt32(), root.GetProperty("width").GetInt32(),
                    root.GetProperty("layer").GetString()!, root.GetProperty("several").GetString()!,
                    target, shapes, precision);
                var model = ModelCatalog.Load(architecture, Path.Combine(dir, "weights.pt"), CPU);
                model.Network.to(precision);
                return (oracle, model);
            })).Value;

        public void Dispose()
        {
            foreach (var run in _runs.Values.Where(r => r.IsValueCreated)) run.Value.Item2.Dispose();
            Directory.Delete(_root, recursive: true);
        }
    }
}
