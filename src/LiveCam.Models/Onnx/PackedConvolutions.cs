using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using LiveCam.Explain.Kernels;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LiveCam.Models.Onnx;

/// <summary>What a packed convolution computes after the convolution itself, in the same pass over its output.
/// <see cref="AddReluInPlace"/> writes the result over the residual it adds, as ONNX Runtime does (no copy of the
/// residual into a new output): only for a residual nothing reads or watches afterwards.</summary>
internal enum ConvolutionEpilogue { None, Relu, AddRelu, AddReluInPlace }

/// <summary>
/// Inference-only convolutions as PyTorch's own freezing passes run them on the CPU: weights reordered once into
/// oneDNN's blocked layout for the input's shape ("prepacked"; otherwise every call reorders all weights again), and a
/// following ReLU, or residual sum and ReLU, computed in the same pass
/// (<c>torch.ops.mkldnn._convolution_pointwise</c>). TorchSharp binds neither op, so both are reached through a
/// TorchScript module written here and compiled by libtorch at load. They have no gradient: used only where none is
/// taken. Where libtorch lacks them (built without oneDNN), or they disagree with float64 on the start-up check's
/// problems (see <see cref="CpuKernels"/>), <see cref="Available"/> is false and nothing uses them.
/// </summary>
internal sealed class PackedConvolutions : IDisposable
{
    // The module's source, as torch.jit.save writes it; libtorch resolves ops.mkldnn.* when it loads an archive.
    const string Source = """
        class Kernels(Module):
          __parameters__ = []
          __buffers__ = []
          training : bool
          def forward(self: __torch__.Kernels, x: Tensor) -> Tensor:
            return x
          def pack(self: __torch__.Kernels, w: Tensor, p0: int, p1: int, s0: int, s1: int, d0: int, d1: int,
                  groups: int, n: int, c: int, h: int, width: int) -> Tensor:
            return torch.mkldnn_reorder_conv2d_weight(torch.to_mkldnn(w), [p0, p1], [s0, s1], [d0, d1], groups,
                [n, c, h, width])
          def conv(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor, p0: int, p1: int, s0: int, s1: int,
                  d0: int, d1: int, groups: int) -> Tensor:
            return ops.mkldnn._convolution_pointwise(x, w, b, [p0, p1], [s0, s1], [d0, d1], groups, "none",
                annotate(List[Optional[number]], []), None)
          def conv_relu(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor, p0: int, p1: int, s0: int, s1: int,
                  d0: int, d1: int, groups: int) -> Tensor:
            return ops.mkldnn._convolution_pointwise(x, w, b, [p0, p1], [s0, s1], [d0, d1], groups, "relu",
                annotate(List[Optional[number]], []), None)
          def conv_add_relu(self: __torch__.Kernels, x: Tensor, other: Tensor, w: Tensor, b: Tensor, p0: int, p1: int,
                  s0: int, s1: int, d0: int, d1: int, groups: int) -> Tensor:
            return ops.mkldnn._convolution_pointwise(x, other, w, b, [p0, p1], [s0, s1], [d0, d1], groups, "add", 1.0,
                "relu", annotate(List[Optional[number]], []), None)
          def conv_add_relu_in_place(self: __torch__.Kernels, x: Tensor, other: Tensor, w: Tensor, b: Tensor,
                  p0: int, p1: int, s0: int, s1: int, d0: int, d1: int, groups: int) -> Tensor:
            return ops.mkldnn._convolution_pointwise_(other, x, w, b, [p0, p1], [s0, s1], [d0, d1], groups, "add", 1.0,
                "relu", annotate(List[Optional[number]], []), None)

        """;

    static readonly Lazy<jit.ScriptModule?> s_kernels = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether this libtorch runs packed convolutions (and they agreed with float64 on the start-up probes).
    /// </summary>
    public static bool Available => s_kernels.Value is not null;

    readonly jit.ScriptModule _kernels;
    // Per convolution, its weights packed for each input shape seen, up to four (one image, a many-pass method's
    // batches, its last smaller batch); others are packed for the call. Never evicted: another thread may be using one.
    readonly Dictionary<string, List<(long[] Shape, Tensor Weight)>> _packed = [];
    // A convolution without a bias gets zeros, made once (the kernel takes a bias).
    readonly Dictionary<string, Tensor> _zeroBiases = [];

