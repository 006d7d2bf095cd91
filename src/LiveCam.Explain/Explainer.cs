using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain;

/// <summary>
/// Explains a TorchSharp model's predictions. Each call owns everything it changes: the model is put in
/// eval mode with its parameters frozen, hooks are added, and all of it is undone in <c>finally</c>, even when
/// the method or the target throws. Tensors made by a call live in one dispose scope; only managed results leave it.
/// </summary>
/// <example><code>
/// var explainer = new Explainer(model);
/// var set = explainer.Explain(input, new GradCam(), Target.Top());
/// var map = set.Items[0].Map.Normalised;   // [h * w], 0..1
/// </code></example>
public sealed class Explainer(nn.Module<Tensor, Tensor> model, ModelTraits? traits = null)
{
    // Before any network runs, the CPU kernels are checked (and corrected where the processor misleads them).
    static Explainer() => Kernels.CpuKernels.EnsureChecked();

    readonly Dictionary<string, IReadOnlyList<LayerInfo>> _traces = [];
    readonly Dictionary<string, LayerInfo> _containers = [];

    public nn.Module<Tensor, Tensor> Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>What the methods must know about the model beyond its modules.</summary>
    public ModelTraits Traits { get; } = traits ?? ModelTraits.None;

    /// <summary>The model's layers in the order an input of this shape traverses them (traced once per
    /// shape).</summary>
    public IReadOnlyList<LayerInfo> Layers(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var key = string.Join('x', input.shape);
        lock (_traces)
        {
            if (!_traces.TryGetValue(key, out var trace)) _traces[key] = trace = LayerTracer.Trace(Model, input);
            return trace;
        }
    }

    /// <summary>The layer a selector picks, with its traced shape; containers (<c>layer4</c>) are traced on
    /// demand.</summary>
    public LayerInfo ResolveLayer(Tensor input, LayerSelector selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        if (selector is LayerSelector.Several several)
        {
            // Described by the finest of its layers: the combined map has that one's resolution.
            var parts = several.Layers.Select(l => ResolveLayer(input, l)).ToList();
            var finest = parts.MaxBy(p => p.OutputShape.Count == 4 ? p.OutputShape[2] * p.OutputShape[3] : 0)!;
            return new LayerInfo(-1, string.Join(',', parts.Select(p => p.Name)), "layers", finest.OutputShape);
        }
        // Resolved once per input shape, as the trace is: a live view asks for the same layer every frame.
        var shape = string.Join('x', input.shape);
        lock (_resolved)
            if (_resolved.TryGetValue((shape, selector), out var resolved)) return resolved;
        var trace = Layers(input);
        var name = selector.Resolve(Model, trace);
        LayerInfo? info = trace.FirstOrDefault(l => l.Name == name);
        if (info is null)
        {
            // A container's shape costs a forward pass to learn: once per input shape.
            var key = shape + "/" + name;
            lock (_containers)
                if (!_containers.TryGetValue(key, out info)) _containers[key] = info = TraceContainer(input, name);
        }
        lock (_resolved) _resolved[(shape, selector)] = info;
        return info;
    }

    readonly Dictionary<(string Shape, LayerSelector Selector), LayerInfo> _resolved = [];

    LayerInfo TraceContainer(Tensor input, string name)
    {
        var module = ModuleTree.Find(Model, name);
        long[]? shape = null;
        using var scope = NewDisposeScope();
        using var state = ModelStateGuard.ForInference(Model);
        using (var hooks = new HookSet())
        {
            hooks.AddForwardHook(module, (_, _, output) =>
            {
                shape ??= output.shape.ToArray();
                return output;
            });
            using (no_grad()) Model.call(input.to(state.Device));
        }
        if (shape is null) throw new ArgumentException($"layer '{name}' is not reached by the forward pass");
        return new LayerInfo(-1, name, module.GetType().Name, shape);
    }

    /// <summary>A layer's output for <paramref name="input"/> (the article's feature maps), detached, owned by the
    /// caller's scope.</summary>
    public Tensor Activations(Tensor input, LayerSelector layer)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layer);
        var name = ResolveLayer(input, layer).Name;
        Tensor? captured = null;
        using var state = ModelStateGuard.ForInference(Model);
        using (var scope = NewDisposeScope())
        {
            if (Model is ILayerValues layerValues)
                using (no_grad())
                    if (layerValues.ForwardWithLayer(input.to(state.Device), name) is { } given)
                        return given.Layer.MoveToOuterDisposeScope();
            using (var hooks = new HookSet())
            {
                var capture = new ActivationCapture(hooks, ModuleTree.Find(Model, name), scope, forGradients: false);
                using (no_grad()) Model.call(input.to(state.Device));
                captured = capture.Activation;
            }
            return (captured ?? throw new ArgumentException($"layer '{name}' was not reached"))
                .MoveToOuterDisposeScope();
        }
    }

    /// <summary>Explains <paramref name="input"/> [N, C, H, W] for <paramref name="target"/>.</summary>
    /// <param name="layer">For methods that explain a layer; default <see cref="LayerSelector.LastConv"/>.</param>
    public ExplanationSet Explain(Tensor input, ExplanationMethod method, Target target, LayerSelector? layer = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        if (input.ndim != 4)
            throw new ArgumentException($"input must be [N, C, H, W], not [{string.Join(", ", input.shape)}]");

        if (method.ExplainsLayer && layer is LayerSelector.Several several)
            return ExplainSeveral(input, method, target, several);
        var layerInfo = method.ExplainsLayer ? ResolveLayer(input, layer ?? LayerSelector.Default) : null;
        var trace = Layers(input);
        using var scope = NewDisposeScope();
        using var state = ModelStateGuard.ForInference(Model);
        var run = new ExplainRun(Model, Traits, input.to(state.Device).detach(), target, layerInfo, trace, scope);
        return method.Run(run);
    }

    /// <summary>Each layer explained on its own, each map cut at zero and scaled by its maximum, resized (bilinear) to
    /// the finest layer's resolution and averaged: pytorch-grad-cam's way of combining target layers, kept at the
    /// finest layer's resolution rather than the input's.</summary>
    ExplanationSet ExplainSeveral(Tensor input, ExplanationMethod method, Target target, LayerSelector.Several several)
    {
        var combined = ResolveLayer(input, several);
        var sets = several.Layers.Select(l => Explain(input, method, target, l)).ToList();
        var (height, width) = ((int)combined.OutputShape[2], (int)combined.OutputShape[3]);
        var items = new List<Explanation>();
        using var scope = NewDisposeScope();
        for (int i = 0; i < sets[0].Items.Count; i++)
        {
            var sum = zeros(1, 1, height, width);
            foreach (var set in sets)
            {
                var map = set.Items[i].Map;
                using var t = tensor(map.Normalised, [1, 1, map.Height, map.Width]);
                sum += map.Height == height && map.Width == width ? t
                    : nn.functional.interpolate(
                        t, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
            }
            var first = sets[0].Items[i];
            items.Add(first with { Layer = combined, Map = Heatmap.FromTensor((sum / sets.Count)[0, 0]) });
        }
        return sets[0] with { Items = items };
    }
}
