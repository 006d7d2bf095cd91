using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>What a method needs for one call: the model (already in eval mode, parameters frozen),
/// the input on the model's device, the target, the layer, and the scope its tensors live in.</summary>
public sealed class ExplainRun
{
    internal ExplainRun(
        nn.Module<Tensor, Tensor> model, ModelTraits traits, Tensor input, Target target, LayerInfo? layer,
        IReadOnlyList<LayerInfo> trace, DisposeScope scope)
    {
        Model = model;
        Traits = traits;
        Input = input;
        Target = target;
        Layer = layer;
        Trace = trace;
        Scope = scope;
    }

    public nn.Module<Tensor, Tensor> Model { get; }
    public ModelTraits Traits { get; }
    public Tensor Input { get; }
    public Target Target { get; }
    public LayerInfo? Layer { get; }
    public IReadOnlyList<LayerInfo> Trace { get; }
    public DisposeScope Scope { get; }

    /// <summary>The same call for another target.</summary>
    public ExplainRun WithTarget(Target target) => new(Model, Traits, Input, target, Layer, Trace, Scope);

    /// <summary>The same call on another input of the same shape (an augmented copy), for
    /// <paramref name="target"/>.</summary>
    public ExplainRun WithInput(Tensor input, Target target) => new(Model, Traits, input, target, Layer, Trace, Scope);

    /// <summary>The target's confidence in <paramref name="output"/> [N]: a class's softmax probability when the
    /// outputs are a classifier's logits, the target's score as it is otherwise (a regression model's
    /// outputs).</summary>
    public Tensor Confidence(Target target, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(output);
        if (Traits.OutputsAreClassLogits && target.ClassIndex is { } k)
        {
            var logits = output.reshape(output.shape[0], -1);
            if (k < 0 || k >= logits.shape[1]) return target.ScoreOf(output);  // its own clear error
            return nn.functional.softmax(logits, 1)[.., k];
        }
        return target.ScoreOf(output);
    }

    public LayerInfo RequireLayer(string method) =>
        Layer ?? throw new ArgumentException($"{method} explains a layer; none was chosen");

    public static ExplanationSet Result(Tensor output, IEnumerable<Explanation> items)
    {
        using var cpu = output.detach().to_type(ScalarType.Float32).cpu().contiguous();
        return new ExplanationSet(cpu.data<float>().ToArray(), output.shape.ToArray(), items.ToList());
    }
}
