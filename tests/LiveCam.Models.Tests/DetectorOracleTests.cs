using System.Collections.Concurrent;
using System.Text.Json;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Models.Detection;
using LiveCam.Models.Onnx;
using LiveCam.Tests;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>A YOLO-shaped detector exported as Ultralytics exports it (Oracle/detect_oracle.py), against PyTorch: the
/// imported graph's outputs, the head's boxes against Ultralytics' suppression, and Grad-CAM and Eigen-CAM of the best
/// box against the same formulas computed in float64.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class DetectorOracleTests(DetectorOracleTests.Oracles oracles)
    : IClassFixture<DetectorOracleTests.Oracles>
{
    /// <summary>LiveCam's maps come from float32 activations and gradients, the oracle's from float64: measured within
    /// 3.5e-6 of the map's largest value (Grad-CAM of YOLO v5); this leaves room for other kernels' rounding.</summary>
    const double MapTolerance = 1e-4;

    [SkippableTheory]
    [InlineData("yolov5")]
    [InlineData("yolov8")]
    public void The_imported_detector_computes_what_PyTorch_computes(string kind)
    {
        var oracle = oracles.Get(kind);
        using var model = oracle.Load();
        var actual = Outputs(model, oracle);
        var expected = PyTorchOracle.Floats(oracle.File("outputs.f32"));
        double worst = PyTorchOracle.RelativeDifference(expected, actual);
        Assert.True(worst <= 1e-4, $"{kind}: differs from PyTorch by {worst:G3} of the outputs' scale");
    }

    [SkippableTheory]
    [InlineData("yolov5")]
    [InlineData("yolov8")]
    public void The_head_keeps_the_boxes_Ultralytics_keeps(string kind)
    {
        var oracle = oracles.Get(kind);
        using var model = oracle.Load();
        var head = Assert.IsType<DetectionHead>(model.Head);
        var found = head.Detect(Outputs(model, oracle));
        using var json = JsonDocument.Parse(File.ReadAllText(oracle.File("detections.json")));
        var expected = json.RootElement.EnumerateArray().ToList();
        Assert.True(expected.Count >= 3, $"{kind}: the oracle keeps {expected.Count} boxes: too few to test the order");
        Assert.Equal(expected.Count, found.Count);
        for (int i = 0; i < found.Count; i++)
        {
            var box = expected[i].GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var d = found[i];
            float[] actual = [d.X0, d.Y0, d.X1, d.Y1];
            double far = box.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(far <= 1e-3, $"{kind} box {i}: [{string.Join(", ", actual)}] is {far:G3} px from "
                + $"PyTorch's [{string.Join(", ", box)}]");
            Assert.Equal(expected[i].GetProperty("score").GetSingle(), d.Score, 1e-4f);
            Assert.Equal(expected[i].GetProperty("class").GetInt32(), d.Class);
        }
    }

    [SkippableTheory]
    [InlineData("yolov5", "gradcam")]
    [InlineData("yolov5", "eigencam")]
    [InlineData("yolov8", "gradcam")]
    [InlineData("yolov8", "eigencam")]
    public void The_best_box_is_explained_as_pytorch_grad_cam_explains_it(string kind, string method)
    {
        var oracle = oracles.Get(kind);
        using var model = oracle.Load();
        using var scope = NewDisposeScope();
        var set = model.CreateExplainer().Explain(Input(oracle), MethodCatalog.Create(method),
            model.Head.ParseTarget("box:1"), new LayerSelector.ByName(oracle.Layer));
        var item = Assert.Single(set.Items);
        Assert.Equal(0, item.ClassIndex);  // the box explained is the first
        var raw = PyTorchOracle.Floats(oracle.File($"{method}.f32"));
        Assert.Equal(raw.Length, item.Map.Height * item.Map.Width);
        // The map keeps what is positive, as computed; the scale is the oracle's largest value.
        var expected = raw.Select(v => Math.Max(0, v)).ToArray();
        float scale = expected.Max();
        Assert.True(scale > 0, "the reference map is all zero: the comparison would prove nothing");
        double worst = expected.Zip(item.Map.Values, (e, a) => Math.Abs(e - a)).Max() / scale;
        Assert.True(worst <= MapTolerance, $"{method} of {kind}: differs from PyTorch by {worst:G3} of the map's "
            + $"largest value {scale:G4}");
    }

    static Tensor Input(Oracle oracle) => tensor(PyTorchOracle.Floats(oracle.File("input.f32")),
        [1, 3, oracle.Size, oracle.Size]);

    static float[] Outputs(VisionModel model, Oracle oracle)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        return model.Network.call(Input(oracle)).flatten().data<float>().ToArray();
    }

    public sealed record Oracle(string Dir, string Kind, int Size, string Layer, float Score, float Iou)
    {
        public string File(string name) => Path.Combine(Dir, name);

        public VisionModel Load() => ModelCatalog.Load(File("model.onnx"), null, CPU,
            new OnnxModelOptions(Task: "detect", Decoder: Kind, ScoreThreshold: Score, IouThreshold: Iou));
    }

    /// <summary>One run of the oracle per kind, shared by that kind's tests.</summary>
    public sealed class Oracles : IDisposable
    {
        readonly ConcurrentDictionary<string, Lazy<Oracle>> _runs = new();
        readonly string _root = Directory.CreateTempSubdirectory("livecam-detect-").FullName;

        public Oracle Get(string kind)
        {
            Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
            return _runs.GetOrAdd(kind, k => new Lazy<Oracle>(() =>
            {
                var dir = Directory.CreateDirectory(Path.Combine(_root, k)).FullName;
                PyTorchOracle.Script("detect_oracle.py", k, dir);
                using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "meta.json")));
                var root = meta.RootElement;
                return new Oracle(dir, k, root.GetProperty("input_size")[0].GetInt32(),
                    root.GetProperty("layer").GetString()!, root.GetProperty("score_threshold").GetSingle(),
                    root.GetProperty("iou_threshold").GetSingle());
            })).Value;
        }

        public void Dispose() => Directory.Delete(_root, recursive: true);
    }
}
