using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>Selvaraju et al. 2017, "Grad-CAM": channel weights are the spatial mean of the gradient.</summary>
public sealed class GradCam : ActivationMapMethod
{
    public override string Name => "gradcam";
    public override string Paper =>
        "Selvaraju et al. 2017, Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        Weighted(activations, gradients!.mean([2, 3]));
}

/// <summary>Chattopadhyay et al. 2018, "Grad-CAM++": weights from higher-order terms of the gradient, better with
/// several instances.</summary>
public sealed class GradCamPlusPlus : ActivationMapMethod
{
    public override string Name => "gradcam++";
    public override string Paper =>
        "Chattopadhyay et al. 2018, Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks";

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

/// <summary>Fu et al. 2020, "Axiom-based Grad-CAM" (XGrad-CAM): weights are the activation-weighted mean of the
/// gradient.</summary>
public sealed class XGradCam : ActivationMapMethod
{
    public override string Name => "xgradcam";
    public override string Paper =>
        "Fu et al. 2020, Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var sumA = activations.sum([2, 3]);
        var weights = (gradients! * activations).sum([2, 3]) / (sumA + 1e-7);
        return Weighted(activations, weights);
    }
}

/// <summary>Jiang et al. 2021, "LayerCAM": each position weighted by its own positive gradient, so shallow layers give
/// fine maps.</summary>
public sealed class LayerCam : ActivationMapMethod
{
    public override string Name => "layercam";
    public override string Paper =>
        "Jiang et al. 2021, LayerCAM: Exploring Hierarchical Class Activation Maps for Localization";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        (nn.functional.relu(gradients!) * activations).sum(1);
}

/// <summary>Muhammad &amp; Yeasin 2020, "Eigen-CAM": the first principal component of the activations; no gradient, no
/// target.</summary>
public sealed class EigenCam : ActivationMapMethod
{
    public override string Name => "eigencam";
    public override string Paper =>
        "Muhammad & Yeasin 2020, Eigen-CAM: Class Activation Map using Principal Components";
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        PrincipalComponent.Projections(activations);
}

/// <summary>Karmani et al. 2024, "KPCA-CAM": Eigen-CAM with kernel PCA. The first component of the centred sigmoid
/// kernel tanh(x·y / C + 1) over positions (the kernel and gamma pytorch-grad-cam uses), each position's score on
/// it.</summary>
public sealed class KpcaCam : ActivationMapMethod
{
    public override string Name => "kpcacam";
    public override string Paper =>
        "Karmani et al. 2024, KPCA-CAM: Visual Explainability of Deep Computer Vision Models using Kernel PCA";
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        PerSample(activations, centred =>
        {
            long count = centred.shape[0];
            var kernel = (centred.matmul(centred.T) / centred.shape[1] + 1).tanh();  // [hw, hw]
            // Centred in feature space: K - 1K - K1 + 1K1.
            var rowMean = kernel.mean([0], keepdim: true);
            var colMean = kernel.mean([1], keepdim: true);
            var centredKernel = kernel - rowMean - colMean + kernel.mean();
            var (values, vectors) = linalg.eigh(centredKernel.to_type(ScalarType.Float64));
            var top = vectors[.., count - 1] * values[count - 1].clamp_min(0).sqrt();
            return top.to_type(centred.dtype);
        });

    /// <summary>Runs <paramref name="project"/> on each sample's column-centred [hw, C] matrix; an all-constant sample
    /// gives zeros; the result is oriented with the mean over channels.</summary>
    static Tensor PerSample(Tensor activations, Func<Tensor, Tensor> project)
    {
        long n = activations.shape[0], c = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
        var maps = new List<Tensor>();
        for (long i = 0; i < n; i++)
        {
            var m = activations[i].reshape(c, h * w).T;  // [hw, C]
            var centred = m - m.mean([0], keepdim: true);
            if (centred.abs().max().to_type(ScalarType.Float64).item<double>() == 0)
            {
                maps.Add(zeros(h, w, device: activations.device, dtype: activations.dtype));
                continue;
            }
            var projection = project(centred);  // [hw]
            var mean = m.mean([1]);
            if ((projection * (mean - mean.mean())).sum().to_type(ScalarType.Float64).item<double>() < 0)
                projection = -projection;
            maps.Add(projection.reshape(h, w));
        }
        return stack(maps);
    }
}

/// <summary>Draelos &amp; Carin 2020, "Use HiResCAM instead of Grad-CAM": the gradient times the activations, position
/// by position, summed over channels (Grad-CAM averages the gradient first); provably shows where the score comes
/// from.</summary>
public sealed class HiResCam : ActivationMapMethod
{
    public override string Name => "hirescam";
    public override string Paper => "Draelos & Carin 2020, "
        + "Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural networks";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        (gradients! * activations).sum(1);
}

