using System.CommandLine;
using LiveCam.Capture;
using LiveCam.Models;
using LiveCam.Models.Onnx;
using LiveCam.Pipeline;
using LiveCam.App.Commands.Run;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary>
/// <c>livecam bench live</c>: a live headless recording of the synthetic scene with a model explaining it, run twice
/// in one process: as LiveCam used to arrange it (the analysis on every core at normal priority, encoding on the
/// display thread) and as <c>run</c> arranges it now (the analysis on one core fewer at a lower priority, encoding on
/// its own thread). Prints the share of frames shown and the overlay rate of each, and their ratios. Then, with
/// another program keeping one core busy, the arrangement of now without and with the floor under the analysis rate
/// (<c>--min-analysis-fps</c>): how many frames the display gives up, and what the overlay gains.
/// </summary>
internal static class LiveBench
{
    /// <param name="MinAnalysisFps">The floor under the analysis rate; 0 for none.</param>
    sealed record Arrangement(string Name, bool Before, double MinAnalysisFps = 0);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var frames = SharedOptions.Frames("frames per run", 300);
        var source = SharedOptions.Source(
            "a synthetic source, synthetic:WIDTHxHEIGHT@FPS", "synthetic:1280x720@30", shortAlias: false);
        var model = SharedOptions.Model("the model explained", "resnet18-imagenet", shortAlias: false);
        var floor = new Option<double>("--min-analysis-fps")
        {
            Description = "the floor under the analysis rate in the runs with a busy core", DefaultValueFactory = _ => 5
        };
        var command = new Command("live", "A live headless recording with the model explaining it, before and after "
            + "the display was shielded from the analysis, then with a busy core without and with the floor under the "
            + "analysis rate: frames shown and overlay rate.");
        command.Add(frames);
        command.Add(source);
        command.Add(model);
        command.Add(floor);
        command.SetAction(parsed =>
        {
            int n = parsed.GetValue(frames);
            if (n < 30) throw new UsageException("--frames must be at least 30");
            double minFps = parsed.GetValue(floor);
            if (!(minFps is > 0 and <= 1000))
                throw new UsageException("--min-analysis-fps must be more than 0 to 1000");
            var spec = SourceSpec.Parse(parsed.GetValue(source)!);
            if (spec.Kind != SourceKind.Synthetic)
                throw new UsageException("--source must be synthetic:WIDTHxHEIGHT@FPS");
            // Loaded as `run` loads it live: at the live analysis's thread count (see LiveSession.OpenModel).
            int liveThreads = LiveSession.AnalysisThreads(TimingMode.Live, Environment.ProcessorCount);
            using var vision = TorchThreads.With(liveThreads,
                () => ModelCatalog.Load(parsed.GetValue(model)!, null, ComputeDevice.Select()));
            output.WriteLine(Cli.Format($"LiveCam bench live: {spec.Width}x{spec.Height} @ {spec.Fps:0} fps, ")
                + Cli.Format($"{vision.Name} gradcam, recorded headless (CPU drawing), {n} frames, ")
                + Cli.Format($"{Environment.ProcessorCount} cores"));
            var results = new List<(double Shown, double Overlay)>();
            foreach (var arrangement in new[]
            {
                new Arrangement("before: analysis on all cores, encoding on the display thread", true),
                new Arrangement("after:  analysis on one core fewer at low priority, encoder thread", false)
            })
            {
                var (shown, overlay) = Run(arrangement, vision, spec, n);
                results.Add((shown, overlay));
                output.WriteLine(Cli.Format(
                    $"{arrangement.Name}: {shown:P1} of frames shown, overlay {overlay:0.0} Hz"));
            }
            output.WriteLine(Cli.Format($"after / before: frames shown {results[1].Shown / results[0].Shown:0.00}x, ")
                + Cli.Format($"overlay rate {results[1].Overlay / results[0].Overlay:0.00}x"));
            if (vision.Network is OnnxNetwork onnx) GradientsOnlyAfterTheLayer(output, vision, onnx, spec, n);
            Loaded(output, vision, spec, n, minFps);
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>The arrangement of now, explaining as LiveCam used to (every pass with gradients on libtorch's plain
    /// path, from the input) and as it does now (the part before the explained layer on the fast paths: ONNX Runtime
    /// where it measured faster at load, else packed convolutions; gradients only after the layer).</summary>
    static void GradientsOnlyAfterTheLayer(TextWriter output, VisionModel vision, OnnxNetwork onnx, SourceSpec spec,
        int n)
    {
        output.WriteLine($"explaining, the after arrangement (without gradients: {onnx.GradientFreeRuntime}):");
        bool usesOnnxRuntime = onnx.UsesOnnxRuntime;
        var results = new List<(double Shown, double Overlay)>();
        try
        {
            foreach (var (name, fast) in new[]
            {
                ("before: the plain path from the input", false),
                ("after:  fast paths up to the layer", true),
            })
            {
                onnx.FastBeforeTheLayer = fast;
                onnx.UsesOnnxRuntime = fast && usesOnnxRuntime;
                var (shown, overlay) = Run(new Arrangement(name, false), vision, spec, n);
                results.Add((shown, overlay));
                output.WriteLine(
                    Cli.Format($"  {name + ":",-40} {shown:P1} of frames shown, overlay {overlay:0.0} Hz"));
            }
        }
        finally
        {
            onnx.FastBeforeTheLayer = true;
            onnx.UsesOnnxRuntime = usesOnnxRuntime;
        }
        output.WriteLine(Cli.Format($"after / before: frames shown {results[1].Shown / results[0].Shown:0.00}x, ")
            + Cli.Format($"overlay rate {results[1].Overlay / results[0].Overlay:0.00}x"));
    }

    /// <summary>The arrangement of now with another program keeping one core busy, without and with the floor, in
    /// the order without, with, with, without: how the load falls on the cores changes from run to run (the overlay
    /// rate moved from 4 to 10 Hz between runs of the same arrangement here), so each is run twice and neither is
    /// always the later one.</summary>
    static void Loaded(TextWriter output, VisionModel vision, SourceSpec spec, int n, double minFps)
    {
        using var busy = new BusyCore();
        output.WriteLine($"with {busy.Description} on one core (the after arrangement), in the order ABBA:");
        var without = new Arrangement("no floor (--min-analysis-fps 0)", false);
        var with = new Arrangement(Cli.Format($"--min-analysis-fps {minFps:0.##}"), false, minFps);
        var results = new Dictionary<Arrangement, List<(double Shown, double Overlay)>>
        {
            [without] = [],
            [with] = [],
        };
        foreach (var arrangement in new[] { without, with, with, without })
        {
            var (shown, overlay) = Run(arrangement, vision, spec, n);
            results[arrangement].Add((shown, overlay));
            output.WriteLine(
                Cli.Format($"  {arrangement.Name + ":",-33} {shown:P1} of frames shown, overlay {overlay:0.0} Hz"));
        }
        var (shownWithout, overlayWithout) = Mean(results[without]);
        var (shownWith, overlayWith) = Mean(results[with]);
        output.WriteLine(Cli.Format($"means: no floor {shownWithout:P1} shown, {overlayWithout:0.0} Hz; ")
            + Cli.Format($"floor {shownWith:P1} shown, {overlayWith:0.0} Hz"));
        output.WriteLine(Cli.Format($"floor / no floor: frames shown {shownWith / shownWithout:0.00}x, ")
            + Cli.Format($"overlay rate {overlayWith / overlayWithout:0.00}x"));
    }

    static (double Shown, double Overlay) Mean(List<(double Shown, double Overlay)> runs) =>
        (runs.Average(r => r.Shown), runs.Average(r => r.Overlay));

    static (double Shown, double OverlayHz) Run(Arrangement arrangement, VisionModel vision, SourceSpec spec, int n)
    {
        int threads = arrangement.Before
            ? Environment.ProcessorCount
            : LiveSession.AnalysisThreads(TimingMode.Live, Environment.ProcessorCount);
        var (metrics, captured, seconds) = BenchRecording.Run(vision, spec.Width, spec.Height, spec.Fps, seed: 6, n,
            shielded: !arrangement.Before, threads, minAnalysisFps: arrangement.MinAnalysisFps);
        return (metrics.Shown / (double)captured, metrics.Analysed / seconds);
    }
}
