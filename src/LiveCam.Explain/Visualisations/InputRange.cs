using static TorchSharp.torch;

namespace LiveCam.Explain.Visualisations;

/// <summary>
/// The values a model's input can take, in the model's own units (its input is already normalised): where gradient
/// ascent keeps an image so it stays one the camera could have given, and the extent step sizes are a share of.
/// </summary>
public abstract class InputRange
{
    /// <summary>Each channel between its own bounds: pixels 0..255 normalised per channel (TorchVision's ImageNet
    /// input).</summary>
    public static InputRange PerChannel(IReadOnlyList<float> low, IReadOnlyList<float> high)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Count != high.Count || low.Count == 0)
            throw new ArgumentException("one low and one high bound per channel");
        if (low.Zip(high).Any(b => !(b.First < b.Second)))
            throw new ArgumentException("each low bound must be below its high bound");
        return new Bounds(low.ToArray(), high.ToArray(), [low.Count, 1, 1]);
    }

    /// <summary>Each value between its own bounds, [channels, height, width] (pixels minus a mean image); at other
    /// sizes (octaves) the bounds are resized bilinearly.</summary>
    public static InputRange PerPixel(float[] low, float[] high, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Length != channels * height * width || high.Length != low.Length)
            throw new ArgumentException($"bounds must hold {channels}x{height}x{width} values");
        return new Bounds(low, high, [channels, height, width]);
    }

    /// <summary>Images standardised as a whole, (x - mean) / std over all values (the robot's input): any such tensor
    /// is some image's, as the standardisation undoes any scale and offset. Its extent is taken as 4 (two standard
    /// deviations either side).</summary>
    public static InputRange Standardised { get; } = new StandardisedRange();

    /// <summary><paramref name="x"/> [N, C, H, W] brought into the range: a new tensor.</summary>
    public abstract Tensor Project(Tensor x);

    /// <summary>The range's extent (high minus low), broadcastable to <paramref name="x"/>.</summary>
    public abstract Tensor Extent(Tensor x);

    sealed class Bounds(float[] low, float[] high, long[] shape) : InputRange
    {
        public override Tensor Project(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            using var scope = NewDisposeScope();
            var (lo, hi) = At(x);
            return x.clamp(lo, hi).MoveToOuterDisposeScope();
        }

        public override Tensor Extent(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            using var scope = NewDisposeScope();
            var (lo, hi) = At(x);
            return (hi - lo).MoveToOuterDisposeScope();
        }

        (Tensor Low, Tensor High) At(Tensor x)
        {
            if (x.ndim != 4 || x.shape[1] != shape[0])
                throw new ArgumentException(
                    $"the range is for {shape[0]} channels; the input is [{string.Join(", ", x.shape)}]");
            var lo = tensor(low, shape, dtype: x.dtype, device: x.device).unsqueeze(0);
            var hi = tensor(high, shape, dtype: x.dtype, device: x.device).unsqueeze(0);
            if (shape[1] > 1 && (shape[1] != x.shape[2] || shape[2] != x.shape[3]))
            {
                lo = nn.functional.interpolate(
                    lo, size: [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
                hi = nn.functional.interpolate(
                    hi, size: [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false);
            }
            return (lo, hi);
        }
    }

    sealed class StandardisedRange : InputRange
    {
        public override Tensor Project(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            using var scope = NewDisposeScope();
            var dims = new long[] { 1, 2, 3 };
            var centred = x - x.mean(dims, keepdim: true);
            var std = centred.square().mean(dims, keepdim: true).sqrt();
            // A flat image has no contrast: it stays all zeros, as the robot's preprocessing makes it.
            return (centred / std.clamp_min(1e-6)).MoveToOuterDisposeScope();
        }

        public override Tensor Extent(Tensor x)
        {
            ArgumentNullException.ThrowIfNull(x);
            return tensor(4.0, dtype: x.dtype, device: x.device);
        }
    }
}
