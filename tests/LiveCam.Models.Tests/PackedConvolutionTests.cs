using LiveCam.Tests;
using LiveCam.Explain;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Models.Onnx;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>Without gradients the ONNX import runs its convolutions packed and fused with the ReLU or residual sum
/// after them; it must compute what the plain path computes, and every hook must see and change what it would
/// there.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class PackedConvolutionTests : IDisposable
{
    readonly VisionModel _model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
    readonly Tensor _input;

    public PackedConvolutionTests()
    {
        _model.Network.eval();
        var random = new Random(5);
        _input = tensor(
            Enumerable.Range(0, 3 * 224 * 224).Select(_ => (float)(random.NextDouble() * 255 - 120)).ToArray(),
            [1, 3, 224, 224]);
    }

    /// <summary>The output, and what each named layer's hook saw, with (the plain path) or without gradients
    /// (packed).</summary>
    (float[] Output, Dictionary<string, float[]> Seen) Run(bool packed, string[] hooked, bool halve)
    {
        using var scope = NewDisposeScope();
        var seen = new Dictionary<string, float[]>();
        using var hooks = new HookSet();
        foreach (var name in hooked)
            hooks.AddForwardHook(ModuleTree.Find(_model.Network, name), (_, _, output) =>
            {
                seen[name] = output.flatten().data<float>().ToArray();
                return halve ? output * 0.5f : output;
            });
        using var grad = packed ? no_grad() : enable_grad();
        return (_model.Network.call(_input).flatten().data<float>().ToArray(), seen);
    }

    static double Worst(float[] expected, float[] actual) => PyTorchOracle.RelativeDifference(expected, actual);

    [Fact]
    public void Without_gradients_the_import_computes_what_its_plain_path_computes()
    {
        Assert.True(OnnxNetwork.PackedConvolutionsAvailable, "this libtorch should run packed oneDNN convolutions");
        var plain = Run(packed: false, [], halve: false).Output;
        var packed = Run(packed: true, [], halve: false).Output;
        Assert.True(Worst(plain, packed) <= 1e-5,
            $"packed differs from plain by {Worst(plain, packed):G3} of the outputs' scale");
    }

    /// <summary>The many-pass methods (Score-CAM, occlusion, RISE) run batches: packed weights for that shape, and
    /// every residual sum written in place, must give each image what it gets alone on the plain path.</summary>
    [Fact]
    public void Without_gradients_a_batch_computes_what_the_plain_path_computes_for_each_image()
    {
        using var scope = NewDisposeScope();
        var batch = cat([_input, _input.flip(3), _input * 0.5f]);
        float[] Outputs(bool packed)
        {
            using var grad = packed ? no_grad() : enable_grad();
            return _model.Network.call(batch).flatten().data<float>().ToArray();
        }
        var plain = Outputs(packed: false);
        var packed = Outputs(packed: true);
        Assert.True(Worst(plain, packed) <= 1e-5,
            $"packed differs from plain by {Worst(plain, packed):G3} of the outputs' scale");
        // The images differ, so a batch mixed up inside the pass would show.
        int n = plain.Length / 3;
        Assert.True(Worst(plain[..n], plain[n..(2 * n)]) > 1e-3, "the flipped image gave the same features");
    }

    /// <summary>A convolution whose output only a ReLU reads, one whose output only a residual sum reads, that sum, and
    /// the ReLU after it: each is a value fusing would skip, so a hook there must turn fusing off where it
    /// looks.</summary>
    [Theory]
    [InlineData("conv before relu")]
    [InlineData("conv before add")]
    [InlineData("add")]
    [InlineData("relu after add")]
    [InlineData("all")]
    public void Hooks_see_and_change_the_values_fusing_would_skip(string where)
    {
        var layers = new Explainer(_model.Network).Layers(_model.ExampleInput());
        string After(string type, string next) =>
            layers.Zip(layers.Skip(1)).First(p => p.First.Type == type && p.Second.Type == next).First.Name;
        string[] hooked = where switch
        {
            "conv before relu" => [After("Conv", "Relu")],
            "conv before add" => [After("Conv", "Add")],
            "add" => [After("Add", "Relu")],
            "relu after add" => [layers[layers.ToList().FindIndex(l => l.Name == After("Add", "Relu")) + 1].Name],
            _ => layers.Select(l => l.Name).ToArray(),
        };
        // The trace itself hooks every layer without gradients: each of ResNet-18's 22 convolutions, 17 ReLUs and 8
        // residual sums, and its pooling, must be there.
        Assert.True(layers.Count >= 48, $"the trace found {layers.Count} layers");
        var plain = Run(packed: false, hooked, halve: true);
        var packed = Run(packed: true, hooked, halve: true);
        Assert.Equal(hooked.Order(), packed.Seen.Keys.Order());
        foreach (var name in hooked)
            Assert.True(Worst(plain.Seen[name], packed.Seen[name]) <= 1e-5,
                $"{name}: the hook saw values {Worst(plain.Seen[name], packed.Seen[name]):G3} apart");
        Assert.True(Worst(plain.Output, packed.Output) <= 1e-5,
            $"with the hooks' change the outputs differ by {Worst(plain.Output, packed.Output):G3}");
        // The hooks' change reached the output: halving a value changes what comes after it.
        var untouched = Run(packed: true, [], halve: false).Output;
        Assert.True(Worst(untouched, packed.Output) > 1e-3,
            "halving a layer's output did not change the network's output");
    }

    /// <summary>Each residual block's input is its residual (the max pool's output, then each ReLU after a sum), which
    /// the block's sum may be written over. A hook that keeps one, as Grad-CAM keeps its layer's activations, must
    /// still hold what the layer computed once the pass is over.</summary>
    [Fact]
    public void A_residual_a_hook_keeps_is_not_written_over_by_its_sum()
    {
        var layers = new Explainer(_model.Network).Layers(_model.ExampleInput());
        string[] residuals =
        [
            layers.First(l => l.Type == "MaxPool").Name,
            .. layers.Zip(layers.Skip(1))
                .Where(p => p.First.Type == "Add" && p.Second.Type == "Relu")
                .Select(p => p.Second.Name)
                .SkipLast(1),
        ];
        Assert.True(residuals.Length >= 8, $"{residuals.Length} residuals found");
        Dictionary<string, float[]> Kept(bool packed)
        {
            using var scope = NewDisposeScope();
            var kept = new Dictionary<string, Tensor>();
            using var hooks = new HookSet();
            foreach (var name in residuals)
                hooks.AddForwardHook(ModuleTree.Find(_model.Network, name), (_, _, output) => kept[name] = output);
            using var grad = packed ? no_grad() : enable_grad();
            _model.Network.call(_input);
            return kept.ToDictionary(k => k.Key, k => k.Value.flatten().data<float>().ToArray());
        }
        var plain = Kept(packed: false);
        var packed = Kept(packed: true);
        foreach (var name in residuals)
            Assert.True(Worst(plain[name], packed[name]) <= 1e-5,
                $"{name}: the kept residual changed by {Worst(plain[name], packed[name]):G3} of its scale");
    }

    public void Dispose()
    {
        _input.Dispose();
        _model.Dispose();
    }
}
