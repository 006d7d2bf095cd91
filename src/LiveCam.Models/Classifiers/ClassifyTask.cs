namespace LiveCam.Models.Classifiers;

/// <summary>Outputs that are a classifier's logits (or features): the default task.</summary>
public sealed class ClassifyTask : IModelTask
{
    public string Name => "classify";
    public IReadOnlyList<string> Decoders => [];
    public string DefaultMethod => "gradcam";

    public IPredictionHead CreateHead(TaskContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Decoder is not null)
            throw new ModelLoadException($"decoder '{context.Decoder}' is for detectors and segmenters");
        return new ClassifierHead(context.Labels);
    }
}
