using LiveCam.Explain.Engine;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>Petsiuk et al. 2021, "Black-box Explanation of Object Detectors via Saliency Maps" (D-RISE): RISE's random
/// masks, each weighted by how well the masked image's best detection matches the explained box (IoU x cosine of the
/// class scores x objectness). Seeded, so a still image gives the same map. A target that is not a detector's box
/// weighs each mask by its own score, as RISE does, on D-RISE's finer grid.
/// </summary>
public sealed class DRise(int masks = 1000, int grid = 16, double keep = 0.5, int seed = 0, int batchSize = 16)
    : InputMapMethod
{
    public override string Name => "d-rise";
    public override string Paper => "Petsiuk et al. 2021, Black-box Explanation of Object Detectors via Saliency Maps";
    /// <summary>One pass per mask.</summary>
    public override MethodCost Cost => CostOf(masks);

    protected override Tensor Maps(ExplainRun run, Target target, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(run);
        var similarity = (target as IBoxTarget)?.Similarity ?? target;
        long height = run.Input.shape[2], width = run.Input.shape[3];
        var m = new Rise(masks, grid, keep, seed).Masks(height, width, run.Input.device).to_type(run.Input.dtype);
        var maps = new List<Tensor>();
        for (long i = 0; i < run.Input.shape[0]; i++)
        {
            var x = run.Input[i].unsqueeze(0);
            var weights = Scores(run, similarity, masks, batchSize, (start, n) => x * m.narrow(0, start, n));
            var saliency = (weights.reshape(-1, 1, 1, 1) * m).sum([0, 1]) / masks;
            // As RISE's: the mean weight every pixel carries says nothing about where; the map starts at its minimum.
            maps.Add(saliency - saliency.min());
        }
        return stack(maps);
    }
}
