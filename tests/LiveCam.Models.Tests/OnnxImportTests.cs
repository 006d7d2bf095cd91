using LiveCam.Tests;
using LiveCam.Explain;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models.Onnx;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>ONNX files exported by real PyTorch (torch.onnx.export at test time) run in TorchSharp with PyTorch's
/// outputs, and explain like the PyTorch model; hostile files end in one clear error.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class OnnxImportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-onnx-").FullName;

    string Export(string net)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("onnx_oracle.py", net, _dir);
        return Path.Combine(_dir, "model.onnx");
    }

    float[] Input() => PyTorchOracle.Floats(Path.Combine(_dir, "input.f32"));
    int Size() => int.Parse(File.ReadAllText(Path.Combine(_dir, "meta.txt")).Split(' ')[0],
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Residual sums (resnet18), concatenation (googlenet), depthwise convolutions with squeeze-excite and
    /// hard-swish (mobilenet_v3_small), a small net with batch norm, dilation, groups, ceil-mode pooling and softmax,
    /// and residuals that are still read after their sum (shared), all without gradients (packed, fused
    /// convolutions).</summary>
    [SkippableTheory]
    [InlineData("shared")]
    [InlineData("tiny")]
    [InlineData("zoo")]
    [InlineData("resnet18")]
    [InlineData("googlenet")]
    [InlineData("mobilenet_v3_small")]
    public void An_exported_network_gives_PyTorchs_outputs(string net)
    {
        var path = Export(net);
        using var model = ModelCatalog.Load(path, null, CPU);
        // LiveCam's own import is judged here, not ONNX Runtime (OnnxRuntimePartTests compare the two).
        ((OnnxNetwork)model.Network).UsesOnnxRuntime = false;
        int size = Size();
        Assert.Equal((size, size), (model.InputWidth, model.InputHeight));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        var actual = model.Network.call(tensor(Input(), [1, 3, size, size])).flatten().data<float>().ToArray();
        var expected = PyTorchOracle.Floats(Path.Combine(_dir, "output.f32"));
        double worst = PyTorchOracle.RelativeDifference(expected, actual);
        Assert.True(worst <= 1e-4, $"{net}: outputs differ from PyTorch's by {worst:G3} of their scale");
    }

    /// <summary>The method's map at layer4, from the imported graph and from TorchVision's network with the same
    /// weights, compared after normalising.</summary>
    (Explanation FromOnnx, Explanation FromTorch) AtLayer4(ExplanationMethod method, out VisionModel onnx)
    {
        var path = Export("resnet18");
        onnx = ModelCatalog.Load(path, null, CPU);
        using var torchVision = ModelCatalog.Load("resnet18", Path.Combine(_dir, "weights.pt"), CPU);
        using var scope = NewDisposeScope();
        var input = tensor(Input(), [1, 3, 224, 224]);
        // The imported graph's default layer is the feature map it pools: ResNet's layer4.
        var fromOnnx = new Explainer(onnx.Network)
            .Explain(input, method, Target.Top(), LayerSelector.Parse(onnx.DefaultLayer)).Items[0];
        var fromTorch = new Explainer(torchVision.Network)
            .Explain(input, method, Target.Top(), LayerSelector.Parse("layer4")).Items[0];
        Assert.Equal(fromTorch.ClassIndex, fromOnnx.ClassIndex);
        Assert.Equal((7, 7), (fromOnnx.Map.Height, fromOnnx.Map.Width));
        Assert.True(fromTorch.Map.Max > 0, "the map is all zero: the comparison would prove nothing");
        double worst = fromTorch.Map.Normalised.Zip(fromOnnx.Map.Normalised, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-4, $"normalised maps differ by {worst:G3}");
        return (fromOnnx, fromTorch);
    }

    [SkippableFact]
    public void GradCAM_on_the_imported_graph_equals_GradCAM_on_the_PyTorch_network_at_the_same_tensor()
    {
        AtLayer4(new GradCam(), out var onnx);
        using var _ = onnx;
        // Every node output is a layer, by its ONNX name.
        var layers = new Explainer(onnx.Network).Layers(onnx.ExampleInput());
        Assert.Contains(layers, l => l.Name == onnx.DefaultLayer && l.Type == "Relu");
        Assert.Contains(layers, l => l.Type == "Conv");
    }

    /// <summary>ReciproCAM takes no gradient, so the imported graph runs it on its packed, fused convolutions: the
    /// masked copies of layer4 replace the Relu node's output there as they replace the module's on the PyTorch
    /// network.</summary>
    [SkippableFact]
    public void ReciproCAM_on_the_imported_graph_equals_ReciproCAM_on_the_PyTorch_network()
    {
        AtLayer4(new ReciproCam(), out var onnx);
        onnx.Dispose();
    }

    /// <summary>Guided backprop is guided at every ReLU of the imported graph (Relu nodes are ReLU modules), as at
    /// every ReLU of TorchVision's ResNet (module or function; the parity suite checks that one against PyTorch);
    /// FullGrad finds the graph's biases (each batch norm folded into its bias-free convolution: the same bias
    /// terms).</summary>
    [SkippableTheory]
    [InlineData("guided-backprop")]
    [InlineData("fullgrad")]
    public void Input_methods_on_the_imported_graph_equal_those_on_the_PyTorch_network(string method)
    {
        var path = Export("resnet18");
        using var onnx = ModelCatalog.Load(path, null, CPU);
        using var torchVision = ModelCatalog.Load("resnet18", Path.Combine(_dir, "weights.pt"), CPU);
        using var scope = NewDisposeScope();
        var input = tensor(Input(), [1, 3, 224, 224]);
        var fromOnnx = onnx.CreateExplainer().Explain(input, MethodCatalog.Create(method), Target.Top()).Items[0];
        var fromTorch = torchVision.CreateExplainer()
            .Explain(input, MethodCatalog.Create(method), Target.Top()).Items[0];
        Assert.Equal(fromTorch.ClassIndex, fromOnnx.ClassIndex);
        double worst = fromTorch.Map.Normalised.Zip(fromOnnx.Map.Normalised, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1e-4, $"{method}: normalised maps differ by {worst:G3}");
    }

    [SkippableFact]
    public void Truncated_garbage_and_mutated_files_end_in_one_clear_error_never_a_crash()
    {
        var path = Export("tiny");
        var good = File.ReadAllBytes(path);
        Assert.Throws<OnnxFormatException>(() => OnnxFile.Parse(good[..(good.Length / 2)]));
        Assert.Throws<OnnxFormatException>(() =>
            OnnxFile.Parse([.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))]));
        var random = new Random(5);
        int rejected = 0, read = 0;
        for (int i = 0; i < 3000; i++)
        {
            var bytes = (byte[])good.Clone();
            int flips = 1 + random.Next(8);
            for (int f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            if (random.Next(4) == 0) bytes = bytes[..random.Next(bytes.Length)];
            try
            {
                using var network = new OnnxNetwork(OnnxFile.Parse(bytes));
                read++;
            }
            catch (OnnxFormatException)
            {
                rejected++;
            }
        }
        Assert.Equal(3000, read + rejected);
        Assert.True(rejected > 300, $"only {rejected} of 3,000 mutated files were refused");
    }

    /// <summary>Window attributes no convolution or pooling can have are refused at load, naming the node, instead of
    /// dividing by zero or sizing a huge output in the first pass.</summary>
    [SkippableTheory]
    [InlineData("Conv strides 0 0", "node conv (Conv): strides [0, 0] must lie in 1..65536")]
    [InlineData("Conv dilations -2 1", "node conv (Conv): dilations [-2, 1] must lie in 1..65536")]
    [InlineData("Conv pads 100000 1 1 1", "node conv (Conv): pads [100000, 1, 1, 1] must lie in 0..65536")]
    [InlineData("Conv group 0", "node conv (Conv): group 0 must be at least 1")]
    [InlineData("Conv group 3", "node conv (Conv): group 3 does not divide its 8 output channels")]
    [InlineData("MaxPool strides 0 2", "node pool (MaxPool): strides [0, 2] must lie in 1..65536")]
    [InlineData("MaxPool kernel_shape 0 3", "node pool (MaxPool): kernel_shape [0, 3] must lie in 1..65536")]
    public void Impossible_windows_are_refused_at_load_naming_the_node(string change, string expected)
    {
        Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
        PyTorchOracle.Script("onnx_hostile.py", [_dir, "hostile", .. change.Split(' ')]);
        var e = Assert.Throws<ModelLoadException>(() =>
            ModelCatalog.Load(Path.Combine(_dir, "hostile.onnx"), null, CPU));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Groups that divide the weights but not the input's channels load, and the first pass says why it cannot
    /// run, with and without gradients (the packed path).</summary>
    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Weights_that_do_not_fit_the_input_name_both_shapes(bool gradients)
    {
        Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
        PyTorchOracle.Script("onnx_hostile.py", _dir, "hostile", "Conv", "group", "2");
        using var model = ModelCatalog.Load(Path.Combine(_dir, "hostile.onnx"), null, CPU);
        using var scope = NewDisposeScope();
        using var grad = gradients ? enable_grad() : no_grad();
        var e = Assert.Throws<OnnxFormatException>(() => model.Network.call(zeros(1, 3, 16, 16)));
        Assert.Equal(
            "node conv (Conv): its input has shape [1, 3, 16, 16]; "
                + "its weights [8, 3, 3, 3] in 2 group(s) read 6 channels",
            e.Message);
    }

    [SkippableFact]
    public void A_graph_with_operators_it_does_not_run_names_them_all_at_once()
    {
        Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
        PyTorchOracle.Script("onnx_unsupported.py", _dir);
        var e = Assert.Throws<ModelLoadException>(() =>
            ModelCatalog.Load(Path.Combine(_dir, "unsupported.onnx"), null, CPU));
        Assert.Contains("unsupported ONNX operators: Einsum, LSTM", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Names_in_a_file_cannot_send_escape_sequences_to_the_terminal()
    {
        Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
        var path = Path.Combine(_dir, "escapes.onnx");
        PyTorchOracle.Script("onnx_escapes.py", path);
        var e = Assert.Throws<ModelLoadException>(() => ModelCatalog.Load(path, null, CPU));
        Assert.DoesNotContain(e.Message, char.IsControl);
        Assert.Contains(@"Relu\x1b[2J\x1b[31m\x0alivecam: all checks passed", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_graph_whose_input_is_200000_pixels_a_side_is_refused_before_any_image_that_size_is_made()
    {
        Skip.If(PyTorchOracle.MissingOnnx is not null, PyTorchOracle.MissingOnnx);
        var path = Path.Combine(_dir, "huge.onnx");
        PyTorchOracle.Script("onnx_huge_input.py", path);
        var e = Assert.Throws<ModelLoadException>(() => ModelCatalog.Load(path, null, CPU));
        Assert.Equal($"cannot load '{path}': its input is 200000x200000; LiveCam takes at most 4096x4096", e.Message);
    }

    [Fact]
    public void A_file_that_claims_a_huge_tensor_is_refused_before_anything_is_allocated()
    {
        // A graph (field 7) holding an initializer (field 5) of dims 2^20 x 2^20 x 2^20, type float, no data.
        byte[] dims = [.. Varint(1 << 20), .. Varint(1 << 20), .. Varint(1 << 20)];
        byte[] tensorBytes = [0x0a, (byte)dims.Length, .. dims, 0x10, 0x01];
        byte[] graph = [0x2a, (byte)tensorBytes.Length, .. tensorBytes];
        byte[] model = [0x3a, (byte)graph.Length, .. graph];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxFormatException>(() => OnnxFile.Parse(model));
        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    static byte[] Varint(long value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7f);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
        return [.. bytes];
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
