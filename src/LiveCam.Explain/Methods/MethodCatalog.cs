namespace LiveCam.Explain.Methods;

/// <summary>Every explanation method by its short name.</summary>
public static class MethodCatalog
{
    public static IReadOnlyList<string> Names { get; } =
        ["gradcam", "gradcam++", "xgradcam", "layercam", "hirescam", "gradcam-elementwise", "eigencam", "eigengradcam", "kpcacam", "scorecam", "ablationcam", "cam",
         "saliency", "guided-backprop", "guided-gradcam", "smoothgrad", "smoothgrad:guided-backprop", "integrated-gradients", "fullgrad", "occlusion", "rise"];

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
        return n switch
        {
            "gradcam" or "grad-cam" => new GradCam(),
            "gradcam++" or "grad-cam++" or "gradcampp" => new GradCamPlusPlus(),
            "xgradcam" => new XGradCam(),
            "layercam" => new LayerCam(),
            "eigencam" => new EigenCam(),
            "scorecam" => new ScoreCam(),
            "cam" => new Cam(),
            "hirescam" => new HiResCam(),
            "gradcam-elementwise" or "gradcamelementwise" => new GradCamElementWise(),
            "eigengradcam" => new EigenGradCam(),
            "kpcacam" or "kpca-cam" => new KpcaCam(),
            "ablationcam" or "ablation-cam" => new AblationCam(),
            "integrated-gradients" or "ig" => new IntegratedGradients(),
            "fullgrad" => new FullGrad(),
            "occlusion" => new Occlusion(),
            "rise" => new Rise(),
            "saliency" => new Saliency(),
            "guided-backprop" or "guided" => new GuidedBackprop(),
            "guided-gradcam" => new GuidedGradCam(),
            "smoothgrad" => new SmoothGrad(new Saliency()),
            _ => throw new ArgumentException($"unknown method '{name}'; methods: {string.Join(", ", Names)}"),
        };
    }
}
