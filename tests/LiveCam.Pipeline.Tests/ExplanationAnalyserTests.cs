using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
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
        return new VisionModel("robot", new LongRangePerceptionNet(), CPU, LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight,
            RobotPreprocessing.ToTensor, PredictionKind.RobotProximity, "encoder.6", "all", "random");
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
        Assert.Equal(PredictionKind.RobotProximity, analysis.Kind);
        Assert.Contains("gradcam @ encoder.6 (1x8x16x20)", analysis.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Five_hundred_frames_leak_no_tensors_no_hooks_and_no_pixels()
    {
        using var model = RandomRobot();
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
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
        var e = Assert.Throws<ArgumentException>(() => new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.9"), Target.Sum()));
        Assert.Contains("no layer named 'encoder.9'", e.Message, StringComparison.Ordinal);
    }
}
