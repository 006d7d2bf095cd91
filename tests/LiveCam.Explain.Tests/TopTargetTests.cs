using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Explain.Tests;

/// <summary>Top-k targets choose the classes libtorch's topk chooses, in its order.</summary>
public class TopTargetTests
{
    static int[] Chosen(Tensor output, int k) =>
        Target.TopK(k).Resolve(output).Select(t => t.ClassIndex!.Value).ToArray();

    static int[] Topk(Tensor output, int k) =>
        output.reshape(1, -1)[0].topk(k).indexes.data<long>().Select(i => (int)i).ToArray();

    [Theory]
    [InlineData(1, ScalarType.Float32)]
    [InlineData(3, ScalarType.Float32)]
    [InlineData(5, ScalarType.Float64)]
    [InlineData(1000, ScalarType.Float32)]
    public void The_classes_are_those_of_topk_in_its_order(int k, ScalarType type)
    {
        using var scope = NewDisposeScope();
        for (int seed = 0; seed < 20; seed++)
        {
            var output = randn(1, 1000, generator: manual_seed(seed)).to_type(type);
            Assert.Equal(Topk(output, k), Chosen(output, k));
        }
    }

    [Fact]
    public void NaN_counts_as_the_largest_as_in_topk_and_equal_scores_keep_their_order()
    {
        using var scope = NewDisposeScope();
        var withNaN = tensor(new[] { 1f, float.NaN, 3f, -2f }, [1, 2, 2]);
        Assert.Equal(Topk(withNaN, 2), Chosen(withNaN, 2));
        Assert.Equal([1, 2], Chosen(withNaN, 2));
        Assert.Equal([1, 2, 3], Chosen(tensor(new[] { 1f, 5f, 5f, 5f, 2f }, [1, 5]), 3));
    }

    [Fact]
    public void A_batch_or_more_classes_than_outputs_is_refused()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Target.Top().Resolve(zeros(2, 10)));
        Assert.Throws<ArgumentException>(() => Target.TopK(11).Resolve(zeros(1, 10)));
    }
}
