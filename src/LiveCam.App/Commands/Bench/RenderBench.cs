using System.CommandLine;
using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Sinks;
using OpenCvSharp;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary><c>livecam bench render</c>: what the OpenGL compositor costs per frame, headless.</summary>
internal static class RenderBench
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var frames = SharedOptions.Frames("frames per measurement", 200);
        var command = new Command("render", "Per-frame cost of drawing the live view's picture (heatmap, HUD, bars): "
            + "OpenGL headless, with readback as recordings need it, and the CPU back end.");
        command.Add(frames);
        command.SetAction(parsed =>
        {
            try
            {
                int n = parsed.GetValue(frames);
                if (n < 10) throw new UsageException("--frames must be at least 10");
                using var context = new EglHeadlessContext();
                output.WriteLine(Cli.Format($"LiveCam bench render: {context.Renderer}; ")
                    + Cli.Format($"{Environment.ProcessorCount} cores; medians (p95) of {n} frames"));
                foreach (var (w, h) in new[] { (640, 480), (1280, 720) })
                    Bench(context, w, h, n, output);
                if (Display.Available())
                {
                    foreach (var (w, h) in new[] { (640, 480), (1280, 720) })
                        BenchWindow(w, h, n, output);
                }
                else output.WriteLine("window: no display here, not measured (run under a desktop or Xvfb)");
                return Cli.Ok;
            }
            catch (RenderingUnavailableException e)
            {
                throw new UsageException($"no OpenGL here: {e.Message}", e);
            }
        });
        return command;
    }

    /// <summary>How the robot model's outputs are drawn, as its registration says.</summary>
    static Models.IPredictionHead RobotHead => Models.ModelCatalog.Find("robot").Head;

    /// <summary>A picture as the live view draws it: heatmap, four HUD lines, the robot's bars.</summary>
    static Analysis SampleAnalysis()
    {
        const int distances = Models.Robot.LongRangePerceptionNet.Distances,
            sensors = Models.Robot.LongRangePerceptionNet.Sensors;
        var outputs = new float[distances * sensors];
        for (int d = 0; d < distances; d++) outputs[d * sensors + d % sensors] = 0.8f;
        return new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "bench")
        {
            Heatmap = new HeatmapImage(16, 20, Enumerable.Range(0, 320).Select(i => (i % 37) / 36f).ToArray()),
            Outputs = outputs,
            Description = "gradcam @ encoder.6 (64x8x10), target all outputs",
        };
    }

    static void Bench(EglHeadlessContext context, int width, int height, int n, TextWriter output)
    {
        using var scene = new SyntheticScene(width, height, 30, seed: 5);
        var frames = Enumerable.Range(0, 8)
            .Select(i => new Frame(scene.Render(i * 10), i, MonotonicClock.Now, "synthetic")).ToArray();
        try
        {
            var composer = new PictureComposer(new PipelineMetrics(), () => "bench", RobotHead);
            var analysis = SampleAnalysis();
            var view = new ViewOptions();
            Picture PictureOf(long i) => composer.Compose(frames[i % frames.Length], analysis, view);
            using var renderer = new GlPictureRenderer(context);
            using var target = new GlFramebuffer(context.Gl, width, height);
            using var into = new Mat();
            var composite = BenchTiming.Measure(n, i =>
            {
                target.Bind();
                renderer.Draw(PictureOf(i), width, height, flipY: false);
                context.Gl.Finish();  // count the GPU's work, not just the submission
            });
            var withReadback = BenchTiming.Measure(n, i => renderer.Render(PictureOf(i), into));
            using var cpu = new CpuPictureRenderer();
            var onCpu = BenchTiming.Measure(n, i => cpu.Render(PictureOf(i), into));
            output.WriteLine(Cli.Format($"{width}x{height}: OpenGL draw {composite.Median:0.00} ms ")
                + Cli.Format($"({composite.P95:0.00}), with readback {withReadback.Median:0.00} ms ")
                + Cli.Format($"({withReadback.P95:0.00}); CPU back end {onCpu.Median:0.00} ms ({onCpu.P95:0.00}) = ")
                + Cli.Format($"{onCpu.Median / withReadback.Median:0.00}x the OpenGL readback; ")
                + "a 30 fps source allows 33.3 ms");
            // Where the time goes: the video upload alone, then the blend without text and insets.
            using var texture = new GlTexture(context.Gl, Silk.NET.OpenGL.TextureMinFilter.Linear);
            var upload = BenchTiming.Measure(n, i =>
            {
                texture.UploadBgr(frames[i % frames.Length].Pixels);
                context.Gl.Finish();
            });
            var bare = view with { ShowHud = false };
            var blend = BenchTiming.Measure(n, i =>
            {
                target.Bind();
                renderer.Draw(composer.Compose(frames[i % frames.Length], analysis, bare), width, height, flipY: false);
                context.Gl.Finish();
            });
            var cpuBlend = BenchTiming.Measure(n,
                i => cpu.Render(composer.Compose(frames[i % frames.Length], analysis, bare), into));
            output.WriteLine(Cli.Format($"  parts, timed alone: video upload {upload.Median:0.00} ms; ")
                + Cli.Format($"upload + heatmap blend, no text or insets, {blend.Median:0.00} ms ")
                + Cli.Format($"(CPU {cpuBlend.Median:0.00} ms)"));
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    /// <summary>The frame time in the live window: handing the frame to the render thread, drawing it with the
    /// heatmap, HUD and bars, and swapping (which waits for vsync on a real display).</summary>
    static void BenchWindow(int width, int height, int n, TextWriter output)
    {
        using var scene = new SyntheticScene(width, height, 30, seed: 5);
        var frames = Enumerable.Range(0, 8)
            .Select(i => new Frame(scene.Render(i * 10), i, MonotonicClock.Now, "bench")).ToArray();
        try
        {
            using var thread = new RenderThread("render-window", TimeSpan.FromMilliseconds(15));
            using var window = new GlWindowSink(
                new WindowOptions { Title = "LiveCam bench", Width = width, Height = height },
                thread, new PictureComposer(new PipelineMetrics(), () => "bench", RobotHead), () => { });
            var analysis = SampleAnalysis();
            var shown = BenchTiming.Measure(n, i => window.Show(frames[i % frames.Length], analysis));
            output.WriteLine(Cli.Format($"window {width}x{height} ({window.Renderer}): ")
                + Cli.Format($"frame time {shown.Median:0.00} ms ({shown.P95:0.00}), ")
                + Cli.Format($"{1000 / shown.Median:0} fps possible"));
        }
        catch (RenderingUnavailableException e)
        {
            output.WriteLine($"window {width}x{height}: not measured ({e.Message})");
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }
}
