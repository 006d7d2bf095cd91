using LiveCam.Core;
using System.Globalization;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;

namespace LiveCam.Models.Classifiers;

/// <summary>A classifier's outputs (logits): the most probable classes by softmax, with their labels when it has them;
/// drawn as the top labels with the explained class outlined; the keys step from class to class.</summary>
public sealed class ClassifierHead(IReadOnlyList<string>? labels = null) : IPredictionHead
{
    public string DefaultTarget => "top";
    public bool OutputsAreClassLogits => true;

    /// <summary>The <paramref name="k"/> most probable classes, most probable first.</summary>
    public IReadOnlyList<(int Index, string Label, float Probability)> Top(IReadOnlyList<float> logits, int k)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Count == 0) return [];
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select((v, i) => (Index: i, P: v / sum)).OrderByDescending(t => t.P).Take(k)
            .Select(t => (t.Index, LabelOrIndex(t.Index), (float)t.P)).ToList();
    }

    string LabelOrIndex(int index) => Label(index) ?? string.Create(CultureInfo.InvariantCulture, $"class {index}");

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained)
    {
        var top = Top(outputs, 3);
        if (top.Count == 0) return null;
        // Less probable classes go first when the picture is small.
        return new HudLine(top.Select((t, i) => new HudSegment(string.Create(CultureInfo.InvariantCulture,
            $"{(i > 0 ? HudLine.Separator : "")}{(t.Index == explained ? "*" : "")}{t.Label} {t.Probability:0.00}"), i))
            .ToList());
    }

    public IInset? Inset(IReadOnlyList<float> outputs, int? explained)
    {
        var rows = Top(outputs, 5).Select(t => new LabelRow(t.Label, t.Probability, t.Index == explained)).ToList();
        return rows.Count == 0 ? null : new LabelsInset(rows);
    }

    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) =>
        Top(outputs, 5).Select(t => new PredictionBar(t.Label, t.Probability,
            string.Create(CultureInfo.InvariantCulture, $"{t.Probability:P0}"))).ToList();

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null) => new Dictionary<string, object?>
    {
        ["top"] = Top(outputs, 5).Select(t => new Dictionary<string, object?>
        {
            ["class"] = t.Index, ["label"] = t.Label, ["probability"] = t.Probability
        }).ToList(),
    };

    /// <summary>The most probable class, by its label.</summary>
    public IReadOnlyList<PredictionReading> Readings(IReadOnlyList<float> outputs) =>
        Top(outputs, 1).Select(t => new PredictionReading("top-1", t.Label)).ToList();

    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (outputCount == 0) return null;  // nothing analysed yet: the number of classes is not known
        int from = current.ClassIndex ?? Math.Max(0, lastExplained ?? 0);
        return Target.Class(((from + by) % outputCount + outputCount) % outputCount);
    }

    public string? Label(int index) => labels is { } l && index >= 0 && index < l.Count ? l[index] : null;

    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        new ClassifierHead(labels ?? throw new ArgumentNullException(nameof(labels)));
}
