using LiveCam.Models.Onnx;
using LiveCam.Tests;
using LiveCam.Models.Classifiers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>ONNX Runtime, the reference implementation, as the judge of LiveCam's ONNX import.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class OnnxRuntimeOracleTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-ort-").FullName;

    static float[] RunOnnxRuntime(string path, string inputName, float[] input, long[] shape)
    {
        using var session = new InferenceSession(path);
        var value = new DenseTensor<float>(input, shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, value)]);
        return results[0].AsEnumerable<float>().ToArray();
    }

    static double Worst(float[] expected, float[] actual) => PyTorchOracle.RelativeDifference(expected, actual);

    [Fact]
    public void The_ImageNet_featurizer_imported_into_TorchSharp_computes_what_ONNX_Runtime_computes()
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var path = ModelCatalog.ShippedWeights($"{ResNet18ImageNet.Folder}/ResNet18.onnx")!;
        var random = new Random(3);
        var input = Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 255 - 120)).ToArray();
        var expected = RunOnnxRuntime(path, "Input247", input, [1, 3, 224, 224]);
        // LiveCam's own import is judged here, not ONNX Runtime against itself.
        ((OnnxNetwork)model.Network).UsesOnnxRuntime = false;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        var actual = model.Network.call(tensor(input, [1, 3, 224, 224])).flatten().data<float>().ToArray();
        Assert.Equal(512, actual.Length);
        Assert.True(Worst(expected, actual) <= 1e-4,
            $"differs from ONNX Runtime by {Worst(expected, actual):G3} of the outputs' scale");
        // Its 22 batch norms are folded into the convolutions before them: each pair is one layer, named by the norm's
        // output.
        var layers = new Explain.Explainer(model.Network).Layers(model.ExampleInput());
        Assert.Equal(22, layers.Count(l => l.Type == "Conv"));
        Assert.DoesNotContain(layers, l => l.Type == "BatchNormalization");
        Assert.Contains(layers, l => l.Name == "BatchNormalization251_Output_0" && l.Type == "Conv");
    }

    [SkippableTheory]
    [InlineData("tiny")]
    [InlineData("zoo")]
    [InlineData("resnet18")]
    [InlineData("mobilenet_v3_small")]
    public void Exported_networks_compute_what_ONNX_Runtime_computes(string net)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("onnx_oracle.py", net, _dir);
        var path = Path.Combine(_dir, "model.onnx");
        int size = int.Parse(File.ReadAllText(Path.Combine(_dir, "meta.txt")).Split(' ')[0],
            System.Globalization.CultureInfo.InvariantCulture);
        var input = PyTorchOracle.Floats(Path.Combine(_dir, "input.f32"));
        var expected = RunOnnxRuntime(path, "image", input, [1, 3, size, size]);
        using var model = ModelCatalog.Load(path, null, CPU);
        ((OnnxNetwork)model.Network).UsesOnnxRuntime = false;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        var actual = model.Network.call(tensor(input, [1, 3, size, size])).flatten().data<float>().ToArray();
        Assert.True(Worst(expected, actual) <= 1e-4,
            $"{net}: differs from ONNX Runtime by {Worst(expected, actual):G3} of the outputs' scale");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
