using System.Globalization;

namespace LiveCam.Drawing;

/// <summary>A mask's legend: a colour swatch, the class's name and its share of the view per row; the explained class
/// in yellow.</summary>
public sealed record LegendInset(IReadOnlyList<LegendRow> Rows, string? Explained) : IInset
{
    static float Pad(float scale) => MathF.Round(8 * scale);

    static float RowHeight(GlyphAtlas font, float scale) => font.LineHeight(scale) + Pad(scale) / 2;

    static string RowText(LegendRow row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.Share,4:0%}  {row.Label}");

    public (float Width, float Height) Size(GlyphAtlas font, float scale, int targetWidth, int targetHeight)
    {
        ArgumentNullException.ThrowIfNull(font);
        float swatch = font.LineHeight(scale);
        float text = Rows.Count == 0 ? 0 : Rows.Max(r => font.TextWidth(RowText(r), scale));
        // A pixel more than the text needs: the row's text is then never shortened by rounding.
        return (Math.Min(swatch + text + 3 * Pad(scale) + 1, targetWidth * 0.45f),
            Rows.Count * RowHeight(font, scale) + 1.5f * Pad(scale));
    }

    public void Add(QuadList quads, float x, float y, float width, float height, float scale)
    {
        ArgumentNullException.ThrowIfNull(quads);
        var font = quads.Font;
        float pad = Pad(scale), line = font.LineHeight(scale);
        quads.Rectangle(x, y, width, height, new Rgba(0, 0, 0, 0.6f));
        for (int i = 0; i < Rows.Count; i++)
        {
            var row = Rows[i];
            float rowY = y + pad + i * RowHeight(font, scale);
            quads.Rectangle(x + pad, rowY + line * 0.15f, line * 0.7f, line * 0.7f, row.Colour with { A = 1 });
            float textX = x + 2 * pad + line;
            quads.Text(HudLine.Shorten(font, RowText(row), scale, width - (textX - x) - pad), textX, rowY, scale,
                row.Label == Explained ? LabelsInset.ExplainedColour : Rgba.White);
        }
    }
}
