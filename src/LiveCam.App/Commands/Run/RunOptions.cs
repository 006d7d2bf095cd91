using System.CommandLine;
using LiveCam.App.Commands.Shared;
using LiveCam.Models;
using LiveCam.Pipeline;

namespace LiveCam.App.Commands.Run;

/// <summary>The options <c>run</c>, <c>render</c> and <c>teach</c> share.</summary>
internal sealed class RunOptions(string? defaultModel = null)
{
    public SourceOptions Source { get; } = new();
    public Option<long> Frames { get; } =
        SharedOptions.Frames("stop after this many frames (0: until the source ends or Ctrl+C)");
    public Option<string?> Record { get; } = new("--record")
    {
        Description = "record to this folder: the shown video in segments that stay playable whatever happens after "
            + "(kill, power cut), and log.jsonl, one line per analysed frame"
    };
    public Option<bool> RecordPlain { get; } = new("--record-plain")
    {
        Description = "with --record: the source's own frames, nothing drawn over them (the log still has every "
            + "analysis), so the recording can be analysed again by other weights (render --manifest)"
    };
    public Option<double> SegmentSeconds { get; } = new("--segment-seconds")
    {
        Description = "video seconds per recorded segment", DefaultValueFactory = _ => 10
    };
    public Option<double> AnalysisFps { get; } = new("--analysis-fps")
    {
        Description = "analyse at most this many frames a second (0: as many as the CPU allows), "
            + "for a robot's shared CPU"
    };
    public Option<double> MinAnalysisFps { get; } = new("--min-analysis-fps")
    {
        Description = "live: when fewer analyses than this finish a second (other programs want the CPU), show fewer "
            + "frames, down to one in four, so the overlay keeps up (0: never)",
        DefaultValueFactory = _ => 5,
    };
    public Option<int> Threads { get; } = SharedOptions.Threads(
        "CPU threads for the model (0: all cores for render and --timing exact, one fewer live)");
    // The robot model with its shipped weights is the default when they are there; "none" plays the video alone.
    public ModelOptions Model { get; } = new(defaultModel
        ?? (ModelCatalog.ShippedWeights(Models.Robot.RobotModel.OriginalWeights) is null ? "none" : "robot"));
    public Option<string> Renderer { get; } = RendererChoice.Option(
        "how the window and recordings are drawn: auto (OpenGL, else OpenCV on the CPU), gl, cpu");

    /// <param name="live">Adds the options of a live run (<c>render</c> is not one).</param>
    public void AddTo(Command command, bool withSourceOption, bool withHead = true, bool live = true)
    {
        if (withSourceOption) Source.AddTo(command);
        else Source.AddTo(command, except: Source.Source);
        Model.AddTo(command, withHead: withHead);
        command.Add(Frames);
        command.Add(Record);
        command.Add(RecordPlain);
        command.Add(SegmentSeconds);
        command.Add(AnalysisFps);
        if (live) command.Add(MinAnalysisFps);
        command.Add(Threads);
        command.Add(Renderer);
    }

    public RunSettings Settings(ParseResult parsed, string? outPath, bool headless, TimingMode timing, bool render,
        string? sourceText)
    {
        if (parsed.GetValue(Frames) < 0) throw new UsageException("--frames must be 0 or more");
        // Written so that NaN fails each check too (every comparison with NaN is false).
        if (!(parsed.GetValue(SegmentSeconds) is > 0 and < 86400))
            throw new UsageException("--segment-seconds must be more than 0 and under a day");
        if (!(parsed.GetValue(AnalysisFps) is >= 0 and <= 1000))
            throw new UsageException("--analysis-fps must be 0 (no limit) to 1000");
        double minAnalysisFps = render ? 0 : parsed.GetValue(MinAnalysisFps);
        if (!(minAnalysisFps is >= 0 and <= 1000))
            throw new UsageException("--min-analysis-fps must be 0 (no floor) to 1000");
        if (parsed.GetValue(Threads) is < 0 or > 1024 || parsed.GetValue(Threads) > Environment.ProcessorCount)
            throw new UsageException(
                $"--threads must be 0 (automatic) to {Environment.ProcessorCount}, the cores this machine has");
        if (parsed.GetValue(RecordPlain) && parsed.GetValue(Record) is null)
            throw new UsageException("--record-plain is for --record DIR");
        var recording = parsed.GetValue(Record) is { } dir
            ? new RecordingRequest(dir, parsed.GetValue(SegmentSeconds), parsed.GetValue(RecordPlain))
            : null;
        return new RunSettings(parsed.GetValue(Frames), outPath, recording, headless, timing,
            parsed.GetValue(Renderer) ?? "auto", parsed.GetValue(AnalysisFps), parsed.GetValue(Threads), render,
            sourceText) { MinAnalysisFps = minAnalysisFps };
    }
}

/// <summary><c>--record</c>: the folder, the video seconds of each of its segments, and whether the frames are kept
/// as the source gave them (<c>--record-plain</c>) rather than as shown.</summary>
internal sealed record RecordingRequest(string Folder, double SegmentSeconds, bool Plain = false);

/// <summary>How a run goes. <paramref name="Render"/>: unpaced, every frame, a progress bar.</summary>
internal sealed record RunSettings(long MaxFrames, string? OutPath, RecordingRequest? Record, bool ForceHeadless,
    TimingMode Timing, string Renderer, double MaxAnalysisFps, int Threads, bool Render, string? SourceText)
{
    public Serve.ServeOptions? Serve { get; init; }
    /// <summary>Live, the floor under the analysis rate the display gives way to keep; 0 for none.</summary>
    public double MinAnalysisFps { get; init; }
    /// <summary>A mode that changes the model and adds keys and HUD lines (teach); null for none.</summary>
    public ILiveMode? Mode { get; init; }
    /// <summary>A demo booth (fullscreen, big text, the colours' legend, the attract loop after this idle time); null
    /// for none.</summary>
    public TimeSpan? BoothAttractAfter { get; init; }
}
