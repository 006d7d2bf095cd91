using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>What needs no gradient of an ONNX model may run in ONNX Runtime (the part before a CAM's layer, Eigen-CAM,
/// the many passes of Score-CAM): every map must be the one libtorch alone gives, and ONNX Runtime must really have
/// run.</summary>
[Trait("Category", "Numeric")]
public sealed class OnnxRuntimePartTests
{
    static float[] Map(VisionModel model, Tensor input, string method, string layer, bool onnxRuntime)
    {
        var network = (OnnxNetwork)model.Network;
        network.UsesOnnxRuntime = onnxRuntime;
        long before = network.OnnxRuntimePasses;
        var set = model.CreateExplainer().Explain(input, MethodCatalog.Create(method), Target.Sum(),
            LayerSelector.Parse(layer));
        Assert.Equal(onnxRuntime, network.OnnxRuntimePasses > before);
        return Assert.Single(set.Items).Map.Normalised;
    }

    /// <summary>At the last layer the rest is a pooling; in the middle, the rest reads a residual from before the
    /// layer too, which ONNX Runtime must hand over with it.</summary>
    [Theory]
    [InlineData("gradcam", "last")]
    [InlineData("gradcam", "middle")]
    [InlineData("eigencam", "middle")]
    [InlineData("layercam", "middle")]
    [InlineData("gradcam++", "last")]
    public void A_map_is_the_same_whether_ONNX_Runtime_runs_the_part_before_the_layer_or_not(string method,
        string where)
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        Assert.DoesNotContain("cannot load", network.GradientFreeRuntime, StringComparison.Ordinal);
        var layers = model.CreateExplainer().Layers(model.ExampleInput()).Where(l => l.Type == "Relu").ToList();
        // The middle: a block's output, which the next block reads twice (its convolutions and its shortcut).
        var layer = where == "last" ? model.DefaultLayer : layers[layers.Count / 2].Name;
        manual_seed(4);
        using var input = randn(1, 3, 224, 224) * 50;
        var libtorch = Map(model, input, method, layer, onnxRuntime: false);
        var onnxRuntime = Map(model, input, method, layer, onnxRuntime: true);
        Assert.True(libtorch.Max() > 0, "an all-zero map would prove nothing");
        double worst = libtorch.Zip(onnxRuntime, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-4, $"{method} at {layer}: ONNX Runtime's part changes the map by {worst:G3}");
    }

    [Fact]
    public void Predictions_without_a_hook_run_entirely_in_ONNX_Runtime_and_agree()
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        manual_seed(5);
        using var input = randn(1, 3, 224, 224) * 50;
        using var _ = no_grad();
        network.UsesOnnxRuntime = false;
        using var libtorch = network.call(input);
        network.UsesOnnxRuntime = true;
        long before = network.OnnxRuntimePasses;
        using var onnxRuntime = network.call(input);
        Assert.Equal(before + 1, network.OnnxRuntimePasses);
        double scale = libtorch.abs().max().item<float>();
        double worst = (libtorch - onnxRuntime).abs().max().item<float>() / scale;
        Assert.True(worst <= 1e-4, $"differs by {worst:G3} of the outputs' scale");
        // An input the graph does not declare, or one that needs a gradient, stays with libtorch.
        using var other = randn(2, 3, 224, 224);
        network.call(other);
        Assert.Equal(before + 1, network.OnnxRuntimePasses);
    }

    [Fact]
    public void The_file_given_to_ONNX_Runtime_also_outputs_the_tensors_asked_for()
    {
        var path = ModelCatalog.ShippedWeights("resnet18-imagenet/ResNet18.onnx")!;
        var graph = OnnxFile.Read(path);
        var inner = graph.Nodes[graph.Nodes.Count / 2].Outputs[0];
        var bytes = OnnxOutputs.Add(File.ReadAllBytes(path), [inner]);
        using var session = new InferenceSession(bytes);
        Assert.Equal([.. graph.Outputs.Select(o => o.Name), inner], session.OutputMetadata.Keys);
        // A file cut short is refused in one line, not read past its end.
        var cut = File.ReadAllBytes(path)[..1000];
        Assert.Throws<OnnxFormatException>(() => OnnxOutputs.Add(cut, [inner]));
    }
}
