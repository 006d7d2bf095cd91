using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// Methods that give a map at the input's resolution from many passes of the whole network (perturbed or scaled inputs)
/// or from gradients at many layers. Each resolves its targets on the clean input and returns the clean outputs.
/// </summary>
public abstract class InputMapMethod : ExplanationMethod
{
    public override bool ExplainsLayer => false;

    /// <summary>The maps [N, H, W] of one target.</summary>
    protected abstract Tensor Maps(ExplainRun run, Target target, Tensor output);

    /// <summary>Whether <see cref="Maps"/> needs the clean forward pass to have recorded a graph.</summary>
    protected virtual bool NeedsGraph => false;

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        Tensor output;
        using (no_grad()) output = run.Model.call(run.Input);
        var items = new List<Explanation>();
        foreach (var target in run.Target.Resolve(output))
        {
            using var maps = Maps(run, target, output);
            for (int n = 0; n < maps.shape[0]; n++)
                items.Add(new Explanation(
                    Name, target.Description, target.ClassIndex, n, null, Heatmap.FromTensor(maps[n]),
                    AtInputResolution: true));
        }
        return ExplainRun.Result(output, items);
    }

    /// <summary>The target's score for passes [0, count), each batch's inputs made by
    /// <paramref name="makeBatch"/>.</summary>
    protected static Tensor Scores(
        ExplainRun run, Target target, long count, int batchSize, Func<long, long, Tensor> makeBatch) =>
        BatchedPasses.Scores(run.Model, count, batchSize, makeBatch, target.ScoreOf);
}

/// <summary>Sundararajan et al. 2017, "Axiomatic Attribution for Deep Networks" (Integrated Gradients): the input minus
/// the zero baseline (the training data's mean colour once normalised) times the mean gradient along the straight path
/// from the baseline, a right Riemann sum of <paramref name="steps"/> points; the map is the largest magnitude over
/// channels.</summary>
public sealed class IntegratedGradients(int steps = 32, int batchSize = 16) : InputMapMethod
{
    public override string Name => "integrated-gradients";
    public override string Paper => "Sundararajan et al. 2017, Axiomatic Attribution for Deep Networks";
    /// <summary>The clean pass and one per step.</summary>
    public override MethodCost Cost => CostOf(steps + 1);

    protected override Tensor Maps(ExplainRun run, Target target, Tensor output)
    {
        var maps = new List<Tensor>();
        for (long i = 0; i < run.Input.shape[0]; i++)
        {
            var x = run.Input[i].unsqueeze(0);
            var sum = zeros_like(x);
            for (int start = 1; start <= steps; start += batchSize)
            {
                int count = Math.Min(batchSize, steps - start + 1);
                // Each batch's graph and activations are freed when it is done.
                using var batch = NewDisposeScope();
                var alphas = arange(start, start + count, device: x.device, dtype: x.dtype)
                    .div_(steps).reshape(-1, 1, 1, 1);
                var path = (alphas * x).detach().requires_grad_(true);
                using (enable_grad())
                {
                    var score = target.ScoreOf(run.Model.call(path)).sum();
                    sum.add_(autograd.grad([score], [path])[0].sum([0], keepdim: true));
                }
            }
            maps.Add((x * sum / steps).abs().amax([1])[0]);
        }
        return stack(maps);
    }
}

/// <summary>Zeiler &amp; Fergus 2014, "Visualizing and Understanding Convolutional Networks" (occlusion): a grey (zero)
/// square slid over the input; each pixel's value is the mean score drop of the squares covering it. The square is a
/// seventh of the shorter side, moved by half its size.</summary>
public sealed class Occlusion(int batchSize = 16) : InputMapMethod
{
    public override string Name => "occlusion";
    public override string Paper => "Zeiler & Fergus 2014, Visualizing and Understanding Convolutional Networks";
    /// <summary>One pass per position of the square: 13 x 13 at 224x224, 15 x 19 at the robot's 80x64.</summary>
    public override MethodCost Cost => MethodCost.Hundreds;

    /// <summary>The square's side and stride for an input of <paramref name="height"/> x
    /// <paramref name="width"/>.</summary>
    public static (int Window, int Stride) Geometry(long height, long width)
    {
        int window = Math.Max(2, (int)Math.Round(Math.Min(height, width) / 7.0));
        return (window, Math.Max(1, window / 2));
    }

