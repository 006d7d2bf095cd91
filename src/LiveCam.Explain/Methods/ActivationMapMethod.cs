using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// The CAM family: one forward pass captures the layer's activations A [N, C, h, w]; for each target the
/// gradient dScore/dA (only back to that layer) and a method-specific rule give a map [N, h, w].
/// All targets (top-k classes) share that one forward pass.
/// </summary>
public abstract class ActivationMapMethod : ExplanationMethod
{
    public override bool ExplainsLayer => true;

    /// <summary>Whether <see cref="Map"/> needs the gradient of the score with respect to A.</summary>
    protected virtual bool UsesGradients => true;

    /// <summary>The map [N, h, w] (any sign; negative values are cut when it becomes a heatmap).</summary>
    /// <param name="gradients">dScore/dA, or null when <see cref="UsesGradients"/> is false.</param>
    protected abstract Tensor Map(Tensor activations, Tensor? gradients, MapContext context);

    /// <summary>Extra hooks a method needs in the same forward pass (CAM captures the classifier's output);
    /// what it returns reaches <see cref="Map"/> as <see cref="MapContext.State"/>.</summary>
    protected virtual object? AddCaptures(HookSet hooks, ExplainRun run) => null;

    /// <summary>Whether the forward pass must record a graph (some capture needs gradients).</summary>
    protected virtual bool RecordsGraph => UsesGradients;

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var layer = run.RequireLayer(Name);
        Tensor output;
        Tensor? captured = null;
        object? state;
        using (var hooks = new HookSet())
        {
            state = AddCaptures(hooks, run);
            // Without gradients or other captures, a network that keeps its layers' values hands the layer over.
            (Tensor Output, Tensor Layer)? direct = null;
            if (!RecordsGraph && hooks.Count == 0 && run.Model is ILayerValues layerValues)
                using (no_grad()) direct = layerValues.ForwardWithLayer(run.Input, layer.Name);
            if (direct is { } given) (output, captured) = given;
            else
            {
                var capture = new ActivationCapture(
                    hooks, ModuleTree.Find(run.Model, layer.Name), run.Scope, UsesGradients);
                using (RecordsGraph ? enable_grad() : no_grad())
                    output = run.Model.call(run.Input);
                captured = capture.Activation;
            }
        }
        if (captured is null) throw new ArgumentException($"layer '{layer.Name}' was not reached by the forward pass");
        // A layer laid out [N, H, W, C] is read as [N, C, H, W]: the same values, so every rule applies unchanged.
        var a = layer.ChannelsLast && captured.ndim == 4 ? captured.permute(0, 3, 1, 2) : captured;
        if (a.ndim != 4)
            throw new ArgumentException($"{Name} needs a layer with a [N, C, H, W] output; "
                + $"'{layer.Name}' gives [{string.Join(", ", a.shape)}]");

        var targets = run.Target.Resolve(output);
        var items = new List<Explanation>();
        for (int t = 0; t < targets.Count; t++)
        {
            var score = targets[t].ScoreOf(output);
            Tensor? grads = null;
            if (UsesGradients)
            {
                grads = autograd.grad([score.sum()], [captured], retain_graph: true)[0];
                if (!ReferenceEquals(a, captured)) grads = grads.permute(0, 3, 1, 2);
            }
            using var map = Map(a, grads, new MapContext(run, output, score, targets[t], state));
            for (int n = 0; n < map.shape[0]; n++)
                items.Add(new Explanation(
                    Name, targets[t].Description, targets[t].ClassIndex, n, layer, Heatmap.FromTensor(map[n]),
                    AtInputResolution: false));
        }
        return ExplainRun.Result(output, items);
    }

    /// <summary>Channel weights [N, C] applied to the activations: relu is left to the heatmap.</summary>
    protected static Tensor Weighted(Tensor activations, Tensor weights) =>
        (weights.unsqueeze(-1).unsqueeze(-1) * activations).sum(1);

    /// <summary>A [count, width] tensor of <paramref name="other"/> whose row b holds <paramref name="value"/> at
    /// column start + b: one batch of the one-channel-or-cell-at-a-time methods (Ablation-CAM, ReciproCAM).</summary>
    protected static Tensor OneColumnPerRow(long count, long width, long start, double value, double other,
        Tensor like)
    {
        var rows = full(count, width, other, device: like.device, dtype: like.dtype);
        rows.index_put_(
            full(1, value, device: like.device, dtype: like.dtype),
            arange(count, device: like.device),
            arange(start, start + count, device: like.device));
        return rows;
    }
}

/// <summary>What a map rule may look at besides A and its gradient.</summary>
public sealed record MapContext(ExplainRun Run, Tensor Output, Tensor Score, Target Target, object? State);
