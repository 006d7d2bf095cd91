using System.Globalization;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Models.Segmentation;

/// <summary>A rectangle of the segmenter's output, in its pixels.</summary>
public readonly record struct SegmentationRegion(int X, int Y, int Width, int Height);

/// <summary>
/// A class of a segmenter, explained over where it is predicted (pytorch-grad-cam's SemanticSegmentationTarget: the
/// class's logits summed over the pixels predicted as it) or over a region. The class (when not given) and the
/// predicted pixels are read from the clean pass, then held for every pass of the method.
/// </summary>
public sealed class SegmentationClassTarget : Target
{
    readonly SegmentationHead _head;
    readonly int? _class;
    readonly SegmentationRegion? _region;

    internal SegmentationClassTarget(SegmentationHead head, int? @class, SegmentationRegion? region)
    {
        _head = head;
        _class = @class;
        _region = region;
    }

    public override string Description =>
        (_class is { } k ? _head.Label(k) ?? $"class {k}" : _region is null ? "largest class" : "class")
        + (_region is { } r
            ? string.Create(CultureInfo.InvariantCulture, $" in {r.X},{r.Y},{r.Width}x{r.Height}")
            : "");

    public override int? ClassIndex => _class;

    protected override Tensor Score(Tensor output) =>
        throw new InvalidOperationException("a segmentation target is resolved on the clean pass first");

    public override IReadOnlyList<Target> Resolve(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.shape[0] != 1) throw new ArgumentException("a segmentation target explains one image at a time");
        using var cpu = output.detach().to_type(ScalarType.Float32).cpu().contiguous();
        var mask = _head.Segment(cpu.data<float>().ToArray());
        int k = _class ?? Choose(mask);
        var weights = new float[mask.Height * mask.Width];
        for (int y = 0; y < mask.Height; y++)
            for (int x = 0; x < mask.Width; x++)
            {
                int i = y * mask.Width + x;
                weights[i] = _region is { } r
                    ? (x >= r.X && x < r.X + r.Width && y >= r.Y && y < r.Y + r.Height ? 1 : 0)
                    : (mask.Classes[i] == k ? 1 : 0);
            }
        var region = _region is { } q
            ? string.Create(CultureInfo.InvariantCulture, $" in {q.X},{q.Y},{q.Width}x{q.Height}")
            : "";
        return [new MaskedClassTarget(_head, k, weights, (_head.Label(k) ?? $"class {k}") + region)];
    }

    int Choose(SegmentationMask mask)
    {
        if (_region is not { } r)
        {
            var shares = mask.Shares();
            var others = Enumerable.Range(1, shares.Length - 1).Where(c => shares[c] > 0).ToList();
            return others.Count > 0 ? others.MaxBy(c => shares[c]) : 0;
        }
        var counts = new int[mask.ClassCount];
        for (int y = r.Y; y < r.Y + r.Height; y++)
            for (int x = r.X; x < r.X + r.Width; x++) counts[mask.Classes[y * mask.Width + x]]++;
        return Array.IndexOf(counts, counts.Max());
    }
}

/// <summary>A class's logits (the one channel's value for a one-channel segmenter) weighted by a fixed mask and summed.
/// </summary>
public sealed class MaskedClassTarget : Target
{
    readonly SegmentationHead _head;
    readonly int _class;
    readonly float[] _weights;
    readonly string _description;

    internal MaskedClassTarget(SegmentationHead head, int @class, float[] weights, string description)
    {
        _head = head;
        _class = @class;
        _weights = weights;
        _description = description;
    }

    public override string Description => _description;
    public override int? ClassIndex => _class;

    protected override Tensor Score(Tensor output)
    {
        var maps = output.reshape(output.shape[0], _head.Channels, _head.Height * _head.Width);
        // One channel of probabilities: its value is the class's (the background has no channel of its own).
        var channel = _head.Channels == 1 ? maps[.., 0] : maps[.., _class];
        using var weights = tensor(_weights, device: output.device).to_type(output.dtype);
        return (channel * weights).sum(1);
    }
}
