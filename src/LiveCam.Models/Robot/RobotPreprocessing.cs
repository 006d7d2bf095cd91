using System.Runtime.InteropServices;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Robot;

/// <summary>
/// The robot model's input, the same for live inference, evaluation and training so they can never disagree:
/// BGR as decoded by OpenCV, resized to 80x64 (OpenCV's bilinear resize), then standardised per image over all
/// pixels and channels: (x - mean) / std.
/// </summary>
public static class RobotPreprocessing
{
    /// <summary>Resizes a BGR 8-bit image to the model's 80x64 (a new Mat the caller owns).</summary>
    public static Mat Resize(Mat bgr)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"expected a BGR 8-bit image, got {bgr.Type()}");
        var small = new Mat();
        Cv2.Resize(bgr, small,
            new OpenCvSharp.Size(LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight),
            interpolation: InterpolationFlags.Linear);
        return small;
    }

    /// <summary>CHW floats of an 80x64 BGR image, standardised; written into <paramref name="destination"/> (3*64*80).
    /// </summary>
    public static void Standardise(Mat small, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(small);
        const int h = LongRangePerceptionNet.InputHeight, w = LongRangePerceptionNet.InputWidth, plane = h * w;
        if (small.Width != w || small.Height != h)
            throw new ArgumentException($"expected {w}x{h}, got {small.Width}x{small.Height}");
        if (destination.Length != 3 * plane) throw new ArgumentException("destination must hold 3x64x80 floats");
        var bytes = new byte[plane * 3];
        using (var continuous = small.IsContinuous() ? null : small.Clone())
            Marshal.Copy((continuous ?? small).Data, bytes, 0, bytes.Length);
        double sum = 0, sumSq = 0;
        foreach (var b in bytes)
        {
            sum += b;
            sumSq += (double)b * b;
        }
        double mean = sum / bytes.Length;
        double std = Math.Sqrt(Math.Max(0, sumSq / bytes.Length - mean * mean));
        // A flat image has no contrast to standardise: it becomes all zeros rather than NaN.
        double scale = std > 1e-6 ? 1 / std : 0;
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
                destination[c * plane + i] = (float)((bytes[i * 3 + c] - mean) * scale);
    }

    /// <summary>
    /// An image from a standardised tensor [1, 3, H, W] (BGR): its lowest value becomes 0 and its highest 255. The
    /// original's mean and contrast are gone, but standardising undoes any scale and offset, so the model sees this
    /// image as it saw the tensor (up to rounding to bytes). A flat tensor becomes mid grey.
    /// </summary>
    public static Mat ToImage(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var x = input.detach().cpu().to_type(ScalarType.Float32);
        var low = x.min();
        var range = x.max() - low;
        var pixels = range.item<float>() > 1e-6f ? (x - low) / range * 255 : full_like(x, 128);
        return TensorImage.FromBgr255(pixels);
    }

    /// <summary>A [1, 3, 64, 80] float tensor on <paramref name="device"/> from a BGR image of any size.</summary>
    public static Tensor ToTensor(Mat bgr, Device? device = null)
    {
        using var small = Resize(bgr);
        var data = new float[3 * LongRangePerceptionNet.InputHeight * LongRangePerceptionNet.InputWidth];
        Standardise(small, data);
        var t = tensor(data, [1, 3, LongRangePerceptionNet.InputHeight, LongRangePerceptionNet.InputWidth]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? t : t.to(device);
    }
}