    /// <summary>The top-left corners along a side: every stride, plus one flush with the far edge.</summary>
    public static List<long> Starts(long size, int window, int stride)
    {
        var starts = new List<long>();
        for (long s = 0; s + window <= size; s += stride) starts.Add(s);
        if (starts.Count == 0 || starts[^1] + window < size) starts.Add(Math.Max(0, size - window));
        return starts;
    }

    protected override Tensor Maps(ExplainRun run, Target target, Tensor output)
    {
        long height = run.Input.shape[2], width = run.Input.shape[3];
        var (window, stride) = Geometry(height, width);
        var corners = Starts(height, window, stride)
            .SelectMany(y => Starts(width, window, stride).Select(x => (y, x))).ToList();
        var clean = target.ScoreOf(output);
        var maps = new List<Tensor>();
        for (long i = 0; i < run.Input.shape[0]; i++)
        {
            var x = run.Input[i].unsqueeze(0);
            var drops = clean[i] - Scores(run, target, corners.Count, batchSize, (start, n) =>
            {
                var occluded = x.repeat(n, 1, 1, 1);
                for (long k = 0; k < n; k++)
                {
                    var (y0, x0) = corners[(int)(start + k)];
                    occluded[k, .., TensorIndex.Slice(y0, y0 + window), TensorIndex.Slice(x0, x0 + window)] = 0;
                }
                return occluded;
            });
            // Each pixel: the mean drop of the squares that cover it.
            var total = zeros(height, width, device: x.device, dtype: x.dtype);
            var count = zeros(height, width, device: x.device, dtype: x.dtype);
            var dropValues = drops.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            for (int k = 0; k < corners.Count; k++)
            {
                var (y0, x0) = corners[k];
                total[TensorIndex.Slice(y0, y0 + window), TensorIndex.Slice(x0, x0 + window)] += dropValues[k];
                count[TensorIndex.Slice(y0, y0 + window), TensorIndex.Slice(x0, x0 + window)] += 1;
            }
            maps.Add(total / count.clamp_min(1));
        }
        return stack(maps);
    }
}

/// <summary>Petsiuk et al. 2018, "RISE: Randomized Input Sampling for Explanation": the score-weighted mean of random
/// masks, each a 7x7 grid of cells kept with probability 1/2, upsampled bilinearly and shifted by a random fraction of
/// a cell, less its minimum. Needs no gradient; <paramref name="masks"/> passes; seeded, so a still image gives the
/// same map each time.</summary>
public sealed class Rise(int masks = 1000, int grid = 7, double keep = 0.5, int seed = 0, int batchSize = 16)
    : InputMapMethod
{
    public override string Name => "rise";
    public override string Paper =>
        "Petsiuk et al. 2018, RISE: Randomized Input Sampling for Explanation of Black-box Models";
    /// <summary>One pass per mask.</summary>
    public override MethodCost Cost => CostOf(masks);

    /// <summary>The masks [M, 1, H, W] for an input of <paramref name="height"/> x <paramref name="width"/>.</summary>
    public Tensor Masks(long height, long width, Device device)
    {
        var generator = new Generator((ulong)seed);
        double cellH = Math.Ceiling((double)height / grid), cellW = Math.Ceiling((double)width / grid);
        long upH = (long)((grid + 1) * cellH), upW = (long)((grid + 1) * cellW);
        var cells = rand([masks, 1, grid, grid], generator: generator).lt(keep).to_type(ScalarType.Float32);
        var shiftY = randint(0, (long)cellH, [masks], generator: generator);
        var shiftX = randint(0, (long)cellW, [masks], generator: generator);
        var up = nn.functional.interpolate(
            cells, size: [upH, upW], mode: InterpolationMode.Bilinear, align_corners: false);
        var result = empty(masks, 1, height, width);
        var ys = shiftY.data<long>().ToArray();
        var xs = shiftX.data<long>().ToArray();
        for (int m = 0; m < masks; m++)
            result[m] = up[m, .., TensorIndex.Slice(ys[m], ys[m] + height), TensorIndex.Slice(xs[m], xs[m] + width)];
        return result.to(device);
    }

    protected override Tensor Maps(ExplainRun run, Target target, Tensor output)
    {
        long height = run.Input.shape[2], width = run.Input.shape[3];
        var m = Masks(height, width, run.Input.device).to_type(run.Input.dtype);
        var maps = new List<Tensor>();
        for (long i = 0; i < run.Input.shape[0]; i++)
        {
            var x = run.Input[i].unsqueeze(0);
            var scores = Scores(run, target, masks, batchSize, (start, n) => x * m.narrow(0, start, n));  // [M]
            var saliency = (scores.reshape(-1, 1, 1, 1) * m).sum([0, 1]) / (masks * keep);
            // Every pixel carries the mean score, which says nothing about where: the map is shown from its minimum
            // to its maximum, as its authors show it (the order of pixels, and so every ranking metric, is unchanged).
            maps.Add(saliency - saliency.min());
        }
        return stack(maps);
    }
}

