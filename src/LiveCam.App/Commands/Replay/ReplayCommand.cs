using System.CommandLine;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Models;
using LiveCam.Pipeline.Recording;
using LiveCam.Pipeline.Sinks;
using LiveCam.Rendering;
using OpenCvSharp;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Replay;

/// <summary><c>livecam replay DIR</c>: a <c>--record</c> folder played back, each recorded frame beside a panel that
/// draws, from the log alone, what the model had said at that moment.</summary>
internal static class ReplayCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var folder = new Argument<string>("DIR") { Description = "a folder written by run --record" };
        var at = new Option<string?>("--at")
        {
            Description = "start here: seconds into the recording (12.5) or a UTC time of the log "
                + "(2026-11-26T18:26:55Z)"
        };
        var outPath = SharedOptions.Out("write the replay to this video file, or PNGs into a folder "
            + "(a path ending in /), instead of a window");
        var frames = SharedOptions.Frames("stop after this many frames (0: to the end)");
        var command = new Command("replay",
            "Play a recording with its log: each frame beside the predictions the log holds for it.");
        command.Add(folder);
        command.Add(at);
        command.Add(outPath);
        command.Add(frames);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(frames) < 0) throw new UsageException("--frames must be 0 or more");
            RecordingIndex index;
            try { index = RecordingIndex.Read(parsed.GetValue(folder)!); }
            catch (IOException e) { throw new UsageException(e.Message, e); }
            long skip = 0;
            if (parsed.GetValue(at) is { } start)
            {
                try { skip = index.FramesBefore(start); }
                catch (ArgumentException e) { throw new UsageException(e.Message, e); }
            }
            return Replay(index, skip, parsed.GetValue(outPath), parsed.GetValue(frames), output, error);
        });
        return command;
    }

    static int Replay(RecordingIndex index, long skip, string? outPath, long maxFrames, TextWriter output,
        TextWriter error)
    {
        bool window = outPath is null;
        if (window && !Display.Available())
            throw new UsageException("no display for a window: give --out FILE (or a folder ending in /)");
        using var head = HeadOf(index, error);
        using var renderer = new CpuPictureRenderer();
        using var painter = new ReplayPainter(renderer, index, head.Head, Path.GetFileName(index.Folder));
        double fps = index.Segments[0].Fps;
        var first = index.Segments[0];
        using var probe = new VideoCapture(first.Path);
        int width = (int)probe.Get(VideoCaptureProperties.FrameWidth),
            height = (int)probe.Get(VideoCaptureProperties.FrameHeight);
        using var sink = window ? null : outPath!.EndsWith('/') || outPath.EndsWith('\\')
            ? (IFrameSink)new ImageFolderSink(outPath, painter)
            : new VideoFileSink(outPath, width * 2, height, fps, painter);
        output.WriteLine(Cli.Format($"replay: {index.Segments.Count} segment(s), ")
            + Cli.Format($"{index.Segments.Sum(s => s.Frames.Length)} frames at {fps:0.##} fps, ")
            + Cli.Format($"{index.Log.Count} log lines{(skip > 0 ? $"; from frame {skip}" : "")}"));
        using var picture = new Mat();
        long position = 0, shown = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();
        foreach (var segment in index.Segments)
        {
            if (position + segment.Frames.Length <= skip)
            {
                position += segment.Frames.Length;
                continue;
            }
            using var capture = new VideoCapture(segment.Path);
            for (int i = 0; i < segment.Frames.Length; i++, position++)
            {
                using var image = new Mat();
                if (!capture.Read(image) || image.Empty()) break;
                if (position < skip) continue;
                using var frame = new Frame(image.Clone(), segment.Frames[i],
                    TimeSpan.FromSeconds(position / segment.Fps), "replay");
                painter.ShownAnalysis = segment.AnalysedFrames[i];
                if (sink is not null) sink.Show(frame, null);
                else
                {
                    painter.Paint(frame, null, picture);
                    Cv2.ImShow("livecam replay", picture);
                    // Paced at the recording's rate; q or Esc ends it.
                    var due = TimeSpan.FromSeconds((shown + 1) / segment.Fps) - started.Elapsed;
                    int key = Cv2.WaitKey(Math.Max(1, (int)due.TotalMilliseconds));
                    if (key is 'q' or 27) return Done();
                }
                shown++;
                if (maxFrames > 0 && shown >= maxFrames) return Done();
            }
        }
        return Done();

        int Done()
        {
            if (window) Cv2.DestroyAllWindows();
            output.WriteLine(Cli.Format(
                $"replayed {shown} frames{(outPath is null ? "" : $" to {Path.GetFullPath(outPath)}")}"));
            return Cli.Ok;
        }
    }

    /// <summary>The prediction head of the logged model, to draw its predictions from the logged outputs; none when
    /// the model is not one this LiveCam knows (then the panel says so).</summary>
    sealed class LoggedHead(VisionModel? model) : IDisposable
    {
        public IPredictionHead? Head => model?.Head;
        public void Dispose() => model?.Dispose();
    }

    static LoggedHead HeadOf(RecordingIndex index, TextWriter error)
    {
        var name = index.Log.Select(l => l.Model).FirstOrDefault(m => m is not null);
        if (name is null) return new LoggedHead(null);
        try { return new LoggedHead(ModelCatalog.Load(name, null, TorchSharp.torch.CPU)); }
        catch (Exception e) when (e is ModelLoadException or IOException or ArgumentException)
        {
            error.WriteLine($"livecam: the log's model '{name}' cannot be loaded here ({e.Message}); "
                + "its predictions are shown as numbers");
            return new LoggedHead(null);
        }
    }

    /// <summary>Logged predictions without their raw outputs (a detector's boxes, a segmenter's areas), one line per
    /// list or table of numbers in them: its name, how many, and the first few labels with their scores or values.
    /// </summary>
    static List<HudLine> PredictionLines(string json)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        using var doc = JsonDocument.Parse(json);
        var lines = new List<HudLine>();
        void Add(string name, JsonElement value)
        {
            if (value.ValueKind == JsonValueKind.Array
                && value.EnumerateArray().All(i => i.ValueKind == JsonValueKind.Object))
            {
                var items = value.EnumerateArray().ToList();
                var named = items.Take(5).Select(i =>
                    i.TryGetProperty("label", out var l) && i.TryGetProperty("score", out var s)
                    && s.ValueKind == JsonValueKind.Number
                        ? string.Create(c, $" {l} {s.GetDouble():0.00}")
                        : "");
                lines.Add(new HudLine(Printable.Escape($"{name}: {items.Count}{string.Concat(named)}")));
            }
            else if (value.ValueKind == JsonValueKind.Object && value.EnumerateObject().Any()
                && value.EnumerateObject().All(p => p.Value.ValueKind == JsonValueKind.Number))
                lines.Add(new HudLine(Printable.Escape($"{name}:" + string.Concat(value.EnumerateObject().Take(5)
                    .Select(p => string.Create(c, $" {p.Name} {p.Value.GetDouble():0.##}"))))));
            else if (value.ValueKind == JsonValueKind.Object && name != "target")
                foreach (var p in value.EnumerateObject()) Add(p.Name, p.Value);
        }
        foreach (var p in doc.RootElement.EnumerateObject()) Add(p.Name, p.Value);
        return lines;
    }

    /// <summary>The recorded frame (as it was shown), and beside it a panel drawn from the log: when, what was
    /// explained, the predictions through the model's own head.</summary>
    sealed class ReplayPainter(IPictureRenderer renderer, RecordingIndex index, IPredictionHead? head, string name)
        : IFramePainter, IDisposable
    {
        readonly Mat _panel = new(), _black = new();

        /// <summary>The frame whose analysis was on screen with the frame painted next.</summary>
        public long ShownAnalysis { get; set; } = -1;

        public void Paint(Frame frame, Analysis? analysis, Mat into)
        {
            if (_black.Width != frame.Width || _black.Height != frame.Height)
            {
                _black.Create(frame.Height, frame.Width, MatType.CV_8UC3);
                _black.SetTo(Scalar.Black);
            }
            var logged = index.AnalysisFor(ShownAnalysis);
            // Ranked: on a small panel the position and the predictions stay, the model and timings go first.
            var lines = new List<HudLine>
            {
                new(Cli.Format($"replay {name}  {frame.CaptureTime.TotalSeconds:0.00} s  frame {frame.Sequence}")),
            };
            IInset? inset = null;
            if (logged is null) lines.Add(new HudLine("log: nothing analysed yet"));
            else
            {
                lines.Add(new HudLine(Cli.Format($"log: analysis of frame {logged.Frame}")
                    + Cli.Format($"{(logged.CaptureUtc is { } t ? $", captured {t:HH:mm:ss.fff} UTC" : "")}"), 1));
                lines.Add(new HudLine(
                    [new HudSegment($"{logged.Model}"), new HudSegment($" ({logged.Weights})", 2)], 3));
                lines.Add(new HudLine(
                    $"{logged.Method}{(logged.Layer is null ? "" : $" @ {logged.Layer}")}, target {logged.Target}", 2));
                if (logged.Outputs is { } outputs && head is not null)
                {
                    if (head.Line(outputs, null) is { } line) lines.Add(line with { Rank = 0 });
                    inset = head.Inset(outputs, null);
                }
                else if (logged.Outputs is { } raw)
                    lines.Add(new HudLine($"{raw.Length} outputs, largest {raw.Max():G4}"));
                else if (logged.Predictions is { } predictions)
                    lines.AddRange(PredictionLines(predictions));
                lines.Add(new HudLine(
                    Cli.Format($"analysis {logged.AnalysisMs:0.#} ms  latency {logged.LatencyMs:0.#} ms"), 4));
            }
            renderer.Render(
                new Picture { Video = _black, Hud = lines, Inset = inset, InsetCorner = Corner.BottomRight }, _panel);
            Cv2.HConcat([frame.Pixels, _panel], into);
        }

        public void Dispose()
        {
            _panel.Dispose();
            _black.Dispose();
        }
    }
}
