using System.Runtime.InteropServices;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Classifiers;

/// <summary>TorchVision's ImageNet evaluation input: shorter side to <paramref name="Resize"/>, a
/// <paramref name="Crop"/> centre crop, RGB in [0, 1], normalised per channel (224 of 256 for most networks,
/// 299 of 342 for Inception v3).</summary>
public sealed record ImageNetPreprocessing(int Crop = 224, int Resize = 256)
{
    public static readonly ImageNetPreprocessing Standard = new();

    static readonly float[] s_mean = [0.485f, 0.456f, 0.406f];
    static readonly float[] s_std = [0.229f, 0.224f, 0.225f];

    /// <summary>The region of a <paramref name="width"/> x <paramref name="height"/> image that the model sees.</summary>
    public Rect CropOf(int width, int height)
    {
        double scale = (double)Resize / Math.Min(width, height);
        int side = Math.Min(Math.Min(width, height), (int)Math.Round(Crop / scale));
        return new Rect((width - side) / 2, (height - side) / 2, side, side);
    }

    public Tensor ToTensor(Mat bgr, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        using var crop = new Mat(bgr, CropOf(bgr.Width, bgr.Height));
        using var small = new Mat();
        Cv2.Resize(crop, small, new OpenCvSharp.Size(Crop, Crop), interpolation: InterpolationFlags.Area);
        var bytes = new byte[Crop * Crop * 3];
        using (var continuous = small.IsContinuous() ? null : small.Clone())
            Marshal.Copy((continuous ?? small).Data, bytes, 0, bytes.Length);
        int plane = Crop * Crop;
        var data = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                int rgb = 2 - c;  // BGR -> RGB
                data[rgb * plane + i] = (bytes[i * 3 + c] / 255f - s_mean[rgb]) / s_std[rgb];
            }
        var t = tensor(data, [1, 3, Crop, Crop]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? t : t.to(device);
    }
}
