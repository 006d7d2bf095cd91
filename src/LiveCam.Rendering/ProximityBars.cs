namespace LiveCam.Rendering;

/// <summary>
/// The robot model's distance bars, as the paper draws them: one column per sensor (left to right), 31 cells
/// from distance 0 at the bottom to 30 cm at the top, light (p = 0) to dark red (p = 1), and a black marker at
/// each sensor's estimated free distance. Used by the GPU inset and the CPU picture alike.
/// </summary>
public static class ProximityBars
{
    public const int Sensors = 5, Cells = 31;

    /// <summary>Cell colour for probability <paramref name="p"/>, RGB in [0, 1].</summary>
    public static (float R, float G, float B) CellColour(double p)
    {
        float k = (float)Math.Clamp(p, 0, 1);
        return ((250 * (1 - k) + 150 * k) / 255f, (245 * (1 - k) + 20 * k) / 255f, (245 * (1 - k) + 20 * k) / 255f);
    }

    /// <summary>The cell of (distance, sensor) inside <paramref name="area"/> (x, y from the top-left).</summary>
    public static (float X, float Y, float Width, float Height) Cell((float X, float Y, float Width, float Height) area, int distance, int sensor)
    {
        float w = area.Width / Sensors, h = area.Height / Cells;
        return (area.X + sensor * w, area.Y + area.Height - (distance + 1) * h, w, h);
    }

    /// <param name="probability">(distance, sensor) -> p.</param>
    /// <param name="freeDistances">Per sensor, the estimated free distance (null: free).</param>
    public static void Add(QuadBatch batch, (float X, float Y, float Width, float Height) area, Func<int, int, float> probability, IReadOnlyList<int?> freeDistances)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(probability);
        ArgumentNullException.ThrowIfNull(freeDistances);
        batch.Rectangle(area.X - 3, area.Y - 3, area.Width + 6, area.Height + 6, (1, 1, 1, 0.85f));
        for (int s = 0; s < Sensors; s++)
        {
            for (int d = 0; d < Cells; d++)
            {
                var cell = Cell(area, d, s);
                var (r, g, b) = CellColour(probability(d, s));
                // A one-pixel gap keeps columns and rows readable.
                batch.Rectangle(cell.X, cell.Y, cell.Width - 1, cell.Height - 1, (r, g, b, 1));
            }
            if (freeDistances[s] is { } free)
            {
                var cell = Cell(area, free, s);
                batch.Rectangle(cell.X, cell.Y + cell.Height - 2, cell.Width - 1, 3, (0, 0, 0, 1));
            }
        }
    }
}
