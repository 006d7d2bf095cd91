using LiveCam.Models.Classifiers;
using LiveCam.Models.Robot;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>The models LiveCam knows by name: each registered here once, by its descriptor.</summary>
public static class ModelCatalog
{
    public static IReadOnlyList<ModelDescriptor> All { get; } =
        [RobotModel.Descriptor, ResNet18ImageNet.Descriptor, Detection.BlazeFace.Descriptor,
            .. TorchVisionArchitectures.All.Select(a => a.Descriptor)];

    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToList();

    /// <summary>Where shipped weights live: models/ next to the app (copied at build), else the repository's.</summary>
    public static string? ShippedWeights(string relativePath)
    {
        foreach (var root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "models", relativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <param name="name">A registered name, or the path of an ONNX file.</param>
    /// <param name="weights">A weight file; null for the shipped weights or a random initialisation.</param>
    /// <param name="onnx">How an ONNX model's input is made (<c>--input-size</c>, <c>--mean</c>, <c>--std</c>,
    /// <c>--bgr</c>).</param>
    /// <param name="syntheticScene">The frames come from LiveCam's synthetic scene: without <paramref name="weights"/>,
    /// a model with weights trained on it takes those.</param>
    public static VisionModel Load(string name, string? weights, Device device, Onnx.OnnxModelOptions? onnx = null,
        bool syntheticScene = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(device);
        if (Onnx.OnnxModel.IsOnnxPath(name.Trim()))
        {
            if (weights is not null)
                throw new ModelLoadException("an ONNX model carries its weights; --weights is for the named models");
            return Onnx.OnnxModel.Load(name.Trim(), device, onnx);
        }
        if (onnx is { IsEmpty: false })
            throw new ModelLoadException(
                "--input-size, --mean, --std and --bgr are for ONNX models; a named model knows its input");
        var descriptor = Find(name);
        return descriptor.Load(weights ?? (syntheticScene ? descriptor.WeightsForSyntheticScene : null), device);
    }

    /// <summary>The model registered as <paramref name="name"/>.</summary>
    /// <exception cref="ModelLoadException">No model has that name.</exception>
    public static ModelDescriptor Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToLowerInvariant();
        return All.FirstOrDefault(d => d.Name == key)
            ?? throw new ModelLoadException($"unknown model '{name}'; models: {string.Join(", ", Names)}");
    }
}
