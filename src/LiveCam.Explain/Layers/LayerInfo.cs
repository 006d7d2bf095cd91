namespace LiveCam.Explain.Layers;

/// <summary>One layer as the input traverses it: its position, module path name, type and output shape.</summary>
public sealed record LayerInfo(int Index, string Name, string Type, IReadOnlyList<long> OutputShape)
{
    /// <summary>A 4-D output laid out [N, H, W, C] (a graph converted from TensorFlow); methods that read channels
    /// view it as [N, C, H, W].</summary>
    public bool ChannelsLast { get; init; }

    public string ShapeText => string.Join('x', OutputShape);

    /// <summary>How a 4-D output's channels are laid out; empty for others.</summary>
    public string LayoutText => OutputShape.Count == 4 ? ChannelsLast ? "NHWC" : "NCHW" : "";

    public override string ToString() => $"{Index,3}  {Name,-28} {Type,-20} {ShapeText,-18} {LayoutText}";
}
