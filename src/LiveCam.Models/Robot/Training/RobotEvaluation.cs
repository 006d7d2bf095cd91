using static TorchSharp.torch;

namespace LiveCam.Models.Robot.Training;

/// <summary>ROC AUC per (distance, sensor) over the known labels of a data set, as in the paper.</summary>
public static class RobotEvaluation
{
    /// <summary>The model's outputs for every image of the set, row-major [N, 325].</summary>
    public static float[] Predict(LongRangePerceptionNet net, RobotDataset data, Device device, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        net.eval();
        var outputs = new float[data.Count * LongRangePerceptionNet.Outputs];
        var indices = Enumerable.Range(0, data.Count).ToArray();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            int count = Math.Min(batchSize, data.Count - start);
            var (x, _) = RobotTrainer.Batch(data, indices.AsSpan(start, count), device);
            var y = net.call(RobotTrainer.Standardise(x)).cpu();
            y.data<float>().CopyTo(
                outputs.AsSpan(start * LongRangePerceptionNet.Outputs, count * LongRangePerceptionNet.Outputs));
        }
        return outputs;
    }

    /// <summary>AUC[d][s] for d in 0..<paramref name="distances"/>-1; null where the labels hold one class only.
    /// </summary>
    public static double?[][] Auc(float[] predictions, RobotDataset data,
        int distances = RobotPrediction.CalibratedDistances)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(data);
        var result = new double?[distances][];
        for (int d = 0; d < distances; d++)
        {
            result[d] = new double?[LongRangePerceptionNet.Sensors];
            for (int s = 0; s < LongRangePerceptionNet.Sensors; s++)
            {
                int k = d * LongRangePerceptionNet.Sensors + s;
                var pairs = new List<(float Score, bool Positive)>();
                for (int i = 0; i < data.Count; i++)
                {
                    float label = data.Labels[i * LongRangePerceptionNet.Outputs + k];
                    if (label >= 0) pairs.Add((predictions[i * LongRangePerceptionNet.Outputs + k], label > 0.5f));
                }
                result[d][s] = Auc(pairs);
            }
        }
        return result;
    }

    /// <summary>Mann-Whitney U / (positives x negatives), ties counted half.</summary>
    public static double? Auc(IReadOnlyList<(float Score, bool Positive)> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int positives = pairs.Count(p => p.Positive), negatives = pairs.Count - positives;
        if (positives == 0 || negatives == 0) return null;
        var sorted = pairs.OrderBy(p => p.Score).ToArray();
        double rankSum = 0;
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1].Score == sorted[i].Score) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) if (sorted[k].Positive) rankSum += rank;
            i = j + 1;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>The mean AUC over distances 0..<paramref name="maxDistance"/> and all sensors (defined cells only).
    /// </summary>
    public static double MeanAuc(double?[][] auc, int maxDistance) =>
        auc.Take(maxDistance + 1).SelectMany(r => r).Where(v => v.HasValue).Select(v => v!.Value)
            .DefaultIfEmpty(double.NaN).Average();
}
