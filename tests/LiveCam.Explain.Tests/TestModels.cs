using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LiveCam.Explain.Tests;

/// <summary>Small networks whose right answers are known.</summary>
internal static class TestModels
{
    /// <summary>
    /// A hand-built detector of red: conv1 (1x1) answers red minus the mean of green and blue (0 on grey),
    /// conv2 (3x3) smooths, then global average pooling and a linear layer: class 0 = "red", class 1 = "not red".
    /// Channel 0 of the input is red.
    /// </summary>
    public sealed class RedSquareNet : Module<Tensor, Tensor>
    {
        readonly Sequential features;
        readonly AdaptiveAvgPool2d pool;
        readonly Flatten flatten;
        readonly Linear fc;

        public RedSquareNet(bool inplaceRelu = false) : base(nameof(RedSquareNet))
        {
            var conv1 = Conv2d(3, 4, 1);
            var conv2 = Conv2d(4, 4, 3, padding: 1);
            features = Sequential(
                ("conv1", conv1), ("relu1", ReLU(inplaceRelu)), ("conv2", conv2), ("relu2", ReLU(inplaceRelu)));
            pool = AdaptiveAvgPool2d(1);
            flatten = Flatten();
            fc = Linear(4, 2);
            RegisterComponents();
            using var _ = no_grad();
            var w1 = zeros(4, 3, 1, 1);
            for (int k = 0; k < 4; k++)
            {
                w1[k, 0, 0, 0] = tensor(0.5f * (k + 1));
                w1[k, 1, 0, 0] = tensor(-0.25f * (k + 1));
                w1[k, 2, 0, 0] = tensor(-0.25f * (k + 1));
            }
            conv1.weight!.copy_(w1);
            conv1.bias!.zero_();
            var w2 = zeros(4, 4, 3, 3);
            for (int k = 0; k < 4; k++)
            {
                w2[k, k] = full(3, 3, 0.1f);
                w2[k, k, 1, 1] = tensor(1f);
            }
            conv2.weight!.copy_(w2);
            conv2.bias!.zero_();
            fc.weight!.copy_(tensor(new float[,] { { 1, 1, 1, 1 }, { -1, -1, -1, -1 } }));
            fc.bias!.zero_();
        }

        public override Tensor forward(Tensor input) => fc.call(flatten.call(pool.call(features.call(input))));
    }

    /// <summary>Grey 0.5 everywhere, with a red square of side <paramref name="side"/> at (<paramref name="x"/>,
    /// <paramref name="y"/>).</summary>
    public static Tensor RedSquare(int x, int y, int side = 6, int size = 32)
    {
        var image = full(1, 3, size, size, 0.5f);
        image[0, 0, y..(y + side), x..(x + side)] = tensor(0.9f);
        image[0, 1, y..(y + side), x..(x + side)] = tensor(0.1f);
        image[0, 2, y..(y + side), x..(x + side)] = tensor(0.1f);
        return image;
    }

    /// <summary>conv -> relu -> conv -> relu -> global average pool -> linear(10): the shape CAM was made
    /// for.</summary>
    public sealed class GapNet : Module<Tensor, Tensor>
    {
        readonly Sequential features;
        readonly AdaptiveAvgPool2d pool;
        readonly Flatten flatten;
        readonly Linear fc;

        public GapNet(int seed) : base(nameof(GapNet))
        {
            manual_seed(seed);
            features = Sequential(("0", Conv2d(3, 8, 3, padding: 1)), ("1", ReLU()),
                ("2", Conv2d(8, 16, 3, stride: 2, padding: 1)), ("3", ReLU()));
            pool = AdaptiveAvgPool2d(1);
            flatten = Flatten();
            fc = Linear(16, 10);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => fc.call(flatten.call(pool.call(features.call(input))));
    }

    /// <summary>A model nested three deep, to check that tracing sees through any nesting.</summary>
    public sealed class NestedNet : Module<Tensor, Tensor>
    {
        readonly Sequential stem;
        readonly Block block;
        readonly Sequential head;

        public NestedNet() : base(nameof(NestedNet))
        {
            stem = Sequential(("conv", Conv2d(3, 4, 3, padding: 1)), ("act", ReLU()));
            block = new Block();
            head = Sequential(("pool", AdaptiveAvgPool2d(1)), ("flat", Flatten()), ("fc", Linear(6, 3)));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => head.call(block.call(stem.call(input)));

        sealed class Block : Module<Tensor, Tensor>
        {
            readonly Sequential inner;
            public Block() : base(nameof(Block))
            {
                inner = Sequential(
                    ("a", Conv2d(4, 6, 3, padding: 1)), ("b", Sequential(("norm", BatchNorm2d(6)), ("act", ReLU()))));
                RegisterComponents();
            }
            public override Tensor forward(Tensor input) => inner.call(input);
        }
    }

    /// <summary>Spearman's rank correlation of two maps (ties get their mean rank).</summary>
    public static double Spearman(float[] a, float[] b)
    {
        static double[] Ranks(float[] v)
        {
            var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
            var ranks = new double[v.Length];
            for (int i = 0; i < order.Length;)
            {
                int j = i;
                while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
                double mean = (i + j) / 2.0;
                for (int k = i; k <= j; k++) ranks[order[k]] = mean;
                i = j + 1;
            }
            return ranks;
        }
        var ra = Ranks(a);
        var rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), num = 0, da = 0, db = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            num += (ra[i] - ma) * (rb[i] - mb);
            da += (ra[i] - ma) * (ra[i] - ma);
            db += (rb[i] - mb) * (rb[i] - mb);
        }
        return da == 0 || db == 0 ? 0 : num / Math.Sqrt(da * db);
    }
}
