using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Models.Classifiers;
using LiveCam.Models.Robot;
using LiveCam.Pipeline.Analysers;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Pipeline.Tests;

public class ExplanationAnalyserTests
{
    static VisionModel RandomRobot()
    {
        manual_seed(1);
        return new VisionModel("robot", new LongRangePerceptionNet(), CPU,
            new ModelInput(
                LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight, RobotPreprocessing.ToTensor),
            RobotHead.Instance, "encoder.6", "random");
    }

    [Fact]
    public void Every_analysis_names_its_frame_and_carries_the_heatmap_and_the_outputs()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        using var scene = new SyntheticScene(160, 120, 30, seed: 2);
        using var frame = new Frame(scene.Render(5), 5, TimeSpan.FromSeconds(1), "test");
        var analysis = analyser.Analyse(frame);
        Assert.Equal(5, analysis.FrameSequence);
        Assert.Equal(TimeSpan.FromSeconds(1), analysis.FrameCaptureTime);
        Assert.Equal((16, 20), (analysis.Heatmap!.Height, analysis.Heatmap.Width));
        Assert.All(analysis.Heatmap.Values, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(325, analysis.Outputs!.Count);
        Assert.Contains("gradcam @ encoder.6 (1x8x16x20)", analysis.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Side_by_side_explains_the_same_frame_a_second_way_as_the_explainer_would_alone()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        using var scene = new SyntheticScene(160, 120, 30, seed: 2);
        using var frame = new Frame(scene.Render(5), 5, TimeSpan.FromSeconds(1), "test");
        Assert.Null(analyser.Analyse(frame).Side);

        float[] Alone(string method, string layer, Target target)
        {
            using var scope = NewDisposeScope();
            return model.CreateExplainer()
                .Explain(
                    model.Preprocess(frame.Pixels), MethodCatalog.Create(method), target, LayerSelector.Parse(layer))
                .Items[0].Map.Normalised;
        }

        analyser.SetSideBySide(SideBySide.Methods);
        Assert.Equal(SideBySide.Methods, analyser.SideBySide);
        var methods = analyser.Analyse(frame);
        Assert.Equal(("gradcam", "eigencam"), (methods.Side!.LeftLabel, methods.Side.RightLabel));
        Assert.Equal(Alone("gradcam", "encoder.6", Target.Sum()), methods.Heatmap!.Values);
        Assert.Equal(Alone("eigencam", "encoder.6", Target.Sum()), methods.Side.Heatmap!.Values);

        analyser.SetSideBySide(SideBySide.Layers);
        var layers = analyser.Analyse(frame);
        var shallower = analyser.SteppableLayers[analyser.SteppableLayers.ToList().IndexOf("encoder.6") - 1];
        Assert.Equal(("encoder.6", shallower), (layers.Side!.LeftLabel, layers.Side.RightLabel));
        Assert.Equal(Alone("gradcam", shallower, Target.Sum()), layers.Side.Heatmap!.Values);

        // The robot's outputs are not classes: the other side explains the next target its head steps to.
        analyser.SetSideBySide(SideBySide.Targets);
        var targets = analyser.Analyse(frame);
        var next = RobotHead.Instance.StepTarget(Target.Sum(), +1, 325, null)!;
        Assert.Equal(next.Description, targets.Side!.RightLabel);
        Assert.Equal(Alone("gradcam", "encoder.6", next), targets.Side.Heatmap!.Values);

        analyser.SetSideBySide(SideBySide.Off);
        Assert.Null(analyser.Analyse(frame).Side);
    }

    [Fact]
    public void Dreaming_shows_what_the_layer_wants_to_see_building_up_over_frames_and_leaves_nothing_behind()
    {
        using var model = ModelCatalog.Load("robot", "synthetic", CPU);
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.3"), Target.Sum());
        using var scene = new SyntheticScene(160, 120, 30, seed: 8);
        using var still = scene.Render(4);
        Frame Next(int i) => new(still.Clone(), i, TimeSpan.Zero, "test");
        using (var first = Next(0)) analyser.Analyse(first);
        long tensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        analyser.SetDreaming(true);
        Assert.True(analyser.Dreaming);
        // The model's view of the frame, as an image: what a dream starts from.
        byte[] plain;
        using (var scope = NewDisposeScope())
        using (var image = model.ToImage(model.Preprocess(still)))
        {
            plain = new byte[image.Width * image.Height * 3];
            System.Runtime.InteropServices.Marshal.Copy(image.Data, plain, 0, plain.Length);
        }
        double Distance(BgrImage dream) => dream.Pixels.Zip(plain, (a, b) => Math.Abs(a - b)).Average();
        var distances = new List<double>();
        for (int i = 1; i <= 6; i++)
        {
            using var frame = Next(i);
            var analysis = analyser.Analyse(frame);
            var dream = Assert.IsType<BgrImage>(analysis.Dream);
            Assert.Equal((model.InputHeight, model.InputWidth), (dream.Height, dream.Width));
            Assert.Null(analysis.Heatmap);
            Assert.StartsWith("deepdream @ encoder.3", analysis.Description, StringComparison.Ordinal);
            distances.Add(Distance(dream));
        }
        // Each frame's steps start from the last dream blended with the frame: the same frame drifts further from
        // itself than one frame's steps take it (then settles, as the frame pulls it back by half each time).
        Assert.True(distances[0] > 0.5, $"the first dream is the frame itself ({distances[0]:0.00} levels apart)");
        Assert.True(distances.Skip(1).All(d => d > distances[0] * 1.05),
            "the dream does not build up: "
            + $"{string.Join(", ", distances.Select(d =>
                d.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");

        analyser.SetDreaming(false);
        using (var frame = Next(7))
        {
            var back = analyser.Analyse(frame);
            Assert.Null(back.Dream);
            Assert.NotNull(back.Heatmap);
        }
        Assert.Equal(tensors, DisposeScopeManager.Statistics.ThreadTotalLiveCount);  // the kept dream is released
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Fact]
    public void Side_by_side_classes_explain_the_second_most_probable_class_beside_the_first()
    {
        manual_seed(4);
        using var model = new VisionModel("resnet18", TorchVisionArchitectures.Find("resnet18")!.Build(), CPU,
            new ModelInput(64, 64, (image, device) => ImageNetPreprocessing.Normalise(image, device)),
            new ClassifierHead(), "layer4", "random");
        var analyser = new ExplanationAnalyser(
            model, new GradCam(), LayerSelector.Parse("layer4"), Target.Parse("top"));
        analyser.SetSideBySide(SideBySide.Targets);
        using var scene = new SyntheticScene(96, 64, 30, seed: 6);
        using var frame = new Frame(scene.Render(1), 1, TimeSpan.Zero, "test");
        var analysis = analyser.Analyse(frame);
        var order = analysis.Outputs!.Select((v, i) => (v, i)).OrderByDescending(t => t.v).Select(t => t.i).ToList();
        Assert.Equal(order[0], analysis.ExplainedOutput);
        Assert.Equal(order[1], analysis.Side!.ExplainedOutput);
        Assert.Equal(($"output {order[0]}", $"output {order[1]}"), (analysis.Side.LeftLabel, analysis.Side.RightLabel));
    }

    [Fact]
    public void Five_hundred_frames_leak_no_tensors_no_hooks_and_no_pixels()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        analyser.SetSideBySide(SideBySide.Methods);  // two explanations a frame
        using var scene = new SyntheticScene(160, 120, 30, seed: 3);
        using (var first = new Frame(scene.Render(0), 0, TimeSpan.Zero, "test")) analyser.Analyse(first);
        long tensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long pixels = Frame.LivePixelBuffers;
        for (int i = 1; i <= 500; i++)
        {
            using var frame = new Frame(scene.Render(i), i, TimeSpan.Zero, "test");
            analyser.Analyse(frame);
        }
        Assert.Equal(tensors, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(pixels, Frame.LivePixelBuffers);
        Assert.Equal(0, HookSet.LiveHooks);
    }

    [Fact]
    public void A_layer_that_does_not_exist_fails_when_the_analyser_is_made_not_mid_run()
    {
        using var model = RandomRobot();
        var e = Assert.Throws<ArgumentException>(() =>
            new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.9"), Target.Sum()));
        Assert.Contains("no layer named 'encoder.9'", e.Message, StringComparison.Ordinal);
    }

    static Analysis AnalyseOne(ExplanationAnalyser analyser, int seed = 4)
    {
        using var scene = new SyntheticScene(160, 120, 30, seed: seed);
        using var frame = new Frame(scene.Render(3), 3, TimeSpan.Zero, "test");
        return analyser.Analyse(frame);
    }

    [Fact]
    public void Keys_step_the_layer_through_spatial_layers_and_stop_at_both_ends()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        Assert.Equal(
            [
                "encoder.0", "encoder.1", "encoder.2", "encoder.3", "encoder.4", "encoder.5", "encoder.6", "encoder.7",
                "encoder.8"
            ],
            analyser.SteppableLayers);
        analyser.StepLayer(+1);
        var deeper = AnalyseOne(analyser);
        Assert.Contains("gradcam @ encoder.7 (1x8x16x20)", deeper.Description, StringComparison.Ordinal);
        analyser.StepLayer(+5);
        Assert.Contains("@ encoder.8 (1x8x8x10)", AnalyseOne(analyser).Description, StringComparison.Ordinal);
        Assert.Equal((8, 10), (AnalyseOne(analyser).Heatmap!.Height, AnalyseOne(analyser).Heatmap!.Width));
        analyser.StepLayer(-20);
        var first = AnalyseOne(analyser);
        Assert.Contains("@ encoder.0 (1x10x64x80)", first.Description, StringComparison.Ordinal);
        Assert.Equal((64, 80), (first.Heatmap!.Height, first.Heatmap.Width));
    }

    [Fact]
    public void Keys_step_the_method_and_a_method_that_does_not_apply_is_reported_while_the_predictions_go_on()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        analyser.StepMethod(+1);
        Assert.StartsWith("gradcam++ @ encoder.6", AnalyseOne(analyser).Description, StringComparison.Ordinal);
        analyser.StepMethod(-2);  // wraps to the last method
        Assert.StartsWith(MethodCatalog.Names[^1], AnalyseOne(analyser).Description, StringComparison.Ordinal);

        // CAM needs global average pooling before the classifier; the robot's head flattens instead.
        analyser.StepMethod(MethodCatalog.Names.ToList().IndexOf("cam") + 1);
        var cam = AnalyseOne(analyser);
        Assert.StartsWith("cam @ encoder.6", cam.Description, StringComparison.Ordinal);
        Assert.Contains("not available here", cam.Description, StringComparison.Ordinal);
        Assert.Null(cam.Heatmap);
        Assert.Equal(325, cam.Outputs!.Count);
        Assert.Contains("not available here", analyser.Name, StringComparison.Ordinal);

        analyser.StepMethod(+1);
        var saliency = AnalyseOne(analyser);
        Assert.StartsWith("saliency, target all outputs", saliency.Description, StringComparison.Ordinal);
        Assert.Equal((64, 80), (saliency.Heatmap!.Height, saliency.Heatmap.Width));
    }

    [Fact]
    public void The_robot_target_steps_through_the_five_sensors_and_back_to_all_outputs()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        var all = AnalyseOne(analyser);
        analyser.StepTarget(+1);
        var left = AnalyseOne(analyser);
        Assert.EndsWith("target sensor lx, all distances", left.Description, StringComparison.Ordinal);
        Assert.NotEqual(all.Heatmap!.Values, left.Heatmap!.Values);
        analyser.StepTarget(-2);
        Assert.EndsWith("target sensor rx, all distances", AnalyseOne(analyser).Description, StringComparison.Ordinal);
        analyser.ResetTarget();
        var again = AnalyseOne(analyser);
        Assert.EndsWith("target all outputs", again.Description, StringComparison.Ordinal);
        Assert.Equal(all.Heatmap.Values, again.Heatmap!.Values);
    }

