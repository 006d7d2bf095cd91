using LiveCam.Explain.Engine;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// Test-time augmentation smoothing (pytorch-grad-cam's <c>aug_smooth</c>): the method runs on the input flipped left
/// to right or not, times 1.0, 1.1 and 0.9; each map is flipped back, cut at zero and scaled by its maximum, and the
/// six are averaged. Targets are decided on the plain input, so a flipped copy explains the same classes. Six times the
/// cost.
/// </summary>
public sealed class AugmentationSmoothing(ExplanationMethod inner) : ExplanationMethod
{
    static readonly (bool Flip, float Scale)[] s_augmentations =
        [(false, 1f), (false, 1.1f), (false, 0.9f), (true, 1f), (true, 1.1f), (true, 0.9f)];

    public ExplanationMethod Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));
    public override string Name => $"{Inner.Name}+aug";
    public override string Paper =>
        Inner.Paper + "; smoothed by test-time augmentation (flips and scales, as pytorch-grad-cam)";
    public override bool ExplainsLayer => Inner.ExplainsLayer;
    /// <summary>Six times the inner method's passes: a few stay a few (up to a dozen), dozens become hundreds, hundreds
    /// a thousand.</summary>
    public override MethodCost Cost =>
        Inner.Cost is MethodCost.Few or MethodCost.Thousand ? Inner.Cost : Inner.Cost + 1;

    public override ExplanationSet Run(ExplainRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var plain = Inner.Run(run);
        var targets = plain.Items.Where(i => i.Sample == 0)
            .Select(i => i.ClassIndex is { } k ? Target.Class(k) : run.Target).ToList();
        var fixedTargets = Target.Fixed(targets);
        var sums = plain.Items.Select(i => Normalised(i.Map, flip: false)).ToList();
        foreach (var (flip, scale) in s_augmentations.Skip(1))
        {
            var input = run.Input * scale;
            if (flip) input = input.flip(3);
            var set = Inner.Run(run.WithInput(input, fixedTargets));
            if (set.Items.Count != sums.Count)
                throw new InvalidOperationException($"{Inner.Name} gave {set.Items.Count} maps for an augmented input, "
                    + $"{sums.Count} for the plain one");
            for (int i = 0; i < sums.Count; i++) sums[i] += Normalised(set.Items[i].Map, flip);
        }
        var items = plain.Items
            .Select((item, i) =>
                item with { Method = Name, Map = Heatmap.FromTensor(sums[i] / s_augmentations.Length) })
            .ToList();
        return plain with { Items = items };
    }

    static Tensor Normalised(Heatmap map, bool flip)
    {
        var t = tensor(map.Normalised, [map.Height, map.Width]);
        return flip ? t.flip(1) : t;
    }
}
