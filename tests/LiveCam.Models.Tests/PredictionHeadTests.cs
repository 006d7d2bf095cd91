using LiveCam.Drawing;
using LiveCam.Explain.Targets;
using LiveCam.Models.Classifiers;
using LiveCam.Models.Robot;

namespace LiveCam.Models.Tests;

/// <summary>What each model's head says about its outputs: the HUD line, the inset, the JSON, the targets the keys step
/// through.</summary>
public sealed class PredictionHeadTests
{
    static float[] RobotOutputs()
    {
        var outputs = new float[325];
        for (int d = 7; d < 65; d++) outputs[d * 5 + 2] = 0.9f;   // cx: an obstacle from 7 cm
        for (int d = 12; d < 65; d++) outputs[d * 5 + 4] = 0.8f;  // rx: from 12 cm
        return outputs;
    }

    [Fact]
    public void The_robot_head_reads_free_distances_and_draws_the_bars()
    {
        var head = RobotHead.Instance;
        var outputs = RobotOutputs();
        Assert.Equal("free distance: lx free  cl free  cx 7 cm  cr free  rx 12 cm", head.Line(outputs, null)!.Text);
        var bars = Assert.IsType<ProximityInset>(head.Inset(outputs, null));
        Assert.Equal([null, null, 7, null, 12], bars.FreeDistances);
        var json = head.Json(outputs);
        var free = Assert.IsType<Dictionary<string, object?>>(json["free_distance_cm"]);
        Assert.Equal(7, free["cx"]);
        Assert.Null(free["lx"]);
        Assert.Equal(65, ((float[][])json["probability_distance_by_sensor"]!).Length);
        Assert.Null(head.Line(new float[10], null));  // not the robot's outputs: nothing to say
        Assert.Throws<ArgumentException>(() => head.WithLabels(["a"]));
    }

    [Fact]
    public void The_robot_keys_step_through_all_outputs_then_each_sensor()
    {
        var head = RobotHead.Instance;
        var all = Target.Parse(head.DefaultTarget);
        var first = head.StepTarget(all, +1, 325, null)!;
        Assert.Equal("sensor lx, all distances", first.Description);
        Assert.Equal("sensor rx, all distances", head.StepTarget(all, -1, 325, null)!.Description);
        Assert.Equal(
            "all outputs", head.StepTarget(head.StepTarget(first, +4, 325, null)!, +1, 325, null)!.Description);
    }

    [Fact]
    public void The_classifier_head_ranks_classes_by_softmax_names_them_and_outlines_the_explained_one()
    {
        var head = new ClassifierHead().WithLabels(["cat", "dog", "car", "tree"]);
        float[] logits = [2f, 0.5f, 3f, -1f];
        double z = logits.Sum(l => Math.Exp(l));
        var line = head.Line(logits, explained: 0)!;
        Assert.Equal(
            $"car {Math.Exp(3) / z:0.00}  *cat {Math.Exp(2) / z:0.00}  dog {Math.Exp(0.5) / z:0.00}", line.Text);
        // On a small picture the least probable class goes first.
        Assert.Equal([0, 1, 2], line.Segments.Select(s => s.Drop));
        var labels = Assert.IsType<LabelsInset>(head.Inset(logits, explained: 0));
        Assert.Equal(["car", "cat", "dog", "tree"], labels.Rows.Select(r => r.Label));
        Assert.Equal([false, true, false, false], labels.Rows.Select(r => r.Explained));
        Assert.Equal("tree", head.Label(3));
        Assert.Null(new ClassifierHead().Label(3));
        Assert.Null(head.StepTarget(Target.Top(), +1, outputCount: 0, lastExplained: null));  // classes not known yet
        Assert.Equal(3, head.StepTarget(Target.Top(), +1, 4, lastExplained: 2)!.ClassIndex);
        Assert.Equal(0, head.StepTarget(Target.Class(3), +1, 4, lastExplained: 2)!.ClassIndex);
    }

    [Fact]
    public void Every_registered_model_has_one_name_and_a_summary()
    {
        Assert.Equal(ModelCatalog.Names.Count, ModelCatalog.Names.Distinct().Count());
        Assert.All(ModelCatalog.All, d => Assert.False(string.IsNullOrWhiteSpace(d.Summary)));
        var e = Assert.Throws<ModelLoadException>(() => ModelCatalog.Load("nosuch", null, TorchSharp.torch.CPU));
        Assert.Contains("robot, resnet18-imagenet, blazeface, alexnet", e.Message, StringComparison.Ordinal);
    }
}
