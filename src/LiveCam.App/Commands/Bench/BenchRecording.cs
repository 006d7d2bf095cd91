using System.Reactive.Concurrency;
using LiveCam.Capture;
using LiveCam.Capture.Synthetic;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Models;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Analysers;
using LiveCam.Drawing;
using LiveCam.Pipeline.Sinks;
using LiveCam.Rendering;

namespace LiveCam.App.Commands.Bench;

/// <summary>What the live benchmarks measure: a headless recording of the synthetic scene with Grad-CAM of the model,
/// on threads arranged as the benchmark says, recorded to a temporary file that is removed after.</summary>
internal static class BenchRecording
{
    /// <param name="shielded">The analysis at a lower priority and the encoding on its own thread, as <c>run</c>
    /// does.</param>
    /// <param name="threads">Torch's threads on the analysis thread.</param>
    /// <param name="minAnalysisFps">The floor under the analysis rate (<c>--min-analysis-fps</c>); 0 for none.</param>
    public static (PipelineMetrics Metrics, long Captured, double Seconds) Run(
        VisionModel vision, int width, int height, double fps, int seed,
        int frames, bool shielded, int threads, double maxAnalysisFps = 0, double minAnalysisFps = 0)
    {
        var file = Path.Combine(Path.GetTempPath(), $"livecam-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.mp4");
        try
        {
            var analyser = new ExplanationAnalyser(vision, MethodCatalog.Create("gradcam"),
                LayerSelector.Parse(vision.DefaultLayer), vision.Head.ParseTarget(vision.DefaultTarget));
            var metrics = new PipelineMetrics();
            using var renderer = new CpuPictureRenderer();
            var painter = new FramePainter(renderer, new PictureComposer(metrics, () => analyser.Name, vision.Head));
            using var source = new CaptureSource(
                new SyntheticSceneReader(width, height, fps, seed), new CaptureOptions { MaxFrames = frames });
            using var display = new EventLoopScheduler(
                start => new Thread(start) { Name = "display", IsBackground = true });
            using var encoder = new EventLoopScheduler(
                start => new Thread(start) { Name = "encoder", IsBackground = true });
            using var analysis = new EventLoopScheduler(start => new Thread(() =>
            {
                if (shielded) ThreadPriority.LowerCurrent();
                start();
            }) { Name = "analysis", IsBackground = true });
            analysis.Schedule(() => TorchSharp.torch.set_num_threads(threads));
            var started = Core.MonotonicClock.Now;
            FramePipeline.RunAsync(source.Frames(NewThreadScheduler.Default), analyser,
                () => new VideoFileSink(file, width, height, fps, painter, shielded ? encoder : null),
                new PipelineSchedulers(display, analysis), TimingMode.Live, metrics, CancellationToken.None,
                maxAnalysisFps: maxAnalysisFps, minAnalysisFps: minAnalysisFps).GetAwaiter().GetResult();
            return (metrics, source.Stats.Captured, (Core.MonotonicClock.Now - started).TotalSeconds);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
