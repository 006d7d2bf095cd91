using LiveCam.Capture.Synthetic;
using System.CommandLine;
using System.Reactive.Concurrency;
using LiveCam.Capture;
using LiveCam.Core;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Sinks;
using OpenCvSharp;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary><c>livecam bench</c>: capture and pipeline costs, as medians over one run.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var frames = SharedOptions.Frames("frames per measurement", 300);
        var size = SharedOptions.Size("frame size, WIDTHxHEIGHT", "640x480");
        var command = new Command("bench", "Benchmarks, as medians of one run: 'bench pipeline' (capture, hand-over, "
            + "recording), 'bench explain' (each explanation method against a forward pass), 'bench render' (drawing "
            + "the picture), 'bench live' (a live recording with a model, before and after the display was shielded "
            + "from the analysis), 'bench onnx' (the ONNX import against ONNX Runtime), 'bench cpu' (the CPU share of "
            + "a headless robot run).");
        var pipeline = new Command("pipeline",
            "Capture cost per frame (synthetic, video file) and the pipeline's own overhead.");
        pipeline.Add(frames);
        pipeline.Add(size);
        command.Add(pipeline);
        command.Add(ExplainBench.Create(output, error));
        command.Add(RenderBench.Create(output, error));
        command.Add(LiveBench.Create(output, error));
        command.Add(OnnxBench.Create(output, error));
        command.Add(CpuBench.Create(output, error));
        command.Add(TeachBench.Create(output, error));
        pipeline.SetAction(parsed =>
        {
            var spec = SourceSpec.Parse($"synthetic:{parsed.GetValue(size)}");
            int n = parsed.GetValue(frames);
            if (n < 10) throw new UsageException("--frames must be at least 10");
            Bench(spec.Width, spec.Height, n, output);
            return Cli.Ok;
        });
        return command;
    }

    static void Bench(int width, int height, int n, TextWriter output)
    {
        output.WriteLine(Cli.Format($"LiveCam bench: {width}x{height}, {n} frames per measurement, ")
            + Cli.Format($"{Environment.ProcessorCount} cores; medians (p95)"));

        // 1. Synthetic scene: render cost alone.
        using (var scene = new SyntheticScene(width, height, 30, seed: 1))
        {
            using var image = new Mat(height, width, MatType.CV_8UC3);
            var t = BenchTiming.Measure(n, i => scene.Render(i, image));
            output.WriteLine(Cli.Format($"capture, synthetic scene:      {t.Median:0.000} ms  ({t.P95:0.000})"));
        }

        // 2. Video file: decode cost of an mp4 written here from the synthetic scene.
        var file = Path.Combine(Path.GetTempPath(), $"livecam-bench-{Environment.ProcessId}.mp4");
        try
        {
            using (var scene = new SyntheticScene(width, height, 30, seed: 2))
            using (var writer = new VideoWriter(
                file, VideoWriter.FourCC('m', 'p', '4', 'v'), 30, new Size(width, height)))
            {
                for (int i = 0; i < n; i++)
                {
                    using var img = scene.Render(i);
                    writer.Write(img);
                }
            }
            using var reader = new VideoCaptureReader(SourceSpec.Parse(file));
            reader.Open();
            var t = BenchTiming.Measure(n, _ =>
            {
                if (reader.Read(out var img) == ReadStatus.Frame) img!.Dispose();
            });
            output.WriteLine(Cli.Format($"capture, video file (mp4v):    {t.Median:0.000} ms  ({t.P95:0.000})"));
        }
        finally
        {
            File.Delete(file);
        }

        // 3. The pipeline's own overhead: capture timestamp -> sink, pass-through analyser, a sink that does nothing.
        var pipeline = MeasurePipeline(width, height, n, new NullSink());
        output.WriteLine(Cli.Format($"pipeline overhead, capture->sink (pass-through, null sink): ")
            + Cli.Format($"{pipeline.Median:0.000} ms  ({pipeline.P95:0.000})"));

        // 4. Headless recording: HUD + encode per frame (what the video sink adds).
        var recordFile = Path.Combine(Path.GetTempPath(), $"livecam-bench-rec-{Environment.ProcessId}.mp4");
        try
        {
            var metrics = new PipelineMetrics();
            using var scene = new SyntheticScene(width, height, 30, seed: 3);
            using var renderer = new Rendering.CpuPictureRenderer();
            using var sink = new VideoFileSink(recordFile, width, height, 30,
                new Drawing.FramePainter(renderer, new Drawing.PictureComposer(metrics, () => "pass-through")));
            var t = BenchTiming.Measure(n, i =>
            {
                using var frame = new Frame(scene.Render(i), i, MonotonicClock.Now, "bench");
                sink.Show(frame, null);
            });
            output.WriteLine(Cli.Format(
                $"recording sink, HUD + mp4v encode (incl. render): {t.Median:0.000} ms  ({t.P95:0.000})"));
        }
        finally
        {
            File.Delete(recordFile);
        }
    }

    static (double Median, double P95) MeasurePipeline(int width, int height, int n, IFrameSink sink)
    {
        // Paced at 100 fps so the measurement is of the hand-over, not of a queue in the null sink.
        using var source = new CaptureSource(
            new SyntheticSceneReader(width, height, 100, seed: 4), new CaptureOptions { MaxFrames = n });
        using var display = new EventLoopScheduler();
        using var analysis = new EventLoopScheduler();
        var metrics = new PipelineMetrics();
        FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), new PassThroughAnalyser(), () => sink,
            new PipelineSchedulers(display, analysis), TimingMode.Live, metrics, CancellationToken.None)
            .GetAwaiter().GetResult();
        return (metrics.CaptureToSink.MedianMs, metrics.CaptureToSink.PercentileMs(95));
    }

    sealed class NullSink : IFrameSink
    {
        public void Show(Frame frame, Analysis? analysis) { }
        public void Dispose() { }
    }
}
