using LiveCam.Drawing;
namespace LiveCam.Models.Robot;

/// <summary>
/// The robot model's distance bars, as the paper draws them: one column per sensor (left to right), 31 cells from
/// distance 0 at the bottom to 30 cm at the top, light (p = 0) to dark red (p = 1), and a black marker at each
/// sensor's estimated free distance. Sized with the picture.
/// </summary>
/// <param name="Probability">(distance, sensor) -> p.</param>
/// <param name="FreeDistances">Per sensor, the estimated free distance (null: free).</param>
public sealed record ProximityInset(Func<int, int, float> Probability, IReadOnlyList<int?> FreeDistances) : IInset
{
    public const int Sensors = 5, Cells = 31;
    const float Border = 3;

    /// <summary>Cell colour for probability <paramref name="p"/>, RGB in [0, 1].</summary>
    public static (float R, float G, float B) CellColour(double p)
    {
        float k = (float)Math.Clamp(p, 0, 1);
        return ((250 * (1 - k) + 150 * k) / 255f, (245 * (1 - k) + 20 * k) / 255f, (245 * (1 - k) + 20 * k) / 255f);
    }

    /// <summary>The cell of (distance, sensor) inside the bars' <paramref name="area"/> (x, y from the top-left).
    /// </summary>
    public static (float X, float Y, float Width, float Height) Cell((float X, float Y, float Width, float Height) area,
        int distance, int sensor)
    {
        float w = area.Width / Sensors, h = area.Height / Cells;
        return (area.X + sensor * w, area.Y + area.Height - (distance + 1) * h, w, h);
    }

    /// <summary>Where the bars themselves lie in an inset placed at (x, y) with this size (inside its white border).
    /// </summary>
    public static (float X, float Y, float Width, float Height) Bars(float x, float y, float width, float height) =>
        (x + Border, y + Border, width - 2 * Border, height - 2 * Border);

    public (float Width, float Height) Size(GlyphAtlas font, float scale, int targetWidth, int targetHeight)
    {
        // A third of the picture's height, half as wide as tall, never more than a quarter of its width.
        float height = Math.Clamp(targetHeight * 0.34f, 40, 480);
        float width = Math.Min(height * 0.5f, targetWidth * 0.25f);
        return (width, height);
    }

    public void Add(QuadList quads, float x, float y, float width, float height, float scale)
    {
        ArgumentNullException.ThrowIfNull(quads);
        quads.Rectangle(x, y, width, height, new Rgba(1, 1, 1, 0.85f));
        var area = Bars(x, y, width, height);
        // A one-pixel gap keeps columns and rows readable where cells are big enough for it.
        float gapX = area.Width / Sensors >= 6 ? 1 : 0, gapY = area.Height / Cells >= 5 ? 1 : 0;
        for (int s = 0; s < Sensors; s++)
        {
            for (int d = 0; d < Cells; d++)
            {
                var cell = Cell(area, d, s);
                var (r, g, b) = CellColour(Probability(d, s));
                quads.Rectangle(cell.X, cell.Y, cell.Width - gapX, cell.Height - gapY, new Rgba(r, g, b));
            }
            if (FreeDistances[s] is { } free)
            {
                var cell = Cell(area, free, s);
                float thick = Math.Max(2, area.Height / 100);
                quads.Rectangle(cell.X, cell.Y + cell.Height - thick + 1, cell.Width - gapX, thick, Rgba.Black);
            }
        }
    }
}
