namespace LiveCam.Rendering;

/// <summary>One row of a classifier's top labels.</summary>
public readonly record struct LabelRow(string Label, float Probability, bool Explained);

/// <summary>
/// A classifier's top labels as an inset: one row per class with its probability as a bar; the class the heatmap
/// explains is outlined in yellow, so the picture says which prediction is being explained.
/// </summary>
public static class TopLabels
{
    public static readonly (float R, float G, float B, float A) BarColour = (0.25f, 0.6f, 1f, 1f), ExplainedColour = (1f, 0.85f, 0.1f, 1f);

    /// <summary>The inset's size for these rows at this text scale.</summary>
    public static (float Width, float Height) Size(QuadBatch batch, IReadOnlyList<LabelRow> rows, float scale)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rows);
        float line = batch.LineHeight(scale);
        float text = rows.Count == 0 ? 0 : rows.Max(r => batch.TextWidth(RowText(r), scale));
        return (text + 24, rows.Count * (line + 8) + 8);
    }

    /// <summary>The bar of row <paramref name="row"/> (x, y from the top-left), full width = probability 1.</summary>
    public static (float X, float Y, float Width, float Height) Bar((float X, float Y) origin, float width, float lineHeight, int row, float probability) =>
        (origin.X + 8, origin.Y + 8 + row * (lineHeight + 8) + lineHeight, (width - 16) * Math.Clamp(probability, 0, 1), 4);

    public static void Add(QuadBatch batch, (float X, float Y) origin, IReadOnlyList<LabelRow> rows, float scale)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(rows);
        var (width, height) = Size(batch, rows, scale);
        float line = batch.LineHeight(scale);
        batch.Rectangle(origin.X, origin.Y, width, height, (0, 0, 0, 0.6f));
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            float y = origin.Y + 8 + i * (line + 8);
            if (row.Explained)
            {
                // An outline: four thin rectangles around the row.
                float x0 = origin.X + 3, y0 = y - 3, w = width - 6, h = line + 10;
                batch.Rectangle(x0, y0, w, 2, ExplainedColour);
                batch.Rectangle(x0, y0 + h - 2, w, 2, ExplainedColour);
                batch.Rectangle(x0, y0, 2, h, ExplainedColour);
                batch.Rectangle(x0 + w - 2, y0, 2, h, ExplainedColour);
            }
            batch.Text(RowText(row), origin.X + 8, y, scale, row.Explained ? ExplainedColour : (1, 1, 1, 1));
            var bar = Bar(origin, width, line, i, row.Probability);
            batch.Rectangle(bar.X, bar.Y, bar.Width, bar.Height, BarColour);
        }
    }

    static string RowText(LabelRow row) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{row.Probability,5:0.000}  {row.Label}");
}
