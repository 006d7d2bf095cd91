using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>How MediaPipe's SsdAnchorsCalculator lays anchors over the input; the defaults are BlazeFace's short-range
/// (front, 128x128) model's: strides 8 and 16 with 2 and 6 anchors a cell, 896 in all.</summary>
public sealed record SsdAnchorOptions
{
    public IReadOnlyList<int> Strides { get; init; } = [8, 16, 16, 16];
    public double MinScale { get; init; } = 0.1484375;
    public double MaxScale { get; init; } = 0.75;
    public double AnchorOffset { get; init; } = 0.5;
    public IReadOnlyList<double> AspectRatios { get; init; } = [1.0];
    /// <summary>An extra anchor per cell between this layer's scale and the next's; 0 for none.</summary>
    public double InterpolatedScaleAspectRatio { get; init; } = 1.0;
    /// <summary>Every anchor 1x1 (the regressors give the size): BlazeFace's.</summary>
    public bool FixedAnchorSize { get; init; } = true;

    /// <summary>The anchors (x centre, y centre, width, height; normalised) for an input of this size, in the order
    /// the outputs list them: layer by layer, row by row, cell by cell.</summary>
    public float[][] Anchors(int inputWidth, int inputHeight)
    {
        var anchors = new List<float[]>();
        int layers = Strides.Count;
        double Scale(int i) => layers == 1 ? MinScale : MinScale + (MaxScale - MinScale) * i / (layers - 1);
        for (int layer = 0; layer < layers;)
        {
            var sizes = new List<(double W, double H)>();
            int last = layer;
            // Layers of the same stride share one feature map: their anchors go to the same cells.
            for (; last < layers && Strides[last] == Strides[layer]; last++)
            {
                double scale = Scale(last);
                foreach (var ratio in AspectRatios) sizes.Add((scale * Math.Sqrt(ratio), scale / Math.Sqrt(ratio)));
                if (InterpolatedScaleAspectRatio > 0)
                {
                    double next = last == layers - 1 ? 1.0 : Scale(last + 1);
                    double s = Math.Sqrt(scale * next), r = Math.Sqrt(InterpolatedScaleAspectRatio);
                    sizes.Add((s * r, s / r));
                }
            }
            int stride = Strides[layer];
            int rows = (int)Math.Ceiling(inputHeight / (double)stride);
            int columns = (int)Math.Ceiling(inputWidth / (double)stride);
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < columns; x++)
                    foreach (var (w, h) in sizes)
                        anchors.Add([(float)((x + AnchorOffset) / columns), (float)((y + AnchorOffset) / rows),
                            FixedAnchorSize ? 1f : (float)w, FixedAnchorSize ? 1f : (float)h]);
            layer = last;
        }
        return [.. anchors];
    }
}

/// <summary>
/// SSD-style outputs with anchors, decoded as MediaPipe's TensorsToDetectionsCalculator does: per anchor a score
/// (sigmoid of the clipped logit) and a regressor (x, y, w, h of the box relative to the anchor, in input pixels, then
/// x, y of each keypoint). The outputs may come in parts (BlazeFace gives scores [1, 512, 1] and [1, 384, 1] and
/// regressors [1, 512, 16] and [1, 384, 16]): the widest are regressors, the rest scores, each in the graph's order.
/// </summary>
public sealed class SsdDecoder : IDetectionDecoder
{
    const float ScoreClip = 100;
    readonly long[] _sizes;
    readonly bool[] _isRegressor;
    readonly int _coordinates, _inputWidth, _inputHeight;
    readonly float[][] _anchors;
    Tensor? _anchorTensor;

    /// <param name="shapes">The graph's outputs' shapes without the batch.</param>
    public SsdDecoder(string name, IReadOnlyList<long[]> shapes, int inputWidth, int inputHeight,
        SsdAnchorOptions? anchors = null)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        Name = name;
        _inputWidth = inputWidth;
        _inputHeight = inputHeight;
        _anchors = (anchors ?? new SsdAnchorOptions()).Anchors(inputWidth, inputHeight);
        if (shapes.Count < 2 || shapes.Any(s => s.Length != 2))
            throw new ModelLoadException($"decoder {name} takes scores [1, N, classes] and regressors [1, N, 4 + 2K]; "
                + $"this model gives {Describe(shapes)}");
        _coordinates = (int)shapes.Max(s => s[1]);
        _sizes = shapes.Select(s => s[0] * s[1]).ToArray();
        _isRegressor = shapes.Select(s => s[1] == _coordinates).ToArray();
        var classes = shapes.Where(s => s[1] != _coordinates).Select(s => s[1]).Distinct().ToList();
        long boxes = shapes.Where(s => s[1] == _coordinates).Sum(s => s[0]);
        long scored = shapes.Where(s => s[1] != _coordinates).Sum(s => s[0]);
        if (classes.Count != 1 || _coordinates < 4 || (_coordinates - 4) % 2 != 0 || boxes != scored
            || boxes != _anchors.Length)
            throw new ModelLoadException($"decoder {name}: {Describe(shapes)} do not fit {_anchors.Length} anchors "
                + "with one score row and one regressor row [4 + 2K] each");
        ClassCount = (int)classes[0];
        KeypointCount = (_coordinates - 4) / 2;
    }

    static string Describe(IReadOnlyList<long[]> shapes) =>
        string.Join(", ", shapes.Select(s => $"[1, {string.Join(", ", s)}]"));

    public string Name { get; }
    public int ClassCount { get; }
    public int KeypointCount { get; }
    public Suppression Suppression => Suppression.Weighted;

    public Candidates Decode(Tensor flat)
    {
        ArgumentNullException.ThrowIfNull(flat);
        long n = flat.shape[0];
        var parts = flat.split(_sizes, 1);
        var scores = cat(parts.Where((_, i) => !_isRegressor[i]).Select(p => p.reshape(n, -1, ClassCount)).ToList(), 1);
        var raw = cat(parts.Where((_, i) => _isRegressor[i]).Select(p => p.reshape(n, -1, _coordinates)).ToList(), 1);
        var anchors = Anchors(flat.device, flat.dtype);  // [A, 4]: x, y, w, h
        var xy = anchors[.., ..2];
        var wh = anchors[.., 2..];
        var scale = tensor(new float[] { _inputWidth, _inputHeight }, device: flat.device).to_type(flat.dtype);
        // Relative to the anchor in input pixels (x before y: MediaPipe's reverse_output_order), then to pixels.
        var centre = (raw[.., .., ..2] / scale * wh + xy) * scale;
        var size = raw[.., .., 2..4] / scale * wh * scale;
        var boxes = cat([centre - size / 2, centre + size / 2], -1);
        Tensor? keypoints = null;
        if (KeypointCount > 0)
        {
            var k = raw[.., .., 4..].reshape(n, -1, KeypointCount, 2);
            keypoints = (k / scale * wh.unsqueeze(1) + xy.unsqueeze(1)) * scale;
        }
        var classScores = scores.clamp(-ScoreClip, ScoreClip).sigmoid();
        var (best, classes) = classScores.max(-1);
        return new Candidates(boxes, best, classes, classScores, best, keypoints);
    }

    Tensor Anchors(Device device, ScalarType type)
    {
        _anchorTensor ??= tensor(_anchors.SelectMany(a => a).ToArray(), [_anchors.Length, 4]).DetachFromDisposeScope();
        return _anchorTensor.to(device).to_type(type);
    }
}