/// <summary>Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): the ReLU of each channel's gradient times
/// activation, summed over channels, so channels cannot cancel each other.</summary>
public sealed class GradCamElementWise : ActivationMapMethod
{
    public override string Name => "gradcam-elementwise";
    public override string Paper =>
        "Grad-CAM element-wise, after Selvaraju et al. 2017 and Draelos & Carin 2020 (pytorch-grad-cam)";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        nn.functional.relu(gradients! * activations).sum(1);
}

/// <summary>EigenGrad-CAM (pytorch-grad-cam, after Muhammad &amp; Yeasin 2020): Eigen-CAM's first principal component
/// of the gradient times the activations, so it is class-specific.</summary>
public sealed class EigenGradCam : ActivationMapMethod
{
    public override string Name => "eigengradcam";
    public override string Paper => "EigenGrad-CAM, after Muhammad & Yeasin 2020, Eigen-CAM (pytorch-grad-cam)";

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context) =>
        PrincipalComponent.Projections(gradients! * activations);
}

/// <summary>Desai &amp; Ramaswamy 2020, "Ablation-CAM": a channel's weight is the share of the score lost when that
/// channel of the layer is zeroed, (y - y_k) / y. Gradient-free; one forward pass per channel, run in
/// batches.</summary>
public sealed class AblationCam(int batchSize = 16) : ActivationMapMethod
{
    public override string Name => "ablationcam";
    public override string Paper => "Desai & Ramaswamy 2020, "
        + "Ablation-CAM: Visual Explanations for Deep Convolutional Network via Gradient-free Localization";
    /// <summary>One pass per channel of the layer: 512 on ResNet-18's and VGG-16's.</summary>
    public override MethodCost Cost => MethodCost.Hundreds;
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var run = context.Run;
        var info = run.RequireLayer(Name);
        var layer = ModuleTree.Find(run.Model, info.Name);
        long n = activations.shape[0], c = activations.shape[1];
        var maps = new List<Tensor>();
        using var _ = no_grad();
        Tensor? zeroed = null;
        using var hooks = new HookSet();
        hooks.AddForwardHook(layer, (_, _, output) => zeroed is null ? output : output * zeroed);
        for (long i = 0; i < n; i++)
        {
            var sample = run.Input[i].unsqueeze(0);
            var y = context.Score[i].detach();
            var ablated = BatchedPasses.Scores(run.Model, c, batchSize, (start, count) =>
            {
                // Copy b of the batch has channel start + b of the layer zeroed.
                var keep = OneColumnPerRow(count, c, start, 0, 1, activations).reshape(count, c, 1, 1);
                // A layer laid out [N, H, W, C] has its channels last.
                zeroed = info.ChannelsLast ? keep.permute(0, 2, 3, 1) : keep;
                return sample.expand(count, -1, -1, -1);
            }, output => context.Target.ScoreOf(output));
            var weights = ((y - ablated) / torch.where(y.ne(0), y, ones_like(y))).unsqueeze(0);  // [1, C]
            maps.Add(Weighted(activations[i].unsqueeze(0), weights)[0]);
        }
        return stack(maps);
    }
}

/// <summary>Byun &amp; Lee 2022, "ReciproCAM": position (i, j) of the map is the target's confidence when the rest
/// of the network after the layer sees the layer's features only around (i, j): a classifier's softmax probability of
/// the class (as the paper takes it), other models' target score as it is. The variant is the paper's Gaussian mask
/// (OpenVINO XAI's default for CNNs): the 3x3 kernel [1 2 1; 2 4 2; 1 2 1] / 16 centred on the cell, cut at the
/// borders. The map is less its minimum (the paper's min-max normalisation; the heatmap scales by the maximum).
/// Gradient-free; one forward pass per position of the layer, run in batches; the layers before it run again on each
/// copy of the input, as for Ablation-CAM, so that later layers that also read earlier ones (skip connections) see a
/// whole batch.</summary>
public sealed class ReciproCam(int batchSize = 16) : ActivationMapMethod
{
    public override string Name => "reciprocam";
    public override string Paper => "Byun & Lee 2022, "
        + "ReciproCAM: Lightweight Gradient-free Class Activation Map for Convolutional Neural Networks";
    /// <summary>One pass per position of the layer: 49 on ResNet-18's 7x7 layer4, 196 on VGG-16's 14x14.</summary>
    public override MethodCost Cost => MethodCost.Hundreds;
    protected override bool UsesGradients => false;

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        var run = context.Run;
        var info = run.RequireLayer(Name);
        var layer = ModuleTree.Find(run.Model, info.Name);
        long n = activations.shape[0], h = activations.shape[2], w = activations.shape[3];
        var maps = new List<Tensor>();
        using var _ = no_grad();
        var gaussian = tensor(new double[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 }, [1, 1, 3, 3], dtype: activations.dtype,
            device: activations.device) / 16;
        Tensor? masked = null;
        using var hooks = new HookSet();
        hooks.AddForwardHook(layer, (_, _, output) => masked ?? output);
        // As the paper: the network up to the layer runs once a batch and only the rest sees the masked copies (the
        // hook hands the batch on; what the rest reads from before the layer broadcasts). Where the network cannot
        // take that (it concatenates such a value with the layer's), the input is repeated instead.
        bool once = true;
        long copiesInBatch = 0;
        for (long i = 0; i < n; i++)
        {
            var sample = run.Input[i].unsqueeze(0);
            var features = activations[i].unsqueeze(0);
            Tensor Scores() => BatchedPasses.Scores(run.Model, h * w, once ? 4 * batchSize : batchSize,
                (start, count) =>
            {
                // Copy b of the batch keeps the features around position start + b, weighted by the Gaussian.
                var cells = OneColumnPerRow(count, h * w, start, 1, 0, activations);
                var spread = nn.functional.conv2d(cells.reshape(count, 1, h, w), gaussian, padding: [1, 1]);
                var copies = features * spread;
                // A layer laid out [N, H, W, C] has its channels last.
                masked = info.ChannelsLast ? copies.permute(0, 2, 3, 1) : copies;
                copiesInBatch = count;
                return once ? sample : sample.expand(count, -1, -1, -1);
            }, output => output.shape[0] == copiesInBatch
                ? run.Confidence(context.Target, output)
                : throw new ArgumentException("the network did not hand the layer's batch on"));
            Tensor scores;
            try { scores = Scores(); }
            catch (Exception e) when (once && e is not OutOfMemoryException)
            {
                once = false;
                scores = Scores();
            }
            maps.Add((scores - scores.min()).reshape(h, w));
        }
        return stack(maps);
    }
}

