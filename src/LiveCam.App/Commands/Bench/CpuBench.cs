using System.CommandLine;
using System.Diagnostics;
using LiveCam.Models;
using LiveCam.Pipeline;
using LiveCam.App.Commands.Run;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary>
/// <c>livecam bench cpu</c>: the share of the machine's CPU a headless, recorded 640x480 30 fps robot-model run takes
/// (process CPU time over wall time, as <c>run</c> arranges threads), as it is, with <c>--analysis-fps 5</c> and with
/// <c>--threads 1</c>, in one process.
/// </summary>
internal static class CpuBench
{
    sealed record Setting(string Name, double MaxAnalysisFps, int Threads);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var frames = SharedOptions.Frames("frames per setting (30 a second)", 300);
        var command = new Command("cpu", "The CPU share of a headless 640x480 30 fps robot-model recording: as it is, "
            + "with --analysis-fps 5, with --threads 1.");
        command.Add(frames);
        command.SetAction(parsed =>
        {
            int n = parsed.GetValue(frames);
            if (n < 60) throw new UsageException("--frames must be at least 60");
            using var vision = ModelCatalog.Load("robot", null, ComputeDevice.Select("cpu"), syntheticScene: true);
            int cores = Environment.ProcessorCount;
            output.WriteLine(Cli.Format($"LiveCam bench cpu: synthetic 640x480 @ 30 fps, robot gradcam, ")
                + Cli.Format($"recorded headless (CPU drawing), {n} frames per setting, {cores} cores"));
            var settings = new[]
            {
                new Setting("as run does it", 0, 0),  // the analysis on one core fewer than the machine has
                new Setting("--analysis-fps 5", 5, 0),
                new Setting("--threads 1", 0, 1),
                new Setting("--analysis-fps 5 --threads 1", 5, 1),
            };
            // Warm-up (JIT, allocator, encoder): otherwise the first setting pays for it.
            BenchRecording.Run(vision, 640, 480, 30, seed: 3, 60, shielded: true,
                LiveSession.AnalysisThreads(TimingMode.Live, cores));
            double? first = null;
            foreach (var setting in settings)
            {
                var (coresUsed, analysisHz, shown) = Run(vision, setting, n);
                first ??= coresUsed;
                bool isDefault = setting.Threads > 0
                    && setting.Threads == LiveSession.AnalysisThreads(TimingMode.Live, cores);
                output.WriteLine(Cli.Format($"  {setting.Name + (isDefault ? " (= run's own here)" : ""),-30} ")
                    + Cli.Format($"{coresUsed:0.00} cores = {coresUsed / cores:P0} of the machine ")
                    + Cli.Format($"({coresUsed / first.Value:0.00}x), analysis {analysisHz:0.0} Hz, ")
                    + Cli.Format($"{shown:P0} of frames shown"));
            }
            return Cli.Ok;
        });
        return command;
    }

    static (double Cores, double AnalysisHz, double Shown) Run(VisionModel vision, Setting setting, int n)
    {
        int threads = setting.Threads > 0
            ? setting.Threads
            : LiveSession.AnalysisThreads(TimingMode.Live, Environment.ProcessorCount);
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var (metrics, captured, seconds) =
            BenchRecording.Run(vision, 640, 480, 30, seed: 3, n, shielded: true, threads, setting.MaxAnalysisFps);
        process.Refresh();
        return ((process.TotalProcessorTime - cpu0).TotalSeconds / seconds, metrics.Analysed / seconds,
            metrics.Shown / (double)captured);
    }
}
