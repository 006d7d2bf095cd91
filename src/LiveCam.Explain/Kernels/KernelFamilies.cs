using System.Globalization;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LiveCam.Explain.Kernels;

/// <summary>How one kernel family did on its probes: the worst error as a share of the reference's scale, and
/// where.</summary>
public sealed record KernelFamilyResult(string Family, int Cases, double WorstError, string WorstCase, double Tolerance)
{
    /// <summary>Where a case failed outright: libtorch's message.</summary>
    public string? Failure { get; init; }

    public bool Passed => WorstError <= Tolerance;  // false for NaN

    public override string ToString() => Passed
        ? string.Create(
            CultureInfo.InvariantCulture, $"{Family}: {Cases} cases right (worst {WorstError:0.0e+0} of scale)")
        : $"{Family}: {Wrong} at {WorstCase}";

    /// <summary>What came out, in words: NaN, infinities, or results off by a share of the reference's scale.</summary>
    public string Wrong => Failure is not null ? $"an error ({Failure})" : WorstError switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "infinite results",
        _ => string.Create(CultureInfo.InvariantCulture, $"results wrong by {WorstError:0.###%} of scale"),
    };
}

/// <summary>A family of kernels checked against a reference computed another way: each case's error, as a share of
/// the reference's largest magnitude.</summary>
public sealed record KernelFamily(string Name, IReadOnlyList<(string Case, Func<double> Error)> Cases)
{
    public const double Tolerance = 1e-4;

    public KernelFamilyResult Run()
    {
        double worst = 0;
        string where = "";
        foreach (var (name, error) in Cases)
        {
            double e;
            try { e = error(); }
            catch (Exception x) when (x is System.Runtime.InteropServices.ExternalException
                or InvalidOperationException or ArgumentException)
            {
                return new KernelFamilyResult(Name, Cases.Count, double.PositiveInfinity, name, Tolerance)
                {
                    Failure = LibTorchError.Reason(x)
                };
            }
            // NaN is the worst answer there is.
            if (double.IsNaN(worst)) break;
            if (double.IsNaN(e) || e > worst) { worst = e; where = name; }
        }
        return new KernelFamilyResult(Name, Cases.Count, worst, where, Tolerance);
    }

    /// <summary>|actual - reference| at its largest, over the reference's largest magnitude.</summary>
    public static double RelativeError(Tensor actual, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(reference);
        using var scope = NewDisposeScope();
        if (!actual.shape.SequenceEqual(reference.shape)) return double.PositiveInfinity;
        var r = reference.to(ScalarType.Float64);
        var difference = (actual.to(ScalarType.Float64) - r).abs().max().item<double>();
        return difference / Math.Max(r.abs().max().item<double>(), 1e-12);
    }
}

/// <summary>The kernel families every network LiveCam runs relies on, each probed on small problems whose channel
/// counts are not multiples of any vector width (1, 3, 10, 17, 1000, 1001) as well as ones that are, against float64
/// (libtorch's own kernels: oneDNN has none for float64).</summary>
public static class KernelFamilies
{
    /// <summary>The probes whose gradients are checked too (float64 gradients of the large ones cost too long at
    /// start-up).</summary>
    public static IReadOnlyList<ConvolutionGeometry> SmallProbes { get; } =
    [
        ConvolutionGeometry.Same(1, 128, 1000, 7, 7, 1),
        ConvolutionGeometry.Same(1, 64, 1001, 5, 5, 1),
        ConvolutionGeometry.Same(1, 64, 128, 10, 10, 1, stride: 2),
        ConvolutionGeometry.Same(3, 17, 10, 9, 7, 3),
        ConvolutionGeometry.Same(1, 3, 10, 13, 11, 3),
        ConvolutionGeometry.Same(1, 3, 64, 40, 36, 7, stride: 2),      // a stem
        ConvolutionGeometry.Same(1, 32, 32, 12, 12, 3),
        ConvolutionGeometry.Same(1, 64, 96, 10, 10, 3, stride: 2),
        ConvolutionGeometry.Same(1, 32, 32, 14, 14, 3, groups: 32),    // depthwise
        new(2, 8, 6, 9, 7, 3, Stride: 2, Dilation: 2, Groups: 2, PadLeft: 1, PadRight: 2, PadTop: 0, PadBottom: 1),
        ConvolutionGeometry.Same(1, 1, 1, 5, 5, 5),
    ];

