using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Models.Robot;
using LiveCam.Pipeline.Analysers;
using LiveCam.Drawing;
using LiveCam.Pipeline.Sinks;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Rendering;
using LiveCam.Rendering.Gl;
using LiveCam.Tests.Shared;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace LiveCam.Pipeline.Tests;

/// <summary>A booth runs all day: a shortened day in a real window under Xvfb, alone (resident memory is the
/// process's).</summary>
[Collection(nameof(RendererSoakTests))]
public sealed class BoothSoakTests(ITestOutputHelper output) : IDisposable
{
    readonly XvfbDisplay _display = new();

    public void Dispose() => _display.Dispose();

    /// <summary>Booth options, the attract loop stepping fast (its tour switches side by side on and off), and the
    /// camera unplugged twice for a while: memory, GL objects, tensors and frames stay flat; the window keeps drawing,
    /// saying the camera is gone, while no frame comes.</summary>
    [SkippableFact]
    public void A_booth_day_keeps_memory_and_GL_objects_flat_and_draws_on_while_the_camera_is_unplugged()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        manual_seed(2);
        using var model = new VisionModel("robot", new LongRangePerceptionNet(), CPU,
            new ModelInput(
                LongRangePerceptionNet.InputWidth, LongRangePerceptionNet.InputHeight, RobotPreprocessing.ToTensor),
            RobotHead.Instance, "encoder.6", "random");
        var analyser = new ExplanationAnalyser(model, new GradCam(), LayerSelector.Parse("encoder.6"), Target.Sum());
        var metrics = new PipelineMetrics();
        var composer = new PictureComposer(metrics, () => analyser.Name, model.Head);
        using var thread = new RenderThread("render-booth", TimeSpan.FromMilliseconds(5));
        long glBefore = GlObject.Live, pixelsBefore = Frame.LivePixelBuffers;
        using var scene = new SyntheticScene(320, 240, 30, seed: 4);
        const int Frames = 2000;
        long rssWarm = 0, glWarm = 0, tensorsWarm = 0;
        int sideBySide = 0;
        using (var sink = new GlWindowSink(new WindowOptions
        {
            Width = 320, Height = 240, Visible = false, Explanation = analyser, Fullscreen = false,
            View = new ViewOptions { TextScale = 2, Legend = true },
            Attract = new AttractLoop(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(150)),
            StallNotice = TimeSpan.FromMilliseconds(300),
        }, thread, composer, () => { }))
        {
            Analysis? analysis = null;
            for (int i = 0; i < Frames; i++)
            {
                using var frame = new Frame(scene.Render(i), i, MonotonicClock.Now, "camera");
                if (i % 3 == 0)
                {
                    analysis = analyser.Analyse(frame);
                    if (analysis.Side is not null) sideBySide++;
                }
                sink.Show(frame, analysis);
                if (i is 500 or 1000)
                {
                    // Unplugged: no frame for a second or more; the window goes on drawing (the notice, the tour). A
                    // busy machine only makes the gap longer (up to 20 s) before the first picture drawn without a
                    // frame.
                    long before = sink.Presented;
                    var gap = System.Diagnostics.Stopwatch.StartNew();
                    while (gap.Elapsed < TimeSpan.FromSeconds(1)
                        || (sink.Presented == before && gap.Elapsed < TimeSpan.FromSeconds(20)))
                        Thread.Sleep(50);
                    long during = sink.Presented - before;
                    output.WriteLine(
                        $"frame {i}: {during} pictures drawn in {gap.Elapsed.TotalSeconds:0.0} s without frames");
                    Assert.True(during >= 1, "the window drew nothing while the camera was gone");
                }
                // Warmed up: every method of the tour has run, side by side and alone.
                if (i == 600)
                {
                    rssWarm = RendererSoakTests.ResidentBytes();
                    glWarm = GlObject.Live;
                    tensorsWarm = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                }
            }
            var (shot, error) = sink.Screenshot();
            shot.Dispose();
            Assert.Equal(Silk.NET.OpenGL.GLEnum.NoError, error);
            Assert.Equal(glWarm, GlObject.Live);
            Assert.Equal(tensorsWarm, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            long growth = RendererSoakTests.ResidentBytes() - rssWarm;
            output.WriteLine($"{Frames} frames, {sideBySide} analyses side by side; GL objects {GlObject.Live}; "
                + $"resident memory +{growth / 1024} KB after warm-up");
            Assert.True(sideBySide > 0 && sideBySide < Frames / 3,
                $"the tour showed side by side in {sideBySide} of {Frames / 3} analyses");
            Assert.True(growth < 48 << 20, $"resident memory grew by {growth >> 20} MB over {Frames - 600} frames");
        }
        Assert.Equal(glBefore, GlObject.Live);
        Assert.Equal(pixelsBefore, Frame.LivePixelBuffers);
        Assert.Equal(0, HookSet.LiveHooks);
    }
}
