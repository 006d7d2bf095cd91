using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>Selvaraju et al. 2017, "Grad-CAM": channel weights are the spatial mean of the gradient.</summary>
public sealed class GradCam : ActivationMapMethod
{
    public override string Name => "gradcam";
    public override string Paper => "Selvaraju et al. 2017, Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        Weighted(activations, gradients!.mean([2, 3]));
}

/// <summary>Chattopadhyay et al. 2018, "Grad-CAM++": weights from higher-order terms of the gradient, better with several instances.</summary>
public sealed class GradCamPlusPlus : ActivationMapMethod
{
    public override string Name => "gradcam++";
    public override string Paper => "Chattopadhyay et al. 2018, Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var g = gradients!;
        var g2 = g.pow(2);
        var g3 = g2 * g;
        var sumA = activations.sum([2, 3], keepdim: true);
        var denominator = 2 * g2 + sumA * g3;
        var alpha = g2 / torch.where(denominator.ne(0), denominator, ones_like(denominator));
        alpha = torch.where(g.ne(0), alpha, zeros_like(alpha));
        var weights = (alpha * nn.functional.relu(g)).sum([2, 3]);
        return Weighted(activations, weights);
    }
}

/// <summary>Fu et al. 2020, "Axiom-based Grad-CAM" (XGrad-CAM): weights are the activation-weighted mean of the gradient.</summary>
public sealed class XGradCam : ActivationMapMethod
{
    public override string Name => "xgradcam";
    public override string Paper => "Fu et al. 2020, Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var sumA = activations.sum([2, 3]);
        var weights = (gradients! * activations).sum([2, 3]) / (sumA + 1e-7);
        return Weighted(activations, weights);
    }
}

/// <summary>Jiang et al. 2021, "LayerCAM": each position weighted by its own positive gradient, so shallow layers give fine maps.</summary>
public sealed class LayerCam : ActivationMapMethod
{
    public override string Name => "layercam";
    public override string Paper => "Jiang et al. 2021, LayerCAM: Exploring Hierarchical Class Activation Maps for Localization";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        (nn.functional.relu(gradients!) * activations).sum(1);
}

/// <summary>Muhammad &amp; Yeasin 2020, "Eigen-CAM": the first principal component of the activations; no gradient, no target.</summary>
public sealed class EigenCam : ActivationMapMethod
{
    public override string Name => "eigencam";
    public override string Paper => "Muhammad & Yeasin 2020, Eigen-CAM: Class Activation Map using Principal Components";
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        long n = activations.shape[0], c = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
        var maps = new List<Tensor>();
        for (long i = 0; i < n; i++)
        {
            var m = activations[i].reshape(c, h * w).T;  // [hw, C]
            var centred = m - m.mean([0], keepdim: true);
            if (centred.abs().max().item<float>() == 0)
            {
                maps.Add(zeros(h, w, device: activations.device));
                continue;
            }
            var (_, _, vh) = linalg.svd(centred, fullMatrices: false);
            var projection = centred.matmul(vh[0]);  // [hw]
            // A principal component has no sign: orient it with the mean activation.
            var mean = m.mean([1]);
            if ((projection * (mean - mean.mean())).sum().item<float>() < 0) projection = -projection;
            maps.Add(projection.reshape(h, w));
        }
        return stack(maps);
    }
}

