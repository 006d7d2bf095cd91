using LiveCam.Explain.Layers;
using static TorchSharp.torch;

namespace LiveCam.Models.Teach;

/// <summary>A network whose weights change while it runs (a head taught live). It takes its newest weights when
/// asked, on the thread that runs it, before an analysis begins, so one analysis sees one set of weights.</summary>
public interface IUpdatedWhileRunning
{
    void TakeNewest();
}

/// <summary>
/// A backbone with a taught linear head on its pooled features: the classes' logits, or the features themselves
/// while the head is untrained. The backbone's layers keep their names (<c>layer4</c>, an ONNX tensor's name); the
/// logits are the layer <c>head</c>. Gradients flow through the head into the backbone, so every explanation method
/// explains a taught class as it does any other class.
/// </summary>
public sealed class TaughtNetwork : nn.Module<Tensor, Tensor>, INamedLayers, IBiasedLayers, IUpdatedWhileRunning
{
    const string BackbonePrefix = "backbone.", HeadName = "head";
    readonly nn.Module<Tensor, Tensor> backbone;  // registered by field name: its modules' paths start "backbone."
    readonly TaughtLinear head;
    readonly HashSet<string> _backboneModules;
    TaughtHead? _offered;

    /// <param name="backbone">Owned: disposed with this network.</param>
    public TaughtNetwork(nn.Module<Tensor, Tensor> backbone, TaughtHead? taught, Device device)
        : base(nameof(TaughtNetwork))
    {
        this.backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        head = new TaughtLinear(device ?? throw new ArgumentNullException(nameof(device)));
        RegisterComponents();
        _backboneModules = backbone.named_modules().Select(m => m.name).Where(n => n.Length > 0).ToHashSet();
        if (taught is not null)
        {
            Offer(taught);
            TakeNewest();
        }
    }

    /// <summary>Where a module of the backbone is in this network.</summary>
    public static string BackbonePath(string modulePath) => BackbonePrefix + modulePath;

    /// <summary>The head the next analysis uses (any thread).</summary>
    public void Offer(TaughtHead taught) =>
        Volatile.Write(ref _offered, taught ?? throw new ArgumentNullException(nameof(taught)));

    /// <summary>The head the network runs now.</summary>
    public TaughtHead? Current => head.Taught;

    public void TakeNewest()
    {
        if (Volatile.Read(ref _offered) is { } offered && !ReferenceEquals(offered, head.Taught)) head.Use(offered);
    }

    public override Tensor forward(Tensor input) => head.call(backbone.call(input).flatten(1));

    public string? ModulePath(string layerName)
    {
        ArgumentNullException.ThrowIfNull(layerName);
        if (layerName == HeadName) return HeadName;
        if (backbone is INamedLayers named)
            return named.ModulePath(layerName) is { } inner ? BackbonePrefix + inner : null;
        return _backboneModules.Contains(layerName) ? BackbonePrefix + layerName : null;
    }

    public string LayerName(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (!modulePath.StartsWith(BackbonePrefix, StringComparison.Ordinal)) return modulePath;
        var inner = modulePath[BackbonePrefix.Length..];
        return backbone is INamedLayers named ? named.LayerName(inner) : inner;
    }

    public string? LayerType(string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        if (modulePath == HeadName) return "TaughtLinear";
        return modulePath.StartsWith(BackbonePrefix, StringComparison.Ordinal) && backbone is INamedLayers named
            ? named.LayerType(modulePath[BackbonePrefix.Length..]) : null;
    }

    public IEnumerable<(string ModulePath, Tensor Bias)> ConvolutionBiases() =>
        backbone is IBiasedLayers biased
            ? biased.ConvolutionBiases().Select(b => (BackbonePrefix + b.ModulePath, b.Bias))
            : [];

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            backbone.Dispose();
            head.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>The head's weights as tensors (not parameters: an explanation never trains them).</summary>
    sealed class TaughtLinear(Device device) : nn.Module<Tensor, Tensor>(nameof(TaughtLinear))
    {
        Tensor? _weight, _bias;

        public TaughtHead? Taught { get; private set; }

        public void Use(TaughtHead taught)
        {
            Tensor? weight = null, bias = null;
            if (taught.IsTrained)
            {
                weight = tensor(taught.Weight, [taught.Classes.Count, taught.FeatureCount], device: device)
                    .DetachFromDisposeScope();
                bias = tensor(taught.Bias, [taught.Classes.Count], device: device).DetachFromDisposeScope();
            }
            _weight?.Dispose();
            _bias?.Dispose();
            (_weight, _bias, Taught) = (weight, bias, taught);
        }

        public override Tensor forward(Tensor features)
        {
            if (_weight is null || Taught is not { } taught) return features;
            if (features.shape[^1] != taught.FeatureCount)
                throw new InvalidOperationException(
                    $"the head takes {taught.FeatureCount} features; the network makes {features.shape[^1]}");
            var unit = features / features.norm(1, keepdim: true).clamp_min(1e-12);
            return nn.functional.linear(unit, _weight, _bias);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _weight?.Dispose();
                _bias?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
