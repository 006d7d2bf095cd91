using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LiveCam.Explain.Kernels;

/// <summary>One convolution problem: batch, channels, image size, a square kernel, stride, dilation, groups and pads
/// (left, right, top, bottom; asymmetric pads are applied to the input first, as an ONNX import does).</summary>
public sealed record ConvolutionGeometry(int Batch, int InChannels, int OutChannels, int Height, int Width, int Kernel,
    int Stride = 1, int Dilation = 1, int Groups = 1,
    int PadLeft = 0, int PadRight = 0, int PadTop = 0, int PadBottom = 0)
{
    /// <summary>Symmetric padding on all sides.</summary>
    public static ConvolutionGeometry Same(
        int batch, int inChannels, int outChannels, int height, int width, int kernel,
        int stride = 1, int dilation = 1, int groups = 1) =>
        new(batch, inChannels, outChannels, height, width, kernel, stride, dilation, groups,
            dilation * (kernel - 1) / 2, dilation * (kernel - 1) / 2,
            dilation * (kernel - 1) / 2, dilation * (kernel - 1) / 2);

    public bool SymmetricPads => PadLeft == PadRight && PadTop == PadBottom;

    /// <summary>The output's height and width; zero or less where the kernel does not fit.</summary>
    public (int Height, int Width) Output =>
        ((Height + PadTop + PadBottom - Dilation * (Kernel - 1) - 1) / Stride + 1,
            (Width + PadLeft + PadRight - Dilation * (Kernel - 1) - 1) / Stride + 1);

    public bool Valid => InChannels % Groups == 0 && OutChannels % Groups == 0 && Output.Height > 0 && Output.Width > 0
        && Height + PadTop + PadBottom >= Dilation * (Kernel - 1) + 1
        && Width + PadLeft + PadRight >= Dilation * (Kernel - 1) + 1;

    public long[] InputShape => [Batch, InChannels, Height, Width];
    public long[] WeightShape => [OutChannels, InChannels / Groups, Kernel, Kernel];

    /// <summary>Seeded input, weights (scaled so outputs stay near 1) and bias.</summary>
    public (Tensor Input, Tensor Weight, Tensor Bias) Tensors(long seed, ScalarType type = ScalarType.Float32)
    {
        var generator = new Generator((ulong)seed);
        var x = randn(InputShape, generator: generator);
        var w = randn(WeightShape, generator: generator) * (1.0 / Math.Sqrt(InChannels / Groups * Kernel * Kernel));
        var b = randn([OutChannels], generator: generator);
        return (x.to(type), w.to(type), b.to(type));
    }

    /// <summary>The convolution as TorchSharp computes it for these tensors' type and memory layout.</summary>
    public Tensor Convolve(Tensor input, Tensor weight, Tensor? bias)
    {
        var x = SymmetricPads ? input : F.pad(input, [PadLeft, PadRight, PadTop, PadBottom]);
        long[] pads = SymmetricPads ? [PadTop, PadLeft] : [0, 0];
        return F.conv2d(x, weight, bias, [Stride, Stride], pads, [Dilation, Dilation], Groups);
    }

    public override string ToString()
    {
        var pads = SymmetricPads ? $"p{PadTop},{PadLeft}" : $"p{PadLeft},{PadRight},{PadTop},{PadBottom}";
        var groups = Groups == 1 ? "" : Groups == InChannels && Groups == OutChannels ? " depthwise" : $" g{Groups}";
        return $"{Batch}x{InChannels}x{Height}x{Width} -> {OutChannels}, "
            + $"{Kernel}x{Kernel} s{Stride} d{Dilation} {pads}{groups}";
    }
}
