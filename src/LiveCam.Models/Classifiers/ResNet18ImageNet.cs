using System.Runtime.InteropServices;
using LiveCam.Models.Onnx;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Classifiers;

/// <summary>
/// <c>resnet18-imagenet</c>: ResNet-18 with ImageNet-trained weights up to its global pooling (512 features, no
/// classifier head), from the ONNX files of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package (MIT), run through
/// the ONNX import. Its input, as that package's preprocessing graph defines it: a 224x224 image, BGR, 0..255, minus
/// the package's mean image. With no classes, it is explained by Eigen-CAM by default.
/// </summary>
public static class ResNet18ImageNet
{
    public const string Folder = "resnet18-imagenet";
    const int Size = 224;

    public static ModelDescriptor Descriptor { get; } = new("resnet18-imagenet",
        "ResNet-18 trained on ImageNet, up to its 512 pooled features (no classifier head; ML.NET's featurizer, MIT)",
        FeaturesHead.Instance, Load);

    static VisionModel Load(string? weights, Device device)
    {
        if (weights is not null)
            throw new ModelLoadException("resnet18-imagenet carries its own weights; --weights is not for it");
        var network = ModelCatalog.ShippedWeights($"{Folder}/ResNet18.onnx")
            ?? throw new ModelLoadException($"models/{Folder}/ResNet18.onnx is missing: it comes with the " +
                $"Microsoft.ML.DnnImageFeaturizer.ResNet18 package at build time (rebuild)");
        var preprocess = ModelCatalog.ShippedWeights($"{Folder}/ResNetPreprocess.onnx")
            ?? throw new ModelLoadException($"models/{Folder}/ResNetPreprocess.onnx is missing (rebuild)");
        float[] mean;
        OnnxNetwork net;
        try
        {
            var prep = OnnxFile.Read(preprocess);
            mean = prep.Initializers.TryGetValue("MeanImage", out var m)
                && m.Floats is { Length: 3 * Size * Size } values ? values
                : throw new ModelLoadException($"'{preprocess}' has no 3x{Size}x{Size} MeanImage");
            net = new OnnxNetwork(OnnxFile.Read(network));
        }
        catch (OnnxFormatException e)
        {
            throw new ModelLoadException($"cannot load resnet18-imagenet: {e.Message}", e);
        }
        try
        {
            net.to(device);
            if (device.type == DeviceType.CPU) OnnxModel.OfferOnnxRuntime(net, network, Size, Size);
            var input = new ModelInput(Size, Size, (image, d) => ToTensor(image, mean, d), FrameFit.Crop)
            {
                Range = Explain.Visualisations.InputRange.PerPixel([.. mean.Select(m => -m)],
                    [.. mean.Select(m => 255 - m)], 3, Size, Size),
                Denormalise = x => ToImage(x, mean),
            };
            return new VisionModel(Descriptor.Name, net, device, input, Descriptor.Head, net.DefaultLayer(),
                "ImageNet (ML.NET ResNet18 featurizer)")
            {
                DefaultMethod = "eigencam",
                GradientFreeRuntime = net.GradientFreeRuntime,
            };
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>The inverse of <see cref="ToTensor"/>: the mean image added back (resized bilinearly to another size).
    /// </summary>
    static Mat ToImage(Tensor input, float[] mean)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().cpu().to_type(ScalarType.Float32);
        var m = tensor(mean, [1, 3, Size, Size]);
        if (x.shape[2] != Size || x.shape[3] != Size)
            m = nn.functional.interpolate(m, size: [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear,
                align_corners: false);
        return TensorImage.FromBgr255(x + m);
    }

    static Tensor ToTensor(Mat bgr, float[] mean, Device device)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        var small = bgr;  // already fitted to 224x224
        var bytes = new byte[Size * Size * 3];
        using (var continuous = small.IsContinuous() ? null : small.Clone())
            Marshal.Copy((continuous ?? small).Data, bytes, 0, bytes.Length);
        const int plane = Size * Size;
        var data = new float[3 * plane];
        for (int i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++)  // channel 0 is blue, as the package's preprocessing reorders it
                data[c * plane + i] = bytes[i * 3 + c] - mean[c * plane + i];
        var t = tensor(data, [1, 3, Size, Size]);
        return device.type == DeviceType.CPU ? t : t.to(device);
    }
}
