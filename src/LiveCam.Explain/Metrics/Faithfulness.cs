using LiveCam.Explain.Engine;
using LiveCam.Explain.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Metrics;

/// <summary>How faithful one saliency map is to the model, for one input and one target. Confidence is a classifier's
/// softmax probability of the class; for other models the target's score as a share of its value on the whole
/// input.</summary>
/// <param name="Deletion">Area under the confidence curve as the most salient pixels are removed first (lower is
/// better).</param>
/// <param name="Insertion">Area under the curve as the most salient pixels are put into a blurred copy first (higher is
/// better).</param>
/// <param name="RoadMostRelevantFirst">Mean confidence with the most salient 10%..90% removed and imputed (lower is
/// better).</param>
/// <param name="RoadLeastRelevantFirst">The same removing the least salient first (higher is better).</param>
/// <param name="Drop">max(0, Y - O) / Y with O the confidence on the input times the map (lower is better).</param>
/// <param name="Increase">Whether O &gt; Y.</param>
public sealed record FaithfulnessScores(
    double Deletion, double Insertion, double RoadMostRelevantFirst, double RoadLeastRelevantFirst, double Drop,
    bool Increase);

/// <summary>
/// Faithfulness metrics of saliency maps: deletion and insertion (Petsiuk et al. 2018, RISE), ROAD with noisy linear
/// imputation (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for Attribution Methods") and
/// average drop / increase in confidence (Chattopadhay et al. 2018, Grad-CAM++). Removed pixels take the value 0, the
/// training data's mean colour once normalised.
/// </summary>
public sealed class Faithfulness(
    nn.Module<Tensor, Tensor> model, ModelTraits? traits = null, int steps = 20, int batchSize = 8, int seed = 0)
{
    static readonly int[] s_roadPercents = [10, 20, 30, 40, 50, 60, 70, 80, 90];
    readonly ModelTraits _traits = traits ?? ModelTraits.None;

    /// <summary>Noise added to imputed pixels, as a share of the input's standard deviation (ROAD's "noisy").</summary>
    public double ImputationNoise { get; init; } = 0.01;

    /// <param name="input">[1, C, H, W] on the model's device.</param>
    /// <param name="target">A concrete target (a class, or a score of all outputs), not top-k.</param>
    /// <param name="saliency">[H, W], larger = more important.</param>
    public FaithfulnessScores Evaluate(Tensor input, Target target, Tensor saliency)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(saliency);
        if (input.ndim != 4 || input.shape[0] != 1) throw new ArgumentException("metrics take one input [1, C, H, W]");
        long height = input.shape[2], width = input.shape[3], pixels = height * width;
        if (saliency.shape.Length != 2 || saliency.shape[0] != height || saliency.shape[1] != width)
            throw new ArgumentException($"the saliency map must have the input's size {height}x{width}");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Evaluation mode for the passes here (dropout off, batch norms' running statistics), put back after.
        using var state = ModelStateGuard.ForInference(model);
        var x = input.detach();
        double clean = RawConfidence(target, model.call(x)).to_type(ScalarType.Float64).item<double>();
        double Relative(double c) => Normalised(target) ? c : clean != 0 ? c / clean : 0;

        // Pixels ranked most salient first; ties keep the image's order.
        var order = saliency.reshape(-1).to(x.device).sort(descending: true, stable: true).Indices;
        var ranks = empty_like(order).index_put_(arange(pixels, device: x.device), order);  // rank of each pixel
        Tensor KeepMasks(IEnumerable<long> removedCounts, bool leastFirst)
        {
            var masks = removedCounts.Select(k => leastFirst ? ranks.lt(pixels - k) : ranks.ge(k)).ToList();
            return stack(masks).reshape(-1, 1, height, width).to_type(x.dtype);  // 1 = kept
        }

        var counts = Enumerable.Range(0, steps + 1).Select(k => (long)Math.Round((double)pixels * k / steps)).ToList();
        var keep = KeepMasks(counts, leastFirst: false);
        var deletion = Curve(target, x * keep).Select(Relative).ToList();
        var blurred = Blur(x);
        // Insertion shows, over the blurred copy, the pixels deletion has removed at the same step.
        var insertion = Curve(target, blurred * keep + x * (1 - keep)).Select(Relative).ToList();

        var roadCounts = s_roadPercents.Select(p => (long)Math.Round(pixels * p / 100.0)).ToList();
        var generator = new Generator((ulong)seed, x.device);
        var noise = ImputationNoise * x.std().to_type(ScalarType.Float64).item<double>();
        double Road(bool leastFirst)
        {
            var imputed = Impute(x, KeepMasks(roadCounts, leastFirst), noise, generator);
            return Curve(target, imputed).Select(Relative).Average();
        }
        double morf = Road(leastFirst: false), lerf = Road(leastFirst: true);

        var map = saliency.to(x.device).to_type(x.dtype).clamp_min(0);
        var max = map.max().to_type(ScalarType.Float64).item<double>();
        var explained = x * (max > 0 ? map / max : map).reshape(1, 1, height, width);
        double o = RawConfidence(target, model.call(explained)).to_type(ScalarType.Float64).item<double>();
        double drop = clean > 0 ? Math.Max(0, clean - o) / clean : 0;
        return new FaithfulnessScores(Auc(deletion), Auc(insertion), morf, lerf, drop, o > clean);
    }

    bool Normalised(Target target) => _traits.OutputsAreClassLogits && target.ClassIndex is not null;

    Tensor RawConfidence(Target target, Tensor output) =>
        Normalised(target)
            ? nn.functional.softmax(output.reshape(output.shape[0], -1), 1)[.., target.ClassIndex!.Value]
            : target.ScoreOf(output);

    List<double> Curve(Target target, Tensor inputs)
    {
        var values = new List<double>();
        for (long start = 0; start < inputs.shape[0]; start += batchSize)
        {
            // The batch's activations are freed with it, not kept until the whole evaluation ends.
            using var batch = NewDisposeScope();
            var scores = RawConfidence(
                    target, model.call(inputs.narrow(0, start, Math.Min(batchSize, inputs.shape[0] - start))))
                .to_type(ScalarType.Float64).cpu();
            values.AddRange(scores.data<double>().ToArray());
        }
        return values;
    }

    /// <summary>The trapezoid rule over equally spaced fractions 0..1.</summary>
    public static double Auc(IReadOnlyList<double> curve)
    {
        ArgumentNullException.ThrowIfNull(curve);
        if (curve.Count < 2) throw new ArgumentException("a curve needs two points");
        return (curve.Sum() - (curve[0] + curve[^1]) / 2) / (curve.Count - 1);
    }

    /// <summary>Insertion's start: the input under a Gaussian blur (sigma a tenth of the shorter side, 4 sigma wide),
    /// per channel.</summary>
    public static Tensor Blur(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        long c = x.shape[1];
        double sigma = Math.Max(1, Math.Min(x.shape[2], x.shape[3]) / 10.0);
        int radius = (int)Math.Ceiling(2 * sigma);
        var taps = arange(-radius, radius + 1, dtype: ScalarType.Float64);
        var kernel = (-(taps * taps) / (2 * sigma * sigma)).exp();
        kernel = (kernel / kernel.sum()).to_type(x.dtype).to(x.device);
        var horizontal = kernel.reshape(1, 1, 1, -1).expand(c, 1, 1, -1);
        var vertical = kernel.reshape(1, 1, -1, 1).expand(c, 1, -1, 1);
        var padded = nn.functional.pad(x, [radius, radius, radius, radius], PaddingModes.Replicate);
        return nn.functional.conv2d(nn.functional.conv2d(padded, horizontal, groups: c), vertical, groups: c);
    }

    /// <summary>ROAD's noisy linear imputation: each removed pixel becomes the weighted mean of its eight neighbours
    /// (1/6 direct, 1/12 diagonal), solved for all removed pixels at once (conjugate gradients on the neighbourhood
    /// Laplacian), plus Gaussian noise.</summary>
    /// <param name="x">[1, C, H, W].</param>
    /// <param name="keep">[B, H, W] (or [H, W]): 1 where the pixel stays; one imputed image per mask,
    /// [B, C, H, W].</param>
    /// <param name="residual">Stop when the residual is this share of where it started: far below the noise
    /// added.</param>
    public static Tensor Impute(
        Tensor x, Tensor keep, double noise, Generator? generator = null, int iterations = 300, double residual = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(keep);
        long c = x.shape[1], height = x.shape[2], width = x.shape[3];
        using var outer = NewDisposeScope();
        var removed = (1 - keep.to_type(x.dtype)).reshape(-1, 1, height, width).expand(-1, c, -1, -1).contiguous();
        long b = removed.shape[0];
        var weights = tensor(
                new double[] { 1 / 12.0, 1 / 6.0, 1 / 12.0, 1 / 6.0, 0, 1 / 6.0, 1 / 12.0, 1 / 6.0, 1 / 12.0 },
                [1, 1, 3, 3])
            .to_type(x.dtype).to(x.device);
        var channelWeights = weights.expand(c, 1, 3, 3);
        // Outside the image counts as absent: each pixel's weights sum over the neighbours it has.
        var degree = nn.functional.conv2d(
            nn.functional.pad(ones(1, 1, height, width, dtype: x.dtype, device: x.device), [1, 1, 1, 1]), weights);
        Tensor Neighbours(Tensor v) =>
            nn.functional.conv2d(nn.functional.pad(v, [1, 1, 1, 1]), channelWeights, groups: c);
        // Unknowns u (removed pixels): degree * u - W(u) = W(known) on removed pixels; symmetric positive definite.
        Tensor Apply(Tensor u) => (degree * u - Neighbours(u)).mul_(removed);
        Tensor Dot(Tensor a, Tensor v) => (a * v).sum([1, 2, 3], keepdim: true);
        var known = x * (1 - removed);
        var u = zeros_like(removed);
        var r = Neighbours(known).mul_(removed);
        var p = r.clone();
        var rr = Dot(r, r);
        double tolerance = residual * residual * rr.max().to_type(ScalarType.Float64).item<double>();
        for (int i = 0; i < iterations && rr.max().to_type(ScalarType.Float64).item<double>() > tolerance; i++)
        {
            // Everything an iteration makes is freed with it; u, r, p and rr are updated in place.
            using var step = NewDisposeScope();
            var ap = Apply(p);
            var alpha = rr / Dot(p, ap).clamp_min(1e-30);
            u.add_(alpha * p);
            r.sub_(alpha * ap);
            var next = Dot(r, r);
            p.mul_(next / rr.clamp_min(1e-30)).add_(r);
            rr.copy_(next);
        }
        var jitter = noise > 0
            ? randn([b, c, height, width], generator: generator, dtype: x.dtype, device: x.device) * noise
            : zeros_like(u);
        return (known + (u + jitter) * removed).MoveToOuterDisposeScope();
    }
}
