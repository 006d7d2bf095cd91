using LiveCam.Core;
using System.Globalization;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;

namespace LiveCam.Models.Classifiers;

/// <summary>A network without a classifier head (a featurizer): its outputs are features, not classes. The HUD names
/// the strongest units; the keys step through units; there are no labels until a head is taught on top.</summary>
public sealed class FeaturesHead : IPredictionHead
{
    public static readonly FeaturesHead Instance = new();

    FeaturesHead() { }

    public string DefaultTarget => "all";
    public bool OutputsAreClassLogits => false;

    static IEnumerable<(int Index, float Value)> Strongest(IReadOnlyList<float> outputs, int k) =>
        outputs.Select((v, i) => (i, v)).OrderByDescending(t => t.v).Take(k);

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count == 0) return null;
        var segments = new List<HudSegment>
        {
            new(string.Create(CultureInfo.InvariantCulture, $"{outputs.Count} features, strongest:"))
        };
        segments.AddRange(Strongest(outputs, 3).Select((t, i) => new HudSegment(
            string.Create(CultureInfo.InvariantCulture,
                $"  {(t.Index == explained ? "*" : "")}#{t.Index} {t.Value:0.00}"),
            i)));
        return new HudLine(segments);
    }

    public IInset? Inset(IReadOnlyList<float> outputs, int? explained) => null;

    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs)
    {
        var top = Strongest(outputs, 5).ToList();
        float max = top.Count == 0 ? 1 : Math.Max(1e-6f, top[0].Value);
        return top.Select(t => new PredictionBar(string.Create(CultureInfo.InvariantCulture, $"feature #{t.Index}"),
            Math.Clamp(t.Value / max, 0, 1),
            string.Create(CultureInfo.InvariantCulture, $"{t.Value:0.00}"))).ToList();
    }

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null) => new Dictionary<string, object?>
    {
        ["features"] = outputs.Count,
        ["strongest"] = Strongest(outputs, 5)
            .Select(t => new Dictionary<string, object?> { ["index"] = t.Index, ["value"] = t.Value }).ToList(),
    };

    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (outputCount == 0) return null;
        int from = current.ClassIndex ?? Math.Max(0, lastExplained ?? 0);
        return Target.Class(((from + by) % outputCount + outputCount) % outputCount);
    }

    public string? Label(int index) => null;

    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        throw new ArgumentException("--labels is for classifiers; this network's outputs are features without " +
            "classes (teach a head on them first)");
}
