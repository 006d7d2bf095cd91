using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;
using static LiveCam.Explain.Tests.TestModels;

namespace LiveCam.Explain.Tests;

// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public class MethodCorrectnessTests
{
    public static TheoryData<string> AllMethods => new(MethodCatalog.Names);

    [Fact]
    public void GradCam_equals_CAM_on_a_global_average_pooled_linear_head()
    {
        using var scope = NewDisposeScope();
        var model = new GapNet(seed: 11);
        var explainer = new Explainer(model);
        manual_seed(5);
        var input = rand(1, 3, 16, 16);
        var layer = LayerSelector.Parse("features");
        for (int k = 0; k < 10; k++)
        {
            var grad = explainer.Explain(input, new GradCam(), Target.Class(k), layer).Items[0].Map;
            var cam = explainer.Explain(input, new Cam(), Target.Class(k), layer).Items[0].Map;
            Assert.Equal((8, 8), (grad.Height, grad.Width));
            // Grad-CAM's weights are the classifier's divided by h*w: the maps agree up to that factor.
            for (int i = 0; i < grad.Values.Length; i++)
            {
                Assert.Equal(cam.Normalised[i], grad.Normalised[i], 1e-5);
                Assert.Equal(cam.Values[i], grad.Values[i] * 64, Math.Max(1e-5, 1e-5 * cam.Values[i]));
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Every_method_finds_the_red_square_wherever_it_is(string name)
    {
        var method = MethodCatalog.Create(name);
        var model = new RedSquareNet();
        var explainer = new Explainer(model);
        foreach (var (x, y) in new[] { (2, 3), (20, 5), (12, 14), (4, 22), (24, 24) })
        {
            using var scope = NewDisposeScope();
            var set = explainer.Explain(RedSquare(x, y), method, Target.Class(0), LayerSelector.Parse("features"));
            var map = set.Items[0].Map;
            Assert.True(map.Max > 0, $"{name}: empty map for the square at ({x}, {y})");
            var (py, px) = map.ArgMax();
            // Maps here are at the input's resolution (the layer has no pooling): the peak must be on the square.
            Assert.InRange(px, x, x + 5);
            Assert.InRange(py, y, y + 5);
        }
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("saliency")]
    public void Augmentation_smoothing_averages_the_six_flipped_and_scaled_maps_flipped_back(string name)
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new RedSquareNet());
        var input = RedSquare(3, 20);
        var layer = LayerSelector.Parse("features");
        var smoothed = explainer
            .Explain(input, new AugmentationSmoothing(MethodCatalog.Create(name)), Target.Top(), layer).Items[0];
        Assert.Equal(name + "+aug", smoothed.Method);
        Assert.Equal(0, smoothed.ClassIndex);

        var expected = new double[32 * 32];
        foreach (var flip in new[] { false, true })
            foreach (var scale in new[] { 1f, 1.1f, 0.9f })
            {
                var augmented = input * scale;
                if (flip) augmented = augmented.flip(3);
                var map = explainer.Explain(augmented, MethodCatalog.Create(name), Target.Class(0), layer).Items[0].Map;
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        expected[y * 32 + x] += map.Normalised[y * 32 + (flip ? 31 - x : x)] / 6;
            }
        double max = expected.Max();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i] / max, smoothed.Map.Normalised[i], 1e-5);
        // The square stays where it is (a map not flipped back would put half the weight at x = 24..29).
        Assert.InRange(smoothed.Map.ArgMax().X, 3, 8);
    }

    [Fact]
    public void Saliency_of_a_linear_model_is_its_weight_magnitude()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var linear = nn.Linear(3 * 8 * 8, 3);
        var model = nn.Sequential(("flat", nn.Flatten()), ("fc", linear));
        var explainer = new Explainer(model);
        var input = randn(1, 3, 8, 8);
        for (int k = 0; k < 3; k++)
        {
            var map = explainer.Explain(input, new Saliency(), Target.Class(k)).Items[0].Map;
            var expected = linear.weight![k].detach().reshape(3, 8, 8).abs().amax([0]).data<float>().ToArray();
            Assert.Equal(64, map.Values.Length);
            for (int i = 0; i < 64; i++) Assert.Equal(expected[i], map.Values[i], 1e-6);
        }
    }

    /// <summary>RISE's map is the score-weighted mean of its masks (Petsiuk et al. 2018), and so is D-RISE's: where
    /// masking changes nothing it is the unchanged score everywhere (less rounding), not zero.</summary>
    public static TheoryData<string> MethodsOfEvidence =>
        new(MethodCatalog.Names.Where(n => n is not ("rise" or "d-rise")));

    [Theory]
    [MemberData(nameof(MethodsOfEvidence))]
    public void A_constant_input_gives_an_all_zero_map_never_NaN(string name)
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new RedSquareNet());
        var set = explainer.Explain(
            full(1, 3, 32, 32, 0.5f), MethodCatalog.Create(name), Target.Class(0), LayerSelector.Parse("features"));
        var map = set.Items[0].Map;
        Assert.All(map.Values, v => Assert.Equal(0f, v));
        Assert.All(map.Normalised, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData("gradcam")]
    [InlineData("saliency")]
    [InlineData("guided-backprop")]
    public void Sanity_check_maps_change_when_the_weights_are_randomised(string name)
    {
        // Adebayo et al. 2018: a method that explains the model must depend on its weights. Control: the same
        // weights give rho = 1, as would any method that looks at the input alone. After randomising every layer
        // (five seeds), the mean |Spearman rho| with the detector's map must fall below 0.5; the paper reports
        // rank correlations of roughly 0-0.4 for these methods after full randomisation. (Seen here: 0.13-0.32.)
        using var scope = NewDisposeScope();
        var input = RedSquare(10, 12);
        var layer = LayerSelector.Parse("features");
        var before = new Explainer(new RedSquareNet())
            .Explain(input, MethodCatalog.Create(name), Target.Class(0), layer).Items[0].Map;
        var same = new Explainer(new RedSquareNet())
            .Explain(input, MethodCatalog.Create(name), Target.Class(0), layer).Items[0].Map;
        Assert.Equal(1, Spearman(before.Values, same.Values), 6);

        var rhos = new List<double>();
        foreach (var seed in new[] { 123, 1, 2, 3, 4 })
        {
            var randomised = new RedSquareNet();
            manual_seed(seed);
            using (no_grad())
                foreach (var p in randomised.parameters()) p.copy_(randn_like(p) * 0.5);
            var after = new Explainer(randomised)
                .Explain(input, MethodCatalog.Create(name), Target.Class(0), layer).Items[0].Map;
            rhos.Add(Math.Abs(Spearman(before.Values, after.Values)));
        }
        Assert.True(rhos.Average() < 0.5,
            $"{name}: mean |rho| {rhos.Average():0.000} after randomisation "
            + $"({string.Join(", ", rhos.Select(r =>
                r.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))})");
    }

    [Fact]
    public void Top_k_explains_the_k_best_classes_from_one_forward_pass_and_returns_its_outputs()
    {
        using var scope = NewDisposeScope();
        var model = new GapNet(seed: 3);
        var explainer = new Explainer(model);
        manual_seed(8);
        var input = rand(1, 3, 16, 16);
        var set = explainer.Explain(input, new GradCam(), Target.TopK(3), LayerSelector.Parse("features"));

        model.eval();
        float[] expected;
        using (no_grad()) expected = model.call(input).data<float>().ToArray();
        Assert.Equal(expected, set.Outputs);
        var best = expected.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(3).Select(p => (int?)p.i)
            .ToArray();
        Assert.Equal(best, set.Items.Select(e => e.ClassIndex));
        Assert.Equal(3, set.Items.Select(e => string.Join(',', e.Map.Values)).Distinct().Count());
    }

    [Fact]
    public void An_in_place_relu_after_the_layer_changes_nothing()
    {
        using var scope = NewDisposeScope();
        var input = RedSquare(8, 8);
        foreach (var name in new[] { "gradcam", "guided-backprop", "eigencam" })
        {
            var plain = new Explainer(new RedSquareNet())
                .Explain(input, MethodCatalog.Create(name), Target.Class(0), LayerSelector.Parse("features.conv2"))
                .Items[0].Map;
            var inplace = new Explainer(new RedSquareNet(inplaceRelu: true))
                .Explain(input, MethodCatalog.Create(name), Target.Class(0), LayerSelector.Parse("features.conv2"))
                .Items[0].Map;
            Assert.Equal(plain.Values, inplace.Values);
        }
    }

    [Fact]
    public void CAM_refuses_an_architecture_without_a_pooled_linear_head()
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new RedSquareNet());
        var e = Assert.Throws<ArgumentException>(() =>
            explainer.Explain(RedSquare(1, 1), new Cam(), Target.Class(0), LayerSelector.Parse("features.conv1")));
        Assert.Contains("global average pooling", e.Message, StringComparison.Ordinal);
        Assert.Contains("gradcam", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Regression_targets_sum_pick_or_weigh_outputs()
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new GapNet(seed: 4));
        manual_seed(1);
        var input = rand(1, 3, 16, 16);
        var layer = LayerSelector.Parse("features");
        var all = explainer.Explain(input, new GradCam(), Target.Sum(), layer).Items[0].Map;
        var weights = explainer
            .Explain(input, new GradCam(), Target.Weights(Enumerable.Repeat(1f, 10).ToArray()), layer).Items[0].Map;
        var indices = explainer
            .Explain(input, new GradCam(), Target.Indices(Enumerable.Range(0, 10).ToArray()), layer).Items[0].Map;
        for (int i = 0; i < all.Values.Length; i++)
        {
            Assert.Equal(all.Values[i], weights.Values[i], 1e-5);
            Assert.Equal(all.Values[i], indices.Values[i], 1e-5);
        }
        var one = explainer.Explain(input, new GradCam(), Target.Indices([4]), layer).Items[0].Map;
        var cls = explainer.Explain(input, new GradCam(), Target.Class(4), layer).Items[0].Map;
        Assert.Equal(cls.Values, one.Values);
    }

    [Fact]
    public void A_target_that_is_not_one_score_per_sample_is_refused()
    {
        using var scope = NewDisposeScope();
        var explainer = new Explainer(new GapNet(seed: 4));
        var bad = Target.Function("two scores", o => o[.., ..2]);
        var e = Assert.Throws<ArgumentException>(() => explainer.Explain(rand(1, 3, 16, 16), new GradCam(), bad));
        Assert.Contains("one score per sample", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => explainer.Explain(rand(1, 3, 16, 16), new GradCam(), Target.Class(10)));
    }

    [Fact]
    public void Targets_parse_from_the_command_line_forms()
    {
        Assert.Equal("all outputs", Target.Parse("all").Description);
        Assert.Equal("top", Target.Parse("top").Description);
        Assert.Equal(7, Target.Parse("7").ClassIndex);
        Assert.Equal("top 3", Target.Parse("topk:3").Description);
        Assert.Equal("outputs 1,2,5", Target.Parse("indices:1,2,5").Description);
        Assert.Throws<FormatException>(() => Target.Parse("topk:0"));
        Assert.Throws<FormatException>(() => Target.Parse("indices:a"));
        Assert.Throws<FormatException>(() => Target.Parse("everything"));
    }
}
