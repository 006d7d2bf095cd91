using System.Runtime.InteropServices;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>Tensors back into images: the last step of every model's <see cref="ModelInput.Denormalise"/>.</summary>
public static class TensorImage
{
    /// <summary>A BGR 8-bit image (a new Mat the caller owns) from [1, 3, H, W] or [3, H, W] of blue, green, red values
    /// on the 0..255 scale, rounded and clamped.</summary>
    public static Mat FromBgr255(Tensor bgr)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        using var scope = NewDisposeScope();
        var x = bgr.ndim == 4 && bgr.shape[0] == 1 ? bgr[0] : bgr;
        if (x.ndim != 3 || x.shape[0] != 3)
            throw new ArgumentException($"expected [1, 3, H, W] or [3, H, W], not [{string.Join(", ", bgr.shape)}]");
        int height = (int)x.shape[1], width = (int)x.shape[2];
        var bytes = x.detach().cpu().to_type(ScalarType.Float32).round().clamp(0, 255).to_type(ScalarType.Byte)
            .permute(1, 2, 0).contiguous().data<byte>().ToArray();
        var image = new Mat(height, width, MatType.CV_8UC3);
        Marshal.Copy(bytes, 0, image.Data, bytes.Length);
        return image;
    }
}
