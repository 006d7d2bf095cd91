using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LiveCam.Models.Onnx;

/// <summary>ONNX operators in TorchSharp, as the ONNX operator specification defines them (opsets 9 and up).</summary>
internal static class OnnxOperators
{
    public static Tensor[] Run(OnnxNode node, Tensor?[] x)
    {
        var a = node.Attributes;
        Tensor In(int i) => i < x.Length && x[i] is { } t
            ? t
            : throw new OnnxFormatException($"node {node.Name} ({node.OpType}) lacks input {i}");
        Tensor? Optional(int i) => i < x.Length ? x[i] : null;
        long Int(string name, long fallback) => a.TryGetValue(name, out var v) ? v.I : fallback;
        float Float(string name, float fallback) => a.TryGetValue(name, out var v) ? v.F : fallback;
        long[]? Ints(string name) => a.TryGetValue(name, out var v) ? v.Ints : null;
        string Str(string name, string fallback) => a.TryGetValue(name, out var v) && v.S is { } s ? s : fallback;
        long[]? IntsOf(Tensor? t) =>
            t is null || t.numel() == 0 ? null : t.to_type(ScalarType.Int64).data<long>().ToArray();
        float? ScalarOf(Tensor? t) => t is null || t.numel() == 0 ? null : t.to_type(ScalarType.Float32).item<float>();

        switch (node.OpType)
        {
            case "Conv":
            {
                var input = ConvolutionInput(node, In(0), In(1), out var c);
                return [F.conv2d(input, In(1), Optional(2), c.Strides, c.Pads, c.Dilations, c.Groups)];
            }
            case "ConvTranspose":
            {
                var pads = Ints("pads") ?? [0, 0, 0, 0];
                if (pads.Length != 4 || pads[0] != pads[2] || pads[1] != pads[3])
                    throw new OnnxFormatException(
                        $"node {node.Name}: ConvTranspose with asymmetric padding is not supported");
                var strides = Ints("strides") ?? [1, 1];
                var outPad = Ints("output_padding") ?? [0, 0];
                var dilations = Ints("dilations") ?? [1, 1];
                return [F.conv_transpose2d(In(0), In(1), Optional(2), strides, [pads[0], pads[1]], outPad,
                    dilation: dilations, groups: Int("group", 1))];
            }
            case "BatchNormalization":
                // Evaluation: (x - mean) / sqrt(var + eps) * scale + bias per channel, in torch's one fused kernel.
                return [F.batch_norm(In(0), In(3), In(4), In(1), In(2), training: false, momentum: 0,
                    eps: Float("epsilon", 1e-5f))];
            case "Relu": return [F.relu(In(0))];
            case "LeakyRelu": return [F.leaky_relu(In(0), Float("alpha", 0.01f))];
            case "PRelu":
            {
                var slope = In(1);
                if (slope.dim() == 1 && In(0).dim() == 4 && slope.shape[0] == In(0).shape[1])
                    slope = slope.reshape(1, -1, 1, 1);
                return [where(In(0) >= 0, In(0), In(0) * slope)];
            }
            case "Clip":
            {
                float lo = ScalarOf(Optional(1)) ?? Float("min", float.NegativeInfinity),
                    hi = ScalarOf(Optional(2)) ?? Float("max", float.PositiveInfinity);
                return [In(0).clamp(lo, hi)];
            }
            case "Sigmoid": return [In(0).sigmoid()];
            case "HardSigmoid": return [(In(0) * Float("alpha", 0.2f) + Float("beta", 0.5f)).clamp(0, 1)];
            case "HardSwish": return [In(0) * (In(0) / 6 + 0.5f).clamp(0, 1)];
            case "Tanh": return [In(0).tanh()];
            case "Softmax":
            {
                long axis = Int("axis", -1);
                return [F.softmax(In(0), axis)];
            }
            case "Add": return [In(0) + In(1)];
            case "Sub": return [In(0) - In(1)];
            case "Mul": return [In(0) * In(1)];
            // The output keeps the base's type (an integer base to a float exponent stays integer).
            case "Pow": return [In(0).pow(In(1)).to_type(In(0).dtype)];
            case "Div":
                return [In(0).is_floating_point() || In(1).is_floating_point()
                    ? In(0) / In(1)
                    : In(0).div(In(1), RoundingMode.trunc)];
            case "MaxPool":
            case "AveragePool":
            {
                var kernel = Ints("kernel_shape")
                    ?? throw new OnnxFormatException($"node {node.Name}: {node.OpType} without kernel_shape");
                if (kernel.Length != 2)
                    throw new OnnxFormatException($"node {node.Name}: only 2-D pooling is supported");
                var strides = Ints("strides") ?? [1, 1];
                var dilations = Ints("dilations") ?? [1, 1];
                bool ceil = Int("ceil_mode", 0) != 0;
                var input = Pads(In(0), In(0).shape, kernel, strides, dilations, Ints("pads"),
                    Str("auto_pad", "NOTSET"), node.OpType == "MaxPool" ? float.NegativeInfinity : 0, out var pads);
                if (node.OpType == "MaxPool") return [F.max_pool2d(input, kernel, strides, pads, dilations, ceil)];
                return [F.avg_pool2d(input, kernel, strides, pads, ceil,
                    count_include_pad: Int("count_include_pad", 0) != 0)];
            }
            case "GlobalAveragePool": return [In(0).mean([2, 3], keepdim: true)];
            case "GlobalMaxPool": return [In(0).amax([2, 3], keepdim: true)];
            case "ReduceMean":
            {
                var axes = Ints("axes") ?? IntsOf(Optional(1))
                    ?? Enumerable.Range(0, (int)In(0).dim()).Select(i => (long)i).ToArray();
                return [In(0).mean(axes, keepdim: Int("keepdims", 1) != 0)];
            }
            case "Gemm":
            {
                var A = Int("transA", 0) != 0 ? In(0).t() : In(0);
                var B = Int("transB", 0) != 0 ? In(1).t() : In(1);
                var y = A.matmul(B) * Float("alpha", 1f);
                return [Optional(2) is { } c ? y + c * Float("beta", 1f) : y];
            }
            case "MatMul": return [In(0).matmul(In(1))];
            case "Flatten":
            {
                long axis = Int("axis", 1);
                if (axis < 0) axis += In(0).dim();
                long outer = In(0).shape.Take((int)axis).Aggregate(1L, (p, d) => p * d);
                return [In(0).reshape(outer, -1)];
            }
            case "Reshape":
            {
                var shape = IntsOf(In(1)) ?? [];
                var input = In(0);
                // 0 copies the input's dimension (unless allowzero says it means 0).
                if (Int("allowzero", 0) == 0)
                    for (int i = 0; i < shape.Length; i++) if (shape[i] == 0) shape[i] = input.shape[i];
                // A shape fixed for a batch of 1 (graphs converted from TensorFlow) keeps a batch of N whole.
                if (shape is [1, ..] && input.dim() > 0 && input.shape[0] > 1 && !shape.Contains(-1)
                    && input.numel() == input.shape[0] * shape.Aggregate(1L, (a, b) => a * b))
                    shape[0] = input.shape[0];
                return [input.reshape(shape)];
            }
            case "Transpose":
            {
                var perm = Ints("perm")
                    ?? Enumerable.Range(0, (int)In(0).dim()).Reverse().Select(i => (long)i).ToArray();
                return [In(0).permute(perm)];
            }
            case "Concat":
            {
                var parts = x.Where(t => t is not null).Select(t => t!).ToArray();
                long axis = Int("axis", 0);
                // Graphs converted from TensorFlow build constants for a batch of 1 (BlazeFace's channel padding): in a
                // batch of N, such a part stands for each sample alike.
                long batch = parts.Max(p => p.dim() > 0 ? p.shape[0] : 1);
                if (batch > 1 && axis is not 0 && parts.All(p => p.dim() > 1))
                    parts = parts.Select(p => p.shape[0] == 1 ? p.expand([batch, .. p.shape[1..]]) : p).ToArray();
                return [cat(parts, axis)];
            }
            case "Split":
            {
                long axis = Int("axis", 0);
                var sizes = Ints("split") ?? IntsOf(Optional(1));
                if (sizes is null)
                {
                    long n = node.Outputs.Length, length = In(0).shape[axis < 0 ? axis + In(0).dim() : axis];
                    sizes = Enumerable.Range(0, (int)n).Select(i => (length + n - 1) / n).ToArray();
                    sizes[^1] = length - sizes[..^1].Sum();
                }
                return In(0).split(sizes, axis);
            }
            case "Slice":
            {
                var starts = Ints("starts") ?? IntsOf(In(1))!;
                var ends = Ints("ends") ?? IntsOf(In(2))!;
                var axes = Ints("axes") ?? IntsOf(Optional(3))
                    ?? Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
                var steps = IntsOf(Optional(4)) ?? Enumerable.Repeat(1L, starts.Length).ToArray();
                var y = In(0);
                for (int i = 0; i < starts.Length; i++)
                {
                    long axis = axes[i] < 0 ? axes[i] + y.dim() : axes[i], size = y.shape[axis], step = steps[i];
                    if (step == 0) throw new OnnxFormatException($"node {node.Name}: Slice with step 0");
                    long start = starts[i] < 0 ? starts[i] + size : starts[i],
                        end = ends[i] < 0 && ends[i] > long.MinValue / 2 ? ends[i] + size : ends[i];
                    if (step > 0)
                    {
                        start = Math.Clamp(start, 0, size);
                        end = Math.Clamp(end, 0, size);
                        y = end > start ? y.slice(axis, start, end, step) : y.narrow(axis, 0, 0);
                    }
                    else
                    {
                        // Backwards (how exported pads reverse a list): start in [0, size-1], end in [-1, size-1].
                        start = Math.Clamp(start, 0, size - 1);
                        end = ends[i] <= long.MinValue / 2 ? -1 : Math.Clamp(end, -1, size - 1);
                        var picks = new List<long>();
                        for (long k = start; k > end; k += step) picks.Add(k);
                        y = y.index_select(axis, tensor(picks.ToArray(), device: y.device));
                    }
                }
                return [y];
            }
            case "Squeeze":
            {
                var axes = Ints("axes") ?? IntsOf(Optional(1));
                if (axes is null) return [In(0).squeeze()];
                var y = In(0);
                foreach (var axis in axes.Select(ax => ax < 0 ? ax + y.dim() : ax).OrderByDescending(ax => ax))
                    y = y.squeeze(axis);
                return [y];
            }
            case "Unsqueeze":
            {
                var axes = Ints("axes") ?? IntsOf(In(1))!;
                var y = In(0);
                long rank = y.dim() + axes.Length;
                foreach (var axis in axes.Select(ax => ax < 0 ? ax + rank : ax).OrderBy(ax => ax))
                    y = y.unsqueeze(axis);
                return [y];
            }
            case "Pad":
            {
                var pads = Ints("pads") ?? IntsOf(In(1))!;
                float value = ScalarOf(Optional(2)) ?? Float("value", 0);
                if (Str("mode", "constant") != "constant")
                    throw new OnnxFormatException($"node {node.Name}: Pad mode '{Str("mode", "")}' is not supported");
                return [PadTensor(In(0), pads, value)];
            }
            case "Resize":
            {
                var input = In(0);
                var mode = Str("mode", "nearest");
                var sizes = IntsOf(Optional(3));
                double[]? scales = Optional(2) is { } s && s.numel() > 0
                    ? s.to_type(ScalarType.Float64).data<double>().ToArray()
                    : null;
                var size = sizes is { Length: 4 } ? new[] { sizes[2], sizes[3] } : scales is { Length: 4 }
                    ? new[]
                    {
                        (long)Math.Floor(input.shape[2] * scales[2]), (long)Math.Floor(input.shape[3] * scales[3])
                    }
                    : throw new OnnxFormatException($"node {node.Name}: Resize needs 4-D scales or sizes");
                return [mode == "linear"
                    ? F.interpolate(input, size, mode: InterpolationMode.Bilinear,
                        align_corners: Str("coordinate_transformation_mode", "half_pixel") == "align_corners")
                    : F.interpolate(input, size, mode: InterpolationMode.Nearest)];
            }
            case "Identity": return [In(0)];
            case "Dropout": return [In(0)];
            case "Constant":
            {
                if (a.TryGetValue("value", out var v) && v.T is { } t)
                    return [t.Floats is { } f ? tensor(f, t.Dims) : tensor(t.Longs!, t.Dims)];
                if (a.TryGetValue("value_float", out var vf)) return [tensor(vf.F)];
                if (a.TryGetValue("value_int", out var vi)) return [tensor(vi.I)];
                if (a.TryGetValue("value_ints", out var vis)) return [tensor(vis.Ints)];
                if (a.TryGetValue("value_floats", out var vfs)) return [tensor(vfs.Floats)];
                throw new OnnxFormatException($"node {node.Name}: a Constant without a value");
            }
            case "Shape": return [tensor(In(0).shape)];
            case "Cast":
                // Floating types compute as float32; integer types (shapes, indices) as int64.
                return [Int("to", 1) switch
                {
                    1 or 10 or 11 or 16 => In(0).to_type(ScalarType.Float32),
                    9 => In(0).to_type(ScalarType.Bool),
                    _ => In(0).to_type(ScalarType.Int64),
                }];
            case "ConstantOfShape":
            {
                var shape = IntsOf(In(0)) ?? [];
                if (a.TryGetValue("value", out var v) && v.T is { } t)
                    return [t.Floats is { Length: 1 } f
                        ? full(shape, f[0], ScalarType.Float32)
                        : full(shape, t.Longs![0], ScalarType.Int64)];
                return [zeros(shape)];
            }
            case "Gather":
            {
                long axis = Int("axis", 0);
                var data = In(0);
                if (axis < 0) axis += data.dim();
                var indices = In(1).to_type(ScalarType.Int64);
                var fixedIndices = where(indices < 0, indices + data.shape[axis], indices);
                var picked = data.index_select(axis, fixedIndices.flatten());
                var shape = data.shape.Take((int)axis).Concat(indices.shape).Concat(data.shape.Skip((int)axis + 1))
                    .ToArray();
                return [picked.reshape(shape)];
            }
            default: throw new OnnxFormatException($"unsupported ONNX operator: {node.OpType}");
        }
    }

