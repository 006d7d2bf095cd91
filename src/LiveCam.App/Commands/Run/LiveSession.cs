using System.CommandLine;
using System.Reactive.Concurrency;
using System.Runtime.InteropServices;
using LiveCam.App.Commands.Shared;
using LiveCam.Capture;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Models;
using LiveCam.Pipeline;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Operators;
using LiveCam.Pipeline.Recording;
using LiveCam.Pipeline.Sinks;
using LiveCam.Rendering;

namespace LiveCam.App.Commands.Run;

/// <summary>
/// One live run (<c>run</c>, <c>render</c>, live <c>teach</c>), composed in steps: open the source, open the model,
/// make the sinks (a window, recordings, the browser's feed and server), play, summarise. The threads of the run are
/// chosen here and nowhere else.
/// </summary>
/// <remarks>
/// The session owns what its steps make and releases it the last made first, as one method's <c>using</c> statements
/// would: the pipeline's threads stop before the server, the server before the renderers it draws with, the model
/// before the source. Ctrl+C and SIGTERM stop the run (it finalises its output) until everything else is released.
/// </remarks>
internal sealed class LiveSession : IDisposable
{
    readonly RunSettings _settings;
    readonly TextWriter _output, _error;
    readonly StopSignal _stop = new();
    readonly Stack<IDisposable> _owned = new();
    readonly PipelineMetrics _metrics = new();
    readonly object _logLock = new();
    // Shared with other threads: the newest analysis (the browser asks for its numbers), and the recording, which is
    // made on the display thread and told of every analysis for its log.
    Analysis? _latestAnalysis;
    SegmentedRecording? _recording;

    LiveSession(RunSettings settings, TextWriter output, TextWriter error) =>
        (_settings, _output, _error) = (settings, output, error);

    /// <summary>Plays the source until it ends, <c>--frames</c> are shown or the user stops it; the exit
    /// code.</summary>
    public static int Run(ParseResult parsed, SourceOptions sourceOptions, ModelOptions modelOptions,
        RunSettings settings, TextWriter output, TextWriter error)
    {
        using var session = new LiveSession(settings, output, error);
        var source = session.OpenSource(parsed, sourceOptions);
        var outputs = session.ChooseOutputs(source);
        var model = session.OpenModel(
            parsed, modelOptions, syntheticScene: sourceOptions.OpenedKind == SourceKind.Synthetic);
        var sinks = session.MakeSinks(source.Info, outputs, model);
        bool interrupted = session.Play(source, model, sinks);
        session.Summarise(outputs, interrupted);
        return Cli.Ok;
    }

    /// <summary>Where the run goes.</summary>
    /// <param name="Window">Shown in a window.</param>
    /// <param name="OutPath"><c>--out</c>: a video file, or a folder of PNGs.</param>
    /// <param name="Record"><c>--record</c>, or the recording a headless run makes unless told where.</param>
    /// <param name="Fps">The rate the window records at and recordings are written at.</param>
    sealed record Outputs(bool Window, string? OutPath, RecordingRequest? Record, double Fps);

    /// <param name="Vision">Null for <c>--model none</c>: the video alone.</param>
    /// <param name="Threads">Torch's threads on the analysis thread.</param>
    sealed record LoadedModel(VisionModel? Vision, IAnalyser Analyser, int Threads);

    /// <summary>What the sinks draw with and show, made by <see cref="MakeSinks"/> and borrowed by the sinks.</summary>
    sealed record SinkParts(SourceInfo Info, Outputs Outputs, LoadedModel Model, PictureComposer Composer,
        RendererChoice Choice, FreezeGate Freeze, RenderThread? WindowThread, CpuPictureRenderer Cpu,
        IPictureRenderer? RecordingRenderer, EventLoopScheduler Encoder, Serve.WebFeed? Feed);

