using LiveCam.Explain.Engine;

namespace LiveCam.Explain.Methods;

/// <summary>One way of explaining a prediction. Methods are small classes over shared bases:
/// <see cref="ActivationMapMethod"/> (CAM family, a layer's map) and <see cref="InputGradientMethod"/> (the input's
/// gradient).</summary>
public abstract class ExplanationMethod
{
    /// <summary>Short name, as on the command line (<c>gradcam</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Where the method comes from.</summary>
    public abstract string Paper { get; }

    /// <summary>Whether the method explains a layer (and so needs one).</summary>
    public abstract bool ExplainsLayer { get; }

    /// <summary>How many passes through the network one explanation takes: one forward (and its backward) unless the
    /// method says otherwise.</summary>
    public virtual MethodCost Cost => MethodCost.Few;

    public abstract ExplanationSet Run(ExplainRun run);

    /// <summary>The order of <paramref name="passes"/> forward passes.</summary>
    protected static MethodCost CostOf(int passes) => passes switch
    {
        <= 12 => MethodCost.Few,
        < 100 => MethodCost.Dozens,
        < 1000 => MethodCost.Hundreds,
        _ => MethodCost.Thousand,
    };

    public override string ToString() => Name;
}

/// <summary>How many passes through the network (each forward with its backward where the method takes gradients) one
/// explanation takes, by order: what the benches and the slow tests sort methods by. Batched passes cost less than as
/// many single ones, but their number still decides the time.</summary>
public enum MethodCost
{
    /// <summary>A few, up to about a dozen: one pass (the CAM family, gradients), two (Guided Grad-CAM), six of those
    /// (test-time augmentation).</summary>
    Few,
    /// <summary>Dozens: a fixed number of changed copies of the input (SmoothGrad's noise, integrated gradients'
    /// steps).</summary>
    Dozens,
    /// <summary>Hundreds on the big networks: one per channel of the layer (Score-CAM, Ablation-CAM) or per position of
    /// a patch (occlusion).</summary>
    Hundreds,
    /// <summary>A thousand or more, however small the network (RISE's masks).</summary>
    Thousand,
}
