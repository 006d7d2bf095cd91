namespace LiveCam.Explain.Layers;

/// <summary>One layer as the input traverses it: its position, module path name, type and output shape.</summary>
public sealed record LayerInfo(int Index, string Name, string Type, IReadOnlyList<long> OutputShape)
{
    public string ShapeText => string.Join('x', OutputShape);
    public override string ToString() => $"{Index,3}  {Name,-28} {Type,-20} {ShapeText}";
}
