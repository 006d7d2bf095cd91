using System.CommandLine;
using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.App.Commands;

/// <summary><c>livecam bench render</c>: what the OpenGL compositor costs per frame, headless.</summary>
internal static class RenderBench
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var frames = new Option<int>("--frames", "-n") { Description = "frames per measurement", DefaultValueFactory = _ => 200 };
        var command = new Command("render", "Per-frame cost of the OpenGL compositor, headless: upload, composite (heatmap, HUD text, bars), and readback when recording.");
        command.Add(frames);
        command.SetAction(parsed =>
        {
            try
            {
                int n = parsed.GetValue(frames);
                if (n < 10) throw new UsageException("--frames must be at least 10");
                using var context = new EglHeadlessContext();
                output.WriteLine(Cli.Format($"LiveCam bench render: {context.Renderer}; {Environment.ProcessorCount} cores; medians (p95) of {n} frames"));
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
                return Cli.Report(new UsageException($"no OpenGL here: {e.Message}", e), error);
            }
            catch (Exception e)
            {
                return Cli.Report(e, error);
            }
        });
        return command;
    }

    static void Bench(EglHeadlessContext context, int width, int height, int n, TextWriter output)
    {
        using var scene = new SyntheticScene(width, height, 30, seed: 5);
        var frames = Enumerable.Range(0, 8).Select(i => scene.Render(i * 10)).ToArray();
        try
        {
            using var compositor = new OverlayCompositor(context.Gl);
            using var batch = new QuadBatch(context.Gl);
            using var target = new GlFramebuffer(context.Gl, width, height);
            var heat = new HeatmapImage(16, 20, Enumerable.Range(0, 320).Select(i => (i % 37) / 36f).ToArray());
            var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "bench") { Heatmap = heat };
            int i = 0;
            void Composite()
            {
                target.Bind();
                compositor.Draw(frames[i++ % frames.Length], analysis, width, height, flipY: false);
                batch.Text("synthetic  frame 123  t 4.100 s  latency 3.2 ms  dropped 0", 8, 8, 1.2f, (1, 1, 1, 1));
                ProximityBars.Add(batch, (width - 130, height - 250, 120, 240), (d, s) => (d + s) % 7 / 6f, [3, null, 12, null, 30]);
                batch.Flush(width, height, flipY: false);
            }
            var composite = BenchTiming.Measure(n, _ =>
            {
                Composite();
                context.Gl.Finish();  // count the GPU's work, not just the submission
            });
            var withReadback = BenchTiming.Measure(n, _ =>
            {
                Composite();
                using var image = target.ReadBgr();
            });
            output.WriteLine(Cli.Format($"{width}x{height}: upload + composite {composite.Median:0.00} ms ({composite.P95:0.00}); with readback for recording {withReadback.Median:0.00} ms ({withReadback.P95:0.00}); a 30 fps source allows 33.3 ms"));
            // Where the time goes: the video upload alone, then the blend without text and insets.
            using var texture = new GlTexture(context.Gl, Silk.NET.OpenGL.TextureMinFilter.Linear);
            var upload = BenchTiming.Measure(n, _ =>
            {
                texture.UploadBgr(frames[i++ % frames.Length]);
                context.Gl.Finish();
            });
            var blend = BenchTiming.Measure(n, _ =>
            {
                target.Bind();
                compositor.Draw(frames[i++ % frames.Length], analysis, width, height, flipY: false);
                context.Gl.Finish();
            });
            output.WriteLine(Cli.Format($"  parts, timed alone: video upload {upload.Median:0.00} ms; upload + heatmap blend, no text or insets, {blend.Median:0.00} ms"));
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
        var frames = Enumerable.Range(0, 8).Select(i => new Frame(scene.Render(i * 10), i, MonotonicClock.Now, "bench")).ToArray();
        try
        {
            var metrics = new Pipeline.PipelineMetrics();
            using var window = new Pipeline.Sinks.GlWindowSink(new Pipeline.Sinks.GlWindowOptions { Title = "LiveCam bench", Width = width, Height = height },
                metrics, () => "bench", () => { });
            var outputs = new float[325];
            for (int d = 0; d < 65; d++) outputs[d * 5 + d % 5] = 0.8f;
            var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "bench")
            {
                Heatmap = new HeatmapImage(16, 20, Enumerable.Range(0, 320).Select(i => (i % 37) / 36f).ToArray()),
                Outputs = outputs,
                Kind = PredictionKind.RobotProximity,
            };
            var shown = BenchTiming.Measure(n, i => window.Show(frames[i % frames.Length], analysis));
            output.WriteLine(Cli.Format($"window {width}x{height} ({window.Renderer}): frame time {shown.Median:0.00} ms ({shown.P95:0.00}), {1000 / shown.Median:0} fps possible"));
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
