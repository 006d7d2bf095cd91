using LiveCam.Explain.Engine;
using static TorchSharp.torch;

namespace LiveCam.Explain.Layers;

/// <summary>
/// The article's <c>module2traced</c>: one forward pass with a hook on every leaf module lists the layers
/// in the order the input traverses them, whatever the nesting.
/// </summary>
public static class LayerTracer
{
    public static IReadOnlyList<LayerInfo> Trace(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        var layers = new List<LayerInfo>();
        var seen = new HashSet<string>();
        using var scope = NewDisposeScope();
        using var state = ModelStateGuard.ForInference(model);
        using var hooks = new HookSet();
        foreach (var (name, module) in ModuleTree.Leaves(model))
        {
            if (module is not nn.Module<Tensor, Tensor> leaf) continue;
            var named = model as INamedLayers;
            var layerName = named?.LayerName(name) ?? name;
            var layerType = named?.LayerType(name);
            bool channelsLast = named?.LayerLayout(name) == "NHWC";
            hooks.AddForwardHook(leaf, (m, _, output) =>
            {
                // A module used twice (a shared ReLU) is listed where the input first reaches it.
                if (seen.Add(layerName))
                    layers.Add(new LayerInfo(
                        layers.Count, layerName, layerType ?? m.GetType().Name, output.shape.ToArray())
                    {
                        ChannelsLast = channelsLast
                    });
                return output;
            });
        }
        using (no_grad())
            model.call(input.to(state.Device));
        return layers;
    }
}
