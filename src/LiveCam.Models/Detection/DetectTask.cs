namespace LiveCam.Models.Detection;

/// <summary>Detectors: boxes from YOLO (v5, v8/v11 layouts) or SSD-style anchors (MediaPipe's BlazeFace).</summary>
public sealed class DetectTask : IModelTask
{
    sealed record DecoderEntry(string Name, float Score, float Iou, Func<TaskContext, IDetectionDecoder> Create);

    static readonly DecoderEntry[] s_decoders =
    [
        new("yolov5", 0.25f, 0.45f, c => new YoloV5Decoder(Single(c, "yolov5"))),
        new("yolov8", 0.25f, 0.45f, c => new YoloV8Decoder(Single(c, "yolov8"))),
        new("ssd", 0.5f, 0.3f, c => new SsdDecoder("ssd", c.OutputShapes, c.InputWidth, c.InputHeight)),
    ];

    public string Name => "detect";
    public IReadOnlyList<string> Decoders => s_decoders.Select(d => d.Name).ToList();
    /// <summary>Eigen-CAM takes no gradient and no target: what detectors' explanations usually start from.</summary>
    public string DefaultMethod => "eigencam";
    public bool ExplainsHeadInputs => true;

    static long[] Single(TaskContext c, string decoder) => c.OutputShapes.Count == 1
        ? c.OutputShapes[0]
        : throw new ModelLoadException($"decoder {decoder} takes one output; this model gives {c.OutputShapes.Count}");

    public IPredictionHead CreateHead(TaskContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = context.Decoder?.Trim().ToLowerInvariant() ?? Guess(context.OutputShapes);
        var entry = s_decoders.FirstOrDefault(d => d.Name == name)
            ?? throw new ModelLoadException(
                $"unknown decoder '{context.Decoder}'; a detector's decoders: {string.Join(", ", Decoders)}");
        var decoder = entry.Create(context);
        try
        {
            return new DetectionHead(decoder, context.InputWidth, context.InputHeight,
                context.ScoreThreshold ?? entry.Score, context.IouThreshold ?? entry.Iou, context.Labels);
        }
        catch (ArgumentException e) { throw new ModelLoadException(e.Message, e); }
    }

    /// <summary>One output [A, 5 + C] with more rows than columns is YOLO v5's, [4 + C, A] v8's; several outputs
    /// are SSD-style scores and regressors.</summary>
    static string Guess(IReadOnlyList<long[]> shapes) => shapes switch
    {
        [[var rows, var columns]] when rows > columns => "yolov5",
        [[_, _]] => "yolov8",
        { Count: > 1 } => "ssd",
        _ => throw new ModelLoadException("cannot tell how to decode outputs "
            + $"{string.Join(", ", shapes.Select(s => $"[1, {string.Join(", ", s)}]"))}; say --decoder"),
    };
}
