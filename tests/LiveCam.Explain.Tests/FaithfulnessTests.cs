using LiveCam.Explain.Metrics;
using LiveCam.Explain.Targets;
using static LiveCam.Explain.Tests.TestModels;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class FaithfulnessTests
{
    [Fact]
    public void The_area_under_a_curve_is_the_trapezoid_rule_over_fractions_zero_to_one()
    {
        Assert.Equal(0.5, Faithfulness.Auc([1, 0]), 12);
        Assert.Equal(1.0, Faithfulness.Auc([1, 1, 1, 1]), 12);
        Assert.Equal(0.5, Faithfulness.Auc([0, 0.5, 1, 0]), 12);  // (0.25 + 0.75 + 0.5) / 3
    }

    [Fact]
    public void Imputation_fills_removed_pixels_from_their_neighbours_a_ramp_exactly()
    {
        using var scope = NewDisposeScope();
        // A linear ramp is what the neighbour average reproduces (its weights are symmetric): any hole fills back to
        // it.
        var ramp = (arange(24, dtype: ScalarType.Float64).reshape(1, 1, 1, 24) * 0.5
                + arange(16, dtype: ScalarType.Float64).reshape(1, 1, 16, 1) * 0.25)
            .expand(1, 3, 16, 24).contiguous();
        var keep = ones(1, 16, 24, dtype: ScalarType.Float64);
        keep[.., 3..9, 4..20] = 0;  // a block
        keep[.., 12, 2] = 0;        // a single pixel
        var filled = Faithfulness.Impute(ramp, keep, noise: 0, iterations: 2000, residual: 1e-10);
        Assert.True((filled - ramp).abs().max().item<double>() < 1e-6,
            $"largest error {(filled - ramp).abs().max().item<double>()}");
        // Noise goes only where pixels were removed.
        var noisy = Faithfulness.Impute(ramp, keep, noise: 0.1, generator: new Generator(1));
        Assert.Equal(0, ((noisy - ramp) * keep).abs().max().item<double>(), 12);
        Assert.True(((noisy - ramp) * (1 - keep)).abs().max().item<double>() > 0.01);
    }

    [Fact]
    public void A_map_on_the_evidence_beats_a_random_map_and_its_inverse_does_worst()
    {
        using var scope = NewDisposeScope();
        var model = new RedSquareNet();
        model.eval();
        var input = RedSquare(10, 14);
        var onSquare = zeros(32, 32);
        onSquare[14..20, 10..16] = 1;
        onSquare += rand(32, 32, generator: new Generator(3)) * 0.01;  // an order among the rest
        var random = rand(32, 32, generator: new Generator(4));
        var metrics = new Faithfulness(model, new ModelTraits(OutputsAreClassLogits: true), steps: 16);
        var target = Target.Class(0);
        var good = metrics.Evaluate(input, target, onSquare);
        var chance = metrics.Evaluate(input, target, random);
        var inverse = metrics.Evaluate(input, target, -onSquare);

        Assert.True(good.Deletion < chance.Deletion && chance.Deletion < inverse.Deletion,
            $"deletion {good.Deletion} < {chance.Deletion} < {inverse.Deletion}");
        Assert.True(good.Insertion > chance.Insertion && chance.Insertion > inverse.Insertion,
            $"insertion {good.Insertion} > {chance.Insertion} > {inverse.Insertion}");
        Assert.True(good.RoadMostRelevantFirst < inverse.RoadMostRelevantFirst,
            $"ROAD MoRF {good.RoadMostRelevantFirst} < {inverse.RoadMostRelevantFirst}");
        Assert.True(good.RoadLeastRelevantFirst > inverse.RoadLeastRelevantFirst,
            $"ROAD LeRF {good.RoadLeastRelevantFirst} > {inverse.RoadLeastRelevantFirst}");
        Assert.True(good.Drop < inverse.Drop, $"average drop {good.Drop} < {inverse.Drop}");
    }

    [Fact]
    public void The_model_runs_in_evaluation_mode_and_is_left_as_it_was_found()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding: 1), nn.Dropout(0.5), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2));
        model.train();
        var input = rand(1, 3, 16, 16, generator: new Generator(5));
        var saliency = rand(16, 16, generator: new Generator(6));
        var metrics = new Faithfulness(model, new ModelTraits(OutputsAreClassLogits: true), steps: 4);
        var first = metrics.Evaluate(input, Target.Class(1), saliency);
        var second = metrics.Evaluate(input, Target.Class(1), saliency);
        Assert.Equal(first, second);  // dropout on would draw new masks each time
        Assert.True(model.training);
    }
}
