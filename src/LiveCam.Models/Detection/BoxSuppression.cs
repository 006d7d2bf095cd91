namespace LiveCam.Models.Detection;

/// <summary>From candidates to detections: those scoring above the threshold, one box per object, by descending score.
/// </summary>
public static class BoxSuppression
{
    /// <summary>Ultralytics keeps at most 300 boxes an image.</summary>
    public const int MaxDetections = 300;

    /// <param name="boxes">[A * 4]: x0, y0, x1, y1 per candidate.</param>
    /// <param name="keypoints">[A * K * 2], or empty.</param>
    public static List<Detection> Run(float[] boxes, float[] scores, long[] classes, float[] keypoints,
        float scoreThreshold, float iouThreshold, Suppression suppression)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(keypoints);
        int perKeypoints = scores.Length == 0 ? 0 : keypoints.Length / scores.Length;
        // NaN scores never pass; a stable order breaks ties by the candidate's place.
        var order = Enumerable.Range(0, scores.Length).Where(i => scores[i] > scoreThreshold)
            .OrderByDescending(i => scores[i]).ThenBy(i => i).ToList();
        Detection At(int i) => new(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3], scores[i],
            (int)classes[i], keypoints.AsSpan(i * perKeypoints, perKeypoints).ToArray(), i);
        return suppression == Suppression.Weighted
            ? Weighted(order.Select(At).ToList(), iouThreshold)
            : ClassWise(order.Select(At).ToList(), iouThreshold);
    }

    static List<Detection> ClassWise(List<Detection> sorted, float iouThreshold)
    {
        var kept = new List<Detection>();
        foreach (var d in sorted)
        {
            if (kept.Any(k => k.Class == d.Class && k.Iou(d) > iouThreshold)) continue;
            kept.Add(d);
            if (kept.Count == MaxDetections) break;
        }
        return kept;
    }

    /// <summary>MediaPipe's weighted suppression: the best remaining candidate and every one overlapping it by more
    /// than the threshold merge into one detection, box and keypoints their score-weighted mean, score the best one's.
    /// </summary>
    static List<Detection> Weighted(List<Detection> sorted, float iouThreshold)
    {
        var kept = new List<Detection>();
        var remaining = sorted;
        while (remaining.Count > 0 && kept.Count < MaxDetections)
        {
            var best = remaining[0];
            var merged = remaining.Where(d => d.Iou(best) > iouThreshold).ToList();
            remaining = remaining.Where(d => !(d.Iou(best) > iouThreshold)).ToList();
            if (merged.Count == 0)
            {
                // Only a degenerate box overlaps nothing, not even itself: keep it as it is.
                kept.Add(best);
                remaining.RemoveAt(0);
                continue;
            }
            float total = merged.Sum(d => d.Score);
            float Mean(Func<Detection, float> value) => merged.Sum(d => d.Score * value(d)) / total;
            var keypoints = Enumerable.Range(0, best.Keypoints.Count).Select(k => Mean(d => d.Keypoints[k])).ToArray();
            kept.Add(best with
            {
                X0 = Mean(d => d.X0), Y0 = Mean(d => d.Y0), X1 = Mean(d => d.X1), Y1 = Mean(d => d.Y1),
                Keypoints = keypoints
            });
        }
        return kept;
    }
}
