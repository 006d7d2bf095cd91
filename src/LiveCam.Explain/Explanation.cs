using LiveCam.Explain.Layers;

namespace LiveCam.Explain;

/// <summary>One explanation: of one sample, for one target, by one method.</summary>
/// <param name="Layer">The explained layer (CAM methods); null for methods of the input gradient.</param>
/// <param name="AtInputResolution">True when <paramref name="Map"/> has the input's size (gradient-of-input
/// methods).</param>
public sealed record Explanation(
    string Method, string Target, int? ClassIndex, int Sample, LayerInfo? Layer, Heatmap Map, bool AtInputResolution);

/// <summary>All explanations of one call, and the model's outputs from the same forward pass.</summary>
/// <param name="Outputs">The model's output, row-major, shape <paramref name="OutputShape"/>.</param>
public sealed record ExplanationSet(float[] Outputs, IReadOnlyList<long> OutputShape, IReadOnlyList<Explanation> Items)
{
    /// <summary>The outputs of sample <paramref name="n"/>.</summary>
    public ReadOnlySpan<float> OutputsOf(int n)
    {
        int per = Outputs.Length / (int)OutputShape[0];
        return Outputs.AsSpan(n * per, per);
    }
}
