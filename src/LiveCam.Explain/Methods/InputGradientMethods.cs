using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// Methods of the input's gradient: the map has the input's size. Parameters stay frozen, so the
/// backward pass computes only what the input gradient needs.
/// </summary>
public abstract class InputGradientMethod : ExplanationMethod
{
    public override bool ExplainsLayer => false;

    /// <summary>Whether ReLUs pass only positive gradients back (guided backpropagation).</summary>
    protected virtual bool Guided => false;

    /// <summary>Gradients of each target's score with respect to <paramref name="input"/> [N, C, H, W], and the
    /// output.</summary>
    internal (Tensor Output, List<(Targets.Target Target, Tensor Gradient)> Gradients) InputGradients(
        ExplainRun run, Tensor input, IReadOnlyList<Targets.Target>? targets = null)
    {
        var x = input.detach().clone().requires_grad_(true);
        Tensor output;
        using (var hooks = new HookSet())
        {
            if (Guided) AddGuidedReluHooks(hooks, run.Model, run.Traits);
            using (enable_grad()) output = run.Model.call(x);
        }
        var resolved = targets ?? run.Target.Resolve(output);
        var gradients = new List<(Targets.Target, Tensor)>();
        foreach (var t in resolved)
            gradients.Add((t, autograd.grad([t.ScoreOf(output).sum()], [x], retain_graph: true)[0]));
        return (output, gradients);
    }

    static void AddGuidedReluHooks(HookSet hooks, nn.Module<Tensor, Tensor> model, ModelTraits traits)
    {
        // The ReLU's own forward runs (in place or not); its output is replaced by the guided one, computed
        // from the same values, so the forward result is unchanged and only the backward rule differs.
        foreach (var (_, module) in ModuleTree.Leaves(model))
            if (module is TorchSharp.Modules.ReLU relu)
                hooks.AddForwardHook(relu, (_, input, _) => GuidedRelu.apply(input));
        // A ReLU applied as a function inside a module: the guided ReLU of its output. relu is idempotent, so the
        // forward value is the same; the output is positive exactly where the ReLU's input was, so the backward rule
        // is the ReLU's own.
        foreach (var path in traits.FunctionalReluOutputPaths)
            hooks.AddForwardHook(ModuleTree.Find(model, path), (_, _, output) => GuidedRelu.apply(output));
    }

    /// <summary>The heatmap of an input gradient [N, C, H, W]: the largest magnitude over channels,
    /// [N, H, W].</summary>
    protected static Tensor Magnitude(Tensor gradient) => gradient.abs().amax([1]);

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var (output, gradients) = InputGradients(run, run.Input);
        var items = new List<Explanation>();
        foreach (var (target, gradient) in gradients)
        {
            using var map = Magnitude(gradient);
            for (int n = 0; n < map.shape[0]; n++)
                items.Add(new Explanation(
                    Name, target.Description, target.ClassIndex, n, null, Heatmap.FromTensor(map[n]),
                    AtInputResolution: true));
        }
        return ExplainRun.Result(output, items);
    }
}

/// <summary>Simonyan et al. 2013, "Deep Inside Convolutional Networks": the magnitude of the score's input
/// gradient.</summary>
public sealed class Saliency : InputGradientMethod
{
    public override string Name => "saliency";
    public override string Paper => "Simonyan et al. 2013, "
        + "Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps";
}

/// <summary>Springenberg et al. 2014, "Striving for Simplicity": the input gradient with negative gradients zeroed at
/// every ReLU.</summary>
public sealed class GuidedBackprop : InputGradientMethod
{
    public override string Name => "guided-backprop";
    public override string Paper => "Springenberg et al. 2014, Striving for Simplicity: The All Convolutional Net";
    protected override bool Guided => true;
}

