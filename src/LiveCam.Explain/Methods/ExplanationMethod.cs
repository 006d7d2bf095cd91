using LiveCam.Explain.Engine;

namespace LiveCam.Explain.Methods;

/// <summary>One way of explaining a prediction. Methods are small classes over shared bases:
/// <see cref="ActivationMapMethod"/> (CAM family, a layer's map) and <see cref="InputGradientMethod"/> (the input's gradient).</summary>
public abstract class ExplanationMethod
{
    /// <summary>Short name, as on the command line (<c>gradcam</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Where the method comes from.</summary>
    public abstract string Paper { get; }

    /// <summary>Whether the method explains a layer (and so needs one).</summary>
    public abstract bool ExplainsLayer { get; }

    public abstract ExplanationSet Run(ExplainRun run);

    public override string ToString() => Name;
}
