using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace LiveCam.Explain.Methods;

/// <summary>
/// Eigen-CAM's projection (Muhammad &amp; Yeasin 2020): each position's channel vector projected on the first principal
/// component of the sample's column-centred [positions, channels] matrix. Computed in float64 on the CPU, on the
/// smaller of its two Gram matrices, without a full eigendecomposition: ResNet-18's 7x7x512 layer takes 0.4 ms, where
/// libtorch's float64 copy, matmul and eigh took 1.6 ms of a 16 ms Eigen-CAM.
/// </summary>
/// <remarks>Every sum that builds a matrix runs element by element in a fixed order (rank-one updates, never a
/// horizontal reduction whose order follows the vector width), so the result does not depend on the processor.
/// </remarks>
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
                else
                {
                    var values = MemoryMarshal.Cast<byte, float>(readable.bytes).Slice(i * size, size);
                    for (int k = 0; k < size; k++) sample[k] = values[k];
                }
                Project(sample.AsSpan(0, size), (int)c, positions, maps.AsSpan(i * positions, positions));
            }
        }
        finally { ArrayPool<double>.Shared.Return(sample); }
        using var result = tensor(maps, [n, h, w]);
        return result.to(activations.dtype, activations.device);
    }

    /// <summary>One sample, <paramref name="m"/> laid out [channels][positions] as a layer gives it.</summary>
    static void Project(ReadOnlySpan<double> m, int channels, int positions, Span<double> projection)
    {
        var means = new double[channels];
        bool alike = true;
        for (int ch = 0; ch < channels; ch++)
        {
            var row = m.Slice(ch * positions, positions);
            double sum = 0;
            foreach (var v in row) sum += v;
            means[ch] = sum / positions;
            foreach (var v in row) alike &= v == means[ch];
        }
        if (alike)
        {
            projection.Clear();
            return;
        }
        // The top eigenvector u of X Xᵀ (positions) is the projection over the root of its eigenvalue; that of XᵀX
        // (channels) is the component itself.
        bool overPositions = positions <= channels;
        int size = overPositions ? positions : channels;
        var gram = ArrayPool<double>.Shared.Rent(size * size);
        var vector = new double[size];
        var scratch = new double[Math.Max(positions, channels)];
        try
        {
            var g = gram.AsSpan(0, size * size);
            g.Clear();
            if (overPositions)
                for (int ch = 0; ch < channels; ch++)
                {
                    for (int p = 0; p < positions; p++) scratch[p] = m[ch * positions + p] - means[ch];
                    AddOuter(g, scratch.AsSpan(0, positions));
                }
            else
                for (int p = 0; p < positions; p++)
                {
                    for (int ch = 0; ch < channels; ch++) scratch[ch] = m[ch * positions + p] - means[ch];
                    AddOuter(g, scratch.AsSpan(0, channels));
                }
            Mirror(g, size);
            double trace = 0;
            for (int i = 0; i < size; i++) trace += g[i * size + i];
            if (!double.IsFinite(trace))
            {
                // Not-finite activations: a map of NaN, which the heatmap shows as nothing.
                projection.Fill(double.NaN);
                return;
            }
            double value = TopEigenvector(g, size, vector);
            if (overPositions)
            {
                double root = Math.Sqrt(Math.Max(value, 0));
                for (int p = 0; p < positions; p++) projection[p] = vector[p] * root;
            }
            else
                for (int p = 0; p < positions; p++)
                {
                    double dot = 0;
                    for (int ch = 0; ch < channels; ch++) dot += (m[ch * positions + p] - means[ch]) * vector[ch];
                    projection[p] = dot;
                }
        }
        finally { ArrayPool<double>.Shared.Return(gram); }

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

    /// <summary>The upper triangle of <paramref name="g"/> [n x n] += x xᵀ.</summary>
    internal static void AddOuter(Span<double> g, ReadOnlySpan<double> x)
    {
        int n = x.Length;
        if (g.Length < n * n) throw new ArgumentException("the matrix is smaller than the vector's square");
        ref double matrix = ref MemoryMarshal.GetReference(g);
        ref double vector = ref MemoryMarshal.GetReference(x);
        for (int i = 0; i < n; i++)
        {
            double xi = Unsafe.Add(ref vector, i);
            if (xi == 0) continue;
            // row i from column i on += xi * x[i..]: element-wise multiply, then add (never fused), so the same
            // rounding at every vector width.
            ref double row = ref Unsafe.Add(ref matrix, i * n + i);
            ref double tail = ref Unsafe.Add(ref vector, i);
            nuint length = (nuint)(n - i), k = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var scale = Vector512.Create(xi);
                for (; k + 8 <= length; k += 8)
                    (Vector512.LoadUnsafe(ref row, k) + Vector512.LoadUnsafe(ref tail, k) * scale)
                        .StoreUnsafe(ref row, k);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var scale = Vector256.Create(xi);
                for (; k + 4 <= length; k += 4)
                    (Vector256.LoadUnsafe(ref row, k) + Vector256.LoadUnsafe(ref tail, k) * scale)
                        .StoreUnsafe(ref row, k);
            }
            for (; k < length; k++) Unsafe.Add(ref row, k) += Unsafe.Add(ref tail, k) * xi;
        }
    }

    /// <summary>Copies the upper triangle of <paramref name="g"/> [n x n] to the lower.</summary>
    static void Mirror(Span<double> g, int n)
    {
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) g[j * n + i] = g[i * n + j];
    }

    /// <summary>The eigenvector of the largest eigenvalue of a symmetric positive semi-definite, non-zero
    /// <paramref name="g"/> [n x n], of unit length, into <paramref name="vector"/>; returns the eigenvalue.</summary>
    /// <remarks>Repeated squaring, each square scaled to trace 1, leaves the top eigenvalue's share growing as
    /// (λ1/λi)^(2^k): a few dozen n³ steps reach a rank-one matrix whatever the gap (a full eigendecomposition takes
    /// several times that). Its strongest column, polished by power steps with <paramref name="g"/> itself, is the
    /// vector. Where the top two eigenvalues are equal any vector of their plane is one, as for an SVD.</remarks>
    internal static double TopEigenvector(ReadOnlySpan<double> g, int n, Span<double> vector)
    {
        var pool = ArrayPool<double>.Shared;
        double[] bBuffer = pool.Rent(n * n), squareBuffer = pool.Rent(n * n);
        try { return TopEigenvector(g, n, vector, bBuffer.AsSpan(0, n * n), squareBuffer.AsSpan(0, n * n)); }
        finally
        {
            pool.Return(bBuffer);
            pool.Return(squareBuffer);
        }
    }

    static double TopEigenvector(ReadOnlySpan<double> g, int n, Span<double> vector, Span<double> b,
        Span<double> square)
    {
        double trace = 0;
        for (int i = 0; i < n; i++) trace += g[i * n + i];
        if (!(trace > 0) || !double.IsFinite(trace))
            throw new ArgumentException("the matrix must be positive semi-definite, finite and non-zero");
        for (int k = 0; k < n * n; k++) b[k] = g[k] / trace;
        for (int step = 0; step < 64; step++)
        {
            // b·b = Σ_k (row k)ᵀ(row k) for a symmetric b.
            square.Clear();
            for (int k = 0; k < n; k++) AddOuter(square, b.Slice(k * n, n));
            Mirror(square, n);
            double squareTrace = 0;
            for (int i = 0; i < n; i++) squareTrace += square[i * n + i];
            if (!(squareTrace > 0)) break;
            for (int k = 0; k < n * n; k++)
            {
                // What squaring leaves of the small eigenvalues sinks toward subnormal numbers, which processors
                // compute many times slower; at 1e-150 of the trace it is nothing anyway.
                double scaled = square[k] / squareTrace;
                b[k] = Math.Abs(scaled) < 1e-150 ? 0 : scaled;
            }
            // trace(b²) = Σ μ² for eigenvalues μ summing to 1: 1 once b is rank one.
            if (squareTrace >= 1 - 1e-13) break;
        }
        int strongest = 0;
        for (int i = 1; i < n; i++)
            if (b[i * n + i] > b[strongest * n + strongest]) strongest = i;
        b.Slice(strongest * n, n).CopyTo(vector);
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
                var row = g.Slice(k * n, n);
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
