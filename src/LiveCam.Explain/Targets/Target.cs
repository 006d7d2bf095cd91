using System.Globalization;
using static TorchSharp.torch;

namespace LiveCam.Explain.Targets;

/// <summary>
/// What is explained: reduces the model's output [N, ...] to one score per sample [N].
/// <see cref="TopK"/> and <see cref="Top"/> are resolved per forward pass into class targets.
/// </summary>
public abstract class Target
{
    public abstract string Description { get; }
    public override string ToString() => Description;

    /// <summary>The scores, shape [N]; checked by <see cref="ScoreOf"/>.</summary>
    protected abstract Tensor Score(Tensor output);

    /// <summary>The concrete targets for this output (one per class for top-k; itself otherwise).</summary>
    public virtual IReadOnlyList<Target> Resolve(Tensor output) => [this];

    /// <summary>One score per sample, or a clear error.</summary>
    public Tensor ScoreOf(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var score = Score(output);
        long n = output.shape[0];
        if (score.ndim != 1 || score.shape[0] != n)
            throw new ArgumentException($"target '{Description}' gives a score of shape "
                + $"[{string.Join(", ", score.shape)}] for an output of shape [{string.Join(", ", output.shape)}]; "
                + $"a target must give one score per sample, shape [{n}]");
        return score;
    }

    /// <summary>The class this target explains, if it is one.</summary>
    public virtual int? ClassIndex => null;

    static Tensor Flat(Tensor output) => output.reshape(output.shape[0], -1);

    public static Target Class(int index) => new ClassTarget(index);
    public static Target Top() => new TopKTarget(1);
    public static Target TopK(int k) => new TopKTarget(k);
    /// <summary>All outputs summed (a regression model's "everything it predicts", e.g. the robot's 325).</summary>
    public static Target Sum() => new WeightedTarget("all outputs", null);
    public static Target Indices(IReadOnlyList<int> indices, string? description = null) =>
        new IndicesTarget(indices, description);
    public static Target Weights(IReadOnlyList<float> weights) =>
        new WeightedTarget($"weights[{weights.Count}]", weights);
    public static Target Function(string description, Func<Tensor, Tensor> score) =>
        new FunctionTarget(description, score);
    /// <summary>Targets already decided (top-k resolved on another input): resolves to exactly these, in this
    /// order.</summary>
    public static Target Fixed(IReadOnlyList<Target> targets) => new FixedTargets(targets);

    /// <summary><c>all</c>, <c>top</c>, <c>N</c>, <c>topk:K</c>, <c>indices:i,j,...</c>.</summary>
    public static Target Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "all" || t == "sum") return Sum();
        if (t == "top") return Top();
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return Class(index);
        if (t.StartsWith("topk:", StringComparison.Ordinal)
            && int.TryParse(t[5..], NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k > 0)
            return TopK(k);
        if (t.StartsWith("indices:", StringComparison.Ordinal))
        {
            var parts = t[8..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var list = new List<int>();
            foreach (var p in parts)
            {
                if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                    throw new FormatException($"target '{text}': '{p}' is not an output index");
                list.Add(i);
            }
            if (list.Count == 0) throw new FormatException($"target '{text}': no indices");
            return Indices(list);
        }
        throw new FormatException($"target '{text}': expected all, top, N, topk:K or indices:i,j,...");
    }

    sealed class ClassTarget(int index) : Target
    {
        public override string Description => $"output {index}";
        public override int? ClassIndex => index;

        protected override Tensor Score(Tensor output)
        {
            var flat = Flat(output);
            if (index < 0 || index >= flat.shape[1])
                throw new ArgumentException(
                    $"target output {index} does not exist: the model has {flat.shape[1]} outputs");
            return flat[.., index];
        }
    }

    sealed class TopKTarget(int k) : Target
    {
        public override string Description => k == 1 ? "top" : $"top {k}";

        protected override Tensor Score(Tensor output) =>
            throw new InvalidOperationException("top-k is resolved into class targets first");

        public override IReadOnlyList<Target> Resolve(Tensor output)
        {
            var flat = Flat(output);
            if (flat.shape[0] != 1)
                throw new ArgumentException(
                    "top/top-k targets explain one sample at a time; give a class index for batches");
            if (k > flat.shape[1]) throw new ArgumentException($"top {k}: the model has only {flat.shape[1]} outputs");
            // Chosen here rather than by libtorch's topk: right after a pass, topk took 0.12 ms for a thousand scores.
            using var scores = flat[0].detach().to_type(ScalarType.Float32).cpu().contiguous();
            return Largest(scores.data<float>().ToArray(), k).Select(i => (Target)new ClassTarget(i)).ToList();
        }

        /// <summary>The indices of the k largest values, largest first, as topk orders them: NaN above every number,
        /// and of equal values the first.</summary>
        internal static List<int> Largest(float[] values, int k)
        {
            var best = new List<int>(k + 1);
            for (int i = 0; i < values.Length; i++)
            {
                int at = best.Count;
                while (at > 0 && Above(values[i], values[best[at - 1]])) at--;
                if (at >= k) continue;
                best.Insert(at, i);
                if (best.Count > k) best.RemoveAt(k);
            }
            return best;
        }

        static bool Above(float a, float b) => float.IsNaN(a) ? !float.IsNaN(b) : a > b;
    }

    sealed class FixedTargets(IReadOnlyList<Target> targets) : Target
    {
        public override string Description => string.Join(", ", targets.Select(t => t.Description));

        protected override Tensor Score(Tensor output) =>
            targets.Count == 1
                ? targets[0].ScoreOf(output)
                : throw new InvalidOperationException("several fixed targets are resolved one by one");

        public override IReadOnlyList<Target> Resolve(Tensor output) =>
            targets.SelectMany(t => t.Resolve(output)).ToList();
    }

    sealed class IndicesTarget(IReadOnlyList<int> indices, string? description) : Target
    {
        public override string Description => description ?? $"outputs {string.Join(',', indices)}";

        protected override Tensor Score(Tensor output)
        {
            var flat = Flat(output);
            foreach (var i in indices)
                if (i < 0 || i >= flat.shape[1])
                    throw new ArgumentException(
                        $"target output {i} does not exist: the model has {flat.shape[1]} outputs");
            using var idx = tensor(indices.Select(i => (long)i).ToArray(), device: output.device);
            return flat.index_select(1, idx).sum(1);
        }
    }

    sealed class WeightedTarget(string description, IReadOnlyList<float>? weights) : Target
    {
        public override string Description => description;

        protected override Tensor Score(Tensor output)
        {
            var flat = Flat(output);
            if (weights is null) return flat.sum(1);
            if (weights.Count != flat.shape[1])
                throw new ArgumentException($"target has {weights.Count} weights for {flat.shape[1]} outputs");
            var w = tensor(weights.ToArray(), device: output.device, dtype: flat.dtype);
            return (flat * w).sum(1);
        }
    }

    sealed class FunctionTarget(string description, Func<Tensor, Tensor> score) : Target
    {
        public override string Description => description;
        protected override Tensor Score(Tensor output) => score(output);
    }
}