    /// <summary>Problems shaped like the layers of the networks LiveCam runs, and like the ones that went
    /// wrong.</summary>
    public static IReadOnlyList<ConvolutionGeometry> Probes { get; } =
    [
        ConvolutionGeometry.Same(1, 512, 1000, 13, 13, 1),             // a 1x1 classifier: 1000 = 62 x 16 + 8
        ConvolutionGeometry.Same(1, 256, 512, 14, 14, 1, stride: 2),   // a ResNet shortcut
        .. SmallProbes,
    ];

    /// <summary>Convolution forward and backward, in the plain (NCHW) and channels-last layouts; and the matrix product
    /// behind linear layers.</summary>
    public static IReadOnlyList<KernelFamily> All { get; } =
    [
        new("convolution forward, NCHW",
            Probes.Select(g => (g.ToString(), (Func<double>)(() => Forward(g, channelsLast: false)))).ToList()),
        new("convolution forward, channels-last",
            Probes.Select(g => (g.ToString(), (Func<double>)(() => Forward(g, channelsLast: true)))).ToList()),
        new("convolution backward, NCHW",
            SmallProbes.Select(g => (g.ToString(), (Func<double>)(() => Backward(g, channelsLast: false)))).ToList()),
        new("convolution backward, channels-last",
            SmallProbes.Select(g => (g.ToString(), (Func<double>)(() => Backward(g, channelsLast: true)))).ToList()),
        new("matrix product (linear), forward and backward", [
            ("256 -> 1000", () => Linear(3, 256, 1000)), ("1001 -> 10", () => Linear(2, 1001, 10)),
            ("17 -> 1", () => Linear(5, 17, 1))]),
    ];

    /// <summary>A tensor in channels-last memory order (as the ONNX import and TorchVision's fast paths keep
    /// them).</summary>
    public static Tensor ChannelsLast(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
    }

    static double Forward(ConvolutionGeometry g, bool channelsLast)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, w, b) = g.Tensors(seed: 1);
        var reference = g.Convolve(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64));
        var actual = channelsLast ? g.Convolve(ChannelsLast(x), ChannelsLast(w), b) : g.Convolve(x, w, b);
        return KernelFamily.RelativeError(actual, reference);
    }

    /// <summary>The gradients with respect to input, weights and bias of a fixed random weighting of the
    /// output.</summary>
    static double Backward(ConvolutionGeometry g, bool channelsLast)
    {
        using var scope = NewDisposeScope();
        var (x, w, b) = g.Tensors(seed: 2);
        var (oh, ow) = g.Output;
        var weighting = randn([g.Batch, g.OutChannels, oh, ow], generator: new Generator(3));
        Tensor[] Gradients(Tensor x0, Tensor w0, Tensor b0, Tensor weights)
        {
            using var enable = enable_grad();
            var xs = x0.detach().requires_grad_();
            var ws = w0.detach().requires_grad_();
            var bs = b0.detach().requires_grad_();
            var loss = (g.Convolve(xs, ws, bs) * weights).sum();
            return [.. autograd.grad([loss], [xs, ws, bs])];
        }
        var reference = Gradients(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64),
            weighting.to(ScalarType.Float64));
        var actual = channelsLast
            ? Gradients(ChannelsLast(x), ChannelsLast(w), b, ChannelsLast(weighting))
            : Gradients(x, w, b, weighting);
        return reference.Zip(actual, (r, a) => KernelFamily.RelativeError(a, r)).Max();
    }

    static double Linear(int batch, int inputs, int outputs)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(4);
        var x = randn([batch, inputs], generator: generator);
        var w = randn([outputs, inputs], generator: generator) / Math.Sqrt(inputs);
        var b = randn([outputs], generator: generator);
        var weighting = randn([batch, outputs], generator: generator);
        Tensor[] Run(Tensor x0, Tensor w0, Tensor b0, Tensor weights)
        {
            using var enable = enable_grad();
            var xs = x0.detach().requires_grad_();
            var ws = w0.detach().requires_grad_();
            var y = F.linear(xs, ws, b0);
            return [y.detach(), .. autograd.grad([(y * weights).sum()], [xs, ws])];
        }
        var reference = Run(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64),
            weighting.to(ScalarType.Float64));
        var actual = Run(x, w, b, weighting);
        return reference.Zip(actual, (r, a) => KernelFamily.RelativeError(a, r)).Max();
    }
}
