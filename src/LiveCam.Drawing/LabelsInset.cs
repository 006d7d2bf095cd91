using System.Globalization;

namespace LiveCam.Drawing;

/// <summary>One row of a classifier's top labels.</summary>
public readonly record struct LabelRow(string Label, float Probability, bool Explained);

/// <summary>
/// A classifier's top labels: one row per class with its probability as a bar; the class the heatmap explains is
/// outlined in yellow, so the picture says which prediction is being explained. Labels too long for the picture are
/// shortened.
/// </summary>
public sealed record LabelsInset(IReadOnlyList<LabelRow> Rows) : IInset
{
    public static readonly Rgba BarColour = new(0.25f, 0.6f, 1f), ExplainedColour = new(1f, 0.85f, 0.1f);

    static float Pad(float scale) => MathF.Round(8 * scale);

    static float RowHeight(GlyphAtlas font, float scale) => font.LineHeight(scale) + Pad(scale);

    /// <summary>The widest the inset may be: 45% of the picture.</summary>
    static float MaxWidth(int targetWidth) => targetWidth * 0.45f;

    public (float Width, float Height) Size(GlyphAtlas font, float scale, int targetWidth, int targetHeight)
    {
        ArgumentNullException.ThrowIfNull(font);
        float text = Rows.Count == 0 ? 0 : Rows.Max(r => font.TextWidth(RowText(r), scale));
        return (Math.Min(text + 3 * Pad(scale), MaxWidth(targetWidth)),
            Rows.Count * RowHeight(font, scale) + Pad(scale));
    }

    /// <summary>The bar of row <paramref name="row"/> in an inset at (x, y) of this width (x, y from the
    /// top-left).</summary>
    public static (float X, float Y, float Width, float Height) Bar(
        GlyphAtlas font, float x, float y, float width, float scale, int row, float probability)
    {
        ArgumentNullException.ThrowIfNull(font);
        float pad = Pad(scale);
        return (x + pad, y + pad + row * RowHeight(font, scale) + font.LineHeight(scale),
            (width - 2 * pad) * Math.Clamp(probability, 0, 1), Math.Max(2, MathF.Round(4 * scale)));
    }

    public void Add(QuadList quads, float x, float y, float width, float height, float scale)
    {
        ArgumentNullException.ThrowIfNull(quads);
        var font = quads.Font;
        float pad = Pad(scale), line = font.LineHeight(scale), outline = Math.Max(1, MathF.Round(2 * scale));
        quads.Rectangle(x, y, width, height, new Rgba(0, 0, 0, 0.6f));
        for (int i = 0; i < Rows.Count; i++)
        {
            var row = Rows[i];
            float rowY = y + pad + i * RowHeight(font, scale);
            if (row.Explained) quads.Outline(x + 3, rowY - pad / 2, width - 6, line + pad, outline, ExplainedColour);
            quads.Text(HudLine.Shorten(font, RowText(row), scale, width - 2 * pad), x + pad, rowY, scale,
                row.Explained ? ExplainedColour : Rgba.White);
            var bar = Bar(font, x, y, width, scale, i, row.Probability);
            quads.Rectangle(bar.X, bar.Y, bar.Width, bar.Height, BarColour);
        }
    }

    static string RowText(LabelRow row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.Probability,5:0.000}  {row.Label}");
}
