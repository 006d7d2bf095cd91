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
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Run;

/// <summary><c>livecam run</c>: the composition root of the live pipeline.</summary>
internal static class RunCommand
{
    /// <summary>The options <c>run</c>, <c>render</c> and <c>teach</c> share.</summary>
    internal sealed class RunOptions(string? defaultModel = null)
    {
        public SourceOptions Source { get; } = new();
        public Option<long> Frames { get; } = SharedOptions.Frames("stop after this many frames (0: until the source ends or Ctrl+C)");
        public Option<string?> Record { get; } = new("--record") { Description = "record to this folder: the shown video in segments that stay playable whatever happens after (kill, power cut), and log.jsonl, one line per analysed frame" };
        public Option<double> SegmentSeconds { get; } = new("--segment-seconds") { Description = "video seconds per recorded segment", DefaultValueFactory = _ => 10 };
        public Option<double> AnalysisFps { get; } = new("--analysis-fps") { Description = "analyse at most this many frames a second (0: as many as the CPU allows), for a robot's shared CPU" };
        public Option<int> Threads { get; } = SharedOptions.Threads("CPU threads for the model (0: all cores for render and --timing exact, one fewer live)");
        // The robot model with its shipped weights is the default when they are there; "none" plays the video alone.
        public ModelOptions Model { get; } = new(defaultModel ?? (ModelCatalog.ShippedWeights(Models.Robot.RobotModel.OriginalWeights) is null ? "none" : "robot"));
        public Option<string> Renderer { get; } = RendererChoice.Option("how the window and recordings are drawn: auto (OpenGL, else OpenCV on the CPU), gl, cpu");

        public void AddTo(Command command, bool withSourceOption, bool withHead = true)
        {
            if (withSourceOption) Source.AddTo(command);
            else Source.AddTo(command, except: Source.Source);
            Model.AddTo(command, withHead: withHead);
            command.Add(Frames);
            command.Add(Record);
            command.Add(SegmentSeconds);
            command.Add(AnalysisFps);
            command.Add(Threads);
            command.Add(Renderer);
        }

        public RunSettings Settings(ParseResult parsed, string? outPath, bool headless, TimingMode timing, bool render, string? sourceText)
        {
            if (parsed.GetValue(Frames) < 0) throw new UsageException("--frames must be 0 or more");
            // Written so that NaN fails each check too (every comparison with NaN is false).
            if (!(parsed.GetValue(SegmentSeconds) is > 0 and < 86400)) throw new UsageException("--segment-seconds must be more than 0 and under a day");
            if (!(parsed.GetValue(AnalysisFps) is >= 0 and <= 1000)) throw new UsageException("--analysis-fps must be 0 (no limit) to 1000");
            if (parsed.GetValue(Threads) is < 0 or > 1024 || parsed.GetValue(Threads) > Environment.ProcessorCount)
                throw new UsageException($"--threads must be 0 (automatic) to {Environment.ProcessorCount}, the cores this machine has");
            var recording = parsed.GetValue(Record) is { } dir ? new RecordingRequest(dir, parsed.GetValue(SegmentSeconds)) : null;
            return new RunSettings(parsed.GetValue(Frames), outPath, recording, headless, timing, parsed.GetValue(Renderer) ?? "auto",
                parsed.GetValue(AnalysisFps), parsed.GetValue(Threads), render, sourceText);
        }
    }

