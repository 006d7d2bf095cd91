using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void A_convolution_runs_forward_and_backward_in_the_test_process()
    {
        // Fails with "GLIBCXX_3.4.32 not found" on Debian 12 unless the build's LibTorchSharp fix ran.
        using var scope = NewDisposeScope();
        var device = ComputeDevice.Select("auto");
        manual_seed(3);
        using var conv = nn.Conv2d(3, 4, 3, padding: 1).to(device);
        var x = randn(2, 3, 8, 8, device: device, requires_grad: true);
        var y = nn.functional.relu(conv.forward(x)).sum();
        y.backward();

        var grad = x.grad;
        Assert.NotNull(grad);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, grad!.shape);
        Assert.True(grad.abs().sum().item<float>() > 0, "the input gradient should not be all zero");
        Assert.NotNull(conv.weight!.grad);
    }

    [Fact]
    public void Gradient_of_a_linear_map_is_its_weight()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 0.5f, -2f, 3f });
        var x = tensor(new float[] { 1f, 1f, 1f }, requires_grad: true);
        var y = (w * x).sum();
        var g = autograd.grad([y], [x])[0];
        Assert.Equal(new[] { 0.5f, -2f, 3f }, g.data<float>().ToArray());
    }

    [Fact]
    public void Device_is_chosen_at_run_time()
    {
        Assert.Equal(DeviceType.CPU, ComputeDevice.Select("cpu").type);
        var auto = ComputeDevice.Select("auto");
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, auto.type);
        if (!cuda.is_available())
        {
            var e = Assert.Throws<ArgumentException>(() => ComputeDevice.Select("cuda"));
            Assert.Contains("not available", e.Message, StringComparison.Ordinal);
        }
        Assert.Throws<ArgumentException>(() => ComputeDevice.Select("tpu"));
    }
}
