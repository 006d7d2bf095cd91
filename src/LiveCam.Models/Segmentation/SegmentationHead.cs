using System.Globalization;
using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;

namespace LiveCam.Models.Segmentation;

/// <summary>A class for every pixel of the model's view: from logits [C, H, W] (the most likely class) or from one
/// channel of probabilities [1, H, W] (above the threshold: the class, else background).</summary>
public sealed record SegmentationMask(int Height, int Width, byte[] Classes, int ClassCount)
{
    /// <summary>Each class's share of the pixels.</summary>
    public float[] Shares()
    {
        var counts = new int[ClassCount];
        foreach (var c in Classes) counts[c]++;
        return counts.Select(n => n / (float)Classes.Length).ToArray();
    }
}

/// <summary>
/// A segmenter's outputs read as a class per pixel. Drawn as a translucent class-colour mask (class 0, the background
/// by convention, left clear) with a legend of the classes found and their shares; its targets are a class's logits
/// summed over the pixels predicted as that class, or over a region.
/// </summary>
public sealed class SegmentationHead : IPredictionHead
{
    /// <summary>The finest mask drawn: a cell per pixel of a 160-row view is finer than the eye follows.</summary>
    const int MaxDrawnRows = 160;

    readonly IReadOnlyList<string>? _labels;
    readonly Lock _gate = new();
    IReadOnlyList<float>? _lastOutputs;
    SegmentationMask? _lastMask;

    /// <param name="channels">The output's channels: C classes' logits, or 1 channel of probabilities.</param>
    /// <param name="threshold">For one channel: the probability above which a pixel is the class.</param>
    public SegmentationHead(int channels, int height, int width, float threshold = 0.5f,
        IReadOnlyList<string>? labels = null)
    {
        if (channels < 1 || channels > 255 || height < 1 || width < 1)
            throw new ArgumentException($"a segmenter's output is [1, C, H, W] with 1 to 255 classes, not "
                + $"[1, {channels}, {height}, {width}]");
        Channels = channels;
        Height = height;
        Width = width;
        Threshold = threshold;
        if (labels is not null && labels.Count != ClassCount)
            throw new ArgumentException($"{labels.Count} labels for a segmenter of {ClassCount} classes"
                + (channels == 1 ? " (background and the class)" : ""));
        _labels = labels;
    }

    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public float Threshold { get; }

    /// <summary>Classes: the channels, or background and the class for one channel of probabilities.</summary>
    public int ClassCount => Channels == 1 ? 2 : Channels;

    /// <summary>The class with the largest share of the view (other than the background when any other is found).
    /// </summary>
    public string DefaultTarget => "largest";
    public bool OutputsAreClassLogits => false;

    public void Decode(IReadOnlyList<float> outputs) => Segment(outputs);

    /// <summary>The mask of one sample's outputs (the last outputs' are kept: the picture and the log ask of the same
    /// frame).</summary>
    public SegmentationMask Segment(IReadOnlyList<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        lock (_gate)
        {
            if (ReferenceEquals(outputs, _lastOutputs) && _lastMask is not null) return _lastMask;
        }
        int pixels = Height * Width;
        if (outputs.Count != Channels * pixels)
            throw new ArgumentException($"{outputs.Count} outputs for a segmenter of [{Channels}, {Height}, {Width}]");
        var classes = new byte[pixels];
        if (Channels == 1)
        {
            for (int i = 0; i < pixels; i++) classes[i] = outputs[i] > Threshold ? (byte)1 : (byte)0;
        }
        else
        {
            var best = new float[pixels];
            for (int i = 0; i < pixels; i++) best[i] = outputs[i];
            // The first of equal logits wins, as argmax does.
            for (int c = 1; c < Channels; c++)
                for (int i = 0; i < pixels; i++)
                    if (outputs[c * pixels + i] > best[i])
                    {
                        best[i] = outputs[c * pixels + i];
                        classes[i] = (byte)c;
                    }
        }
        var mask = new SegmentationMask(Height, Width, classes, ClassCount);
        lock (_gate)
        {
            _lastOutputs = outputs;
            _lastMask = mask;
        }
        return mask;
    }

    public string? Label(int index) => _labels is { } l && index >= 0 && index < l.Count ? l[index] : null;

    string ClassName(int index) => Label(index) ?? string.Create(CultureInfo.InvariantCulture, $"class {index}");

