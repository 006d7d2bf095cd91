using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>Every candidate a detector's output holds, as tensors computed from it (gradients flow through them).
/// </summary>
/// <param name="Boxes">[N, A, 4]: x0, y0, x1, y1 in the model input's pixels.</param>
/// <param name="Scores">[N, A]: the best class's score (objectness times class score where there is objectness).
/// </param>
/// <param name="Classes">[N, A]: the best class (int64).</param>
/// <param name="ClassScores">[N, A, C]: every class's score.</param>
/// <param name="Objectness">[N, A]: how sure the detector is there is an object (1 where it does not say).</param>
/// <param name="Keypoints">[N, A, K, 2] in the model input's pixels; null when it gives none.</param>
public sealed record Candidates(Tensor Boxes, Tensor Scores, Tensor Classes, Tensor ClassScores, Tensor Objectness,
    Tensor? Keypoints);

/// <summary>How the suppression keeps one box per object.</summary>
public enum Suppression
{
    /// <summary>Per class, a box overlapping a better one by more than the threshold is dropped (torchvision's
    /// <c>batched_nms</c>, as Ultralytics uses it).</summary>
    ClassWise,
    /// <summary>Overlapping boxes merge into their score-weighted mean, with the best one's score (MediaPipe's
    /// weighted non-maximum suppression).</summary>
    Weighted,
}

/// <summary>How a detector's raw output becomes candidates: one per output layout (YOLO v5, YOLO v8, SSD
/// anchors).</summary>
public interface IDetectionDecoder
{
    string Name { get; }
    int ClassCount { get; }
    Suppression Suppression { get; }

    /// <summary>The candidates of a flat output [N, total] (the network's outputs flattened per sample).</summary>
    Candidates Decode(Tensor flat);
}
