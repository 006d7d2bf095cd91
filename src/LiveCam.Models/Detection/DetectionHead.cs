using System.Globalization;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>
/// A detector's outputs read as boxes: decoded (<see cref="IDetectionDecoder"/>), cut at the score threshold and
/// suppressed to one box per object. Drawn as boxes with label and score (the explained one highlighted) and
/// keypoints; its targets are a box (followed from frame to frame by IoU), all boxes, or a class.
/// </summary>
public sealed class DetectionHead : IPredictionHead
{
    readonly IReadOnlyList<string>? _labels;
    readonly Lock _gate = new();
    IReadOnlyList<Detection> _lastDetections = [];
    // The last few outputs read: the picture shown may still be of an analysis before the newest.
    readonly List<(IReadOnlyList<float> Outputs, IReadOnlyList<Detection> Found)> _recent = [];
    const int Remembered = 4;

    /// <param name="inputWidth">The model input's size: detections are in its pixels.</param>
    public DetectionHead(IDetectionDecoder decoder, int inputWidth, int inputHeight, float scoreThreshold,
        float iouThreshold, IReadOnlyList<string>? labels = null)
    {
        Decoder = decoder ?? throw new ArgumentNullException(nameof(decoder));
        if (labels is not null && labels.Count != decoder.ClassCount)
            throw new ArgumentException($"{labels.Count} labels for a detector of {decoder.ClassCount} classes");
        if (!(scoreThreshold is >= 0 and < 1) || !(iouThreshold is > 0 and <= 1))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"score_threshold {scoreThreshold} must lie in [0, 1) and iou_threshold {iouThreshold} in (0, 1]"));
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        ScoreThreshold = scoreThreshold;
        IouThreshold = iouThreshold;
        _labels = labels;
    }

    public IDetectionDecoder Decoder { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public float ScoreThreshold { get; }
    public float IouThreshold { get; }

    /// <summary>A box, numbered from 1 by descending score, followed from frame to frame.</summary>
    public string DefaultTarget => "box:1";
    public bool OutputsAreClassLogits => false;

    public void Decode(IReadOnlyList<float> outputs) => Detect(outputs);

    /// <summary>The detections in one sample's outputs, by descending score (the last few outputs' are kept: the
    /// window, the HUD and the log all ask of the same frame, read once by the analysis).</summary>
    public IReadOnlyList<Detection> Detect(IReadOnlyList<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        lock (_gate)
        {
            foreach (var (o, found) in _recent)
                if (ReferenceEquals(o, outputs)) return found;
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var detections = Detect(tensor(outputs as float[] ?? [.. outputs]).unsqueeze(0), 0);
        lock (_gate)
        {
            _lastDetections = detections;
            _recent.Insert(0, (outputs, detections));
            if (_recent.Count > Remembered) _recent.RemoveAt(Remembered);
        }
        return detections;
    }

    /// <summary>The detections of sample <paramref name="n"/> of a flat output [N, total].</summary>
    public IReadOnlyList<Detection> Detect(Tensor flat, long n)
    {
        ArgumentNullException.ThrowIfNull(flat);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var c = Decoder.Decode(flat[TensorIndex.Slice(n, n + 1)].detach());
        return Suppress(c);
    }

    /// <summary>The detections of sample 0 of decoded candidates (values only).</summary>
    internal List<Detection> Suppress(Candidates c)
    {
        static float[] Floats(Tensor t) =>
            t.detach().to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        return BoxSuppression.Run(Floats(c.Boxes[0]), Floats(c.Scores[0]),
            c.Classes[0].cpu().contiguous().data<long>().ToArray(),
            c.Keypoints is null ? [] : Floats(c.Keypoints[0]), ScoreThreshold, IouThreshold, Decoder.Suppression);
    }

    /// <summary>How many detections the last outputs shown held (what the keys step through).</summary>
    public int LastCount
    {
        get { lock (_gate) return _lastDetections.Count; }
    }

    public string? Label(int index) => _labels is { } l && index >= 0 && index < l.Count ? l[index] : null;

    string ClassName(int index) => Label(index) ?? string.Create(CultureInfo.InvariantCulture, $"class {index}");

    /// <summary>One word for what it finds ("faces"; "boxes" when it finds several kinds).</summary>
    string Plural(int count)
    {
        var one = Decoder.ClassCount == 1 && _labels is [var only] ? only : "box";
        return count == 1 ? one : one.EndsWith('x') || one.EndsWith('s') ? one + "es" : one + "s";
    }

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained)
    {
        var found = Detect(outputs);
        var segments = new List<HudSegment>
        {
            new(found.Count.ToString(CultureInfo.InvariantCulture) + " " + Plural(found.Count)
                + (found.Count > 0 ? ":" : "")),
        };
        for (int i = 0; i < Math.Min(found.Count, 5); i++)
        {
            var d = found[i];
            var name = Decoder.ClassCount > 1 ? ClassName(d.Class) + " " : "";
            segments.Add(new HudSegment(string.Create(CultureInfo.InvariantCulture, $" {name}{d.Score:0.00}"), i + 1));
        }
        if (explained is { } k && k >= 0 && k < found.Count)
            segments.Add(new HudSegment(string.Create(CultureInfo.InvariantCulture, $", explaining {k + 1}")));
        return new HudLine(segments);
    }

    /// <summary>Boxes are drawn where they lie (<see cref="Marks"/>), not in an inset.</summary>
    public IInset? Inset(IReadOnlyList<float> outputs, int? explained) => null;

    public SceneMarks? Marks(IReadOnlyList<float> outputs, int? explained)
    {
        var found = Detect(outputs);
        return new SceneMarks(found.Select((d, i) => new BoxMark(
            d.X0 / InputWidth, d.Y0 / InputHeight, d.X1 / InputWidth, d.Y1 / InputHeight,
            string.Create(CultureInfo.InvariantCulture, $"{i + 1} {ClassName(d.Class)} {d.Score:0.00}"),
            ClassColours.Of(d.Class), i == explained,
            d.Keypoints.Select((v, j) => j % 2 == 0 ? v / InputWidth : v / InputHeight).ToArray())).ToList());
    }

    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) =>
        Detect(outputs).Take(5).Select((d, i) => new PredictionBar(
            string.Create(CultureInfo.InvariantCulture, $"{i + 1} {ClassName(d.Class)}"), d.Score,
            string.Create(CultureInfo.InvariantCulture, $"{d.Score:0.00}"))).ToList();

    /// <summary>How many boxes the frame has; counts agree only when equal.</summary>
    public IReadOnlyList<PredictionReading> Readings(IReadOnlyList<float> outputs)
    {
        int count = Detect(outputs).Count;
        return [new PredictionReading("boxes", count.ToString(CultureInfo.InvariantCulture), count)];
    }

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null)
    {
        var found = Detect(outputs);
        var json = new Dictionary<string, object?>
        {
            ["detections"] = found.Select(d => BoxJson(d, inputRegion)).ToList(),
        };
        if (explained is { } k && k >= 0 && k < found.Count)
        {
            var target = BoxJson(found[k], inputRegion);
            target["box_number"] = k + 1;
            json["target"] = target;
        }
        return json;
    }

    /// <summary>A detection in the image's pixels: the model input's, mapped through the part of the image it
    /// shows.</summary>
    Dictionary<string, object?> BoxJson(Detection d, PixelRect? region)
    {
        double sx = region is { } r ? r.Width / (double)InputWidth : 1;
        double sy = region is { } q ? q.Height / (double)InputHeight : 1;
        double ox = region?.X ?? 0, oy = region?.Y ?? 0;
        float X(float v) => (float)(ox + v * sx);
        float Y(float v) => (float)(oy + v * sy);
        var json = new Dictionary<string, object?>
        {
            ["box"] = new[] { X(d.X0), Y(d.Y0), X(d.X1), Y(d.Y1) },
            ["score"] = d.Score,
            ["class"] = d.Class,
            ["label"] = ClassName(d.Class),
        };
        if (d.Keypoints.Count > 0)
            json["keypoints"] = Enumerable.Range(0, d.Keypoints.Count / 2)
                .Select(i => new[] { X(d.Keypoints[2 * i]), Y(d.Keypoints[2 * i + 1]) }).ToList();
        return json;
    }

    /// <summary><c>box:N</c> (from 1, by descending score, then followed), <c>best</c> (whichever box scores highest
    /// in each frame), <c>boxes</c> (all kept boxes) or <c>class:K</c> (a class's boxes, by index or label).</summary>
    public Target ParseTarget(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "best") return new TrackedBoxTarget(this, 0, follow: false);
        if (t is "boxes" or "all") return new AllBoxesTarget(this, null);
        if (t.StartsWith("box:", StringComparison.Ordinal)
            && int.TryParse(t[4..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
            return new TrackedBoxTarget(this, n - 1, follow: true);
        if (t.StartsWith("class:", StringComparison.Ordinal))
        {
            var name = t[6..];
            int k = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i
                : _labels?.ToList().FindIndex(l => string.Equals(l, name, StringComparison.OrdinalIgnoreCase)) ?? -1;
            if (k < 0 || k >= Decoder.ClassCount)
                throw new FormatException($"target '{text}': the detector has {Decoder.ClassCount} classes"
                    + (_labels is null ? "" : $" ({string.Join(", ", _labels)})"));
            return new AllBoxesTarget(this, k);
        }
        throw new FormatException($"target '{text}': a detector's targets are box:N (from 1), best, boxes or class:K");
    }

    /// <summary>The next box among those shown last, found by where the box explained now lies (numbers swap between
    /// frames when scores are close), and followed from there.</summary>
    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained)
    {
        IReadOnlyList<Detection> shown;
        lock (_gate) shown = _lastDetections;
        int count = shown.Count;
        if (count == 0) return null;
        int from = lastExplained ?? (current as TrackedBoxTarget)?.Rank ?? 0;
        if ((current as TrackedBoxTarget)?.Last is { } explained)
        {
            int nearest = Enumerable.Range(0, count).MaxBy(i => shown[i].Iou(explained));
            if (shown[nearest].Iou(explained) >= TrackedBoxTarget.FollowIou) from = nearest;
        }
        int next = ((from + by) % count + count) % count;
        return new TrackedBoxTarget(this, next, follow: true, start: shown[next]);
    }

    public long LabelCount(long outputCount) => Decoder.ClassCount;

    /// <summary>Names the classes; no labels (asked before a file is read) changes nothing.</summary>
    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        (labels ?? throw new ArgumentNullException(nameof(labels))).Count == 0 ? this
            : new DetectionHead(Decoder, InputWidth, InputHeight, ScoreThreshold, IouThreshold,
            labels);
}
