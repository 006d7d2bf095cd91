using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>What a method needs for one call: the model (already in eval mode, parameters frozen),
/// the input on the model's device, the target, the layer, and the scope its tensors live in.</summary>
public sealed class ExplainRun
{
    internal ExplainRun(nn.Module<Tensor, Tensor> model, Tensor input, Target target, LayerInfo? layer, IReadOnlyList<LayerInfo> trace, DisposeScope scope)
    {
        Model = model;
        Input = input;
        Target = target;
        Layer = layer;
        Trace = trace;
        Scope = scope;
    }

    public nn.Module<Tensor, Tensor> Model { get; }
    public Tensor Input { get; }
    public Target Target { get; }
    public LayerInfo? Layer { get; }
    public IReadOnlyList<LayerInfo> Trace { get; }
    public DisposeScope Scope { get; }

    /// <summary>The same call for another target.</summary>
    public ExplainRun WithTarget(Target target) => new(Model, Input, target, Layer, Trace, Scope);

    public LayerInfo RequireLayer(string method) =>
        Layer ?? throw new ArgumentException($"{method} explains a layer; none was chosen");

    public static ExplanationSet Result(Tensor output, IEnumerable<Explanation> items)
    {
        using var cpu = output.detach().to_type(ScalarType.Float32).cpu().contiguous();
        return new ExplanationSet(cpu.data<float>().ToArray(), output.shape.ToArray(), items.ToList());
    }
}
