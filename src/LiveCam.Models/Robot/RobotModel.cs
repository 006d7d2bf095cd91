using TorchSharp;
namespace LiveCam.Models.Robot;

/// <summary>The robot model's registration: the network of the article, its preprocessing, its head.</summary>
public static class RobotModel
{
    /// <summary>Trained by LiveCam on its synthetic scene (models/robot/MODEL_CARD.md).</summary>
    public const string ShippedWeights = "robot/long_range_perception.dat";

    /// <summary>The paper's own, trained on real Thymio footage (Nava et al. 2019; MIT, credited in models/robot).
    /// </summary>
    public const string OriginalWeights = "robot/long_range_perception_original.pt";

    /// <summary>The shipped weights by name: <c>--weights original</c> or <c>--weights synthetic</c>.</summary>
    public static IReadOnlyDictionary<string, string> NamedWeights { get; } =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["original"] = OriginalWeights,
        ["synthetic"] = ShippedWeights,
    };

    // The paper's weights by default: on real footage ours miss obstacles they see (MODEL_CARD.md, "Real footage");
    // on the synthetic scene ours are the better (AUC 0.93 against 0.75), so that source takes them.
    public static ModelDescriptor Descriptor { get; } = new("robot",
        "the article's long-range perception CNN of the Thymio robot (5 sensors x 65 distances); --weights original " +
        "(the paper's, the default) or synthetic (LiveCam's, the default on the synthetic scene)",
        RobotHead.Instance, (weights, device) =>
    {
        var path = Resolve(weights ?? "original");
        var net = new LongRangePerceptionNet();
        try
        {
            WeightFiles.Load(net, path);
            net.to(device);
        }
        catch
        {
            net.Dispose();
            throw;
        }
        return new VisionModel("robot", net, device,
            new ModelInput(LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight,
                RobotPreprocessing.ToTensor)
            {
                Interpolation = OpenCvSharp.InterpolationFlags.Linear,
                Range = Explain.Visualisations.InputRange.Standardised,
                Denormalise = RobotPreprocessing.ToImage,
            },
            RobotHead.Instance, "encoder.6", Path.GetFileName(path));
    }) { WeightsForSyntheticScene = "synthetic" };

    /// <summary>A weight name (original, synthetic) as the shipped file, else the path as given.</summary>
    static string Resolve(string weights)
    {
        if (!NamedWeights.TryGetValue(weights, out var shipped)) return weights;
        return ModelCatalog.ShippedWeights(shipped)
            ?? throw new ModelLoadException(
                $"the robot model's {weights} weights (models/{shipped}) are missing; give --weights FILE");
    }
}
