using LiveCam.Core;
using LiveCam.Models.Classifiers;
using LiveCam.Models.Robot;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>The models LiveCam knows by name, and how their weights are found.</summary>
public static class ModelCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["robot", .. TorchVisionArchitectures.All.Select(a => a.Name)];

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

    public const string RobotWeights = "robot/long_range_perception.dat";

    /// <param name="weights">A weight file; null for the shipped weights (robot) or a random initialisation (resnet18).</param>
    public static VisionModel Load(string name, string? weights, Device device)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(device);
        switch (name.Trim().ToLowerInvariant())
        {
            case "robot":
            {
                var net = new LongRangePerceptionNet();
                var path = weights ?? ShippedWeights(RobotWeights)
                    ?? throw new ModelLoadException($"no weights for the robot model: models/{RobotWeights} is missing; give --weights FILE");
                WeightFiles.Load(net, path);
                net.to(device);
                return new VisionModel("robot", net, device, LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight,
                    RobotPreprocessing.ToTensor, PredictionKind.RobotProximity, "encoder.6", "all", Path.GetFileName(path));
            }
            case var key when TorchVisionArchitectures.Find(key) is { } architecture:
            {
                var net = architecture.Build();
                string description = "random (untrained)";
                try
                {
                    if (weights is not null)
                    {
                        WeightFiles.Load(net, weights, architecture.TrainingOnly);
                        description = Path.GetFileName(weights);
                    }
                    net.to(device);
                }
                catch
                {
                    net.Dispose();
                    throw;
                }
                var input = architecture.Input;
                return new VisionModel(architecture.Name, net, device, input.Crop, input.Crop,
                    (image, d) => input.ToTensor(image, d), PredictionKind.Classifier, architecture.DefaultLayer, "top", description, input.CropOf);
            }
            default:
                throw new ModelLoadException($"unknown model '{name}'; models: {string.Join(", ", Names)}");
        }
    }
}