    /// <summary>A Conv node's input as the convolution reads it (padded itself only where ONNX's padding needs it) and
    /// the convolution's parameters.</summary>
    internal static Tensor ConvolutionInput(OnnxNode node, Tensor input, Tensor weight, out Convolution convolution)
    {
        var a = node.Attributes;
        if (weight.dim() != 4) throw new OnnxFormatException($"node {node.Name}: only 2-D convolutions are supported");
        var strides = a.TryGetValue("strides", out var s) && s.Ints is { } si ? si : [1, 1];
        var dilations = a.TryGetValue("dilations", out var d) && d.Ints is { } di ? di : [1, 1];
        var given = a.TryGetValue("pads", out var p) ? p.Ints : null;
        var autoPad = a.TryGetValue("auto_pad", out var ap) && ap.S is { } aps ? aps : "NOTSET";
        var kernel = weight.shape;
        long groups = a.TryGetValue("group", out var g) ? g.I : 1;
        var shape = input.shape;
        if (shape.Length != 4 || shape[1] != kernel[1] * groups)
            throw new OnnxFormatException(
                $"node {node.Name} (Conv): its input has shape [{string.Join(", ", shape)}]; " +
                $"its weights [{string.Join(", ", kernel)}] in {groups} group(s) read {kernel[1] * groups} channels");
        var padded = Pads(input, shape, [kernel[2], kernel[3]], strides, dilations, given, autoPad, 0, out var pads);
        convolution = new Convolution(strides, pads, dilations, groups);
        return padded;
    }