/// <summary>Wang et al. 2020, "Score-CAM": each channel, upsampled to a mask, is weighted by the target's confidence in the
/// masked input: a classifier's softmax probability of the class (as the authors' code does), other models' target score
/// as it is. Channels that are constant mask nothing and weigh 0 (the authors skip them). Gradient-free; one forward pass
/// per channel, run in batches.</summary>
public sealed class ScoreCam(int batchSize = 32) : ActivationMapMethod
{
    public override string Name => "scorecam";
    public override string Paper => "Wang et al. 2020, Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks";
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var input = context.Run.Input;
        long n = activations.shape[0], c = activations.shape[1];
        long height = input.shape[2], width = input.shape[3];
        var maps = new List<Tensor>();
        using var _ = no_grad();
        for (long i = 0; i < n; i++)
        {
            // Channel masks at the input's size, each scaled to [0, 1].
            var upsampled = nn.functional.interpolate(activations[i].unsqueeze(0), size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false)[0];
            var flat = upsampled.reshape(c, -1);
            var min = flat.amin([1], keepdim: true);
            var range = flat.amax([1], keepdim: true) - min;
            var varies = range.gt(0).reshape(c);
            var masks = ((flat - min) / torch.where(range.gt(0), range, ones_like(range))).reshape(c, 1, height, width);
            var scores = new List<Tensor>();
            for (long start = 0; start < c; start += batchSize)
            {
                long end = Math.Min(c, start + batchSize);
                var masked = input[i].unsqueeze(0) * masks.narrow(0, start, end - start);
                scores.Add(context.Run.Confidence(context.Target, context.Run.Model.call(masked)));
            }
            var weights = torch.where(varies, cat(scores), zeros_like(varies, dtype: activations.dtype)).unsqueeze(0);  // [1, C]
            maps.Add(Weighted(activations[i].unsqueeze(0), weights)[0]);
        }
        return stack(maps);
    }
}

/// <summary>
/// Zhou et al. 2016, "Learning Deep Features for Discriminative Localization" (CAM): the classifier's own
/// weights over a globally average-pooled layer. Only for such a head; other architectures get a clear error.
/// </summary>
public sealed class Cam : ActivationMapMethod
{
    static readonly string[] s_passThrough = ["AdaptiveAvgPool2d", "Flatten", "Dropout", "Identity"];

    public override string Name => "cam";
    public override string Paper => "Zhou et al. 2016, Learning Deep Features for Discriminative Localization";
    protected override bool UsesGradients => false;
    protected override bool RecordsGraph => true;

    sealed record Head(nn.Module<Tensor, Tensor> Classifier, ActivationCapture Logits);

    protected override object? AddCaptures(HookSet hooks, ExplainRun run)
    {
        var (classifier, name) = FindHead(run, run.RequireLayer(Name));
        return new Head(classifier, new ActivationCapture(hooks, classifier, run.Scope, forGradients: true));
    }

    static (nn.Module<Tensor, Tensor> Classifier, string Name) FindHead(ExplainRun run, LayerInfo layer)
    {
        var after = run.Trace.SkipWhile(l => l.Name != layer.Name && !l.Name.StartsWith(layer.Name + ".", StringComparison.Ordinal))
            .SkipWhile(l => l.Name == layer.Name || l.Name.StartsWith(layer.Name + ".", StringComparison.Ordinal)).ToList();
        bool pooled = false;
        foreach (var l in after)
        {
            if (l.Type == "Linear")
            {
                if (!pooled) break;
                return (ModuleTree.Find(run.Model, l.Name), l.Name);
            }
            if (l.Type == "AdaptiveAvgPool2d" && l.OutputShape.Count == 4 && l.OutputShape[2] == 1 && l.OutputShape[3] == 1) pooled = true;
            else if (!s_passThrough.Contains(l.Type))
                throw new ArgumentException($"CAM needs '{layer.Name}' to be followed by global average pooling and a linear classifier; '{l.Name}' ({l.Type}) comes between. Use gradcam, which works for any architecture");
        }
        throw new ArgumentException($"CAM needs '{layer.Name}' to be followed by global average pooling and a linear classifier; this model has none after it. Use gradcam instead");
    }

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        // The score's sensitivity to each logit (one-hot for a class target) picks the classifier rows.
        var head = (Head)context.State!;
        var logits = head.Logits.Activation ?? throw new InvalidOperationException("the classifier was not reached");
        var v = autograd.grad([context.Score.sum()], [logits], retain_graph: true)[0];  // [N, K]
        var weight = ((TorchSharp.Modules.Linear)head.Classifier).weight!.detach();   // [K, C]
        if (weight.shape[1] != activations.shape[1])
            throw new ArgumentException($"CAM: the classifier takes {weight.shape[1]} features but the layer has {activations.shape[1]} channels");
        return Weighted(activations, v.matmul(weight));
    }
}
