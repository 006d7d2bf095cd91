using LiveCam.Capture.Synthetic;
using LiveCam.Models.Robot;
using LiveCam.Models.Robot.Training;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public class RobotTrainingTests
{
    static int Cell(int d, int s) => d * 5 + s;

    [Fact]
    public void Labels_follow_the_geometry_of_the_sensors_and_the_robot()
    {
        // A 6 cm box straight ahead, its front face 17 cm from the robot's front.
        var layout = new SceneLayout([new Obstacle(ObstacleShape.Box, 0, 20, 6, 6, Scalar.All(0))], 1, 0, (0, 0), 0);
        var labels = Thymio.Labels(layout);
        Assert.Equal(325, labels.Length);
        // cx reaches 11 cm: it sees the face once the robot has driven 6 cm, and keeps seeing it until it would touch
        // it.
        Assert.Equal(0, labels[Cell(5, 2)]);
        Assert.Equal(1, labels[Cell(6, 2)]);
        Assert.Equal(1, labels[Cell(17, 2)]);
        // Past 17 cm the robot would be inside the box: unknown.
        Assert.Equal(-1, labels[Cell(18, 2)]);
        // The outer sensors look 40 degrees aside: they meet a narrow box ahead only when close.
        Assert.Equal(0, labels[Cell(6, 0)]);
        Assert.Equal(labels[Cell(12, 0)], labels[Cell(12, 4)]);  // symmetric
        // Nothing in the way: all free.
        Assert.All(Thymio.Labels(new SceneLayout([], 1, 0, (0, 0), 0)), l => Assert.Equal(0, l));
    }

    [Fact]
    public void A_data_set_is_the_same_for_the_same_seed_and_different_for_another()
    {
        var a = RobotDataset.Generate(24, seed: 5);
        var b = RobotDataset.Generate(24, seed: 5);
        var c = RobotDataset.Generate(24, seed: 6);
        Assert.Equal(a.Images, b.Images);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Images, c.Images);
        Assert.Contains(a.Labels, l => l == 1);
        Assert.Contains(a.Labels, l => l == 0);
    }

    [Fact]
    public void The_masked_loss_ignores_unknown_labels()
    {
        using var scope = NewDisposeScope();
        var prediction = tensor(new float[] { 0.2f, 0.9f, 0.5f, 0.7f }).reshape(1, 4);
        var labels = tensor(new float[] { 0, 1, -1, -1 }).reshape(1, 4);
        // (0.2^2 + 0.1^2 + 0 + 0) / 4
        Assert.Equal(0.0125f, RobotTrainer.MaskedMse(prediction, labels).item<float>(), 6);
    }

    [Fact]
    public void Training_lowers_the_loss_on_its_data()
    {
        using var scope = NewDisposeScope();
        var data = RobotDataset.Generate(256, seed: 3);
        using var net = new LongRangePerceptionNet();
        float Loss()
        {
            using var s = NewDisposeScope();
            using var _ = no_grad();
            net.eval();
            var (x, y) = RobotTrainer.Batch(data, Enumerable.Range(0, data.Count).ToArray(), CPU);
            return RobotTrainer.MaskedMse(net.call(RobotTrainer.Standardise(x)), y).item<float>();
        }
        float before = Loss();
        RobotTrainer.Train(net, data, epochs: 10, seed: 3, CPU, learningRate: 1e-3);
        float after = Loss();
        Assert.True(after < before * 0.8, $"loss {before:0.0000} -> {after:0.0000}");
    }

    [Fact]
    public void AUC_is_one_for_a_perfect_ranking_half_for_ties_and_undefined_for_one_class()
    {
        Assert.Equal(1.0, RobotEvaluation.Auc([(0.9f, true), (0.8f, true), (0.1f, false)]));
        Assert.Equal(0.0, RobotEvaluation.Auc([(0.1f, true), (0.8f, false)]));
        Assert.Equal(0.5, RobotEvaluation.Auc([(0.5f, true), (0.5f, false)]));
        Assert.Equal(0.75, RobotEvaluation.Auc([(0.9f, true), (0.4f, true), (0.5f, false), (0.1f, false)]));
        Assert.Null(RobotEvaluation.Auc([(0.9f, true), (0.2f, true)]));
    }
}