    [Fact]
    public void A_classifier_target_steps_from_the_explained_class_and_is_named_by_its_label()
    {
        manual_seed(3);
        var net = nn.Sequential(("conv", nn.Conv2d(3, 6, 3, padding: 1)), ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(6, 4)));
        using var model = new VisionModel(
            "tiny", net, CPU, new ModelInput(32, 32, RobotPreprocessing.ToTensor), new ClassifierHead(), "conv",
            "random");
        string[] labels = ["cat", "dog", "car", "tree"];
        model.UseLabels(labels);
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("conv"), Target.Top());
        analyser.StepTarget(+1);  // nothing analysed yet: the number of classes is unknown, so nothing changes
        var top = AnalyseOne(analyser);
        Assert.EndsWith("target top", top.Description, StringComparison.Ordinal);
        int topClass = top.ExplainedOutput!.Value;
        analyser.StepTarget(+1);
        var next = AnalyseOne(analyser);
        Assert.Equal((topClass + 1) % 4, next.ExplainedOutput);
        Assert.EndsWith(
            $"target output {(topClass + 1) % 4} ({labels[(topClass + 1) % 4]})", next.Description,
            StringComparison.Ordinal);
        analyser.StepTarget(-2);
        Assert.Equal((topClass + 3) % 4, AnalyseOne(analyser).ExplainedOutput);
        analyser.ResetTarget();
        Assert.Equal(topClass, AnalyseOne(analyser).ExplainedOutput);
    }
}
