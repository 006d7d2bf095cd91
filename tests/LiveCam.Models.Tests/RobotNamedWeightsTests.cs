using LiveCam.Models.Robot;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>The robot's two shipped weights by name, and which one each source gets.</summary>
public sealed class RobotNamedWeightsTests
{
    static float[] Outputs(VisionModel model, Mat bgr)
    {
        model.Network.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return model.Network.call(model.Preprocess(bgr)).flatten().data<float>().ToArray();
    }

    static Mat Scene()
    {
        var image = new Mat(300, 400, MatType.CV_8UC3, new Scalar(120, 130, 140));
        Cv2.Rectangle(image, new Rect(120, 150, 160, 120), new Scalar(20, 20, 30), -1);
        return image;
    }

    [Fact]
    public void Original_is_the_papers_file_synthetic_is_LiveCams_and_the_synthetic_scene_gets_synthetic()
    {
        using var scene = Scene();
        using var original = ModelCatalog.Load("robot", "original", CPU);
        using var synthetic = ModelCatalog.Load("robot", "Synthetic", CPU);
        using var byDefault = ModelCatalog.Load("robot", null, CPU);
        using var onSynthetic = ModelCatalog.Load("robot", null, CPU, syntheticScene: true);
        using var byPath = ModelCatalog.Load("robot", ModelCatalog.ShippedWeights(RobotModel.ShippedWeights), CPU);
        Assert.Equal("long_range_perception_original.pt", original.Weights);
        Assert.Equal("long_range_perception.dat", synthetic.Weights);
        Assert.Equal(original.Weights, byDefault.Weights);
        Assert.Equal(synthetic.Weights, onSynthetic.Weights);
        Assert.Equal(Outputs(original, scene), Outputs(byDefault, scene));
        Assert.Equal(Outputs(synthetic, scene), Outputs(byPath, scene));
        Assert.NotEqual(Outputs(original, scene), Outputs(synthetic, scene));
        // --weights given wins over the source's default.
        using var told = ModelCatalog.Load("robot", "original", CPU, syntheticScene: true);
        Assert.Equal(original.Weights, told.Weights);
    }

    [SkippableFact]
    public void The_shipped_original_weights_are_the_seeds_file()
    {
        var seed = SharedData.Find("seed/models/long_range_perception.pt");
        Skip.If(seed is null, "../shared is absent");
        Assert.Equal(
            File.ReadAllBytes(seed!), File.ReadAllBytes(ModelCatalog.ShippedWeights(RobotModel.OriginalWeights)!));
    }

    /// <summary>Seed clip 1, camera part, frame 60: a dark obstacle fills the view. The paper's weights see it
    /// a few centimetres ahead of the left and centre sensors; LiveCam's synthetic weights see nothing.</summary>
    [SkippableFact]
    public void On_real_footage_the_papers_weights_see_the_obstacle_the_synthetic_ones_miss()
    {
        var clip = SharedData.Find("seed/robot_videos/thymio_1.avi");
        Skip.If(clip is null, "../shared is absent");
        using var capture = new VideoCapture(clip!);
        using var full = new Mat();
        for (int i = 0; i <= 60; i++) Assert.True(capture.Read(full) && !full.Empty(), $"frame {i}");
        using var camera = new Mat(full, new Rect(0, 220, 400, 300)).Clone();
        using var original = ModelCatalog.Load("robot", "original", CPU);
        using var synthetic = ModelCatalog.Load("robot", "synthetic", CPU);
        var paper = new RobotPrediction(Outputs(original, camera)).FreeDistances();
        var ours = new RobotPrediction(Outputs(synthetic, camera)).FreeDistances();
        Assert.Equal([5, 3, 3], paper.Take(3));
        Assert.All(ours, d => Assert.Null(d));
    }
}
