using static TorchSharp.torch;

namespace LiveCam.Explain.Layers;

/// <summary>Finds modules by their path name (<c>encoder.6</c>, <c>layer4.1.conv2</c>, <c>layer4</c>), however deeply
/// nested.</summary>
public static class ModuleTree
{
    public static nn.Module<Tensor, Tensor> Find(nn.Module model, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(name);
        if (model is INamedLayers named && named.ModulePath(name) is { } modulePath) name = modulePath;
        foreach (var (path, module) in model.named_modules())
        {
            if (path != name) continue;
            return module as nn.Module<Tensor, Tensor>
                ?? throw new ArgumentException(
                    $"layer '{name}' ({module.GetType().Name}) does not map one tensor to one tensor");
        }
        var names = model.named_modules().Select(m => m.name).Where(n => n.Length > 0).ToList();
        var near = names.Where(n => n.StartsWith(name.Split('.')[0], StringComparison.Ordinal)).Take(8).ToList();
        throw new ArgumentException($"no layer named '{name}'" + (near.Count > 0
            ? $"; try {string.Join(", ", near)}"
            : $"; layers start with {string.Join(", ", names.Take(6))}"));
    }

    /// <summary>Modules without children, with their path names.</summary>
    public static IEnumerable<(string Name, nn.Module Module)> Leaves(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.named_modules().Where(m => m.name.Length > 0 && !m.module.children().Any());
    }
}
