using LiveCam.Explain.Engine;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Visualisations;

/// <summary>
/// Class model visualisation (Simonyan, Vedaldi and Zisserman 2013, "Deep Inside Convolutional Networks"): the image
/// that maximises a target's score S(I) - λ‖I / e‖², by gradient ascent from the mean image (all zeros in the model's
/// units) or from a given image. The score is the raw output (a classifier's logit, not its softmax probability), so
/// any output of any model works: a class, a robot's sensor reading, a feature unit. <c>e</c> is the input range's
/// extent, so λ weighs the same for models whose inputs are in different units.
/// </summary>
/// <example><code>
/// var visual = new ClassModel(model.CreateExplainer(), Target.Class(281), model.InputRange, l2: 1e-4f);
/// var image = visual.Run(model.ExampleInput(), new AscentSettings(Steps: 100, Jitter: 4));
/// </code></example>
public sealed class ClassModel(Explainer explainer, Target target, InputRange range, float l2 = 0, int seed = 0)
    : GradientAscent(explainer, range, seed)
{
    public Target Target { get; } = target ?? throw new ArgumentNullException(nameof(target));
    public float L2 { get; } =
        l2 >= 0 && !float.IsInfinity(l2) ? l2 : throw new ArgumentOutOfRangeException(nameof(l2), "λ is 0 or more");

    protected override Func<Tensor, Tensor> Begin(HookSet hooks, Tensor input) => x =>
    {
        ArgumentNullException.ThrowIfNull(x);
        using var pass = NewDisposeScope();
        var output = Explainer.Model.call(x);
        if (Target.Resolve(output) is not [var one])
            throw new ArgumentException($"target '{Target}' is several outputs; give one");
        var score = one.ScoreOf(output).sum();
        var objective = L2 > 0 ? score - L2 * (x / Range.Extent(x)).square().sum() : score;
        return objective.MoveToOuterDisposeScope();
    };
}
