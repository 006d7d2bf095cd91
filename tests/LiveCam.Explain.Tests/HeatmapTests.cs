using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>A map becomes a heatmap with nothing that is not a finite positive value left in it.</summary>
public class HeatmapTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float16)]
    public void Not_finite_and_negative_values_become_zero_and_the_rest_is_kept(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var map = tensor(new[] { 2.0, -1.0, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.5 }, [2, 3])
            .to_type(type);
        // Taken through a transpose: the map need not be contiguous.
        var heatmap = Heatmap.FromTensor(map.T.contiguous().T);
        Assert.Equal(2, heatmap.Height);
        Assert.Equal(3, heatmap.Width);
        Assert.Equal(new float[] { 2, 0, 0, 0, 0, 0.5f }, heatmap.Values);
        Assert.Equal(new float[] { 1, 0, 0, 0, 0, 0.25f }, heatmap.Normalised);
    }

    [Fact]
    public void A_value_too_large_for_float32_becomes_zero_not_infinity()
    {
        using var scope = NewDisposeScope();
        var heatmap = Heatmap.FromTensor(tensor(new[] { 1e300, 1.0 }, [1, 2]));
        Assert.Equal(new float[] { 0, 1 }, heatmap.Values);
    }
}
