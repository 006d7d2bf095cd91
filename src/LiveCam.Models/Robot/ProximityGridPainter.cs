using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Models.Robot;

/// <summary>
/// The robot model's answer as a panel of its own, like the paper's figure: the distance bars of the live view's
/// inset (<see cref="ProximityInset"/>, the same quads) on white, with the sensors named above and 0 cm below.
/// </summary>
public static class ProximityGridPainter
{
    /// <summary>A new panel of <paramref name="height"/> pixels, owned by the caller.</summary>
    public static Mat Panel(RobotPrediction prediction, int height, float threshold = 0.5f)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        int width = Math.Max(120, height / 2);
        var panel = new Mat(height, width, MatType.CV_8UC3, Scalar.White);
        try
        {
            var quads = new QuadList(GlyphAtlas.Shared);
            float scale = Math.Clamp(height / 450f, 0.6f, 1.2f), line = quads.Font.LineHeight(scale);
            float top = line + 4, bottom = height - line - 2;
            new ProximityInset(prediction.Probability, prediction.FreeDistances(threshold))
                .Add(quads, 8, top, width - 16, bottom - top, scale);
            var bars = ProximityInset.Bars(8, top, width - 16, bottom - top);
            for (int s = 0; s < ProximityInset.Sensors; s++)
                quads.Text(RobotPrediction.SensorNames[s], bars.X + s * bars.Width / ProximityInset.Sensors + 1, 2,
                    scale, Rgba.Black);
            quads.Text("0 cm", bars.X, bottom + 1, scale, Rgba.Black);
            QuadRasteriser.Draw(quads, panel);
            return panel;
        }
        catch
        {
            panel.Dispose();
            throw;
        }
    }
}
