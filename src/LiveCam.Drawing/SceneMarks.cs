namespace LiveCam.Drawing;

/// <summary>What a model found in the picture, drawn on it where it lies: a detector's boxes and keypoints, a
/// segmenter's class mask. Coordinates are fractions (0 to 1) of the part of the frame the model sees; the composer
/// places them.</summary>
public sealed record SceneMarks(IReadOnlyList<BoxMark> Boxes, ClassMask? Mask = null);

/// <summary>One detected box with its text ("face 0.98"), colour and keypoints (x, y pairs), all as fractions of the
/// model's view; <paramref name="Explained"/> marks the box the heatmap explains.</summary>
public sealed record BoxMark(float X0, float Y0, float X1, float Y1, string Text, Rgba Colour, bool Explained,
    IReadOnlyList<float> Keypoints);

/// <summary>A class per cell over the model's view (row-major), each drawn in its palette colour, translucent;
/// classes without a colour (alpha 0, a background) are not drawn.</summary>
public sealed record ClassMask(int Height, int Width, byte[] Classes, IReadOnlyList<Rgba> Palette);

/// <summary>A line of a mask's legend: its colour, the class's name and what share of the view it covers.</summary>
public readonly record struct LegendRow(Rgba Colour, string Label, float Share);

/// <summary>Distinct colours for classes, boxes and masks alike, so one class has one colour everywhere.</summary>
public static class ClassColours
{
    static readonly Rgba[] s_palette =
    [
        new(0.10f, 0.90f, 0.30f), new(0.20f, 0.60f, 1.00f), new(1.00f, 0.45f, 0.10f), new(0.85f, 0.25f, 0.85f),
        new(0.10f, 0.85f, 0.85f), new(1.00f, 0.85f, 0.15f), new(0.95f, 0.30f, 0.35f), new(0.55f, 0.85f, 0.10f),
        new(0.50f, 0.45f, 1.00f), new(1.00f, 0.60f, 0.75f), new(0.30f, 0.70f, 0.55f), new(0.80f, 0.65f, 0.40f),
    ];

    public static Rgba Of(int index) => s_palette[((index % s_palette.Length) + s_palette.Length) % s_palette.Length];
}
