namespace LiveCam.Models.Detection;

/// <summary>One detected object: its box (x0, y0, x1, y1 in the model input's pixels), score, class and keypoints
/// (x, y pairs, in the same pixels; empty when the detector gives none).</summary>
/// <param name="Anchor">The candidate the detection came from (its row of the decoded output), so a target can
/// take the same score again with gradients.</param>
public sealed record Detection(float X0, float Y0, float X1, float Y1, float Score, int Class,
    IReadOnlyList<float> Keypoints, int Anchor)
{
    public float Area => Math.Max(0, X1 - X0) * Math.Max(0, Y1 - Y0);

    /// <summary>Intersection over union, as torchvision's <c>box_iou</c> computes it.</summary>
    public float Iou(Detection other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Boxes.Iou(X0, Y0, X1, Y1, other.X0, other.Y0, other.X1, other.Y1);
    }
}

/// <summary>Box arithmetic shared by the decoders, the suppression and the targets.</summary>
public static class Boxes
{
    public static float Iou(float ax0, float ay0, float ax1, float ay1, float bx0, float by0, float bx1, float by1)
    {
        float w = Math.Min(ax1, bx1) - Math.Max(ax0, bx0), h = Math.Min(ay1, by1) - Math.Max(ay0, by0);
        if (w <= 0 || h <= 0) return 0;
        float inter = w * h;
        float union = Math.Max(0, ax1 - ax0) * Math.Max(0, ay1 - ay0) + Math.Max(0, bx1 - bx0) * Math.Max(0, by1 - by0)
            - inter;
        return union > 0 ? inter / union : 0;
    }
}
