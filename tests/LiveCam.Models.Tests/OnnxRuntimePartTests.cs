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

    /// <summary>A hook that only looks at the layer (Eigen-CAM's capture) lets ONNX Runtime run the pass to the end:
    /// at once where only a pooling and the classifier follow the layer, else from the pass after a looking one. A
    /// hook that changes the layer must make libtorch run the rest from its values, even right after looking.</summary>
    [Theory]
    [InlineData("last")]
    [InlineData("middle")]
    public void A_hook_that_only_looks_lets_ONNX_Runtime_run_to_the_end_and_a_changing_hook_still_counts(
        string where)
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        var layers = model.CreateExplainer().Layers(model.ExampleInput()).Where(l => l.Type == "Relu").ToList();
        var layer = where == "last" ? model.DefaultLayer : layers[layers.Count / 2].Name;
        // A ReLU's output: its tap returns a new tensor of the same values.
        var tap = network.named_modules().Single(m => m.name == network.ModulePath(layer)).module;
        Assert.IsType<TorchSharp.Modules.ReLU>(tap);
        manual_seed(6);
        using var input = randn(1, 3, 224, 224) * 50;
        using var _ = no_grad();
        float scale = 2;
        var hook = ((nn.Module<Tensor, Tensor>)tap).register_forward_hook((_, _, output) => output * scale);
        try
        {
            Tensor Run(bool onnxRuntime, float by)
            {
                network.UsesOnnxRuntime = onnxRuntime;
                scale = by;
                return network.call(input);
            }
            using var looked = Run(onnxRuntime: false, by: 1);
            using var doubled = Run(onnxRuntime: false, by: 2);
            Assert.True((looked - doubled).abs().max().item<float>() > 1, "doubling the layer must change the outputs");
            void Agrees(Tensor expected, Tensor actual, string when)
            {
                double worst = (expected - actual).abs().max().item<float>() / expected.abs().max().item<float>();
                Assert.True(worst <= 1e-4, $"{when}: differs by {worst:G3} of the outputs' scale");
            }
            long whole = network.OnnxRuntimeWholePasses;
            using (var first = Run(onnxRuntime: true, by: 1)) Agrees(looked, first, "the first looking pass");
            // After the last layer only a pooling and the classifier: whole at once; after the middle, once learnt.
            if (where == "middle") Assert.Equal(whole, network.OnnxRuntimeWholePasses);
            else Assert.Equal(++whole, network.OnnxRuntimeWholePasses);
            using (var second = Run(onnxRuntime: true, by: 1)) Agrees(looked, second, "the second looking pass");
            Assert.Equal(whole + 1, network.OnnxRuntimeWholePasses);
            using (var changed = Run(onnxRuntime: true, by: 2))
                Agrees(doubled, changed, "a changing pass after looking");
            using (var again = Run(onnxRuntime: true, by: 2)) Agrees(doubled, again, "the next changing pass");
            Assert.Equal(whole + 1, network.OnnxRuntimeWholePasses);
        }
        finally { hook.remove(); }
    }

    /// <summary>A layer handed over with the output (Eigen-CAM's way, no hook) is the value a hook sees, on libtorch
    /// and on ONNX Runtime, at a convolution (which libtorch would otherwise fuse with its ReLU), a block's sum, a
    /// block's output that the next block reads twice (which a fused sum may otherwise overwrite) and the last
    /// layer; with ONNX Runtime the pass runs there to the end.</summary>
    [Fact]
    public void A_layer_handed_over_with_the_output_is_the_value_a_hook_sees()
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        var layers = model.CreateExplainer().Layers(model.ExampleInput());
        var relus = layers.Where(l => l.Type == "Relu").ToList();
        string[] chosen =
        [
            layers.First(l => l.Type == "Conv").Name, layers.First(l => l.Type == "Add").Name,
            relus[relus.Count / 2].Name, model.DefaultLayer,
        ];
        manual_seed(7);
        using var input = randn(1, 3, 224, 224) * 50;
        using var _ = no_grad();
        foreach (var onnxRuntime in new[] { false, true })
            foreach (var layer in chosen)
            {
                using var scope = NewDisposeScope();
                network.UsesOnnxRuntime = onnxRuntime;
                var tap = (nn.Module<Tensor, Tensor>)network.named_modules()
                    .Single(m => m.name == network.ModulePath(layer)).module;
                Tensor? seen = null;
                Tensor expectedOutput;
                var hook = tap.register_forward_hook((_, _, output) =>
                {
                    seen = output.clone();
                    return output;
                });
                try { expectedOutput = network.call(input); }
                finally { hook.remove(); }
                long whole = network.OnnxRuntimeWholePasses;
                var (output, value) = network.ForwardWithLayer(input, layer)
                    ?? throw new InvalidOperationException($"{layer} was not handed over");
                Assert.True(seen is not null && seen.Equals(value), $"{layer}, ONNX Runtime {onnxRuntime}: the value "
                    + "handed over is not the one the hook saw");
                double worst = (output - expectedOutput).abs().max().item<float>()
                    / expectedOutput.abs().max().item<float>();
                Assert.True(worst <= 1e-4, $"{layer}: the output differs by {worst:G3} of its scale");
                Assert.Equal(onnxRuntime ? whole + 1 : whole, network.OnnxRuntimeWholePasses);
            }
        // With gradients on, a hook captures the layer.
        using (enable_grad()) Assert.Null(network.ForwardWithLayer(input, model.DefaultLayer));
        Assert.Null(network.ForwardWithLayer(input, "no such layer"));
    }

    /// <summary>A live analysis leaves a core to the display (and <c>--threads</c> asks for a number): ONNX Runtime
    /// must run with the thread count libtorch has on the analysing thread, not the one the model was loaded
    /// with.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ONNX_Runtime_runs_with_the_calling_threads_thread_count(int threads)
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        network.UsesOnnxRuntime = true;
        manual_seed(6);
        using var input = randn(1, 3, 224, 224);
        Exception? failed = null;
        var worker = new Thread(() =>
        {
            try
            {
                set_num_threads(threads);
                using var scope = NewDisposeScope();
                using (no_grad()) network.forward(input);
                model.CreateExplainer().Explain(input, MethodCatalog.Create("gradcam"), Target.Sum(),
                    LayerSelector.Parse(model.DefaultLayer));
            }
            catch (Exception e) { failed = e; }
        });
        // The start-up measurement's sessions were made by the loading thread, with its priority: none is kept.
        Assert.Empty(network.OnnxRuntimeThreadCounts);
        long before = network.OnnxRuntimePasses;
        worker.Start();
        worker.Join();
        if (failed is not null) throw new InvalidOperationException("the analysing thread failed", failed);
        Assert.True(network.OnnxRuntimePasses >= before + 2, "ONNX Runtime did not run both passes");
        Assert.Equal([threads], network.OnnxRuntimeThreadCounts);
    }

    /// <summary>Each layer asked for is a session with its own weights: a live user stepping through the layers must
    /// not keep one per layer, and a layer asked for again after its session went gives the same value.</summary>
    [Fact]
    public void Sessions_are_kept_for_the_last_few_layers_only()
    {
        using var model = ModelCatalog.Load("resnet18-imagenet", null, CPU);
        var network = (OnnxNetwork)model.Network;
        network.UsesOnnxRuntime = true;
        var relus = model.CreateExplainer().Layers(model.ExampleInput()).Where(l => l.Type == "Relu")
            .Select(l => l.Name).Take(2 * OnnxRuntimePart.MaxSessions + 1).ToList();
        Assert.True(relus.Count > 2 * OnnxRuntimePart.MaxSessions, "too few layers to prove anything");
        manual_seed(8);
        using var input = randn(1, 3, 224, 224) * 50;
        float[] Layer(string name)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var (_, value) = network.ForwardWithLayer(input, name)
                ?? throw new InvalidOperationException($"{name} was not handed over");
            return value.contiguous().data<float>().ToArray();
        }
        var first = Layer(relus[0]);
        long before = network.OnnxRuntimePasses;
        foreach (var layer in relus) Layer(layer);
        Assert.Equal(relus.Count, network.OnnxRuntimePasses - before);
        Assert.InRange(network.OnnxRuntimeSessions, 1, OnnxRuntimePart.MaxSessions);
        Assert.Equal(first, Layer(relus[0]));
    }

    /// <summary>The start-up comparison times the two runtimes in turn (ABBA), never one block after the other, and
    /// takes each one's median: a slow call of one (a load that came and went) does not decide.</summary>
    [Fact]
    public void The_start_up_comparison_times_the_runtimes_in_turn_and_takes_medians()
    {
        var order = new List<char>();
        int call = 0;
        var (a, b) = OnnxRuntimePart.TimeAlternately(() => order.Add('a'), () =>
        {
            order.Add('b');
            // One slow call of five, after the warm-up: the median ignores it.
            if (++call == 3) Thread.Sleep(2000);
        }, 5);
        Assert.Equal("ab" + "ab" + "ba" + "ab" + "ba" + "ab", new string([.. order]));
        Assert.True(a < 1000 && b < 1000, $"medians {a:0.0} and {b:0.0} ms: the slow call decided");
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
