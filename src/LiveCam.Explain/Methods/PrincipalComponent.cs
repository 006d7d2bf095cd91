using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// Eigen-CAM's projection (Muhammad &amp; Yeasin 2020): each position's channel vector projected on the first principal
/// component of the sample's column-centred [positions, channels] matrix. Computed in float64 on the CPU, on the
/// smaller of its two Gram matrices, without a full eigendecomposition: ResNet-18's 7x7x512 layer takes 0.2 ms, where
/// libtorch's float64 copy, matmul and eigh took 1.6 ms of a 16 ms Eigen-CAM.
/// </summary>
/// <remarks>Every sum runs in a fixed order (rank-one updates element by element, never a horizontal reduction whose
/// order follows the vector width), so the result does not depend on the processor. The kernels are compiled fully
/// optimised at once: in `bench onnx`, tiered compilation had left them at 2-5x their speed after 50 passes.</remarks>
internal static class PrincipalComponent
{
    /// <summary>Per sample of [N, C, h, w]: the projections [N, h, w], oriented to grow with the mean over channels
    /// (a component has no sign of its own); zeros where every position has the same channel vector.</summary>
    public static Tensor Projections(Tensor activations)
    {
        long n = activations.shape[0], c = activations.shape[1], h = activations.shape[2], w = activations.shape[3];
        if (c * h * w > int.MaxValue) throw new ArgumentException("a layer too large for a principal component");
        var maps = new double[n * h * w];
        int size = (int)(c * h * w), positions = (int)(h * w);
        // Read where the layer's values lie (no copy for float32 or float64 on the CPU) into a reused buffer: a new
        // tensor or array of a layer's size per call costs more in page faults than all the arithmetic.
        var sample = ArrayPool<double>.Shared.Rent(size);
        try
        {
            using var cpu = activations.detach().cpu().contiguous();
            using var readable = cpu.dtype is ScalarType.Float32 or ScalarType.Float64
                ? cpu.alias() : cpu.to_type(ScalarType.Float32);
            for (int i = 0; i < n; i++)
            {
                if (readable.dtype == ScalarType.Float64)
                    MemoryMarshal.Cast<byte, double>(readable.bytes).Slice(i * size, size).CopyTo(sample);
                else Widen(MemoryMarshal.Cast<byte, float>(readable.bytes).Slice(i * size, size), sample);
                Project(sample.AsSpan(0, size), (int)c, positions, maps.AsSpan(i * positions, positions));
            }
        }
        finally { ArrayPool<double>.Shared.Return(sample); }
        using var result = tensor(maps, [n, h, w]);
        return result.to(activations.dtype, activations.device);
    }

