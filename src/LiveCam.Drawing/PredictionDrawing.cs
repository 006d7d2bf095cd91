namespace LiveCam.Drawing;

/// <summary>
/// How a model's predictions are shown: the HUD's line, the inset drawn over the picture, the bars a browser draws and
/// a class's name for the legend. The prediction heads (with the models) implement it; the composer only calls it, so
/// drawing knows no model.
/// </summary>
public interface IPredictionDrawing
{
    /// <summary>The HUD's line about these outputs; null when there is nothing to say.</summary>
    HudLine? Line(IReadOnlyList<float> outputs, int? explained);

    /// <summary>The predictions drawn over the picture; null for none.</summary>
    IInset? Inset(IReadOnlyList<float> outputs, int? explained);

    /// <summary>The predictions as labelled bars (a browser draws them): a value in [0, 1] and its text each.</summary>
    IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) => [];

    /// <summary>What the model found where it lies in the picture (boxes, keypoints, a class mask); null for
    /// none.</summary>
    /// <param name="explained">The explained output, as the analysis names it (for a detector, the box).</param>
    SceneMarks? Marks(IReadOnlyList<float> outputs, int? explained) => null;

    /// <summary>The name of output <paramref name="index"/> (a class label), or null.</summary>
    string? Label(int index);
}

/// <summary>One prediction as a bar: what it is, how full (0 to 1), and what it says.</summary>
public sealed record PredictionBar(string Label, float Value, string Text);
