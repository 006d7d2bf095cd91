using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Visualisations;

/// <summary>
/// DeepDream (Mordvintsev, Olah and Tyka 2015, "Inceptionism: Going Deeper into Neural Networks"): the image is changed
/// by gradient ascent to amplify whatever a layer already sees in it. Objective: the mean of the layer's squared
/// activations (or of the activations themselves with <c>squared: false</c>); several layers (<c>layer3,layer4</c>) add
/// their objectives. The forward pass stops once the layers are reached, so the rest of the network costs nothing.
/// </summary>
/// <example><code>
/// var dream = new DeepDream(model.CreateExplainer(), LayerSelector.Parse("layer3"), model.InputRange);
/// var dreamed = dream.Run(model.Preprocess(image), new AscentSettings(Steps: 20, Jitter: 8, Octaves: 4));
/// </code></example>
public sealed class DeepDream(
    Explainer explainer, LayerSelector layer, InputRange range, bool squared = true, int seed = 0)
    : GradientAscent(explainer, range, seed)
{
    public LayerSelector Layer { get; } = layer ?? throw new ArgumentNullException(nameof(layer));

    protected override Func<Tensor, Tensor> Begin(HookSet hooks, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        ArgumentNullException.ThrowIfNull(input);
        var names = Explainer.ResolveLayer(input, Layer).Name.Split(',');
        var captured = new Tensor?[names.Length];
        DisposeScope? owner = null;
        for (int i = 0; i < names.Length; i++)
        {
            int k = i;
            hooks.AddForwardHook(ModuleTree.Find(Explainer.Model, names[i]), (_, _, output) =>
            {
                // Kept in the graph back to the input. TorchVision models run forward in a dispose scope of their own:
                // the kept tensor moves to the pass's. The model goes on with a copy, so an in-place ReLU after the
                // layer cannot change the values the objective reads.
                if (!owner!.Contains(output)) output.MoveToOtherDisposeScope(owner);
                captured[k] = output;
                if (captured.All(c => c is not null)) throw new LayersReached();
                return output.clone();
            });
        }
        return x =>
        {
            // The activations' handles go with this pass; the graph keeps what the gradient needs.
            using var pass = NewDisposeScope();
            owner = pass;
            Array.Clear(captured);
            try { Explainer.Model.call(x); }
            catch (LayersReached) { }
            finally { owner = null; }
            Tensor? total = null;
            for (int i = 0; i < names.Length; i++)
            {
                var a = captured[i]
                    ?? throw new ArgumentException($"layer '{names[i]}' is not reached by the forward pass");
                var term = squared ? a.square().mean() : a.mean();
                total = total is null ? term : total + term;
            }
            return total!.MoveToOuterDisposeScope();
        };
    }

    /// <summary>Thrown by the last layer's hook to end the forward pass there.</summary>
    sealed class LayersReached : Exception;
}
