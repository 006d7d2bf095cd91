namespace LiveCam.Explain.Targets;

/// <summary>A target that is one detected box: besides its own score it can say how well any output's detections
/// match the box, which D-RISE weighs its masks by.</summary>
public interface IBoxTarget
{
    /// <summary>The best match of the box among an output's detections, one score per sample: IoU x cosine of the
    /// class scores x objectness, as D-RISE (Petsiuk et al. 2021) defines it.</summary>
    Target Similarity { get; }
}
