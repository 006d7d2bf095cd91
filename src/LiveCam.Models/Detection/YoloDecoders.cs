using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>YOLO v5's output as Ultralytics exports it: [1, A, 5 + C], each row cx, cy, w, h (input pixels),
/// objectness, class scores (sigmoid already applied). A candidate's score is objectness times class score.</summary>
public sealed class YoloV5Decoder : IDetectionDecoder
{
    readonly long _anchors;

    /// <param name="shape">The output's shape without the batch: [A, 5 + C].</param>
    public YoloV5Decoder(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count != 2 || shape[1] < 6)
            throw new ModelLoadException(
                $"decoder yolov5 takes an output [1, N, 5 + classes]; this one is [1, {string.Join(", ", shape)}]");
        _anchors = shape[0];
        ClassCount = (int)shape[1] - 5;
    }

    public string Name => "yolov5";
    public int ClassCount { get; }
    public Suppression Suppression => Suppression.ClassWise;

    public Candidates Decode(Tensor flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        var rows = flat.reshape(flat.shape[0], _anchors, 5 + ClassCount);
        var objectness = rows[.., .., 4];
        var classScores = rows[.., .., 5..];
        var (best, classes) = (objectness.unsqueeze(-1) * classScores).max(-1);
        return new Candidates(YoloBoxes.FromCentre(rows[.., .., ..4]), best, classes, classScores, objectness, null);
    }
}

/// <summary>YOLO v8 and v11's output as Ultralytics exports it: [1, 4 + C, A], channels first: cx, cy, w, h (input
/// pixels), class scores (sigmoid already applied); no objectness.</summary>
public sealed class YoloV8Decoder : IDetectionDecoder
{
    readonly long _anchors;

    /// <param name="shape">The output's shape without the batch: [4 + C, A].</param>
    public YoloV8Decoder(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count != 2 || shape[0] < 5)
            throw new ModelLoadException(
                $"decoder yolov8 takes an output [1, 4 + classes, N]; this one is [1, {string.Join(", ", shape)}]");
        _anchors = shape[1];
        ClassCount = (int)shape[0] - 4;
    }

    public string Name => "yolov8";
    public int ClassCount { get; }
    public Suppression Suppression => Suppression.ClassWise;

    public Candidates Decode(Tensor flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        var rows = flat.reshape(flat.shape[0], 4 + ClassCount, _anchors).transpose(1, 2);
        var classScores = rows[.., .., 4..];
        var (best, classes) = classScores.max(-1);
        return new Candidates(YoloBoxes.FromCentre(rows[.., .., ..4]), best, classes, classScores,
            ones_like(best), null);
    }
}

static class YoloBoxes
{
    /// <summary>cx, cy, w, h [..., 4] as x0, y0, x1, y1.</summary>
    public static Tensor FromCentre(Tensor centre)
    {
        var half = centre[.., .., 2..4] / 2;
        var middle = centre[.., .., ..2];
        return cat([middle - half, middle + half], -1);
    }
}
