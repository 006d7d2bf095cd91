using System.Globalization;
using System.Text.Json;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Models.Onnx;
using LiveCam.Models.Segmentation;
using LiveCam.Tests;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>torchvision's LR-ASPP MobileNetV3-Large exported to ONNX (Oracle/segment_oracle.py), against PyTorch: the
/// imported graph's logits, the head's mask, and Grad-CAM of a class over its pixels and over a region
/// (pytorch-grad-cam's SemanticSegmentationTarget) against the same formula computed in float64.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class SegmenterOracleTests(SegmenterOracleTests.Oracle oracle)
    : IClassFixture<SegmenterOracleTests.Oracle>
{
    /// <summary>LiveCam's maps come from float32 activations and gradients, the oracle's from float64: measured within
    /// 4.3e-6 of the map's largest value; this leaves room for other kernels' rounding.</summary>
    const double MapTolerance = 1e-4;

    [SkippableFact]
    public void The_imported_segmenter_computes_the_logits_and_the_mask_PyTorch_computes()
    {
        var run = oracle.Run;
        using var model = run.Load();
        var actual = Logits(model, run);
        var expected = PyTorchOracle.Floats(run.File("logits.f32"));
        double worst = PyTorchOracle.RelativeDifference(expected, actual);
        Assert.True(worst <= 1e-4, $"differs from PyTorch by {worst:G3} of the logits' scale");
        var head = Assert.IsType<SegmentationHead>(model.Head);
        var mask = head.Segment(actual).Classes;
        var reference = File.ReadAllBytes(run.File("mask.u8"));
        Assert.Equal(reference.Length, mask.Length);
        // The oracle's float32 and float64 masks agree; 4 pixels have two classes within 1e-4 of each other, where
        // float32's rounding may pick either.
        int differ = reference.Zip(mask, (e, a) => e != a).Count(d => d);
        Assert.True(differ <= 4, $"{differ} of {mask.Length} pixels differ from PyTorch's mask");
    }

    [SkippableTheory]
    [InlineData("gradcam", "class:{0}")]
    [InlineData("gradcam_region", "region:{1},{2},{3},{4}:{0}")]
    public void A_class_is_explained_as_pytorch_grad_cam_explains_it(string map, string target)
    {
        var run = oracle.Run;
        using var model = run.Load();
        using var scope = NewDisposeScope();
        var text = string.Format(CultureInfo.InvariantCulture, target, run.Category, run.Region[0], run.Region[1],
            run.Region[2], run.Region[3]);
        var input = tensor(PyTorchOracle.Floats(run.File("input.f32")), [1, 3, run.Size, run.Size]);
        var set = model.CreateExplainer().Explain(input, MethodCatalog.Create("gradcam"),
            model.Head.ParseTarget(text), new LayerSelector.ByName(run.Layer));
        var item = Assert.Single(set.Items);
        Assert.Equal(run.Category, item.ClassIndex);
        var raw = PyTorchOracle.Floats(run.File($"{map}.f32"));
        Assert.Equal(raw.Length, item.Map.Height * item.Map.Width);
        var expected = raw.Select(v => Math.Max(0, v)).ToArray();
        float scale = expected.Max();
        Assert.True(scale > 0, "the reference map is all zero: the comparison would prove nothing");
        double worst = expected.Zip(item.Map.Values, (e, a) => Math.Abs(e - a)).Max() / scale;
        Assert.True(worst <= MapTolerance, $"{text}: differs from PyTorch by {worst:G3} of the map's largest value "
            + $"{scale:G4}");
    }

    static float[] Logits(VisionModel model, Run run)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        var input = tensor(PyTorchOracle.Floats(run.File("input.f32")), [1, 3, run.Size, run.Size]);
        return model.Network.call(input).flatten().data<float>().ToArray();
    }

    public sealed record Run(string Dir, int Size, string Layer, int Category, int[] Region)
    {
        public string File(string name) => Path.Combine(Dir, name);

        public VisionModel Load() =>
            ModelCatalog.Load(File("model.onnx"), null, CPU, new OnnxModelOptions(Task: "segment"));
    }

    /// <summary>One run of the oracle, shared by the tests.</summary>
    public sealed class Oracle : IDisposable
    {
        readonly string _dir = Directory.CreateTempSubdirectory("livecam-segment-").FullName;
        readonly Lazy<Run> _run;

        public Oracle() => _run = new Lazy<Run>(() =>
        {
            PyTorchOracle.Script("segment_oracle.py", _dir);
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "meta.json")));
            var root = meta.RootElement;
            return new Run(_dir, root.GetProperty("input_size")[0].GetInt32(), root.GetProperty("layer").GetString()!,
                root.GetProperty("category").GetInt32(),
                root.GetProperty("region").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        });

        /// <summary>The oracle's files (run on first use); skips the test where PyTorch or ONNX is missing.</summary>
        public Run Run
        {
            get
            {
                Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
                return _run.Value;
            }
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }
}