/// <summary>Wang et al. 2020, "Score-CAM": each channel, upsampled to a mask, is weighted by the target's confidence in
/// the masked input: a classifier's softmax probability of the class (as the authors' code does), other models' target
/// score as it is. Channels that are constant mask nothing and weigh 0 (the authors skip them). Gradient-free; one
/// forward pass per channel, run in batches.</summary>
public sealed class ScoreCam(int batchSize = 16) : ActivationMapMethod
{
    public override string Name => "scorecam";
    public override string Paper =>
        "Wang et al. 2020, Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks";
    /// <summary>One pass per channel of the layer: 512 on ResNet-18's and VGG-16's.</summary>
    public override MethodCost Cost => MethodCost.Hundreds;
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
            var upsampled = nn.functional.interpolate(
                activations[i].unsqueeze(0), size: [height, width], mode: InterpolationMode.Bilinear,
                align_corners: false)[0];
            var flat = upsampled.reshape(c, -1);
            var min = flat.amin([1], keepdim: true);
            var range = flat.amax([1], keepdim: true) - min;
            var varies = range.gt(0).reshape(c);
            var masks = ((flat - min) / torch.where(range.gt(0), range, ones_like(range))).reshape(c, 1, height, width);
            var sample = input[i].unsqueeze(0);
            var scores = BatchedPasses.Scores(
                context.Run.Model, c, batchSize, (start, n) => sample * masks.narrow(0, start, n),
                output => context.Run.Confidence(context.Target, output));
            var weights = torch.where(varies, scores, zeros_like(varies, dtype: activations.dtype))
                .unsqueeze(0);  // [1, C]
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
        var after = run.Trace
            .SkipWhile(l => l.Name != layer.Name && !l.Name.StartsWith(layer.Name + ".", StringComparison.Ordinal))
            .SkipWhile(l => l.Name == layer.Name || l.Name.StartsWith(layer.Name + ".", StringComparison.Ordinal))
            .ToList();
        bool pooled = false;
        foreach (var l in after)
        {
            if (l.Type == "Linear")
            {
                if (!pooled) break;
                return (ModuleTree.Find(run.Model, l.Name), l.Name);
            }
            if (l.Type == "AdaptiveAvgPool2d"
                && l.OutputShape.Count == 4 && l.OutputShape[2] == 1 && l.OutputShape[3] == 1)
                pooled = true;
            else if (!s_passThrough.Contains(l.Type))
                throw new ArgumentException($"CAM needs '{layer.Name}' to be followed by global average pooling "
                    + $"and a linear classifier; '{l.Name}' ({l.Type}) comes between. "
                    + "Use gradcam, which works for any architecture");
        }
        throw new ArgumentException($"CAM needs '{layer.Name}' to be followed by global average pooling "
            + "and a linear classifier; this model has none after it. Use gradcam instead");
    }

    protected override Tensor Map(Tensor activations, Tensor? gradients, MapContext context)
    {
        // The score's sensitivity to each logit (one-hot for a class target) picks the classifier rows.
        var head = (Head)context.State!;
        var logits = head.Logits.Activation ?? throw new InvalidOperationException("the classifier was not reached");
        var v = autograd.grad([context.Score.sum()], [logits], retain_graph: true)[0];  // [N, K]
        var weight = ((TorchSharp.Modules.Linear)head.Classifier).weight!.detach();   // [K, C]
        if (weight.shape[1] != activations.shape[1])
            throw new ArgumentException($"CAM: the classifier takes {weight.shape[1]} features "
                + $"but the layer has {activations.shape[1]} channels");
        return Weighted(activations, v.matmul(weight));
    }
}
