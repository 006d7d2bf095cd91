using LiveCam.Explain.Methods;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>Eigen-CAM's managed principal component against libtorch's SVD of the same centred matrix (the formula
/// pytorch-grad-cam uses), over many shapes: fewer positions than channels and more, one sample and several, float32
/// and float64, small eigenvalue gaps; and its eigenvector search against libtorch's eigh.</summary>
[Trait("Category", "Numeric")]
public class PrincipalComponentTests
{
    /// <summary>The projection on the first right singular vector of each sample's centred [hw, C] matrix, oriented
    /// with the mean over channels, in float64.</summary>
    static Tensor Reference(Tensor activations)
    {
        var a = activations.to_type(ScalarType.Float64);
        long n = a.shape[0], c = a.shape[1], h = a.shape[2], w = a.shape[3];
        var maps = new List<Tensor>();
        for (long i = 0; i < n; i++)
        {
            var m = a[i].reshape(c, h * w).T;
            var centred = m - m.mean([0], keepdim: true);
            var (_, _, vh) = linalg.svd(centred, fullMatrices: false);
            var projection = centred.matmul(vh[0]);
            var mean = m.mean([1]);
            if ((projection * (mean - mean.mean())).sum().item<double>() < 0) projection = -projection;
            maps.Add(projection.reshape(h, w));
        }
        return stack(maps);
    }

    [Theory]
    [InlineData(1, 512, 7, 7, ScalarType.Float32)]
    [InlineData(2, 64, 14, 9, ScalarType.Float32)]
    [InlineData(1, 3, 5, 4, ScalarType.Float64)]
    [InlineData(3, 17, 1, 17, ScalarType.Float64)]
    [InlineData(1, 100, 10, 10, ScalarType.Float64)]
    [InlineData(1, 1, 3, 3, ScalarType.Float32)]
    [InlineData(1, 40, 2, 1, ScalarType.Float32)]
    public void Projections_match_the_svd_of_the_centred_matrix(int n, int c, int h, int w, ScalarType type)
    {
        using var scope = NewDisposeScope();
        var generator = manual_seed(c * 1000 + h * 10 + w);
        // ReLU'd features with a few strong directions, like a layer's.
        var a = (randn(n, c, h, w, generator: generator) + 0.5 * randn(n, c, 1, 1, generator: generator))
            .relu().to_type(type);
        var actual = PrincipalComponent.Projections(a);
        Assert.Equal(a.dtype, actual.dtype);
        Assert.Equal(new long[] { n, h, w }, actual.shape);
        var expected = Reference(a);
        double scale = expected.abs().max().item<double>();
        double error = (actual.to_type(ScalarType.Float64) - expected).abs().max().item<double>() / scale;
        Assert.True(error < (type == ScalarType.Float32 ? 1e-6 : 1e-10), $"off by {error:G3} of scale");
    }

    [Fact]
    public void A_sample_whose_positions_are_all_alike_gives_zeros_and_the_others_are_unaffected()
    {
        using var scope = NewDisposeScope();
        var a = rand(2, 8, 3, 3, generator: manual_seed(4));
        a[0] = ones(8, 1, 1) * arange(8).reshape(8, 1, 1).to_type(ScalarType.Float32);
        var actual = PrincipalComponent.Projections(a);
        Assert.Equal(0, actual[0].abs().max().item<float>());
        var expected = Reference(a[1..2]).to_type(ScalarType.Float32);
        Assert.True((actual[1..2] - expected).abs().max().item<float>() < 1e-5);
    }

    [Theory]
    [InlineData(3, 1.0)]
    [InlineData(9, 0.5)]
    [InlineData(49, 0.999)]
    [InlineData(64, 0.9999999)]
    [InlineData(196, 0.9)]
    public void The_top_eigenvector_matches_eigh_even_with_a_small_gap(int size, double ratio)
    {
        using var scope = NewDisposeScope();
        // Q diag(values) Qᵀ with the second eigenvalue `ratio` times the first.
        var (q, _) = linalg.qr(randn(size, size, ScalarType.Float64, generator: manual_seed(size)));
        var values = rand(size, ScalarType.Float64, generator: manual_seed(size + 1)) * 0.5;
        values[0] = 1.0;
        if (size > 1) values[1] = ratio;
        var g = q.matmul(diag(values)).matmul(q.T);
        g = (g + g.T) / 2;
        var vector = new double[size];
        double value = PrincipalComponent.TopEigenvector(g.data<double>().ToArray(), size, size, vector);
        var (eigenvalues, eigenvectors) = linalg.eigh(g);
        Assert.Equal(eigenvalues[-1].item<double>(), value, 1e-12);
        if (ratio < 1)
        {
            var expected = eigenvectors[.., -1].data<double>().ToArray();
            double dot = vector.Zip(expected, (x, y) => x * y).Sum();
            // A unit vector either way round; with a gap of 1e-7 it is only determined to about 1e-9.
            Assert.True(1 - Math.Abs(dot) < (ratio > 0.999999 ? 1e-8 : 1e-13), $"1 - |cos| = {1 - Math.Abs(dot):G3}");
        }
        else
        {
            // Equal top eigenvalues: any unit vector of their plane.
            var plane = eigenvectors[.., ^2..];
            var inPlane = plane.T.matmul(tensor(vector)).norm().item<double>();
            Assert.Equal(1, inPlane, 1e-10);
        }
    }

    [Fact]
    public void A_matrix_that_is_zero_or_not_finite_is_refused()
    {
        var vector = new double[2];
        Assert.Throws<ArgumentException>(() => PrincipalComponent.TopEigenvector(new double[4], 2, 2, vector));
        Assert.Throws<ArgumentException>(
            () => PrincipalComponent.TopEigenvector(new[] { double.NaN, 0, 0, 1 }, 2, 2, vector));
    }

    [Fact]
    public void Not_finite_activations_give_a_map_of_NaN_not_an_exception()
    {
        using var scope = NewDisposeScope();
        var a = rand(1, 4, 2, 2, generator: manual_seed(2));
        a[0, 1, 1, 0] = float.PositiveInfinity;
        Assert.True(PrincipalComponent.Projections(a).isnan().all().item<bool>());
    }

    /// <summary>The vectorised, blocked Gram update equals the plain loop of rank-one updates bit for bit on and above
    /// the diagonal, at every width (so at every vector width the processor has: 8, 4 or none) and every number of
    /// rows (four at a time and the rest), and leaves the padding at zero.</summary>
    [Fact]
    public void The_gram_update_equals_the_plain_loop_bit_for_bit()
    {
        var random = new Random(12);
        for (int width = 1; width <= 70; width++)
        {
            int stride = PrincipalComponent.Padded(width);
            Assert.True(stride >= width && stride % 8 == 0 && stride < width + 8);
            foreach (int count in new[] { 1, 3, 4, 5, 9 })
            {
                var rows = new double[count * stride];
                for (int k = 0; k < count; k++)
                    for (int j = 0; j < width; j++) rows[k * stride + j] = random.NextDouble() - 0.5;
                rows[random.Next(count) * stride + random.Next(width)] = 0;
                var start = new double[width * stride];
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < width; j++) start[i * stride + j] = random.NextDouble();
                var actual = (double[])start.Clone();
                PrincipalComponent.AddGram(actual, rows, count, width, stride);
                var expected = (double[])start.Clone();
                for (int k = 0; k < count; k++)
                    for (int i = 0; i < width; i++)
                        for (int j = i; j < width; j++)
                            expected[i * stride + j] += rows[k * stride + j] * rows[k * stride + i];
                for (int i = 0; i < width; i++)
                {
                    for (int j = i; j < width; j++)
                        Assert.True(expected[i * stride + j] == actual[i * stride + j],
                            $"width {width}, {count} rows: [{i}, {j}] {actual[i * stride + j]:R} not "
                            + $"{expected[i * stride + j]:R}");
                    for (int j = width; j < stride; j++) Assert.Equal(0, actual[i * stride + j]);
                }
            }
        }
    }

    [Fact]
    public void Half_precision_activations_are_read_as_float32_and_the_map_keeps_their_type()
    {
        using var scope = NewDisposeScope();
        var a = rand(2, 16, 3, 4, generator: manual_seed(8)).to_type(ScalarType.Float16);
        var actual = PrincipalComponent.Projections(a);
        Assert.Equal(ScalarType.Float16, actual.dtype);
        var expected = PrincipalComponent.Projections(a.to_type(ScalarType.Float32)).to_type(ScalarType.Float16);
        Assert.True(actual.Equals(expected));
    }
}
