using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Visualisations;

/// <summary>An image made of tiles, values in [0, 1], row-major, <see cref="Channels"/> of 1 (grey) or 3 (in the order
/// of the weights).</summary>
public sealed record ImageGrid(int Height, int Width, int Channels, float[] Pixels, int Tiles);

/// <summary>The article's first two views: a layer's filter weights and its feature maps, as grids.</summary>
public static class LayerViews
{
    /// <summary>
    /// The filters of a convolution [out, in, kh, kw] as tiles, each scaled to [0, 1] on its own. With 3 input
    /// channels (a first layer) each filter is one colour tile; otherwise each (filter, input channel) is a grey tile.
    /// </summary>
    public static ImageGrid FilterWeights(nn.Module layer, int maxTiles = 256)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var weight = layer.named_parameters().FirstOrDefault(p => p.name == "weight").parameter
            ?? throw new ArgumentException($"{layer.GetType().Name} has no weights to show");
        if (weight.ndim != 4)
            throw new ArgumentException(
                $"filters are shown for convolutions; this weight is [{string.Join(", ", weight.shape)}]");
        using var scope = NewDisposeScope();
        var w = weight.detach().to_type(ScalarType.Float32).cpu();
        long o = w.shape[0], i = w.shape[1];
        Tensor tiles = i == 3 ? w : w.reshape(o * i, 1, w.shape[2], w.shape[3]);  // [T, c, kh, kw]
        if (tiles.shape[0] > maxTiles) tiles = tiles[..maxTiles];
        return Grid(tiles);
    }

    /// <summary>A layer's activations [1, C, h, w] (or [C, h, w]) as grey tiles, each scaled to [0, 1] on its
    /// own.</summary>
    public static ImageGrid FeatureMaps(Tensor activations, int maxTiles = 256)
    {
        ArgumentNullException.ThrowIfNull(activations);
        using var scope = NewDisposeScope();
        var a = activations.detach().to_type(ScalarType.Float32).cpu();
        if (a.ndim == 4) a = a[0];
        if (a.ndim != 3)
            throw new ArgumentException($"feature maps are [C, h, w]; got [{string.Join(", ", activations.shape)}]");
        var tiles = a.unsqueeze(1);
        if (tiles.shape[0] > maxTiles) tiles = tiles[..maxTiles];
        return Grid(tiles);
    }

    static ImageGrid Grid(Tensor tiles)
    {
        long count = tiles.shape[0], c = tiles.shape[1], th = tiles.shape[2], tw = tiles.shape[3];
        var flat = tiles.reshape(count, -1);
        var min = flat.amin([1], keepdim: true);
        var range = flat.amax([1], keepdim: true) - min;
        var scaled = ((flat - min) / torch.where(range.gt(0), range, ones_like(range))).reshape(count, c, th, tw);
        int columns = (int)Math.Ceiling(Math.Sqrt(count));
        int rows = (int)Math.Ceiling(count / (double)columns);
        const int gap = 1;
        int height = rows * ((int)th + gap) - gap, width = columns * ((int)tw + gap) - gap;
        var canvas = ones(c, height, width);  // white gaps between tiles
        for (int t = 0; t < count; t++)
        {
            int y = t / columns * ((int)th + gap), x = t % columns * ((int)tw + gap);
            canvas[.., y..(y + (int)th), x..(x + (int)tw)] = scaled[t];
        }
        var pixels = canvas.permute(1, 2, 0).contiguous().data<float>().ToArray();
        return new ImageGrid(height, width, (int)c, pixels, (int)count);
    }
}

/// <summary>The article's "interesting region": the input kept where the explanation exceeds a threshold.</summary>
public static class InterestingRegion
{
    /// <summary>
    /// The input [C, H, W] (or [1, C, H, W]) multiplied by the mask of <paramref name="map"/> >=
    /// <paramref name="threshold"/> (the map upsampled bilinearly to the input's size), and the bounding box of the
    /// kept region (empty when none).
    /// </summary>
    public static (Tensor Masked, (int X, int Y, int Width, int Height) Box) Apply(
        Tensor input, Heatmap map, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(map);
        var image = input.ndim == 4 ? input[0] : input;
        long height = image.shape[1], width = image.shape[2];
        using var scope = NewDisposeScope();
        var small = tensor(map.Normalised, [1, 1, map.Height, map.Width], device: image.device);
        var up = nn.functional.interpolate(
            small, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false)[0, 0];
        var mask = up.ge(threshold);
        var masked = (image * mask.to_type(image.dtype)).MoveToOuterDisposeScope();
        var ys = mask.any(1).nonzero();
        var xs = mask.any(0).nonzero();
        if (ys.shape[0] == 0) return (masked, (0, 0, 0, 0));
        int y0 = (int)ys[0, 0].item<long>(), y1 = (int)ys[-1, 0].item<long>();
        int x0 = (int)xs[0, 0].item<long>(), x1 = (int)xs[-1, 0].item<long>();
        return (masked, (x0, y0, x1 - x0 + 1, y1 - y0 + 1));
    }
}
