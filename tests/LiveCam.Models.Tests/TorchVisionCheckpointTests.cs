using LiveCam.Tests;
using LiveCam.Models.Classifiers;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>Weight files written by real PyTorch load into LiveCam's TorchVision networks and give PyTorch's
/// outputs.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class TorchVisionCheckpointTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-torchvision-").FullName;

    /// <summary>One network of each family that is small enough for CI; the big ones (alexnet, vgg) run with
    /// --slow.</summary>
    public static TheoryData<string> Architectures =>
        new() { "resnet18", "resnext50_32x4d", "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small" };
    public static TheoryData<string> BigArchitectures =>
        new() { "alexnet", "vgg11", "vgg16_bn", "resnet50", "wide_resnet50_2", "mobilenet_v3_large" };

    [SkippableTheory]
    [MemberData(nameof(Architectures))]
    public void A_state_dict_saved_by_PyTorch_loads_by_its_key_names_and_gives_PyTorchs_outputs(string architecture) =>
        Compare(architecture, "state_dict");

    [SkippableTheory]
    [Trait("Category", "Slow")]
    [MemberData(nameof(BigArchitectures))]
    public void The_big_architectures_load_too(string architecture) => Compare(architecture, "state_dict");

    [SkippableFact]
    public void A_whole_pickled_TorchVision_module_loads_without_running_anything_from_it() =>
        Compare("resnet18", "module");

    /// <summary>TorchVision's downloaded GoogLeNet and Inception files carry the auxiliary training heads; a network
    /// built with aux_logits=False does not: both load, and evaluation never uses those heads.</summary>
    [SkippableTheory]
    [InlineData("googlenet")]
    [InlineData("inception_v3")]
    public void Checkpoints_with_the_auxiliary_training_heads_load_too(string architecture) =>
        Compare(architecture, "with_aux");

    void Compare(string architecture, string kind)
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("torchvision_oracle.py", architecture, _dir, kind);
        var meta = File.ReadAllText(Path.Combine(_dir, "meta.txt")).Split(' ', StringSplitOptions.TrimEntries);
        int size = int.Parse(meta[0], System.Globalization.CultureInfo.InvariantCulture);
        var expected = PyTorchOracle.Floats(Path.Combine(_dir, "output.f32"));

        using var model = ModelCatalog.Load(architecture, Path.Combine(_dir, "weights.pt"), CPU);
        Assert.Equal((size, size), (model.InputWidth, model.InputHeight));
        model.Network.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var input = tensor(PyTorchOracle.Floats(Path.Combine(_dir, "input.f32")), [1, 3, size, size]);
        var actual = model.Network.call(input).flatten().data<float>().ToArray();
        double worst = PyTorchOracle.RelativeDifference(expected, actual);
        Assert.True(worst <= 1e-4,
            $"{architecture}: outputs differ from PyTorch's by up to {worst:G3} "
            + $"(PyTorch {string.Join(", ", expected.Take(3))}, LiveCam {string.Join(", ", actual.Take(3))})");
    }

    [SkippableFact]
    public void A_file_for_another_architecture_names_the_first_tensor_that_does_not_fit_and_both_shapes()
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("torchvision_oracle.py", "resnet18", _dir, "state_dict");
        var e = Assert.Throws<ModelLoadException>(() =>
            ModelCatalog.Load("resnext50_32x4d", Path.Combine(_dir, "weights.pt"), CPU));
        Assert.Contains("weights.pt", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        var mobilenet = Assert.Throws<ModelLoadException>(() =>
            ModelCatalog.Load("resnet34", Path.Combine(_dir, "weights.pt"), CPU));
        // resnet34 has three blocks in layer1, the file two
        Assert.Contains("layer1.2", mobilenet.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_architecture_TorchSharp_provides_can_be_named()
    {
        foreach (var name in new[]
            {
                "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
                "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "googlenet", "inception_v3",
                "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small"
            })
            Assert.Contains(name, ModelCatalog.Names);
        Assert.Equal(299, TorchVisionArchitectures.Find("inception_v3")!.Input.Crop);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
