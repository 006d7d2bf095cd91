using System.Runtime.InteropServices;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Classifiers;

/// <summary>TorchVision's ImageNet evaluation input: shorter side to <paramref name="Resize"/>, a
/// <paramref name="Crop"/> centre crop, RGB in [0, 1], normalised per channel (224 of 256 for most networks,
/// 299 of 342 for Inception v3). Other fits (<c>--fit stretch|pad</c>) keep the normalisation.</summary>
public sealed record ImageNetPreprocessing(int Crop = 224, int Resize = 256)
{
    public static readonly ImageNetPreprocessing Standard = new();

    static readonly float[] s_mean = [0.485f, 0.456f, 0.406f];
    static readonly float[] s_std = [0.229f, 0.224f, 0.225f];

    /// <summary>The input as a model takes it: crop by default, bars in ImageNet's mean colour.</summary>
    public ModelInput Input => new(Crop, Crop, Normalise, FrameFit.Crop, Crop / (double)Resize)
    {
        PadColour = new Scalar(s_mean[2] * 255, s_mean[1] * 255, s_mean[0] * 255),
        Range = Range(),
        Denormalise = x => Denormalise(x),
    };

    /// <summary>Where pixels 0..255 land once normalised, per channel in the tensor's order (see
    /// <see cref="Normalise(Mat, Device, float[], float[], bool)"/>).</summary>
    public static Explain.Visualisations.InputRange Range(float[]? mean = null, float[]? std = null)
    {
        mean ??= s_mean;
        std ??= s_std;
        return Explain.Visualisations.InputRange.PerChannel(
            [.. mean.Zip(std, (m, s) => -m / s)],
            [.. mean.Zip(std, (m, s) => (1 - m) / s)]);
    }

    /// <summary>The inverse of <see cref="Normalise(Mat, Device, float[], float[], bool)"/>: a BGR 8-bit image
    /// from [1, 3, H, W].</summary>
    public static Mat Denormalise(Tensor input, float[]? mean = null, float[]? std = null, bool bgr = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        mean ??= s_mean;
        std ??= s_std;
        using var scope = NewDisposeScope();
        var x = input.detach().cpu().to_type(ScalarType.Float32);
        var m = tensor(mean).reshape(1, 3, 1, 1);
        var s = tensor(std).reshape(1, 3, 1, 1);
        var pixels = (x * s + m) * 255;
        return TensorImage.FromBgr255(bgr ? pixels : pixels.flip(1));
    }

    /// <summary>[1, 3, H, W]: RGB in [0, 1] normalised by <paramref name="mean"/> and <paramref name="std"/>
    /// (ImageNet's by default), or BGR with <paramref name="bgr"/>; from a BGR image already of the input's size.
    /// </summary>
    public static Tensor Normalise(Mat fitted, Device device, float[]? mean = null, float[]? std = null,
        bool bgr = false)
    {
        ArgumentNullException.ThrowIfNull(fitted);
        mean ??= s_mean;
        std ??= s_std;
        int w = fitted.Width, h = fitted.Height, plane = w * h;
        var bytes = new byte[plane * 3];
        using (var continuous = fitted.IsContinuous() ? null : fitted.Clone())
            Marshal.Copy((continuous ?? fitted).Data, bytes, 0, bytes.Length);
        var data = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)
            {
                int channel = bgr ? c : 2 - c;  // the image is BGR
                data[channel * plane + i] = (bytes[i * 3 + c] / 255f - mean[channel]) / std[channel];
            }
        var t = tensor(data, [1, 3, h, w]);
        return device is null || device.type == TorchSharp.DeviceType.CPU ? t : t.to(device);
    }

    static Tensor Normalise(Mat fitted, Device device) => Normalise(fitted, device, null, null, false);
}