    public static Command Create(TextWriter output, TextWriter error)
    {
        var options = new RunOptions();
        var outFile = SharedOptions.Out("record the shown video to this file (.mp4, .avi, .mkv), or to a folder of PNGs (a path ending in /); headless runs without --serve record even without it, in crash-safe segments in ./livecam-<time>/ (as --record does)");
        var headless = new Option<bool>("--headless") { Description = "no window, even when a display is present" };
        var serve = new Option<string?>("--serve") { Description = "also show the live view in a browser at [ADDRESS:]PORT (loopback unless an address is given; any other address needs a token)" };
        var token = new Option<string?>("--token") { Description = "the token --serve asks for on a non-loopback address (default: one is generated and printed)" };
        var maxViewers = new Option<int>("--max-viewers") { Description = "browsers watching at once (more get 503)", DefaultValueFactory = _ => 8 };
        var allowHost = new Option<string[]>("--allow-host")
        {
            Description = "with --serve: a host name the live view may be opened by, besides loopback's and the bound address (repeat, or separate with commas; * allows any, e.g. behind a proxy of your own). Other names get 403: a page elsewhere pointing its name at this address",
        };
        var booth = new Option<bool>("--booth") { Description = "a demo booth: fullscreen, big text, a sentence saying what the colours mean, and a tour of methods and side-by-side views when nobody touches a key" };
        var attractAfter = new Option<double>("--attract-after") { Description = "with --booth: seconds without a key press before the tour starts", DefaultValueFactory = _ => 30 };
        var timing = new Option<TimingMode>("--timing")
        {
            Description = "live: video at the source's rate, overlay as analyses arrive; exact: every frame waits for its own analysis",
            DefaultValueFactory = _ => TimingMode.Live,
        };
        var command = new Command("run", "Play a source live with the analysis overlay: in a window when a display exists, otherwise headless to a video file.");
        options.AddTo(command, withSourceOption: true);
        command.Add(outFile);
        command.Add(headless);
        command.Add(timing);
        command.Add(serve);
        command.Add(token);
        command.Add(maxViewers);
        command.Add(allowHost);
        command.Add(booth);
        command.Add(attractAfter);
        command.SetAction(parsed =>
        {
            var served = parsed.GetValue(serve) is { } address ? Serve.ServeOptions.Parse(address, parsed.GetValue(token), parsed.GetValue(maxViewers), parsed.GetValue(allowHost)) : null;
            if (parsed.GetValue(attractAfter) <= 0) throw new UsageException("--attract-after must be more than 0 seconds");
            if (parsed.GetValue(booth) && (parsed.GetValue(headless) || !Display.Available()))
                throw new UsageException("--booth needs a window (no display here, or --headless)");
            var settings = options.Settings(parsed, parsed.GetValue(outFile), parsed.GetValue(headless), parsed.GetValue(timing), render: false, null) with
            {
                Serve = served,
                BoothAttractAfter = parsed.GetValue(booth) ? TimeSpan.FromSeconds(parsed.GetValue(attractAfter)) : null,
            };
            return Run(parsed, options.Source, options.Model, settings, output, error);
        });
        return command;
    }

