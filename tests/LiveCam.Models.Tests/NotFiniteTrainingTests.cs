using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Models.Robot.Training;
using LiveCam.Models.Teach;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>NaN injected into training and teaching: each stops with one line naming where, and nothing is
/// saved.</summary>
public class NotFiniteTrainingTests
{
    [Fact]
    public void Training_stops_naming_the_epoch_and_batch_where_the_loss_stopped_being_finite()
    {
        var data = RobotDataset.Generate(192, seed: 3);
        using var net = new LongRangePerceptionNet();
        // A learning rate no network survives: the weights blow up after the first step.
        var e = Assert.Throws<NotFiniteException>(() =>
            RobotTrainer.Train(net, data, epochs: 2, seed: 1, CPU, learningRate: 1e35));
        Assert.Matches(
            "^training: the loss became (NaN|infinity) at epoch 1, batch [23] of 3; nothing was saved$", e.Message);
    }

    [Fact]
    public void Teaching_stops_naming_the_step_where_the_loss_stopped_being_finite()
    {
        float[] Features(float v) => [v, 1, 0, 2];
        var e = Assert.Throws<NotFiniteException>(() =>
            SoftmaxRegression.Fit([Features(1), Features(float.NaN), Features(3)], [0, 1, 1], classes: 2));
        Assert.Equal(
            $"teaching: the loss became NaN at step 1 of {SoftmaxRegression.Steps}; nothing was saved", e.Message);
    }

    [Fact]
    public void A_taught_head_holding_NaN_is_not_written()
    {
        var path = Path.Combine(Path.GetTempPath(), $"livecam-head-{Guid.NewGuid():N}.json");
        var head = new TaughtHead("resnet18-imagenet", 2, ["a", "b"], [1, 1], [1, 0, float.NaN, 1], [0, 0]);
        var e = Assert.Throws<NotFiniteException>(() => head.Save(path));
        Assert.Equal($"the taught head for {path} holds NaN: not written", e.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }
}