    /// <summary>One sample, <paramref name="m"/> laid out [channels][positions] as a layer gives it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Project(ReadOnlySpan<double> m, int channels, int positions, Span<double> projection)
    {
        var means = new double[channels];
        for (int ch = 0; ch < channels; ch++) means[ch] = Sum(m.Slice(ch * positions, positions)) / positions;
        // The top eigenvector u of X Xᵀ (positions) is the projection over the root of its eigenvalue; that of XᵀX
        // (channels) is the component itself.
        bool overPositions = positions <= channels;
        int size = overPositions ? positions : channels, count = overPositions ? channels : positions;
        int stride = Padded(size);
        var pool = ArrayPool<double>.Shared;
        double[] gram = pool.Rent(size * stride), rows = pool.Rent(count * stride);
        var vector = new double[size];
        try
        {
            // The centred matrix as `count` rows of `size` values, zero to the stride.
            var r = rows.AsSpan(0, count * stride);
            bool alike = true;
            for (int ch = 0; ch < channels; ch++)
            {
                var row = m.Slice(ch * positions, positions);
                double mean = means[ch];
                for (int p = 0; p < positions; p++)
                {
                    double v = row[p];
                    alike &= v == mean;
                    r[overPositions ? ch * stride + p : p * stride + ch] = v - mean;
                }
            }
            for (int k = 0; k < count; k++) r.Slice(k * stride + size, stride - size).Clear();
            if (alike)
            {
                projection.Clear();
                return;
            }
            var g = gram.AsSpan(0, size * stride);
            g.Clear();
            AddGram(g, r, count, size, stride);
            Mirror(g, size, stride);
            double trace = 0;
            for (int i = 0; i < size; i++) trace += g[i * stride + i];
            if (!double.IsFinite(trace))
            {
                // Not-finite activations: a map of NaN, which the heatmap shows as nothing.
                projection.Fill(double.NaN);
                return;
            }
            double value = TopEigenvector(g, size, stride, vector);
            if (overPositions)
            {
                double root = Math.Sqrt(Math.Max(value, 0));
                for (int p = 0; p < positions; p++) projection[p] = vector[p] * root;
            }
            else
                for (int p = 0; p < positions; p++)
                {
                    double dot = 0;
                    for (int ch = 0; ch < channels; ch++) dot += r[p * stride + ch] * vector[ch];
                    projection[p] = dot;
                }
        }
        finally
        {
            pool.Return(gram);
            pool.Return(rows);
        }

        // Oriented with each position's mean over channels, about its own mean.
        var positionMeans = new double[positions];
        double overall = 0;
        for (int p = 0; p < positions; p++) overall += positionMeans[p] = PositionMean(m, channels, positions, p);
        overall /= positions;
        double agreement = 0;
        for (int p = 0; p < positions; p++) agreement += projection[p] * (positionMeans[p] - overall);
        if (agreement < 0)
            for (int p = 0; p < positions; p++) projection[p] = -projection[p];
    }

    static double PositionMean(ReadOnlySpan<double> m, int channels, int positions, int p)
    {
        double sum = 0;
        for (int ch = 0; ch < channels; ch++) sum += m[ch * positions + p];
        return sum / channels;
    }