    /// <summary>The source, opened; says what it delivers.</summary>
    CaptureSource OpenSource(ParseResult parsed, SourceOptions options)
    {
        var source = Own(options.Open(
            parsed, _error, _settings.MaxFrames, unpaced: _settings.Render, sourceText: _settings.SourceText));
        var info = source.Info;
        _output.WriteLine(Cli.Format($"source: {info.Name} {info.Width}x{info.Height}")
            + Cli.Format($"{(info.Fps > 0 ? Cli.Format($" @ {info.Fps:0.##} fps") : "")}")
            + Cli.Format($"{(info.IsLive ? " (live)" : "")}"));
        return source;
    }

    /// <summary>A window when a display is there (and no <c>--headless</c>), the files asked for, and the rate to
    /// record at.</summary>
    Outputs ChooseOutputs(CaptureSource source)
    {
        bool window = !_settings.ForceHeadless && Display.Available();
        var record = _settings.Record;
        // Headless and not watched from a browser, a run records unless told where: in crash-safe segments, as
        // --record does (a robot may run for hours and lose power). Served, it records only when asked.
        if (!window && _settings.OutPath is null && record is null && _settings.Serve is null)
            record = new RecordingRequest(Cli.Format($"livecam-{DateTime.Now:yyyyMMdd-HHmmss}"), 10);
        double fps = source.PaceFps > 0 ? source.PaceFps : source.Info.Fps > 0 ? source.Info.Fps : 30;
        return new Outputs(window, _settings.OutPath, record, fps);
    }

    /// <summary>The model (made over by the mode, if any) and the analyser explaining it; says what analyses, where,
    /// with how many threads.</summary>
    LoadedModel OpenModel(ParseResult parsed, ModelOptions options, bool syntheticScene)
    {
        int threads = _settings.Threads > 0
            ? _settings.Threads
            : AnalysisThreads(_settings.Timing, Environment.ProcessorCount);
        // Loaded at the analysis's thread count: a loader that measures which runtime is faster (an ONNX file)
        // measures what the analysis will get.
        var vision = Own(TorchThreads.With(threads, () => LoadModel(parsed, options, _settings.Mode, syntheticScene)));
        if (_settings.Mode is { } mode) _output.WriteLine(mode.Describe());
        IAnalyser analyser = vision is null ? new PassThroughAnalyser() : CreateAnalyser(parsed, options, vision);
        _output.WriteLine($"analysis: {analyser.Name}"
            + (vision is null
                ? ""
                : Cli.Format($" on {vision.Device.type.ToString().ToLowerInvariant()} ")
                    + Cli.Format($"({threads} thread{(threads == 1 ? "" : "s")}), weights {vision.Weights}"))
            + (_settings.MaxAnalysisFps > 0 ? Cli.Format($", at most {_settings.MaxAnalysisFps:0.##} a second") : ""));
        if (vision?.GradientFreeRuntime is { } runtime) _output.WriteLine($"without gradients: {runtime}");
        return new LoadedModel(vision, analyser, threads);
    }

    /// <summary>What the sinks draw with, and the browser's server, listening; says where the run records. The sinks
    /// themselves are made by <see cref="CreateSinks"/> as the pipeline starts.</summary>
    SinkParts MakeSinks(SourceInfo info, Outputs outputs, LoadedModel model)
    {
        var composer = new PictureComposer(_metrics, () => model.Analyser.Name, model.Vision?.Head);
        var choice = new RendererChoice(_settings.Renderer, _output);
        var freeze = Own(new FreezeGate());
        // The render threads and the renderers live here, for the whole run; the sinks borrow them.
        var windowThread = outputs.Window
            ? Own(new RenderThread("render-window", TimeSpan.FromMilliseconds(15)))
            : null;
        var offscreenThread = outputs.OutPath is null && outputs.Record is null
            ? null
            : Own(new RenderThread("render-offscreen", TimeSpan.FromSeconds(1)));
        var cpu = Own(new CpuPictureRenderer());
        var recordingRenderer = offscreenThread is null
            ? null
            : Own(choice.Offscreen(offscreenThread, "recording", cpuOnSoftwareGl: true));
        // Recordings are encoded on their own thread, so drawing the next frame overlaps encoding the last one.
        var encoder = Own(NamedThread("encoder"));
        var feed = ServeBrowser(composer, freeze, model);
        if (outputs.OutPath is { } outPath) _output.WriteLine($"recording to {Path.GetFullPath(outPath)}");
        if (outputs.Record is { } record)
            _output.WriteLine($"recording to {Path.GetFullPath(record.Folder)} "
                + $"(segments of {Cli.Format($"{record.SegmentSeconds:0.##}")} s and log.jsonl)");
        return new SinkParts(
            info, outputs, model, composer, choice, freeze, windowThread, cpu, recordingRenderer, encoder, feed);
    }

    /// <summary><c>--serve</c>: the browser's feed, drawn and encoded on a thread of its own only while someone
    /// watches, and the server, started; null without <c>--serve</c>.</summary>
    Serve.WebFeed? ServeBrowser(PictureComposer composer, FreezeGate freeze, LoadedModel model)
    {
        if (_settings.Serve is not { } options) return null;
        var thread = Own(NamedThread("web-encoder"));
        var renderer = Own(new CpuPictureRenderer());
        Serve.ServedControls? controls = null;
        var feed = new Serve.WebFeed(
            new FramePainter(renderer, composer, () => controls?.View ?? new ViewOptions()), thread);
        controls = new Serve.ServedControls(model.Analyser as IExplanationControls, freeze, feed);
        var server = Own(new Serve.LiveServer(
            options, feed, controls, _metrics, model.Vision, () => Volatile.Read(ref _latestAnalysis)));
        try { _output.WriteLine($"serving the live view at {server.StartAsync().GetAwaiter().GetResult()}"); }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            throw new UsageException($"--serve: cannot listen on {options.Address}:{options.Port}: {e.Message}", e);
        }
        return feed;
    }

    /// <summary>The sinks, made on the display thread as the pipeline starts (a window belongs to the thread that made
    /// it): the browser's feed, the window, the recording, the <c>--out</c> file; all of them or none.</summary>
    IFrameSink CreateSinks(SinkParts parts)
    {
        var sinks = new List<IFrameSink>();
        if (parts.Feed is not null) sinks.Add(parts.Feed);
        try
        {
            if (parts.Outputs.Window) sinks.Add(Window(parts));
            if (parts.Outputs.Record is { } record)
            {
                var segmented = Recording(parts, record);
                sinks.Add(segmented);
                Volatile.Write(ref _recording, segmented);
            }
            if (parts.Outputs.OutPath is { } outPath) sinks.Add(OutFile(parts, outPath));
        }
        catch
        {
            foreach (var s in sinks) s.Dispose();
            throw;
        }
        // Said once the outputs exist, so "running" means frames are being shown or written.
        Log(parts.Outputs.Window ? "showing in a window (q or Esc to stop)" : "headless (Ctrl+C to stop)");
        return sinks.Count == 1 ? sinks[0] : new CompositeSink(sinks);
    }

    /// <summary>The window: OpenGL's where the renderer choice allows, else OpenCV's, drawn on the CPU.</summary>
    IFrameSink Window(SinkParts parts)
    {
        var options = new WindowOptions
        {
            Width = parts.Info.Width, Height = parts.Info.Height, RecordFps = parts.Outputs.Fps,
            Explanation = parts.Model.Analyser as IExplanationControls, Freeze = parts.Freeze, Log = Log,
            ModeKeys = _settings.Mode is null ? null : _settings.Mode.Keys,
            ModeHud = _settings.Mode is null ? null : _settings.Mode.Hud,
            // A live camera that stops sending (unplugged) is said so until it is back.
            StallNotice = parts.Info.IsLive && _settings.Timing == TimingMode.Live ? TimeSpan.FromSeconds(2) : null,
        };
        if (_settings.BoothAttractAfter is { } attract)
        {
            options = options with
            {
                Fullscreen = true,
                View = new ViewOptions { TextScale = 2, Legend = true },
                Attract = new Pipeline.Sinks.Window.AttractLoop(attract, TimeSpan.FromSeconds(8)),
            };
        }
        return parts.Choice.Choose<IFrameSink>("renderer: OpenCV window, drawn on the CPU",
            () =>
            {
                var gl = new GlWindowSink(options, parts.WindowThread!, parts.Composer, _stop.Cancel);
                _output.WriteLine($"renderer: {gl.Renderer}");
                return gl;
            },
            () => new WindowSink(options, parts.Cpu, parts.Composer, _stop.Cancel));
    }

    /// <summary><c>--record</c>: the shown video in segments that stay playable, and log.jsonl.</summary>
    SegmentedRecording Recording(SinkParts parts, RecordingRequest record)
    {
        var vision = parts.Model.Vision;
        var context = new RecordingContext(
            parts.Info.Name, vision?.Name, vision?.Weights, vision is null ? null : vision.Head.Json);
        IFramePainter painter = record.Plain
            ? new PlainFramePainter()
            : new FramePainter(parts.RecordingRenderer!, parts.Composer);
        return new SegmentedRecording(record.Folder, parts.Info.Width, parts.Info.Height, parts.Outputs.Fps,
            record.SegmentSeconds, painter, context,
            line => _error.WriteLine($"livecam: {line}"), parts.Encoder);
    }

    /// <summary><c>--out</c>: a video file, or a folder of PNGs.</summary>
    static IFrameSink OutFile(SinkParts parts, string outPath)
    {
        var painter = new FramePainter(parts.RecordingRenderer!, parts.Composer);
        return ImageFolderSink.IsFolder(outPath)
            ? new ImageFolderSink(outPath, painter)
            : new VideoFileSink(
                outPath, parts.Info.Width, parts.Info.Height, parts.Outputs.Fps, painter, parts.Encoder);
    }

    /// <summary>Runs the pipeline until the source ends, <c>--frames</c> are shown or the user stops it, and prints its
    /// summary even when it fails; true when the user stopped it.</summary>
    bool Play(CaptureSource source, LoadedModel model, SinkParts sinks)
    {
        // Threads are chosen here and nowhere else: capture on its own long-running thread, display and
        // analysis on one dedicated thread each.
        var display = Own(NamedThread("display"));
        // Live, the display (capture, drawing, encoding) must never wait for the analysis: the analysis runs at a lower
        // priority and with one core fewer than the machine has. Exact mode runs the stages one after the other, so
        // there the analysis takes every core at the usual priority. A user who is not root cannot raise the priority
        // again, so when other programs starve the analysis the display gives way instead (--min-analysis-fps).
        var analysis = Own(NamedThread("analysis", lowerPriority: _settings.Timing == TimingMode.Live));
        // Set on the analysis thread itself: with OpenMP the thread count is each thread's own setting.
        if (model.Vision is not null)
        {
            analysis.Schedule(() => TorchSharp.torch.set_num_threads(model.Threads));
        }
        var started = MonotonicClock.Now;
        var frames = sinks.Freeze.Apply(source.Frames(NewThreadScheduler.Default));
        long maxFrames = _settings.MaxFrames, total = source.Info.FrameCount;
        var progress = _settings.Render
            ? Own(new RenderProgress(
                _metrics, maxFrames > 0 && (total <= 0 || maxFrames < total) ? maxFrames : total, _error))
            : null;
        try
        {
            FramePipeline.RunAsync(frames, model.Analyser, () => CreateSinks(sinks),
                    new PipelineSchedulers(display, analysis), _settings.Timing, _metrics,
                    _stop.Token, OnAnalysed, _settings.MaxAnalysisFps, _settings.MinAnalysisFps)
                .GetAwaiter().GetResult();
            return _stop.Requested;
        }
        finally
        {
            progress?.Dispose();
            var stats = source.Stats;
            _output.WriteLine(
                _metrics.Summary(stats.Captured, stats.Corrupt, stats.Reconnects, MonotonicClock.Now - started));
        }
    }

    /// <summary>Every analysis, on the thread that made it: kept for the browser, and logged with the
    /// recording.</summary>
    void OnAnalysed(Analysis analysis)
    {
        Volatile.Write(ref _latestAnalysis, analysis);
        Volatile.Read(ref _recording)?.OnAnalysed(analysis);
    }

    /// <summary>What was written, and whether the user stopped the run.</summary>
    void Summarise(Outputs outputs, bool interrupted)
    {
        if (outputs.OutPath is { } outPath)
        {
            _output.WriteLine(File.Exists(outPath) || Directory.Exists(outPath)
                ? $"saved {Path.GetFullPath(outPath)}"
                : "nothing recorded: stopped before the first frame");
        }
        if (Volatile.Read(ref _recording) is { } recording)
        {
            double seconds = recording.FinishedSeconds, megabytes = recording.FinishedBytes / 1e6;
            var rate = seconds > 0 ? Cli.Format($", about {megabytes * 3600 / seconds:0} MB an hour") : "";
            _output.WriteLine(Cli.Format($"recorded {recording.FinishedSegments} segment(s) ")
                + Cli.Format($"({megabytes:0.#} MB{rate}) and log.jsonl in {recording.Folder}")
                + (recording.Stopped ? " (recording stopped early)" : ""));
        }
        if (interrupted) _output.WriteLine("stopped");
    }

    /// <summary>A line for the terminal from any thread (the window's keys, the sinks), never mixed with
    /// another.</summary>
    void Log(string line)
    {
        lock (_logLock) _output.WriteLine(line);
    }

    /// <summary>Torch's threads for the analysis: all cores in exact mode, one fewer than the machine has when
    /// live.</summary>
    internal static int AnalysisThreads(TimingMode timing, int cores) =>
        timing == TimingMode.Live ? Math.Max(1, cores - 1) : Math.Max(1, cores);

    /// <summary>A thread of its own for one stage, named for debuggers and profilers, at a lower priority when
    /// asked.</summary>
    static EventLoopScheduler NamedThread(string name, bool lowerPriority = false) =>
        new(start => new Thread(() =>
        {
            if (lowerPriority) ThreadPriority.LowerCurrent();
            start();
        }) { Name = name, IsBackground = true });

    static VisionModel? LoadModel(ParseResult parsed, ModelOptions options, ILiveMode? mode, bool syntheticScene)
    {
        if (!options.WantsModel(parsed))
            return mode is null ? null : throw new UsageException("this mode needs a model (--model)");
        var model = options.LoadModel(parsed, syntheticScene);
        if (mode is null) return model;
        try { return mode.Prepare(model); }
        finally { model.Dispose(); }  // spent when the mode took it; released when it failed
    }

    internal static ExplanationAnalyser CreateAnalyser(ParseResult parsed, ModelOptions options, VisionModel vision)
    {
        var (method, layer, target) = options.Explanation(parsed, vision);
        try { return new ExplanationAnalyser(vision, method, layer, target); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
    }

    /// <summary><paramref name="resource"/>, the session's from now on; null passes through.</summary>
    T Own<T>(T resource) where T : IDisposable?
    {
        if (resource is not null) _owned.Push(resource);
        return resource;
    }

    /// <summary>Releases what the steps made, the last made first, then stops handling Ctrl+C.</summary>
    public void Dispose()
    {
        try { Release(); }
        finally { _stop.Dispose(); }
    }

    /// <summary>Disposes the owned resources newest first; one that throws does not keep the others from being
    /// disposed (as nested using statements).</summary>
    void Release()
    {
        if (!_owned.TryPop(out var newest)) return;
        try { newest.Dispose(); }
        finally { Release(); }
    }

    /// <summary>Ctrl+C and SIGTERM as a request to stop: the run ends and finalises its outputs instead of the process
    /// being killed. Caught from construction until disposed.</summary>
    sealed class StopSignal : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        readonly ConsoleCancelEventHandler _onCancel;
        readonly PosixSignalRegistration? _onTerm;

        public StopSignal()
        {
            _onCancel = (_, e) =>
            {
                e.Cancel = true;
                _stop.Cancel();
            };
            Console.CancelKeyPress += _onCancel;
            _onTerm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                _stop.Cancel();
            });
        }

        public CancellationToken Token => _stop.Token;

        public bool Requested => _stop.IsCancellationRequested;

        /// <summary>Stops the run as Ctrl+C would (the window's q and Esc).</summary>
        public void Cancel() => _stop.Cancel();

        public void Dispose()
        {
            Console.CancelKeyPress -= _onCancel;
            _onTerm?.Dispose();
            _stop.Dispose();
        }
    }
}
