using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Classifiers;

/// <summary>One TorchVision classifier: how to build it with PyTorch's module names (so its state dicts load by
/// key), its input, and the layer CAM methods explain by default.</summary>
/// <param name="Build">A new network with randomly initialised weights, 1,000 classes.</param>
/// <param name="DefaultLayer">The last layer with a spatial output that pytorch-grad-cam's examples use for it.</param>
public sealed record TorchVisionArchitecture(string Name, string Family, Func<nn.Module<Tensor, Tensor>> Build,
    ImageNetPreprocessing Input, string DefaultLayer)
{
    /// <summary>Auxiliary classifiers used only in training (Inception's AuxLogits, GoogLeNet's aux1/aux2): a file may
    /// have them or not (TorchVision's downloads do, a model built with aux_logits=False does not); evaluation never
    /// uses them.</summary>
    public IReadOnlyList<string> TrainingOnly { get; init; } = [];

    /// <summary>Its registration: loads PyTorch's checkpoints by their key names.</summary>
    public ModelDescriptor Descriptor =>
        new(Name, $"TorchVision {Name}, ImageNet's 1,000 classes at {Input.Crop}x{Input.Crop}", s_head, Load);

    /// <summary>ImageNet's classes without their names (<c>--labels</c> gives them).</summary>
    static readonly ClassifierHead s_head = new();

    VisionModel Load(string? weights, Device device)
    {
        var net = Build();
        string description = "random (untrained)";
        try
        {
            if (weights is not null)
            {
                WeightFiles.Load(net, weights, TrainingOnly);
                description = Path.GetFileName(weights);
            }
            net.to(device);
        }
        catch
        {
            net.Dispose();
            throw;
        }
        return new VisionModel(Name, net, device, Input.Input, s_head, DefaultLayer, description)
        {
            FunctionalReluOutputs = TorchVisionArchitectures.FunctionalRelus(net),
        };
    }
}

/// <summary>Every TorchVision architecture TorchSharp's TorchVision provides, by its PyTorch name.</summary>
public static class TorchVisionArchitectures
{
    static readonly ImageNetPreprocessing s_inception = new(299, 342);

    public static IReadOnlyList<TorchVisionArchitecture> All { get; } =
    [
        new("alexnet", "alexnet", () => torchvision.models.alexnet(), ImageNetPreprocessing.Standard, "features"),
        .. new[] { "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn" }
            .Select(n => new TorchVisionArchitecture(n, "vgg", () => Vgg(n), ImageNetPreprocessing.Standard,
                "features")),
        new("resnet18", "resnet", () => torchvision.models.resnet18(), ImageNetPreprocessing.Standard, "layer4"),
        new("resnet34", "resnet", () => torchvision.models.resnet34(), ImageNetPreprocessing.Standard, "layer4"),
        new("resnet50", "resnet", () => torchvision.models.resnet50(), ImageNetPreprocessing.Standard, "layer4"),
        new("resnet101", "resnet", () => torchvision.models.resnet101(), ImageNetPreprocessing.Standard, "layer4"),
        new("resnet152", "resnet", () => torchvision.models.resnet152(), ImageNetPreprocessing.Standard, "layer4"),
        new("resnext50_32x4d", "resnet", () => torchvision.models.resnext50_32x4d(),
            ImageNetPreprocessing.Standard, "layer4"),
        new("resnext101_32x8d", "resnet", () => torchvision.models.resnext101_32x8d(),
            ImageNetPreprocessing.Standard, "layer4"),
        new("resnext101_64x4d", "resnet", () => torchvision.models.resnext101_64x4d(),
            ImageNetPreprocessing.Standard, "layer4"),
        new("wide_resnet50_2", "resnet", () => torchvision.models.wide_resnet50_2(),
            ImageNetPreprocessing.Standard, "layer4"),
        new("wide_resnet101_2", "resnet", () => torchvision.models.wide_resnet101_2(),
            ImageNetPreprocessing.Standard, "layer4"),
        new("googlenet", "googlenet", () => torchvision.models.googlenet(), ImageNetPreprocessing.Standard,
            "inception5b") { TrainingOnly = ["aux1.", "aux2."] },
        new("inception_v3", "inception", () => torchvision.models.inception_v3(), s_inception, "Mixed_7c")
            { TrainingOnly = ["AuxLogits."] },
        new("mobilenet_v2", "mobilenet", () => torchvision.models.mobilenet_v2(),
            ImageNetPreprocessing.Standard, "features"),
        new("mobilenet_v3_large", "mobilenet", () => torchvision.models.mobilenet_v3_large(),
            ImageNetPreprocessing.Standard, "features"),
        new("mobilenet_v3_small", "mobilenet", () => torchvision.models.mobilenet_v3_small(),
            ImageNetPreprocessing.Standard, "features"),
    ];

    /// <summary>The modules that end in a ReLU applied as a function: TorchSharp's ResNet blocks (BasicBlock,
    /// Bottleneck) return <c>x.add_(identity).relu_()</c>, where PyTorch's call their ReLU module. Every other network
    /// here applies its ReLUs as modules.</summary>
    public static IReadOnlyList<string> FunctionalRelus(nn.Module network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.named_modules()
            .Where(m => m.module.GetType().DeclaringType == typeof(TorchSharp.Modules.ResNet)
                && m.module.GetType().Name is "BasicBlock" or "Bottleneck")
            .Select(m => m.name).ToList();
    }

    public static TorchVisionArchitecture? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    static nn.Module<Tensor, Tensor> Vgg(string name) => name switch
    {
        "vgg11" => torchvision.models.vgg11(),
        "vgg11_bn" => torchvision.models.vgg11_bn(),
        "vgg13" => torchvision.models.vgg13(),
        "vgg13_bn" => torchvision.models.vgg13_bn(),
        "vgg16" => torchvision.models.vgg16(),
        "vgg16_bn" => torchvision.models.vgg16_bn(),
        "vgg19" => torchvision.models.vgg19(),
        _ => torchvision.models.vgg19_bn(),
    };
}
