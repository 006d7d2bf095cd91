using LiveCam.Models.Robot;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// The robot model's answer drawn like the paper: five columns (sensors lx..rx, left to right), 31 rows
/// (distance 0..30 cm, 0 at the bottom), each cell from light (p = 0) to dark red (p = 1), and a black tick at
/// each sensor's estimated free distance.
/// </summary>
public static class ProximityGridPainter
{
    /// <summary>The cell colour for probability <paramref name="p"/> (BGR), the renderer's rule.</summary>
    public static Scalar CellColour(double p)
    {
        var (r, g, b) = Rendering.ProximityBars.CellColour(p);
        return new Scalar(b * 255, g * 255, r * 255);
    }

    /// <summary>A new panel of <paramref name="height"/> pixels with the grid and its labels.</summary>
    public static Mat Panel(RobotPrediction prediction, int height, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        int width = Math.Max(120, height / 2);
        var panel = new Mat(height, width, MatType.CV_8UC3, Scalar.White);
        var area = new Rect(8, 24, width - 16, height - 24 - 22);
        Draw(panel, area, prediction, threshold);
        double font = Math.Clamp(height / 900.0, 0.3, 0.6);
        for (int s = 0; s < 5; s++)
        {
            int x = area.X + s * area.Width / 5 + 2;
            Cv2.PutText(panel, RobotPrediction.SensorNames[s], new Point(x, 16), HersheyFonts.HersheySimplex, font, Scalar.Black, 1, LineTypes.AntiAlias);
        }
        Cv2.PutText(panel, "0 cm", new Point(area.X, height - 6), HersheyFonts.HersheySimplex, font, Scalar.Black, 1, LineTypes.AntiAlias);
        return panel;
    }

    /// <summary>Draws the grid into <paramref name="area"/> of <paramref name="canvas"/>.</summary>
    public static void Draw(Mat canvas, Rect area, RobotPrediction prediction, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(prediction);
        const int rows = RobotPrediction.CalibratedDistances;
        for (int s = 0; s < 5; s++)
        {
            int x0 = area.X + s * area.Width / 5, x1 = area.X + (s + 1) * area.Width / 5 - 1;
            for (int d = 0; d < rows; d++)
            {
                int y1 = area.Bottom - d * area.Height / rows, y0 = area.Bottom - (d + 1) * area.Height / rows;
                Cv2.Rectangle(canvas, new Point(x0, y0), new Point(x1 - 1, y1 - 1), CellColour(prediction.Probability(d, s)), -1);
            }
            if (prediction.FreeDistance(s, threshold) is { } free)
            {
                int y = area.Bottom - free * area.Height / rows;
                Cv2.Line(canvas, new Point(x0, y), new Point(x1 - 1, y), Scalar.Black, Math.Max(2, area.Height / 150));
            }
        }
    }
}
