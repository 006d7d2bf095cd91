using TorchSharp;
namespace LiveCam.Models.Robot;

/// <summary>The robot model's registration: the network of the article, its preprocessing, its head.</summary>
public static class RobotModel
{
    public const string ShippedWeights = "robot/long_range_perception.dat";

    public static ModelDescriptor Descriptor { get; } = new("robot", "the article's long-range perception CNN of the Thymio robot (5 sensors x 65 distances)", (weights, device) =>
    {
        var path = weights ?? ModelCatalog.ShippedWeights(ShippedWeights)
            ?? throw new ModelLoadException($"no weights for the robot model: models/{ShippedWeights} is missing; give --weights FILE");
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
            new ModelInput(LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight, RobotPreprocessing.ToTensor) { Interpolation = OpenCvSharp.InterpolationFlags.Linear },
            RobotHead.Instance, "encoder.6", Path.GetFileName(path));
    });
}
