namespace LiveCam.Explain.Methods;

/// <summary>Every explanation method, in the order the keys step through them: one line each, the method's name
/// coming from the method itself. A new method is its class and a line here.</summary>
public static class MethodCatalog
{
    public static IReadOnlyList<MethodEntry> All { get; } =
    [
        new(() => new GradCam(), "grad-cam"),
        new(() => new GradCamPlusPlus(), "grad-cam++", "gradcampp"),
        new(() => new XGradCam()),
        new(() => new LayerCam()),
        new(() => new HiResCam()),
        new(() => new GradCamElementWise(), "gradcamelementwise"),
        new(() => new EigenCam()),
        new(() => new EigenGradCam()),
        new(() => new KpcaCam(), "kpca-cam"),
        new(() => new ScoreCam()),
        new(() => new AblationCam(), "ablation-cam"),
        new(() => new ReciproCam(), "recipro-cam"),
        new(() => new Cam()),
        new(() => new Saliency()),
        new(() => new GuidedBackprop(), "guided"),
        new(() => new GuidedGradCam()),
        new(() => new SmoothGrad(new Saliency())),
        new(() => new SmoothGrad(new GuidedBackprop())),
        new(() => new IntegratedGradients(), "ig"),
        new(() => new FullGrad()),
        new(() => new Occlusion()),
        new(() => new Rise()),
        new(() => new DRise(), "drise"),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(e => e.Name).ToList();

    static readonly Dictionary<string, MethodEntry> s_byName = All
        .SelectMany(e => e.Aliases.Prepend(e.Name).Select(name => (name, e)))
        .ToDictionary(t => t.name, t => t.e, StringComparer.Ordinal);

    /// <summary>The method named <paramref name="name"/>; <c>smoothgrad:X</c> wraps gradient method X.</summary>
    public static ExplanationMethod Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var n = name.Trim().ToLowerInvariant();
        // A method's own name gives it back: test-time augmentation (--smooth aug) names itself "<inner>+aug".
        if (n.EndsWith("+aug", StringComparison.Ordinal)) return new AugmentationSmoothing(Create(n[..^"+aug".Length]));
        if (n.StartsWith("smoothgrad:", StringComparison.Ordinal))
        {
            return Create(n["smoothgrad:".Length..]) is InputGradientMethod inner and not SmoothGrad
                ? new SmoothGrad(inner)
                : throw new ArgumentException($"method '{name}': smoothgrad wraps saliency or guided-backprop");
        }
        return s_byName.TryGetValue(n, out var entry)
            ? entry.Create()
            : throw new ArgumentException($"unknown method '{name}'; methods: {string.Join(", ", Names)}");
    }

    /// <summary>The method a side-by-side view of methods shows beside <paramref name="method"/>: Grad-CAM, the one
    /// others are read against; beside Grad-CAM itself, Eigen-CAM, which takes no gradient.</summary>
    public static ExplanationMethod Beside(ExplanationMethod method) =>
        method is GradCam ? new EigenCam() : new GradCam();
}

/// <summary>A line of <see cref="MethodCatalog"/>: how to make the method, and the other names it answers to. Its name
/// and cost are the method's own, read from one made when the catalog is.</summary>
public sealed class MethodEntry
{
    readonly Func<ExplanationMethod> _create;

    internal MethodEntry(Func<ExplanationMethod> create, params string[] aliases)
    {
        _create = create;
        Aliases = aliases;
        var method = create();
        Name = method.Name;
        Cost = method.Cost;
    }

    public string Name { get; }
    public IReadOnlyList<string> Aliases { get; }
    public MethodCost Cost { get; }

    /// <summary>A new instance of the method.</summary>
    public ExplanationMethod Create() => _create();

    public override string ToString() => Name;
}
