namespace LiveCam.Models.Segmentation;

/// <summary>Segmenters: [1, C, H, W] logits (argmax per pixel) or [1, 1, H, W] probabilities (threshold).</summary>
public sealed class SegmentTask : IModelTask
{
    public string Name => "segment";
    public IReadOnlyList<string> Decoders => ["argmax", "threshold"];
    public string DefaultMethod => "gradcam";
    public bool ExplainsHeadInputs => true;

    public IPredictionHead CreateHead(TaskContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.OutputShapes is not [{ Length: 3 } shape])
            throw new ModelLoadException("a segmenter gives one output [1, C, H, W]; this model gives "
                + string.Join(", ", context.OutputShapes.Select(s => $"[1, {string.Join(", ", s)}]")));
        var decoder = context.Decoder?.Trim().ToLowerInvariant() ?? (shape[0] == 1 ? "threshold" : "argmax");
        if (decoder == "argmax" && shape[0] < 2 || decoder == "threshold" && shape[0] != 1
            || !Decoders.Contains(decoder))
            throw new ModelLoadException($"decoder '{decoder}' does not fit [1, {string.Join(", ", shape)}]: argmax "
                + "takes [1, C, H, W] logits of C >= 2 classes, threshold [1, 1, H, W] probabilities");
        try
        {
            return new SegmentationHead((int)shape[0], (int)shape[1], (int)shape[2], context.ScoreThreshold ?? 0.5f,
                context.Labels);
        }
        catch (ArgumentException e) { throw new ModelLoadException(e.Message, e); }
    }
}