    /// <summary>float32 to float64 (exact, so the same at every vector width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Widen(ReadOnlySpan<float> from, Span<double> to)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 8 <= from.Length; k += 8)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(from.Slice(k, 8)));
                lower.CopyTo(to.Slice(k, 4));
                upper.CopyTo(to.Slice(k + 4, 4));
            }
        for (; k < from.Length; k++) to[k] = from[k];
    }

    /// <summary>A sum in a fixed order whatever the processor: four running sums, each element to the (index mod 4)th,
    /// then added pairwise; four chains of additions rather than one, so it is not bound by their latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static double Sum(ReadOnlySpan<double> values)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 4 <= values.Length; k += 4)
        {
            s0 += values[k];
            s1 += values[k + 1];
            s2 += values[k + 2];
            s3 += values[k + 3];
        }
        for (; k < values.Length; k++) s0 += values[k];
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>A row length that holds <paramref name="size"/> values in whole vectors of 8 (and so of 4).</summary>
    internal static int Padded(int size) => (size + 7) & ~7;

    /// <summary><paramref name="g"/> [width x stride] += Σ_k r_kᵀ r_k over the <paramref name="count"/> rows r_k of
    /// <paramref name="rows"/> [count x stride], which are zero from <paramref name="width"/> on: on and above the
    /// diagonal (below it, only next to it).</summary>
    /// <remarks>Four rows at a time, each element taking their products in row order, one multiply and one add each
    /// (never fused): the same sums, bit for bit, as the plain loop at every vector width, and a quarter of its loads
    /// and stores of <paramref name="g"/>.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddGram(Span<double> g, ReadOnlySpan<double> rows, int count, int width, int stride)
    {
        if (stride % 8 != 0 || stride < width || g.Length < width * stride || rows.Length < count * stride)
            throw new ArgumentException("the matrices are smaller than their shapes, or the stride is not padded");
        ref double matrix = ref MemoryMarshal.GetReference(g);
        ref double first = ref MemoryMarshal.GetReference(rows);
        int k = 0;
        for (; k + 4 <= count; k += 4)
            AddFour(ref matrix, ref Unsafe.Add(ref first, k * stride), width, stride);
        for (; k < count; k++) AddOne(ref matrix, ref Unsafe.Add(ref first, k * stride), width, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddFour(ref double g, ref double r0, int width, int stride)
    {
        ref double r1 = ref Unsafe.Add(ref r0, stride);
        ref double r2 = ref Unsafe.Add(ref r1, stride);
        ref double r3 = ref Unsafe.Add(ref r2, stride);
        for (int i = 0; i < width; i++)
        {
            double a0 = Unsafe.Add(ref r0, i), a1 = Unsafe.Add(ref r1, i), a2 = Unsafe.Add(ref r2, i),
                a3 = Unsafe.Add(ref r3, i);
            ref double row = ref Unsafe.Add(ref g, i * stride);
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<double> s0 = Vector512.Create(a0), s1 = Vector512.Create(a1), s2 = Vector512.Create(a2),
                    s3 = Vector512.Create(a3);
                for (nuint j = (nuint)(i & ~7); j < (nuint)stride; j += 8)
                {
                    var sum = Vector512.LoadUnsafe(ref row, j) + Vector512.LoadUnsafe(ref r0, j) * s0;
                    sum += Vector512.LoadUnsafe(ref r1, j) * s1;
                    sum += Vector512.LoadUnsafe(ref r2, j) * s2;
                    (sum + Vector512.LoadUnsafe(ref r3, j) * s3).StoreUnsafe(ref row, j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<double> s0 = Vector256.Create(a0), s1 = Vector256.Create(a1), s2 = Vector256.Create(a2),
                    s3 = Vector256.Create(a3);
                for (nuint j = (nuint)(i & ~3); j < (nuint)stride; j += 4)
                {
                    var sum = Vector256.LoadUnsafe(ref row, j) + Vector256.LoadUnsafe(ref r0, j) * s0;
                    sum += Vector256.LoadUnsafe(ref r1, j) * s1;
                    sum += Vector256.LoadUnsafe(ref r2, j) * s2;
                    (sum + Vector256.LoadUnsafe(ref r3, j) * s3).StoreUnsafe(ref row, j);
                }
            }
            else
                for (int j = i; j < width; j++)
                {
                    double sum = Unsafe.Add(ref row, j) + Unsafe.Add(ref r0, j) * a0;
                    sum += Unsafe.Add(ref r1, j) * a1;
                    sum += Unsafe.Add(ref r2, j) * a2;
                    Unsafe.Add(ref row, j) = sum + Unsafe.Add(ref r3, j) * a3;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void AddOne(ref double g, ref double r, int width, int stride)
    {
        for (int i = 0; i < width; i++)
        {
            double a = Unsafe.Add(ref r, i);
            ref double row = ref Unsafe.Add(ref g, i * stride);
            if (Vector512.IsHardwareAccelerated)
            {
                var s = Vector512.Create(a);
                for (nuint j = (nuint)(i & ~7); j < (nuint)stride; j += 8)
                    (Vector512.LoadUnsafe(ref row, j) + Vector512.LoadUnsafe(ref r, j) * s).StoreUnsafe(ref row, j);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var s = Vector256.Create(a);
                for (nuint j = (nuint)(i & ~3); j < (nuint)stride; j += 4)
                    (Vector256.LoadUnsafe(ref row, j) + Vector256.LoadUnsafe(ref r, j) * s).StoreUnsafe(ref row, j);
            }
            else
                for (int j = i; j < width; j++) Unsafe.Add(ref row, j) += Unsafe.Add(ref r, j) * a;
        }
    }

    /// <summary>Copies the upper triangle of <paramref name="g"/> [n x stride] to the lower.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Mirror(Span<double> g, int n, int stride)
    {
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) g[j * stride + i] = g[i * stride + j];
    }

    /// <summary>The eigenvector of the largest eigenvalue of a symmetric positive semi-definite, non-zero
    /// <paramref name="g"/> [n x stride], of unit length, into <paramref name="vector"/>; returns the eigenvalue.
    /// </summary>
    /// <remarks>Repeated squaring, each square scaled to trace 1, leaves the top eigenvalue's share growing as
    /// (λ1/λi)^(2^k): a few dozen n³ steps reach a rank-one matrix whatever the gap (a full eigendecomposition takes
    /// several times that). Its strongest column, polished by power steps with <paramref name="g"/> itself, is the
    /// vector. Where the top two eigenvalues are equal any vector of their plane is one, as for an SVD.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double TopEigenvector(ReadOnlySpan<double> g, int n, int stride, Span<double> vector)
    {
        if (stride < n || g.Length < n * stride) throw new ArgumentException("the matrix is smaller than its shape");
        double trace = 0;
        for (int i = 0; i < n; i++) trace += g[i * stride + i];
        if (!(trace > 0) || !double.IsFinite(trace))
            throw new ArgumentException("the matrix must be positive semi-definite, finite and non-zero");
        int padded = Padded(n);
        var pool = ArrayPool<double>.Shared;
        double[] bBuffer = pool.Rent(n * padded), squareBuffer = pool.Rent(n * padded);
        try
        {
            Span<double> b = bBuffer.AsSpan(0, n * padded), square = squareBuffer.AsSpan(0, n * padded);
            b.Clear();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) b[i * padded + j] = g[i * stride + j] / trace;
            for (int step = 0; step < 64; step++)
            {
                // b·b = Σ_k (row k)ᵀ(row k) for a symmetric b.
                square.Clear();
                AddGram(square, b, n, n, padded);
                Mirror(square, n, padded);
                double squareTrace = 0;
                for (int i = 0; i < n; i++) squareTrace += square[i * padded + i];
                if (!(squareTrace > 0)) break;
                double inverse = 1 / squareTrace;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                    {
                        // What squaring leaves of the small eigenvalues sinks toward subnormal numbers, which
                        // processors compute many times slower; at 1e-150 of the trace it is nothing anyway.
                        double scaled = square[i * padded + j] * inverse;
                        b[i * padded + j] = Math.Abs(scaled) < 1e-150 ? 0 : scaled;
                    }
                // trace(b²) = Σ μ² for eigenvalues μ summing to 1: 1 once b is rank one.
                if (squareTrace >= 1 - 1e-13) break;
            }
            int strongest = 0;
            for (int i = 1; i < n; i++)
                if (b[i * padded + i] > b[strongest * padded + strongest]) strongest = i;
            b.Slice(strongest * padded, n).CopyTo(vector);
        }
        finally
        {
            pool.Return(bBuffer);
            pool.Return(squareBuffer);
        }
        Normalise(vector);
        var next = new double[n];
        double value = 0;
        for (int step = 0; step < 3; step++)
        {
            Array.Clear(next);
            // g·v = Σ_k v_k (row k of g).
            for (int k = 0; k < n; k++)
            {
                double vk = vector[k];
                var row = g.Slice(k * stride, n);
                for (int j = 0; j < n; j++) next[j] += row[j] * vk;
            }
            value = 0;
            for (int j = 0; j < n; j++) value += next[j] * vector[j];
            if (!Normalise(next)) break;
            next.CopyTo(vector);
        }
        return value;
    }

    static bool Normalise(Span<double> v)
    {
        double sum = 0;
        foreach (var x in v) sum += x * x;
        if (!(sum > 0)) return false;
        double norm = Math.Sqrt(sum);
        for (int i = 0; i < v.Length; i++) v[i] /= norm;
        return true;
    }
}
