using System.Runtime.InteropServices;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Classifiers;

/// <summary>TorchVision's ImageNet input: shorter side to 256 then a 224 centre crop, RGB in [0, 1], normalised per channel.</summary>
public static class ImageNetPreprocessing
{
    public const int Size = 224;
    static readonly float[] s_mean = [0.485f, 0.456f, 0.406f];
    static readonly float[] s_std = [0.229f, 0.224f, 0.225f];

    /// <summary>The region of a <paramref name="width"/> x <paramref name="height"/> image that the model sees.</summary>
    public static Rect CropOf(int width, int height)
    {
        double scale = 256.0 / Math.Min(width, height);
        int side = (int)Math.Round(Size / scale);
        return new Rect((width - side) / 2, (height - side) / 2, side, side);
    }

    public static Tensor ToTensor(Mat bgr, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        using var crop = new Mat(bgr, CropOf(bgr.Width, bgr.Height));
        using var small = new Mat();
        Cv2.Resize(crop, small, new OpenCvSharp.Size(Size, Size), interpolation: InterpolationFlags.Area);
        var bytes = new byte[Size * Size * 3];
        using (var continuous = small.IsContinuous() ? null : small.Clone())
            Marshal.Copy((continuous ?? small).Data, bytes, 0, bytes.Length);
        const int plane = Size * Size;
        var data = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                int rgb = 2 - c;  // BGR -> RGB
                data[rgb * plane + i] = (bytes[i * 3 + c] / 255f - s_mean[rgb]) / s_std[rgb];
            }
        var t = tensor(data, [1, 3, Size, Size]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? t : t.to(device);
    }
}
