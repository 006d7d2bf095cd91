using static TorchSharp.torch;

namespace LiveCam.Explain;

/// <summary>
/// A map of where the explanation points, row-major: <see cref="Values"/> non-negative as computed
/// (before normalisation), <see cref="Normalised"/> scaled to [0, 1] by the map's maximum.
/// An all-zero map (a constant input, a zero gradient) stays all zero, never NaN.
/// </summary>
public sealed class Heatmap
{
    public Heatmap(int height, int width, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != height * width)
            throw new ArgumentException($"{values.Length} values for a {height}x{width} map");
        Height = height;
        Width = width;
        Values = values;
        Max = 0;
        foreach (var v in values) Max = Math.Max(Max, v);
        Normalised = new float[values.Length];
        if (Max > 0)
            for (int i = 0; i < values.Length; i++) Normalised[i] = values[i] / Max;
    }

    public int Height { get; }
    public int Width { get; }
    public float[] Values { get; }
    public float[] Normalised { get; }
    public float Max { get; }

    public float this[int y, int x] => Values[y * Width + x];

    /// <summary>From a [H, W] tensor: NaN, infinite and negative values become 0.</summary>
    public static Heatmap FromTensor(Tensor map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.ndim != 2) throw new ArgumentException($"a heatmap is [H, W], not [{string.Join(", ", map.shape)}]");
        using var cpu = map.detach().cpu();
        using var float32 = cpu.to_type(ScalarType.Float32);  // no copy when it already is
        using var readable = float32.contiguous();
        var values = readable.data<float>().ToArray();
        // Cleaned here, not by libtorch kernels: a map is small, and each kernel costs more than this loop.
        for (int i = 0; i < values.Length; i++)
            if (!(float.IsFinite(values[i]) && values[i] > 0)) values[i] = 0;
        return new Heatmap((int)map.shape[0], (int)map.shape[1], values);
    }

    /// <summary>Where the map is largest (the first such cell).</summary>
    public (int Y, int X) ArgMax()
    {
        int best = 0;
        for (int i = 1; i < Values.Length; i++) if (Values[i] > Values[best]) best = i;
        return (best / Width, best % Width);
    }
}
