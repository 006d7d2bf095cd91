using System.Globalization;
using TorchSharp;

namespace LiveCam.Explain.Layers;

/// <summary>Which layer to explain: by module path name, by position in the trace, or by a rule.</summary>
public abstract record LayerSelector
{
    public sealed record ByName(string Name) : LayerSelector
    {
        public override string ToString() => Name;
    }

    public sealed record ByIndex(int Index) : LayerSelector
    {
        public override string ToString() => $"index:{Index}";
    }

    /// <summary>The last convolution the input goes through: the default for CAM methods.</summary>
    public sealed record LastConv : LayerSelector
    {
        public override string ToString() => "last-conv";
    }
    /// <summary>Several layers explained one by one and combined into one map (<c>layer3,layer4</c>).</summary>
    public sealed record Several(IReadOnlyList<LayerSelector> Layers) : LayerSelector
    {
        public override string ToString() => string.Join(',', Layers);
    }

    public static LayerSelector Default { get; } = new LastConv();

    /// <summary><c>last-conv</c>, <c>index:N</c> (or a bare number when no module has that name), or a module path
    /// name; several of them separated by commas.</summary>
    public static LayerSelector Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(',', StringComparison.Ordinal))
        {
            var parts = text.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Any(p => p.Length == 0))
                throw new FormatException($"'{text}': an empty layer name between commas");
            return new Several(parts.Select(Parse).ToList());
        }
        var t = text.Trim();
        if (t.Equals("last-conv", StringComparison.OrdinalIgnoreCase)) return new LastConv();
        if (t.StartsWith("index:", StringComparison.OrdinalIgnoreCase))
        {
            if (!int.TryParse(t["index:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                throw new FormatException($"'{text}': expected index:N");
            return new ByIndex(i);
        }
        if (t.Length == 0) throw new FormatException("empty layer name");
        return new ByName(t);
    }

    /// <summary>The module path name this selects, given the model's trace.</summary>
    public string Resolve(torch.nn.Module model, IReadOnlyList<LayerInfo> trace)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trace);
        switch (this)
        {
            case ByName n:
                // A bare number that names no module means a position.
                if (int.TryParse(n.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    && !model.named_modules().Any(m => m.name == n.Name))
                    return new ByIndex(index).Resolve(model, trace);
                ModuleTree.Find(model, n.Name);
                return n.Name;
            case ByIndex i:
                if (i.Index < 0 || i.Index >= trace.Count)
                    throw new ArgumentException($"layer index {i.Index} is out of range: "
                        + $"the model has {trace.Count} layers (0..{trace.Count - 1})");
                return trace[i.Index].Name;
            case Several several:
                return string.Join(',', several.Layers.Select(l => l.Resolve(model, trace)));
            case LastConv:
                return trace.LastOrDefault(l => l.Type.StartsWith("Conv", StringComparison.Ordinal))?.Name
                    ?? throw new ArgumentException("the model has no convolution layer; name a layer");
            default:
                throw new InvalidOperationException(GetType().Name);
        }
    }
}