    /// <summary>The convolution of <paramref name="x"/> (float32, CPU, [N, C, H, W]) then the epilogue; the weight
    /// packed once per <paramref name="key"/> and input shape. The residual is added before the ReLU.</summary>
    public Tensor Run(string key, Tensor x, Tensor weight, Tensor? bias, Convolution c, ConvolutionEpilogue epilogue,
        Tensor? residual)
    {
        var kernels = _kernels;
        var (packed, owned) = Packed(key, x.shape, weight, c);
        using var forThisCall = owned ? packed : null;
        var b = bias ?? ZeroBias(key, weight.shape[0]);
        // As Int32: TorchSharp hands those to TorchScript as they are, but makes a native Scalar (with a finalizer) of
        // every Int64. The import bounds each of these far below int.MaxValue.
        object[] geometry = [checked((int)c.Pads[0]), checked((int)c.Pads[1]), checked((int)c.Strides[0]),
            checked((int)c.Strides[1]),
            checked((int)c.Dilations[0]), checked((int)c.Dilations[1]), checked((int)c.Groups)];
        return epilogue switch
        {
            ConvolutionEpilogue.None => (Tensor)kernels.invoke("conv", [x, packed, b, .. geometry]),
            ConvolutionEpilogue.Relu => (Tensor)kernels.invoke("conv_relu", [x, packed, b, .. geometry]),
            ConvolutionEpilogue.AddRelu => (Tensor)kernels.invoke("conv_add_relu",
                [x, residual ?? throw new ArgumentNullException(nameof(residual)), packed, b, .. geometry]),
            ConvolutionEpilogue.AddReluInPlace => (Tensor)kernels.invoke("conv_add_relu_in_place",
                [x, residual ?? throw new ArgumentNullException(nameof(residual)), packed, b, .. geometry]),
            _ => throw new ArgumentOutOfRangeException(nameof(epilogue)),
        };
    }

    (Tensor Weight, bool Owned) Packed(string key, long[] shape, Tensor weight, Convolution c)
    {
        lock (_packed)
        {
            if (!_packed.TryGetValue(key, out var shapes)) _packed[key] = shapes = [];
            foreach (var (s, w) in shapes)
                if (s.SequenceEqual(shape)) return (w, false);
            using var scope = NewDisposeScope();
            var packed = ((Tensor)_kernels.invoke("pack", weight.contiguous(), c.Pads[0], c.Pads[1], c.Strides[0],
                c.Strides[1], c.Dilations[0], c.Dilations[1], c.Groups, shape[0], shape[1], shape[2], shape[3]))
                .DetachFromDisposeScope();
            if (shapes.Count == 4) return (packed, true);
            shapes.Add((shape, packed));
            return (packed, false);
        }
    }

    Tensor ZeroBias(string key, long channels)
    {
        lock (_zeroBiases)
        {
            if (!_zeroBiases.TryGetValue(key, out var zero))
                _zeroBiases[key] = zero = zeros(channels).DetachFromDisposeScope();
            return zero;
        }
    }

    public void Dispose()
    {
        lock (_packed)
        {
            foreach (var (_, w) in _packed.Values.SelectMany(s => s)) w.Dispose();
            _packed.Clear();
        }
        lock (_zeroBiases)
        {
            foreach (var zero in _zeroBiases.Values) zero.Dispose();
            _zeroBiases.Clear();
        }
    }

    static jit.ScriptModule? Load()
    {
        // They are oneDNN's: only after the start-up check, and not where it turned oneDNN off.
        if (!CpuKernels.EnsureChecked().OneDnn) return null;
        jit.ScriptModule? kernels = null;
        try
        {
            kernels = jit.load(Archive().ToArray());
            return Probe(kernels) ? kernels : Discard(kernels);
        }
        catch (Exception e) when (e is ExternalException or InvalidOperationException or ArgumentException
            or NotImplementedException or InvalidCastException)
        {
            return Discard(kernels);
        }
    }

    static jit.ScriptModule? Discard(jit.ScriptModule? kernels)
    {
        kernels?.Dispose();
        return null;
    }

