using LiveCam.Models.Robot;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public class RobotModelTests
{
    [Fact]
    public void The_network_has_the_published_shape_names_and_parameter_count()
    {
        using var scope = NewDisposeScope();
        using var net = new LongRangePerceptionNet();
        Assert.Equal(249_539, net.parameters().Sum(p => p.numel()));
        var names = net.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[]
        {
            "encoder.0.weight", "encoder.0.bias", "encoder.3.weight", "encoder.3.bias", "encoder.6.weight",
            "encoder.6.bias",
            "decoder.1.weight", "decoder.1.bias", "decoder.3.weight", "decoder.3.bias",
        }, names);
        net.eval();
        using var _ = no_grad();
        var y = net.call(randn(2, 3, 64, 80));
        Assert.Equal(new long[] { 2, 325 }, y.shape);
        Assert.True(y.ge(0).all().item<bool>() && y.le(1).all().item<bool>(), "outputs are sigmoid probabilities");
    }

    [Fact]
    public void Preprocessing_resizes_to_80x64_keeps_BGR_and_standardises_per_image()
    {
        using var scope = NewDisposeScope();
        using var image = new Mat(480, 640, MatType.CV_8UC3, new Scalar(10, 100, 200));  // B, G, R
        Cv2.Rectangle(image, new Rect(100, 100, 200, 200), new Scalar(250, 250, 250), -1);
        var t = RobotPreprocessing.ToTensor(image);
        Assert.Equal(new long[] { 1, 3, 64, 80 }, t.shape);
        Assert.Equal(0, t.mean().item<float>(), 4);
        Assert.Equal(1, t.std(unbiased: false).item<float>(), 3);
        // Channel 0 is blue: at a background pixel it is the smallest of the three.
        var px = t[0, .., 2, 2].data<float>().ToArray();
        Assert.True(px[0] < px[1] && px[1] < px[2], $"channel order is not BGR: {string.Join(", ", px)}");
    }

    [Fact]
    public void A_flat_image_becomes_zeros_not_NaN()
    {
        using var scope = NewDisposeScope();
        using var image = new Mat(64, 80, MatType.CV_8UC3, Scalar.All(77));
        var t = RobotPreprocessing.ToTensor(image);
        Assert.Equal(0, t.abs().max().item<float>());
    }

    [Fact]
    public void Free_distance_is_the_first_calibrated_distance_above_the_threshold()
    {
        var p = new float[325];
        for (int d = 12; d < 65; d++) p[d * 5 + 2] = 0.9f;   // cx sees an obstacle from 12 cm on
        p[40 * 5 + 0] = 0.99f;                                // lx only beyond the calibrated range
        p[3 * 5 + 4] = 0.51f;                                 // rx just above 0.5 at 3 cm
        var prediction = new RobotPrediction(p);
        Assert.Equal(12, prediction.FreeDistance(2));
        Assert.Null(prediction.FreeDistance(0));
        Assert.Equal(3, prediction.FreeDistance(4));
        Assert.Null(prediction.FreeDistance(4, threshold: 0.6f));
        Assert.Equal("lx free  cl free  cx 12 cm  cr free  rx 3 cm", prediction.Summary());
        Assert.Throws<ArgumentException>(() => new RobotPrediction(new float[10]));
    }
}