    /// <summary><c>livecam render SOURCE --out FILE</c>: every frame analysed and drawn, as fast as the machine goes,
    /// with a progress bar; Ctrl+C leaves a valid, shorter output.</summary>
    public static Command CreateRender(TextWriter output, TextWriter error)
    {
        var options = new RunOptions();
        var source = new Argument<string>("SOURCE") { Description = "a video file, a folder or glob of images, a stream URL, synthetic[:WxH][@FPS]" };
        var outFile = SharedOptions.Out("the rendered video (.mp4, .avi, .mkv) or a folder of PNGs (a path ending in /)");
        var command = new Command("render", "Render a source offline: every frame analysed and drawn into a video (or --record), with a progress bar.");
        command.Add(source);
        options.AddTo(command, withSourceOption: false);
        command.Add(outFile);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(outFile) is null && parsed.GetValue(options.Record) is null) throw new UsageException("render needs --out FILE or --record DIR");
            var settings = options.Settings(parsed, parsed.GetValue(outFile), headless: true, TimingMode.Exact, render: true, parsed.GetValue(source));
            return Run(parsed, options.Source, options.Model, settings, output, error);
        });
        return command;
    }

    internal sealed record RecordingRequest(string Folder, double SegmentSeconds);

    /// <summary>How a run goes. <paramref name="Render"/>: unpaced, every frame, a progress bar.</summary>
    internal sealed record RunSettings(long MaxFrames, string? OutPath, RecordingRequest? Record, bool ForceHeadless, TimingMode Timing,
        string Renderer, double MaxAnalysisFps, int Threads, bool Render, string? SourceText)
    {
        public Serve.ServeOptions? Serve { get; init; }
        /// <summary>A mode that changes the model and adds keys and HUD lines (teach); null for none.</summary>
        public ILiveMode? Mode { get; init; }
        /// <summary>A demo booth (fullscreen, big text, the colours' legend, the attract loop after this idle time); null for none.</summary>
        public TimeSpan? BoothAttractAfter { get; init; }
    }

    internal static int Run(ParseResult parsed, SourceOptions sourceOptions, ModelOptions modelOptions, RunSettings settings, TextWriter output, TextWriter error)
    {
        var (maxFrames, outPath, record, forceHeadless, timing, renderer) = (settings.MaxFrames, settings.OutPath, settings.Record, settings.ForceHeadless, settings.Timing, settings.Renderer);
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var onTerm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            using var frameSource = sourceOptions.Open(parsed, error, maxFrames, unpaced: settings.Render, sourceText: settings.SourceText);
            var info = frameSource.Info;
            output.WriteLine(Cli.Format($"source: {info.Name} {info.Width}x{info.Height}{(info.Fps > 0 ? Cli.Format($" @ {info.Fps:0.##} fps") : "")}{(info.IsLive ? " (live)" : "")}"));

            bool window = !forceHeadless && Display.Available();
            // Headless and not watched from a browser, a run records unless told where: in crash-safe segments, as
            // --record does (a robot may run for hours and lose power). Served, it records only when asked.
            if (!window && outPath is null && record is null && settings.Serve is null)
                record = new RecordingRequest(Cli.Format($"livecam-{DateTime.Now:yyyyMMdd-HHmmss}"), 10);
            double recordFps = frameSource.PaceFps > 0 ? frameSource.PaceFps : info.Fps > 0 ? info.Fps : 30;

            using var vision = LoadModel(parsed, modelOptions, settings.Mode, sourceOptions.OpenedKind == SourceKind.Synthetic);
            if (settings.Mode is { } mode) output.WriteLine(mode.Describe());
            IAnalyser analyser = vision is null ? new PassThroughAnalyser() : CreateAnalyser(parsed, modelOptions, vision);
            int threads = settings.Threads > 0 ? settings.Threads : AnalysisThreads(timing, Environment.ProcessorCount);
            output.WriteLine($"analysis: {analyser.Name}" + (vision is null ? "" : Cli.Format($" on {vision.Device.type.ToString().ToLowerInvariant()} ({threads} thread{(threads == 1 ? "" : "s")}), weights {vision.Weights}"))
                + (settings.MaxAnalysisFps > 0 ? Cli.Format($", at most {settings.MaxAnalysisFps:0.##} a second") : ""));
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

            // --serve: the browser's pictures are drawn and encoded on a thread of their own, only while someone watches.
            using var webThread = settings.Serve is null ? null : new EventLoopScheduler(start => new Thread(start) { Name = "web-encoder", IsBackground = true });
            using var webRenderer = settings.Serve is null ? null : new CpuPictureRenderer();
            Serve.WebFeed? feed = null;
            Serve.ServedControls? served = null;
            if (settings.Serve is not null)
            {
                Serve.ServedControls? controls = null;
                feed = new Serve.WebFeed(new FramePainter(webRenderer!, composer, () => controls?.View ?? new ViewOptions()), webThread!);
                served = controls = new Serve.ServedControls(analyser as IExplanationControls, freeze, feed);
            }
            Analysis? latestAnalysis = null;
            using var server = settings.Serve is null ? null : new Serve.LiveServer(settings.Serve, feed!, served!, metrics, vision, () => Volatile.Read(ref latestAnalysis));
            if (server is not null)
            {
                try { output.WriteLine($"serving the live view at {server.StartAsync().GetAwaiter().GetResult()}"); }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                {
                    throw new UsageException($"--serve: cannot listen on {settings.Serve!.Address}:{settings.Serve.Port}: {e.Message}", e);
                }
            }

            IFrameSink CreateSink()
            {
                var sinks = new List<IFrameSink>();
                if (feed is not null) sinks.Add(feed);
                try
                {
                    if (window)
                    {
                        var options = new WindowOptions
                        {
                            Width = info.Width, Height = info.Height, RecordFps = recordFps,
                            Explanation = analyser as IExplanationControls, Freeze = freeze, Log = Log,
                            ModeKeys = settings.Mode is null ? null : settings.Mode.Keys, ModeHud = settings.Mode is null ? null : settings.Mode.Hud,
                            // A live camera that stops sending (unplugged) is said so until it is back.
                            StallNotice = info.IsLive && timing == TimingMode.Live ? TimeSpan.FromSeconds(2) : null,
                        };
                        if (settings.BoothAttractAfter is { } attract)
                        {
                            options = options with
                            {
                                Fullscreen = true,
                                View = new ViewOptions { TextScale = 2, Legend = true },
                                Attract = new Pipeline.Sinks.Window.AttractLoop(attract, TimeSpan.FromSeconds(8)),
                            };
                        }
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
                analysisThread.Schedule(() => TorchSharp.torch.set_num_threads(threads));
            }
            var started = MonotonicClock.Now;
            var frames = freeze.Apply(frameSource.Frames(NewThreadScheduler.Default));
            bool interrupted = false;
            using var progress = settings.Render ? new RenderProgress(metrics, maxFrames > 0 && (info.FrameCount <= 0 || maxFrames < info.FrameCount) ? maxFrames : info.FrameCount, error) : null;
            try
            {
                FramePipeline.RunAsync(frames, analyser, CreateSink, new PipelineSchedulers(displayThread, analysisThread), timing, metrics, stop.Token,
                        analysis =>
                        {
                            Volatile.Write(ref latestAnalysis, analysis);
                            Volatile.Read(ref recording)?.OnAnalysed(analysis);
                        }, settings.MaxAnalysisFps)
                    .GetAwaiter().GetResult();
                interrupted = stop.IsCancellationRequested;
            }
            finally
            {
                progress?.Dispose();
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
            {
                double seconds = recording.FinishedSeconds, megabytes = recording.FinishedBytes / 1e6;
                var rate = seconds > 0 ? Cli.Format($", about {megabytes * 3600 / seconds:0} MB an hour") : "";
                output.WriteLine(Cli.Format($"recorded {recording.FinishedSegments} segment(s) ({megabytes:0.#} MB{rate}) and log.jsonl in {recording.Folder}")
                    + (recording.Stopped ? " (recording stopped early)" : ""));
            }
            if (interrupted) output.WriteLine("stopped");
            return Cli.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>render's progress, twice a second: frames done of the total (when the source knows it), the rate and
    /// the time left.</summary>
    sealed class RenderProgress : IDisposable
    {
        readonly Timer _timer;
        readonly ProgressBar _bar;
        readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        bool _disposed;

        public RenderProgress(PipelineMetrics metrics, long total, TextWriter error)
        {
            _bar = new ProgressBar(error, total, "render");
            _timer = new Timer(_ =>
            {
                long done = metrics.Shown;
                _bar.Report(done, Cli.Format($"{done / Math.Max(1e-3, _clock.Elapsed.TotalSeconds):0.0} fps"));
            }, null, 500, 500);
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            using (var stopped = new ManualResetEvent(false))
                if (_timer.Dispose(stopped)) stopped.WaitOne();  // no report after the last line
            _bar.Done();
        }
    }

    static VisionModel? LoadModel(ParseResult parsed, ModelOptions options, ILiveMode? mode, bool syntheticScene)
    {
        if (!options.WantsModel(parsed)) return mode is null ? null : throw new UsageException("this mode needs a model (--model)");
        var model = options.LoadModel(parsed, syntheticScene);
        if (mode is null) return model;
        try { return mode.Prepare(model); }
        finally { model.Dispose(); }  // spent when the mode took it; released when it failed
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