    /// <summary>Each kernel (plain, + ReLU, + sum and ReLU, the sum written over the residual) against float64 on the
    /// start-up check's problems, channels-last as the import runs them; each result goes into the kernel report.
    /// </summary>
    static bool Probe(jit.ScriptModule kernels)
    {
        using var probe = new PackedConvolutions(kernels);
        var families = Enum.GetValues<ConvolutionEpilogue>().Select(epilogue => new KernelFamily(
            $"packed convolution{epilogue switch
            {
                ConvolutionEpilogue.Relu => " + ReLU",
                ConvolutionEpilogue.AddRelu => " + sum + ReLU",
                ConvolutionEpilogue.AddReluInPlace => " + sum + ReLU, in place",
                _ => "",
            }} (ONNX import, no gradients)",
            KernelFamilies.Probes
                .Where(g => Supports(epilogue, g.InChannels, g.OutChannels, g.Output.Height * g.Output.Width))
                .Select(g => (g.ToString(), (Func<double>)(() => Error(probe, g, epilogue)))).ToList()));
        var passed = true;
        foreach (var family in families)
        {
            var result = family.Run();
            CpuKernels.Record(result);
            passed &= result.Passed;
        }
        return passed;
    }

    /// <summary>oneDNN cannot add a residual into a new output ("could not create a memory") where the input's or the
    /// output's layout is ambiguous (one channel, or one pixel: channels-last and NCHW are then the same strides) and
    /// libtorch takes it for NCHW while the residual is channels-last. Found by the convolution property test.
    /// </summary>
    internal static bool Supports(ConvolutionEpilogue epilogue, long inChannels, long outChannels, long outPixels) =>
        epilogue != ConvolutionEpilogue.AddRelu || (inChannels > 1 && outChannels > 1 && outPixels > 1);

    static double Error(PackedConvolutions probe, ConvolutionGeometry g, ConvolutionEpilogue epilogue)
    {
        var (error, residualError) = Check(probe, $"probe {g} {epilogue}", g, epilogue, seed: 5);
        return Math.Max(error, residualError);
    }

    /// <summary>One problem through a packed kernel as the import runs it (asymmetric pads applied first,
    /// channels-last), against float64: the output's error and, written in place, the residual's (0 otherwise).
    /// </summary>
    internal static (double Error, double ResidualError) Check(PackedConvolutions packed, string key,
        ConvolutionGeometry g, ConvolutionEpilogue epilogue, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, w, b) = g.Tensors(seed);
        var reference = g.Convolve(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64));
        var residual = randn(reference.shape, generator: new Generator((ulong)seed + 1));
        var input = KernelFamilies.ChannelsLast(
            g.SymmetricPads ? x : F.pad(x, [g.PadLeft, g.PadRight, g.PadTop, g.PadBottom]));
        long[] pads = g.SymmetricPads ? [g.PadTop, g.PadLeft] : [0, 0];
        var c = new Convolution([g.Stride, g.Stride], pads, [g.Dilation, g.Dilation], g.Groups);
        var overwritten = KernelFamilies.ChannelsLast(residual.clone());
        var actual = packed.Run(key, input, KernelFamilies.ChannelsLast(w), b, c, epilogue,
            epilogue == ConvolutionEpilogue.AddReluInPlace ? overwritten : KernelFamilies.ChannelsLast(residual));
        var expected = epilogue switch
        {
            ConvolutionEpilogue.None => reference,
            ConvolutionEpilogue.Relu => reference.relu(),
            _ => (reference + residual.to(ScalarType.Float64)).relu(),
        };
        // In place, the residual itself must now hold the result.
        return (KernelFamily.RelativeError(actual, expected),
            epilogue == ConvolutionEpilogue.AddReluInPlace ? KernelFamily.RelativeError(overwritten, expected) : 0);
    }

    PackedConvolutions(jit.ScriptModule kernels) => _kernels = kernels;

    /// <summary>A cache of packed weights, or null where packed convolutions are not available.</summary>
    public static PackedConvolutions? Create() =>
        s_kernels.Value is { } kernels ? new PackedConvolutions(kernels) : null;

    /// <summary>A TorchScript archive as torch.jit.save lays it out: the module's pickled state (a Kernels object with
    /// its training flag), its code, no constants, format version 3.</summary>
    static MemoryStream Archive()
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] bytes)
            {
                using var entry = zip.CreateEntry($"kernels/{name}", CompressionLevel.NoCompression).Open();
                entry.Write(bytes);
            }
            // pickle protocol 2: GLOBAL '__torch__ Kernels', EMPTY_TUPLE, NEWOBJ, {'training': True} BUILD, STOP
            var state = new List<byte> { 0x80, 0x02, (byte)'c' };
            state.AddRange("__torch__\nKernels\n"u8.ToArray());
            state.AddRange([(byte)')', 0x81, (byte)'}', (byte)'(', (byte)'X', 8, 0, 0, 0]);
            state.AddRange("training"u8.ToArray());
            state.AddRange([0x88, (byte)'u', (byte)'b', (byte)'.']);
            Add("data.pkl", [.. state]);
            Add("code/__torch__.py", Encoding.UTF8.GetBytes(Source));
            Add("constants.pkl", [0x80, 0x02, (byte)')', (byte)'.']);
            Add("version", "3\n"u8.ToArray());
        }
        stream.Position = 0;
        return stream;
    }
}
