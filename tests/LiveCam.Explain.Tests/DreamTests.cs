using System.Text.Json;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using LiveCam.Explain.Visualisations;
using LiveCam.Models;
using LiveCam.Tests;
using TorchSharp;
using static TorchSharp.torch;
using static LiveCam.Explain.Tests.TestModels;

namespace LiveCam.Explain.Tests;

/// <summary>DeepDream and class model visualisation: against the same formulas on real PyTorch
/// (Oracle/dream_oracle.py), and what must hold whatever the weights: the objective rises, the image stays in range,
/// nothing is left behind.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class DreamTests
{
    static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    static readonly InputRange UnitRange = InputRange.PerChannel([0f, 0f, 0f], [1f, 1f, 1f]);

    [SkippableTheory]
    [InlineData("resnet18")]
    [InlineData("robot")]
    public void Steps_equal_the_reference_on_PyTorch(string architecture)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        var dir = Directory.CreateTempSubdirectory("livecam-dream-").FullName;
        try
        {
            PyTorchOracle.Script("dream_oracle.py", architecture, dir);
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "meta.json")));
            var root = meta.RootElement;
            int height = root.GetProperty("height").GetInt32(), width = root.GetProperty("width").GetInt32();
            var settings = new AscentSettings(
                root.GetProperty("steps").GetInt32(), (float)root.GetProperty("step_size").GetDouble());
            // The robot runs in float64 on both sides, as in the explanation parity tests; ResNet-18 in float32.
            var precision = architecture == "robot" ? ScalarType.Float64 : ScalarType.Float32;
            using var model = ModelCatalog.Load(architecture, Path.Combine(dir, "weights.pt"), CPU);
            model.Network.to(precision);
            using var scope = NewDisposeScope();
            var input = tensor(PyTorchOracle.Floats(Path.Combine(dir, "input.f32")), [1, 3, height, width])
                .to_type(precision);

            var dream = new DeepDream(
                model.CreateExplainer(), LayerSelector.Parse(root.GetProperty("layer").GetString()!), model.InputRange);
            var objectives = root.GetProperty("dream_objectives").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(objectives[0], dream.Objective(input), objectives[0] * 1e-4);
            Compare(
                "DeepDream", PyTorchOracle.Floats(Path.Combine(dir, "dream.f32")), dream.Run(input, settings), input);

            var visual = new ClassModel(model.CreateExplainer(), Target.Class(root.GetProperty("target").GetInt32()),
                model.InputRange, (float)root.GetProperty("l2").GetDouble());
            Compare("class model", PyTorchOracle.Floats(Path.Combine(dir, "class.f32")),
                visual.Run(zeros_like(input), settings), zeros_like(input));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        static void Compare(string what, float[] expected, Tensor actual, Tensor start)
        {
            var values = actual.to_type(ScalarType.Float32).data<float>().ToArray();
            var initial = start.to_type(ScalarType.Float32).data<float>().ToArray();
            Assert.True(PyTorchOracle.RelativeDifference(expected, initial) > 0.01,
                $"the reference {what} hardly moved: the comparison would prove nothing");
            double worst = PyTorchOracle.RelativeDifference(expected, values);
            Assert.True(worst <= 1e-4, $"{what} differs from PyTorch by up to {worst:G3}");
        }
    }

    [Fact]
    public void DeepDream_raises_the_layers_activations_and_keeps_the_image_in_range()
    {
        using var scope = NewDisposeScope();
        var dream = new DeepDream(new Explainer(new RedSquareNet()), LayerSelector.Parse("features.conv2"), UnitRange);
        var input = RedSquare(8, 8);
        double before = dream.Objective(input);
        var after = dream.Run(input, new AscentSettings(Steps: 10, StepSize: 0.05f, Jitter: 2, Octaves: 2));
        Assert.Equal(input.shape, after.shape);
        Assert.True(dream.Objective(after) > before * 1.5, $"objective {before} -> {dream.Objective(after)}");
        Assert.InRange(after.min().item<float>(), 0f, 1f);
        Assert.InRange(after.max().item<float>(), 0f, 1f);
        Assert.True(after.sub(input).abs().max().item<float>() > 0.01f, "the image did not change");
    }

    [Fact]
    public void A_class_model_raises_the_class_score_and_stays_in_range()
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        var range = InputRange.PerChannel([-0.5f, -0.5f, -0.5f], [0.5f, 0.5f, 0.5f]);
        var visual = new ClassModel(new Explainer(model), Target.Class(0), range, l2: 0.001f);
        // Near the mean image: this net has no biases, so at exactly zero every ReLU is shut and nothing has a
        // gradient.
        manual_seed(1);
        var start = randn(1, 3, 16, 16) * 0.01f;
        double before = visual.Objective(start);
        var image = visual.Run(start, new AscentSettings(Steps: 20, StepSize: 0.05f));
        Assert.True(visual.Objective(image) > before + 0.1, $"objective {before} -> {visual.Objective(image)}");
        using (no_grad())
            Assert.True(model.call(image)[0, 0].item<float>() > model.call(start)[0, 0].item<float>(),
                "the class logit did not rise");
        Assert.True(image.ge(-0.5f).all().item<bool>() && image.le(0.5f).all().item<bool>(), "out of range");
        // The class is "red": red up, green and blue down.
        Assert.True(image[0, 0].mean().item<float>() > image[0, 1].mean().item<float>());
    }

    [Fact]
    public void Per_pixel_and_standardised_ranges_project_as_documented()
    {
        using var scope = NewDisposeScope();
        var x = randn(1, 3, 4, 6) * 10;
        var perPixel = InputRange.PerPixel(
            Enumerable.Repeat(-1f, 3 * 4 * 6).ToArray(), Enumerable.Repeat(2f, 3 * 4 * 6).ToArray(), 3, 4, 6);
        var p = perPixel.Project(x);
        Assert.Equal(-1f, p.min().item<float>());
        Assert.Equal(2f, p.max().item<float>());
        Assert.Equal(2f, perPixel.Project(randn(1, 3, 3, 3).abs() + 5).max().item<float>());  // resized for an octave
        var s = InputRange.Standardised.Project(x + 3);
        Assert.Equal(0, s.mean().item<float>(), 1e-5);
        Assert.Equal(1, s.square().mean().item<float>(), 1e-4);
        Assert.Equal(0, InputRange.Standardised.Project(zeros(1, 3, 2, 2)).abs().max().item<float>());
    }

    [Fact]
    public void Fifty_steps_and_fifty_live_frames_leak_no_tensors_and_no_hooks()
    {
        var dream = new DeepDream(
            new Explainer(new RedSquareNet(inplaceRelu: true)), LayerSelector.Parse("features.relu1"), UnitRange);
        using var input = RedSquare(5, 5);
        using (var warm = dream.Run(input, new AscentSettings(Steps: 1))) { }  // the trace is cached
        long before = LiveTensors;
        using (var dreamed = dream.Run(input, new AscentSettings(Steps: 50, Jitter: 3, Octaves: 2))) { }
        Assert.Equal(before, LiveTensors);
        var frame = input.clone();
        for (int i = 0; i < 50; i++)
        {
            var next = dream.Steps(frame, steps: 2);
            frame.Dispose();
            frame = next;
        }
        frame.Dispose();
        Assert.Equal(before, LiveTensors);
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Fact]
    public void A_TorchVision_network_dreams_without_leaks_though_it_runs_forward_in_its_own_scope()
    {
        var model = torchvision.models.resnet18(num_classes: 10);
        var dream = new DeepDream(new Explainer(model), LayerSelector.Parse("layer2"), UnitRange);
        using var input = rand(1, 3, 48, 48);
        using (var warm = dream.Run(input, new AscentSettings(Steps: 1))) { }
        long before = LiveTensors;
        using (var dreamed = dream.Run(input, new AscentSettings(Steps: 5, Jitter: 2, Octaves: 2)))
            Assert.Equal(input.shape, dreamed.shape);
        using (var visual = new ClassModel(new Explainer(model), Target.Class(3), UnitRange)
            .Run(input, new AscentSettings(Steps: 3))) { }
        Assert.Equal(before, LiveTensors);
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Fact]
    public void The_model_is_unchanged_after_a_run_even_when_it_fails_midway()
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        model.train();
        var input = RedSquare(7, 9);
        int calls = 0;
        var failing = Target.Function("fails on the third step", output =>
            ++calls == 3 ? throw new InvalidOperationException("target failed") : output[.., 0]);
        var visual = new ClassModel(new Explainer(model), failing, UnitRange);

        Assert.Throws<InvalidOperationException>(() => visual.Run(input, new AscentSettings(Steps: 5)));
        Assert.Throws<ArgumentException>(() =>
            new DeepDream(new Explainer(model), LayerSelector.Parse("nowhere"), UnitRange)
                .Run(input, new AscentSettings()));

        Assert.Equal(3, calls);
        Assert.Equal(0, HookSet.LiveHooks);
        Assert.True(model.training, "the training flag was not restored");
        Assert.All(model.modules(), m => Assert.True(m.training));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad, "a parameter was left frozen"));
        Assert.All(model.parameters(), p => Assert.True(p.grad is null, "a run left parameter gradients"));
    }

    [Fact]
    public void Bad_requests_are_clear_errors()
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        var input = RedSquare(7, 9);
        var e = Assert.Throws<ArgumentException>(() =>
            new ClassModel(new Explainer(model), Target.Class(2), UnitRange).Run(input, new AscentSettings(Steps: 1)));
        Assert.Contains("output 2 does not exist", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() =>
            new DeepDream(new Explainer(model), LayerSelector.Parse("features"), UnitRange)
                .Run(input, new AscentSettings(Octaves: 0)));
        Assert.Throws<ArgumentException>(() =>
            new DeepDream(new Explainer(model), LayerSelector.Parse("features"), UnitRange)
                .Run(input[0], new AscentSettings()));
        Assert.Throws<ArgumentException>(() =>
            new DeepDream(new Explainer(model), LayerSelector.Parse("features"), InputRange.PerChannel([0f], [1f]))
                .Run(input, new AscentSettings(Steps: 1)));
        Assert.Equal(0, HookSet.LiveHooks);
    }
}
