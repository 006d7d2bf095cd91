using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>Many forward passes without gradients (masked, ablated or perturbed copies of an input), a batch at a time.
/// Each batch's inputs and activations are freed when it is done: a thousand passes hold one batch's memory.</summary>
internal static class BatchedPasses
{
    /// <param name="makeBatch">The inputs of passes [start, start + count).</param>
    /// <param name="score">One value per pass from the model's output of a batch.</param>
    /// <returns>[count] scores, in the caller's dispose scope.</returns>
    public static Tensor Scores(
        nn.Module<Tensor, Tensor> model, long count, int batchSize, Func<long, long, Tensor> makeBatch,
        Func<Tensor, Tensor> score)
    {
        var parts = new List<Tensor>();
        using (no_grad())
        {
            for (long start = 0; start < count; start += batchSize)
            {
                using var batch = NewDisposeScope();
                long n = Math.Min(batchSize, count - start);
                parts.Add(score(model.call(makeBatch(start, n))).detach().MoveToOuterDisposeScope());
            }
        }
        return parts.Count == 1 ? parts[0] : cat(parts);
    }
}
