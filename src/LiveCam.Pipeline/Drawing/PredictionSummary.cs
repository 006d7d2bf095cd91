using System.Globalization;
using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Drawing;

namespace LiveCam.Pipeline.Drawing;

/// <summary>What the model predicts, in words (the HUD line) and as a picture (the inset): the robot's free
/// distances, a classifier's top classes.</summary>
public static class PredictionSummary
{
    /// <summary>How the prediction is drawn over the picture; null when there is nothing to draw.</summary>
    public static IInset? Inset(Analysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        switch (analysis.Kind)
        {
            case PredictionKind.RobotProximity when analysis.Outputs is { Count: LongRangePerceptionNet.Outputs } outputs:
                var robot = new RobotPrediction(outputs);
                return new ProximityInset(robot.Probability, robot.FreeDistances());
            case PredictionKind.Classifier:
                var rows = TopClasses(analysis, 5).Select(t => new LabelRow(t.Label, t.Probability, t.Explained)).ToList();
                return rows.Count == 0 ? null : new LabelsInset(rows);
            default:
                return null;
        }
    }

    /// <summary>One line for the HUD; null when there is nothing to say.</summary>
    public static string? Line(Analysis analysis) => HudLine(analysis)?.Text;

    /// <summary>The HUD's line: on a small picture the robot's prefix goes before any sensor does, a classifier's
    /// less probable classes before the most probable one.</summary>
    public static HudLine? HudLine(Analysis analysis)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        if (analysis.Outputs is not { Count: > 0 } outputs) return null;
        switch (analysis.Kind)
        {
            case PredictionKind.RobotProximity when outputs.Count == LongRangePerceptionNet.Outputs:
                return new HudLine([new HudSegment("free distance: ", 1), new HudSegment(new RobotPrediction(outputs).Summary())], HudText.Predictions);
            case PredictionKind.Classifier:
                return HudText.Spaced(HudText.Predictions, [.. TopClasses(analysis, 3).Select((t, i) => new HudSegment(string.Create(CultureInfo.InvariantCulture,
                    $"{(t.Explained ? "*" : "")}{t.Label} {t.Probability:0.00}"), i))]);
            default:
                return null;
        }
    }

    /// <summary>A classifier's <paramref name="k"/> most probable classes (softmax of the outputs), most probable first.</summary>
    public static IReadOnlyList<(int Index, string Label, float Probability, bool Explained)> TopClasses(Analysis analysis, int k)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        if (analysis.Kind != PredictionKind.Classifier || analysis.Outputs is not { Count: > 0 } logits) return [];
        double max = logits.Max();
        var e = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select((v, i) => (Index: i, P: v / sum))
            .OrderByDescending(t => t.P).Take(k)
            .Select(t => (t.Index, LabelOf(analysis, t.Index), (float)t.P, t.Index == analysis.ExplainedOutput))
            .ToList();
    }

    public static string LabelOf(Analysis analysis, int index)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        return analysis.OutputLabels is { } labels && index < labels.Count ? labels[index] : string.Create(CultureInfo.InvariantCulture, $"class {index}");
    }
}