/// <summary>
/// Smilkov et al. 2017, "SmoothGrad": the mean of another gradient method's input gradients over noisy copies
/// of the input. The clean input rides in the same batch, so the outputs returned are the clean ones.
/// </summary>
public sealed class SmoothGrad(
    InputGradientMethod inner, int samples = 16, double noiseLevel = 0.15, int seed = 0, int batchSize = 16)
    : InputGradientMethod
{
    public InputGradientMethod Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));
    public override string Name => inner is Saliency ? "smoothgrad" : $"smoothgrad:{inner.Name}";
    public override string Paper => "Smilkov et al. 2017, SmoothGrad: removing noise by adding noise";
    /// <summary>The clean pass and one per noisy copy.</summary>
    public override MethodCost Cost => CostOf(samples + 1);

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var input = run.Input;
        if (input.shape[0] != 1) throw new ArgumentException("smoothgrad explains one sample at a time");
        var generator = new Generator((ulong)seed, input.device);
        var sigma = noiseLevel * (input.max() - input.min()).to_type(ScalarType.Float32).item<float>();

        Tensor? output = null;
        IReadOnlyList<Targets.Target> targets;
        using (no_grad()) targets = run.Target.Resolve(run.Model.call(input));  // top-k is decided on the clean input
        var sums = new Dictionary<Targets.Target, Tensor>();
        int done = 0;
        bool first = true;
        while (done < samples)
        {
            int noisy = Math.Min(batchSize - (first ? 1 : 0), samples - done);
            // Drawn in float32 whatever the input's precision, so a double-precision run sees the same noise.
            var noise = (randn([noisy, .. input.shape[1..]], generator: generator, device: input.device,
                dtype: ScalarType.Float32) * sigma).to_type(input.dtype);
            var batch = input + noise;
            if (first) batch = cat([input, batch]);
            var (batchOutput, gradients) = Inner.InputGradients(run, batch, targets);
            if (first) output = batchOutput[..1];
            foreach (var (target, gradient) in gradients)
            {
                var g = (first ? gradient[1..] : gradient).sum([0], keepdim: true);
                sums[target] = sums.TryGetValue(target, out var s) ? s + g : g;
            }
            done += noisy;
            first = false;
        }

        var items = new List<Explanation>();
        foreach (var target in targets)
        {
            using var map = Magnitude(sums[target] / samples);
            items.Add(new Explanation(
                Name, target.Description, target.ClassIndex, 0, null, Heatmap.FromTensor(map[0]),
                AtInputResolution: true));
        }
        return ExplainRun.Result(output!, items);
    }
}

/// <summary>Selvaraju et al. 2017, Guided Grad-CAM: guided backpropagation multiplied by the upsampled Grad-CAM
/// map.</summary>
public sealed class GuidedGradCam : ExplanationMethod
{
    readonly GradCam _gradCam = new();
    readonly GuidedBackprop _guided = new();

    public override string Name => "guided-gradcam";
    public override string Paper => "Selvaraju et al. 2017, Grad-CAM (Guided Grad-CAM)";
    public override bool ExplainsLayer => true;

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        // Guided backprop's backward rule differs from Grad-CAM's, so each needs its own pass.
        var (output, gradients) = _guided.InputGradients(run, run.Input);
        long height = run.Input.shape[2], width = run.Input.shape[3];
        var items = new List<Explanation>();
        foreach (var (target, gradient) in gradients)
        {
            var cams = _gradCam.Run(run.WithTarget(target));
            for (int n = 0; n < gradient.shape[0]; n++)
            {
                var cam = cams.Items[n].Map;
                var camTensor = tensor(cam.Values, [1, 1, cam.Height, cam.Width], device: gradient.device);
                var upsampled = nn.functional.interpolate(
                    camTensor, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false)[0];
                using var map = (gradient[n] * upsampled).abs().amax([0]);
                items.Add(new Explanation(
                    Name, target.Description, target.ClassIndex, n, cams.Items[n].Layer, Heatmap.FromTensor(map),
                    AtInputResolution: true));
            }
        }
        return ExplainRun.Result(output, items);
    }
}