    /// <summary>ONNX padding (begin and end per axis, or auto_pad) as a symmetric padding the call takes, padding the
    /// input itself only where the two sides differ in a way that changes the windows.</summary>
    static Tensor Pads(Tensor x, long[] shape, long[] kernel, long[] strides, long[] dilations, long[]? given,
        string autoPad, float fill, out long[] pads)
    {
        long[] begin = [0, 0], end = [0, 0];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int i = 0; i < 2; i++)
            {
                long size = shape[2 + i], output = (size + strides[i] - 1) / strides[i];
                long total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
                begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                end[i] = total - begin[i];
            }
        }
        else if (autoPad is "NOTSET" && given is { Length: 4 })
        {
            begin = [given[0], given[1]];
            end = [given[2], given[3]];
        }
        // Padding both sides by the begin amounts gives the same windows whenever it gives as many of them: the end
        // padding past the last window is never read (ML.NET's and CNTK's exports pad [1, 1, 0, 0] that way).
        if (begin.Select((b, i) => Windows(shape[2 + i], kernel[i], strides[i], dilations[i], b, b)
                == Windows(shape[2 + i], kernel[i], strides[i], dilations[i], b, end[i]))
            .All(same => same))
        {
            pads = begin;
            return x;
        }
        pads = [0, 0];
        return PadTensor(x, [0, 0, begin[0], begin[1], 0, 0, end[0], end[1]], fill);
    }

    static long Windows(long size, long kernel, long stride, long dilation, long begin, long end) =>
        (size + begin + end - ((kernel - 1) * dilation + 1)) / stride + 1;

    /// <summary>ONNX pads (all begins, then all ends) as torch's pad (last axis first, begin then end).</summary>
    static Tensor PadTensor(Tensor x, long[] pads, float value)
    {
        int rank = (int)x.dim();
        if (pads.Length != 2 * rank) throw new OnnxFormatException($"{pads.Length} pads for a {rank}-D tensor");
        var torchPads = new long[2 * rank];
        for (int axis = 0; axis < rank; axis++)
        {
            torchPads[2 * (rank - 1 - axis)] = pads[axis];
            torchPads[2 * (rank - 1 - axis) + 1] = pads[axis + rank];
        }
        return F.pad(x, torchPads, PaddingModes.Constant, value);
    }
}

/// <summary>A 2-D convolution's parameters, padding symmetric (as the call takes it).</summary>
internal sealed record Convolution(long[] Strides, long[] Pads, long[] Dilations, long Groups);