/// <summary>Srinivas &amp; Fleuret 2019, "Full-Gradient Representation for Neural Network Visualization" (FullGrad):
/// the input-gradient times the input plus, for every convolution and batch norm with a bias, the gradient at its
/// output times its bias; each part as its authors post-process it (absolute value, scaled to [0, 1] over the sample,
/// bilinearly resized with corners aligned) and summed over channels. In an imported ONNX graph a batch norm is folded
/// into its convolution: there the two biases count as one, at the normalised output.</summary>
public sealed class FullGrad : InputMapMethod
{
    public override string Name => "fullgrad";
    public override string Paper =>
        "Srinivas & Fleuret 2019, Full-Gradient Representation for Neural Network Visualization";

    protected override Tensor Maps(ExplainRun run, Target target, Tensor output)
    {
        var biased = new List<(nn.Module<Tensor, Tensor> Module, Tensor Bias)>();
        foreach (var (_, module) in ModuleTree.Leaves(run.Model))
        {
            if (module is TorchSharp.Modules.Conv2d { bias: { } convBias } conv) biased.Add((conv, convBias.detach()));
            else if (module is TorchSharp.Modules.BatchNorm2d { running_mean: { } mean, running_var: { } variance } bn)
            {
                // Evaluation's batch norm is w x + b' with b' = bias - mean * weight / sqrt(var + eps).
                var scale = bn.weight is { } w
                    ? w.detach() / (variance + bn.eps).sqrt()
                    : 1 / (variance + bn.eps).sqrt();
                biased.Add((bn, (bn.bias?.detach() ?? zeros_like(mean)) - mean * scale));
            }
        }
        if (run.Model is IBiasedLayers graph)
            foreach (var (path, bias) in graph.ConvolutionBiases())
                biased.Add((ModuleTree.Find(run.Model, path), bias.detach()));
        if (biased.Count == 0)
            throw new ArgumentException(
                "fullgrad needs the network's convolutions or batch norms as modules with biases; this one has none");

        var x = run.Input.detach().clone().requires_grad_(true);
        var outputs = new Tensor?[biased.Count];
        Tensor[] gradients;
        using (var hooks = new HookSet())
        {
            for (int k = 0; k < biased.Count; k++)
            {
                int index = k;
                // The model continues with a copy, so an in-place ReLU after the layer leaves this output intact; the
                // output itself moves to the call's scope (TorchVision's forwards free what they make on return).
                hooks.AddForwardHook(biased[k].Module, (_, _, o) =>
                {
                    if (!run.Scope.Contains(o)) o.MoveToOtherDisposeScope(run.Scope);
                    outputs[index] = o;
                    return o.clone();
                });
            }
            using (enable_grad())
            {
                var score = target.ScoreOf(run.Model.call(x)).sum();
                var reached = outputs.Where(o => o is not null).Cast<Tensor>().ToList();
                gradients = autograd.grad([score], [x, .. reached], allow_unused: true).ToArray();
            }
        }
        long height = x.shape[2], width = x.shape[3];
        var total = PostProcess(gradients[0] * x).sum([1]);
        int g = 1;
        for (int k = 0; k < biased.Count; k++)
        {
            if (outputs[k] is null) continue;
            var gradient = gradients[g++];
            if (gradient is null || gradient.IsInvalid || gradient.ndim != 4) continue;
            // Summed over channels before resizing: resizing is linear, so it is the same sum at a fraction of the
            // cost.
            var part = PostProcess(gradient * biased[k].Bias.reshape(1, -1, 1, 1)).sum([1], keepdim: true);
            total += nn.functional.interpolate(
                part, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: true)[.., 0];
        }
        return total.detach();
    }

    static Tensor PostProcess(Tensor t)
    {
        var a = t.abs();
        var flat = a.reshape(a.shape[0], -1);
        var shifted = a - flat.amin([1]).reshape(-1, 1, 1, 1);
        return shifted / (shifted.reshape(a.shape[0], -1).amax([1]).reshape(-1, 1, 1, 1) + 1e-6);
    }
}