    /// <summary>The classes found, by descending share.</summary>
    List<(int Class, float Share)> Found(IReadOnlyList<float> outputs) =>
        Segment(outputs).Shares().Select((s, c) => (c, s)).Where(t => t.s > 0).OrderByDescending(t => t.s).ToList();

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained)
    {
        var found = Found(outputs);
        return found.Count == 0 ? null : new HudLine(found.Take(5).Select((t, i) => new HudSegment(
            string.Create(CultureInfo.InvariantCulture,
                $"{(i > 0 ? HudLine.Separator : "")}{(t.Class == explained ? "*" : "")}{ClassName(t.Class)} "
                + $"{t.Share:0%}"),
            i)).ToList());
    }

    /// <summary>The legend: each class found, its colour and share.</summary>
    public IInset? Inset(IReadOnlyList<float> outputs, int? explained)
    {
        var rows = Found(outputs).Take(6)
            .Select(t => new LegendRow(Colour(t.Class), ClassName(t.Class), t.Share)).ToList();
        return rows.Count == 0 ? null : new LegendInset(rows, explained is { } k ? ClassName(k) : null);
    }

    static Rgba Colour(int c) => c == 0 ? new Rgba(0.5f, 0.5f, 0.5f) : ClassColours.Of(c - 1);

    public ClassMask? PixelClasses(IReadOnlyList<float> outputs)
    {
        var mask = Segment(outputs);
        return new ClassMask(mask.Height, mask.Width, mask.Classes, Palette());
    }

    IReadOnlyList<Rgba> Palette() =>
        Enumerable.Range(0, ClassCount).Select(c => c == 0 ? new Rgba(0, 0, 0, 0) : Colour(c)).ToList();

    public SceneMarks? Marks(IReadOnlyList<float> outputs, int? explained)
    {
        var mask = Segment(outputs);
        // Drawn no finer than MaxDrawnRows rows (nearest cell).
        int step = Math.Max(1, (int)Math.Ceiling(mask.Height / (double)MaxDrawnRows));
        int h = (mask.Height + step - 1) / step, w = (mask.Width + step - 1) / step;
        var cells = new byte[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                cells[y * w + x] = mask.Classes[y * step * mask.Width + x * step];
        return new SceneMarks([], new ClassMask(h, w, cells, Palette()));
    }

    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) =>
        Found(outputs).Take(5).Select(t => new PredictionBar(ClassName(t.Class), t.Share,
            string.Create(CultureInfo.InvariantCulture, $"{t.Share:0%}"))).ToList();

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null)
    {
        var shares = Segment(outputs).Shares();
        return new Dictionary<string, object?>
        {
            ["segmentation"] = new Dictionary<string, object?>
            {
                ["width"] = Width,
                ["height"] = Height,
                ["classes"] = Enumerable.Range(0, ClassCount).Select(ClassName).ToList(),
                ["areas"] = Enumerable.Range(0, ClassCount).Where(c => shares[c] > 0)
                    .ToDictionary(ClassName, c => shares[c]),
            },
        };
    }

    /// <summary><c>largest</c>, <c>class:K</c> (by index or label: its logits over its predicted pixels) or
    /// <c>region:X,Y,W,H</c> (in the model input's pixels; the class predicted most there) with an optional
    /// <c>:K</c> for the class.</summary>
    public Target ParseTarget(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "largest") return new SegmentationClassTarget(this, null, null);
        if (t.StartsWith("class:", StringComparison.Ordinal))
            return new SegmentationClassTarget(this, Class(t[6..], text), null);
        if (t.StartsWith("region:", StringComparison.Ordinal))
        {
            var parts = t[7..].Split(':');
            var numbers = parts[0].Split(',').Select(p =>
                int.TryParse(p.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1).ToArray();
            if (parts.Length > 2 || numbers.Length != 4 || numbers.Any(v => v < 0) || numbers[2] == 0 || numbers[3] == 0
                || numbers[0] + numbers[2] > Width || numbers[1] + numbers[3] > Height)
                throw new FormatException($"target '{text}': region:X,Y,W,H[:CLASS] inside the model's "
                    + $"{Width}x{Height} output");
            int? k = parts.Length == 2 ? Class(parts[1], text) : null;
            return new SegmentationClassTarget(this, k,
                new SegmentationRegion(numbers[0], numbers[1], numbers[2], numbers[3]));
        }
        throw new FormatException($"target '{text}': a segmenter's targets are largest, class:K or region:X,Y,W,H[:K]");
    }

    int Class(string name, string text)
    {
        int k = int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i
            : Enumerable.Range(0, ClassCount).FirstOrDefault(c =>
                string.Equals(Label(c), name, StringComparison.OrdinalIgnoreCase), -1);
        return k >= 0 && k < ClassCount ? k
            : throw new FormatException($"target '{text}': the segmenter has {ClassCount} classes");
    }

    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained)
    {
        int from = lastExplained ?? current.ClassIndex ?? 0;
        return new SegmentationClassTarget(this, ((from + by) % ClassCount + ClassCount) % ClassCount, null);
    }

    public long LabelCount(long outputCount) => ClassCount;

    /// <summary>Names the classes; no labels (asked before a file is read) changes nothing.</summary>
    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        (labels ?? throw new ArgumentNullException(nameof(labels))).Count == 0 ? this
            : new SegmentationHead(Channels, Height, Width, Threshold, labels);
}
