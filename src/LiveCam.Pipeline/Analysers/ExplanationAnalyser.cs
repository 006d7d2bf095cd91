using LiveCam.Core;
using LiveCam.Explain;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using static TorchSharp.torch;

namespace LiveCam.Pipeline.Analysers;

/// <summary>
/// The analysis stage with a model: preprocess the frame, run the model and the explanation in one pass,
/// and hand on the small heatmap and the outputs. One dispose scope per frame; nothing torch leaves it.
/// </summary>
public sealed class ExplanationAnalyser : IAnalyser
{
    readonly VisionModel _model;
    readonly Explainer _explainer;

    public ExplanationAnalyser(VisionModel model, ExplanationMethod method, LayerSelector layer, Target target)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        Method = method ?? throw new ArgumentNullException(nameof(method));
        Layer = layer ?? throw new ArgumentNullException(nameof(layer));
        Target = target ?? throw new ArgumentNullException(nameof(target));
        _explainer = new Explainer(model.Network);
        using var scope = NewDisposeScope();
        // Resolve the layer now: a wrong name fails before the run starts.
        LayerInfo = method.ExplainsLayer ? _explainer.ResolveLayer(model.ExampleInput(), layer) : null;
    }

    public ExplanationMethod Method { get; }
    public LayerSelector Layer { get; }
    public Target Target { get; }
    public LayerInfo? LayerInfo { get; }

    public string Name => $"{_model.Name}: {Describe()}";

    string Describe() =>
        LayerInfo is null ? $"{Method.Name}, target {Target.Description}" : $"{Method.Name} @ {LayerInfo.Name} ({LayerInfo.ShapeText}), target {Target.Description}";

    public Analysis Analyse(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        using var scope = NewDisposeScope();
        var input = _model.Preprocess(frame.Pixels);
        var set = _explainer.Explain(input, Method, Target, Layer);
        var first = set.Items[0];
        var region = _model.InputRegion(frame.Width, frame.Height);
        return new Analysis(frame.Sequence, frame.CaptureTime, MonotonicClock.Now, Name)
        {
            Heatmap = new HeatmapImage(first.Map.Height, first.Map.Width, first.Map.Normalised),
            HeatmapRegion = new PixelRect(region.X, region.Y, region.Width, region.Height),
            Outputs = set.Outputs,
            Kind = _model.Kind,
            ExplainedOutput = first.ClassIndex,
            Description = Describe(),
        };
    }
}
