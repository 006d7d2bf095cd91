using System.CommandLine;
using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using LiveCam.Capture;
using LiveCam.Core;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Drawing;
using LiveCam.Pipeline.Operators;
using LiveCam.Pipeline.Recording;
using LiveCam.Pipeline.Sinks;
using LiveCam.Models;
using LiveCam.Rendering;
using LiveCam.Drawing;

namespace LiveCam.App.Commands;

/// <summary><c>livecam run</c>: the composition root of the live pipeline.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var source = new SourceOptions();
        var frames = new Option<long>("--frames", "-n") { Description = "stop after this many frames (0: until the source ends or Ctrl+C)" };
        var outFile = new Option<string?>("--out", "-o") { Description = "record the shown video to this file (.mp4, .avi, .mkv), or to a folder of PNGs (a path ending in /); headless runs always record, by default to ./livecam-<time>.mp4" };
        var record = new Option<string?>("--record") { Description = "record to this folder: the shown video in segments that stay playable whatever happens after (kill, power cut), and log.jsonl, one line per analysed frame" };
        var segmentSeconds = new Option<double>("--segment-seconds") { Description = "video seconds per recorded segment", DefaultValueFactory = _ => 10 };
        var headless = new Option<bool>("--headless") { Description = "no window, even when a display is present" };
        var timing = new Option<TimingMode>("--timing")
        {
            Description = "live: video at the source's rate, overlay as analyses arrive; exact: every frame waits for its own analysis",
            DefaultValueFactory = _ => TimingMode.Live,
        };
        // The robot model with its shipped weights is the default when they are there; "none" plays the video alone.
        var model = new ModelOptions(ModelCatalog.ShippedWeights(Models.Robot.RobotModel.ShippedWeights) is null ? "none" : "robot");
        var renderer = RendererChoice.Option("how the window and recordings are drawn: auto (OpenGL, else OpenCV on the CPU), gl, cpu");
        var command = new Command("run", "Play a source live with the analysis overlay: in a window when a display exists, otherwise headless to a video file.");
        source.AddTo(command);
        model.AddTo(command);
        command.Add(frames);
        command.Add(outFile);
        command.Add(record);
        command.Add(segmentSeconds);
        command.Add(headless);
        command.Add(timing);
        command.Add(renderer);
        command.SetAction(parsed =>
        {
            try
            {
                if (parsed.GetValue(frames) < 0) throw new UsageException("--frames must be 0 or more");
                if (parsed.GetValue(segmentSeconds) <= 0) throw new UsageException("--segment-seconds must be more than 0");
                var recording = parsed.GetValue(record) is { } dir ? new RecordingRequest(dir, parsed.GetValue(segmentSeconds)) : null;
                return Run(parsed, source, model, parsed.GetValue(frames), parsed.GetValue(outFile), recording, parsed.GetValue(headless),
                    parsed.GetValue(timing), parsed.GetValue(renderer) ?? "auto", output, error);
            }
            catch (Exception e)
            {
                return Cli.Report(e, error);
            }
        });
        return command;
    }

    internal sealed record RecordingRequest(string Folder, double SegmentSeconds);

    static int Run(ParseResult parsed, SourceOptions sourceOptions, ModelOptions modelOptions, long maxFrames, string? outPath, RecordingRequest? record,
        bool forceHeadless, TimingMode timing, string renderer, TextWriter output, TextWriter error)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var onTerm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            using var frameSource = sourceOptions.Open(parsed, error, maxFrames);
            var info = frameSource.Info;
            output.WriteLine(Cli.Format($"source: {info.Name} {info.Width}x{info.Height}{(info.Fps > 0 ? Cli.Format($" @ {info.Fps:0.##} fps") : "")}{(info.IsLive ? " (live)" : "")}"));

            bool window = !forceHeadless && Display.Available();
            if (!window && outPath is null && record is null) outPath = Cli.Format($"livecam-{DateTime.Now:yyyyMMdd-HHmmss}.mp4");
            double recordFps = frameSource.PaceFps > 0 ? frameSource.PaceFps : info.Fps > 0 ? info.Fps : 30;

            using var vision = modelOptions.WantsModel(parsed) ? modelOptions.LoadModel(parsed, sourceOptions.OpenedKind == SourceKind.Synthetic) : null;
            IAnalyser analyser = vision is null ? new PassThroughAnalyser() : CreateAnalyser(parsed, modelOptions, vision);
            output.WriteLine($"analysis: {analyser.Name}" + (vision is null ? "" : Cli.Format($" on {vision.Device.type.ToString().ToLowerInvariant()}, weights {vision.Weights}")));
            var metrics = new PipelineMetrics();
            var composer = new PictureComposer(metrics, () => analyser.Name, vision?.Head);
            var choice = new RendererChoice(renderer, output);
            using var freeze = new FreezeGate();
            var logLock = new object();
            SegmentedRecording? recording = null;
            void Log(string line)
            {
                lock (logLock) output.WriteLine(line);
            }

            // The render threads and the renderers live here, for the whole run; the sinks borrow them.
            using var windowThread = window ? new RenderThread("render-window", TimeSpan.FromMilliseconds(15)) : null;
            using var offscreenThread = outPath is null && record is null ? null : new RenderThread("render-offscreen", TimeSpan.FromSeconds(1));
            using var cpu = new CpuPictureRenderer();
            using var recordingRenderer = offscreenThread is null ? null : choice.Offscreen(offscreenThread, "recording", cpuOnSoftwareGl: true);
            // Recordings are encoded on their own thread, so drawing the next frame overlaps encoding the last one.
            using var encoderThread = new EventLoopScheduler(start => new Thread(start) { Name = "encoder", IsBackground = true });

            IFrameSink CreateSink()
            {
                var sinks = new List<IFrameSink>();
                try
                {
                    if (window)
                    {
                        var options = new WindowOptions
                        {
                            Width = info.Width, Height = info.Height, RecordFps = recordFps,
                            Explanation = analyser as IExplanationControls, Freeze = freeze, Log = Log,
                        };
                        sinks.Add(choice.Choose<IFrameSink>("renderer: OpenCV window, drawn on the CPU",
                            () =>
                            {
                                var gl = new GlWindowSink(options, windowThread!, composer, stop.Cancel);
                                output.WriteLine($"renderer: {gl.Renderer}");
                                return gl;
                            },
                            () => new WindowSink(options, cpu, composer, stop.Cancel)));
                    }
                    if (record is not null)
                    {
                        var context = new RecordingContext(info.Name, vision?.Name, vision?.Weights, vision is null ? null : vision.Head.Json);
                        var segmented = new SegmentedRecording(record.Folder, info.Width, info.Height, recordFps, record.SegmentSeconds,
                            new FramePainter(recordingRenderer!, composer), context, line => error.WriteLine($"livecam: {line}"), encoderThread);
                        sinks.Add(segmented);
                        Volatile.Write(ref recording, segmented);
                    }
                    if (outPath is not null)
                    {
                        var painter = new FramePainter(recordingRenderer!, composer);
                        sinks.Add(ImageFolderSink.IsFolder(outPath)
                            ? new ImageFolderSink(outPath, painter)
                            : new VideoFileSink(outPath, info.Width, info.Height, recordFps, painter, encoderThread));
                    }
                }
                catch
                {
                    foreach (var s in sinks) s.Dispose();
                    throw;
                }
                // Said once the outputs exist, so "running" means frames are being shown or written.
                Log(window ? "showing in a window (q or Esc to stop)" : "headless (Ctrl+C to stop)");
                return sinks.Count == 1 ? sinks[0] : new CompositeSink(sinks);
            }

            if (outPath is not null) output.WriteLine($"recording to {Path.GetFullPath(outPath)}");
            if (record is not null) output.WriteLine($"recording to {Path.GetFullPath(record.Folder)} (segments of {Cli.Format($"{record.SegmentSeconds:0.##}")} s and log.jsonl)");

            // Threads are chosen here and nowhere else: capture on its own long-running thread, display and
            // analysis on one dedicated thread each.
            using var displayThread = new EventLoopScheduler(start => new Thread(start) { Name = "display", IsBackground = true });
            // Live, the display (capture, drawing, encoding) must never wait for the analysis: the analysis runs at a lower
            // priority and with one core fewer than the machine has. Exact mode runs the stages one after the other, so
            // there the analysis takes every core at the usual priority.
            using var analysisThread = new EventLoopScheduler(start => new Thread(() =>
            {
                if (timing == TimingMode.Live) ThreadPriority.LowerCurrent();
                start();
            }) { Name = "analysis", IsBackground = true });
            // Set on the analysis thread itself: with OpenMP the thread count is each thread's own setting.
            if (vision is not null)
            {
                int threads = AnalysisThreads(timing, Environment.ProcessorCount);
                analysisThread.Schedule(() => TorchSharp.torch.set_num_threads(threads));
            }
            var started = MonotonicClock.Now;
            var frames = freeze.Apply(frameSource.Frames(NewThreadScheduler.Default));
            bool interrupted = false;
            try
            {
                FramePipeline.RunAsync(frames, analyser, CreateSink, new PipelineSchedulers(displayThread, analysisThread), timing, metrics, stop.Token,
                        analysis => Volatile.Read(ref recording)?.OnAnalysed(analysis))
                    .GetAwaiter().GetResult();
                interrupted = stop.IsCancellationRequested;
            }
            finally
            {
                var stats = frameSource.Stats;
                output.WriteLine(metrics.Summary(stats.Captured, stats.Corrupt, stats.Reconnects, MonotonicClock.Now - started));
            }
            if (outPath is not null)
            {
                output.WriteLine(File.Exists(outPath) || Directory.Exists(outPath)
                    ? $"saved {Path.GetFullPath(outPath)}"
                    : "nothing recorded: stopped before the first frame");
            }
            if (recording is not null)
                output.WriteLine($"recorded {recording.FinishedSegments} segment(s) and log.jsonl in {recording.Folder}{(recording.Stopped ? " (recording stopped early)" : "")}");
            if (interrupted) output.WriteLine("stopped");
            return Cli.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Torch's threads for the analysis: all cores in exact mode, one fewer than the machine has when live.</summary>
    internal static int AnalysisThreads(TimingMode timing, int cores) => timing == TimingMode.Live ? Math.Max(1, cores - 1) : Math.Max(1, cores);

    static ExplanationAnalyser CreateAnalyser(ParseResult parsed, ModelOptions options, VisionModel vision)
    {
        var (method, layer, target) = options.Explanation(parsed, vision);
        try { return new ExplanationAnalyser(vision, method, layer, target); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
    }
}

/// <summary>Whether a window can be opened here.</summary>
internal static class Display
{
    public static bool Available()
    {
        if (!OperatingSystem.IsLinux()) return true;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"))) return true;
        var display = Environment.GetEnvironmentVariable("DISPLAY");
        if (string.IsNullOrEmpty(display)) return false;
        // A local X display (":N") must have its socket; GTK ends the process when it cannot connect.
        if (display.StartsWith(':'))
        {
            var number = display[1..].Split('.')[0];
            return File.Exists($"/tmp/.X11-unix/X{number}") || Directory.Exists($"/tmp/.X11-unix/X{number}");
        }
        return true;
    }
}
