using System.Runtime.InteropServices;
using OpenCvSharp;

namespace LiveCam.Capture.Synthetic;

public enum ObstacleShape { Box, Cylinder }

/// <summary>An obstacle on the floor; x to the right and z ahead of the camera (a robot's front), in centimetres.
/// </summary>
public sealed record Obstacle(ObstacleShape Shape, double X, double Z, double Size, double Height, Scalar Colour);

/// <summary>Everything that decides one image of the world (and what a robot's sensors would see in it).</summary>
/// <param name="ShadowDirection">Where shadows fall, per cm of obstacle height (z &lt; 0: towards the camera).</param>
public sealed record SceneLayout(IReadOnlyList<Obstacle> Obstacles, double Gain, double Warm,
    (double X, double Z) ShadowDirection, double ShadowDarkness);

/// <summary>
/// The synthetic scene's world: a textured floor, obstacles with shadows, and the camera every synthetic image is seen
/// through, a pinhole 9 cm above the floor looking down so the floor fills the view (as a small robot's camera does).
/// What a robot's sensors would see of it is the robot's own business (LiveCam.Models' Robot.Thymio).
/// </summary>
public static class FloorWorld
{
    public const double CameraHeight = 9;
    const double FocalFraction = 0.62, HorizonFraction = -0.12;

    public static double Focal(int width) => FocalFraction * width;
    public static double Horizon(int height) => HorizonFraction * height;

    /// <summary>The floor with its tiles and grain, rasterised once per floor (colour, texture, size).</summary>
    public static Mat RasteriseFloor(int width, int height, Scalar colour, int textureSeed, double tile = 30)
    {
        var pixels = new byte[width * height * 3];
        var random = new Random(textureSeed);
        var grain = new double[64];
        for (int i = 0; i < grain.Length; i++) grain[i] = random.NextDouble();
        double streakAngle = random.NextDouble() * Math.PI, streakScale = 0.3 + random.NextDouble();
        double focal = Focal(width), horizon = Horizon(height), cx = width / 2.0;
        for (int y = 0; y < height; y++)
        {
            double dy = y + 0.5 - horizon;
            double z = focal * CameraHeight / dy;
            for (int x = 0; x < width; x++)
            {
                double wx = (x + 0.5 - cx) * z / focal;
                // Half a tile off centre, so no seam runs down the middle of the view like a road marking.
                double u = wx / tile + 0.5, v = z / tile;
                int tx = (int)Math.Floor(u), tz = (int)Math.Floor(v);
                double fx = u - tx, fz = v - tz;
                double seam = Math.Min(Math.Min(fx, 1 - fx), Math.Min(fz, 1 - fz)) * tile;
                double tone = 0.95 + 0.07 * grain[(tx * 7 + tz * 13) & 63];
                double along = wx * Math.Cos(streakAngle) + z * Math.Sin(streakAngle);
                double streak = 0.04 * Math.Sin(along * streakScale + 3 * grain[(tz * 5 + 3) & 63])
                    + 0.02 * Math.Sin(wx * 2.3 - z * 0.37 + grain[(tx * 3 + 1) & 63] * 6);
                double fade = 1.0 / (1 + z / 900);
                double k = (tone + streak) * fade * (seam < 0.3 ? 0.85 : 1);
                int o = (y * width + x) * 3;
                pixels[o] = (byte)Math.Clamp(colour.Val0 * k, 0, 255);
                pixels[o + 1] = (byte)Math.Clamp(colour.Val1 * k, 0, 255);
                pixels[o + 2] = (byte)Math.Clamp(colour.Val2 * k, 0, 255);
            }
        }
        var mat = new Mat(height, width, MatType.CV_8UC3);
        Marshal.Copy(pixels, 0, mat.Data, pixels.Length);
        return mat;
    }

    /// <summary>Renders <paramref name="layout"/> over <paramref name="floor"/> into <paramref name="image"/> (floor's
    /// size).</summary>
    public static void Render(SceneLayout layout, Mat floor, Mat image)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(floor);
        ArgumentNullException.ThrowIfNull(image);
        double lb = layout.Gain * (1 - layout.Warm), lg = layout.Gain, lr = layout.Gain * (1 + layout.Warm);
        Cv2.Multiply(floor, new Scalar(lb, lg, lr), image);
        var projector = new Projector(floor.Width, floor.Height);
        foreach (var o in layout.Obstacles.OrderByDescending(o => o.Z))
        {
            if (o.Z - o.Size / 2 < 1) continue;  // behind or under the camera
            DrawShadow(image, projector, o, layout.ShadowDirection, layout.ShadowDarkness);
            DrawObstacle(image, projector, o, lb, lg, lr);
        }
    }

    readonly struct Projector(int width, int height)
    {
        readonly double _focal = Focal(width), _horizon = Horizon(height), _cx = width / 2.0;
        public int Width => width;
        public int Height => height;

        public Point Project(double x, double elevation, double z)
        {
            z = Math.Max(z, 0.5);
            return new Point((int)Math.Round(_cx + _focal * x / z),
                (int)Math.Round(_horizon + _focal * (CameraHeight - elevation) / z));
        }
    }

    static void DrawShadow(Mat image, Projector p, Obstacle o, (double X, double Z) dir, double darkness)
    {
        if (darkness <= 0) return;
        double h = o.Height, s = o.Size / 2;
        var corners = new List<Point>(8);
        foreach (var (dx, dz) in new[] { (0.0, 0.0), (dir.X * h, dir.Z * h) })
            foreach (var (sx, sz) in new[] { (-s, -s), (s, -s), (s, s), (-s, s) })
                corners.Add(p.Project(o.X + sx + dx, 0, Math.Max(1, o.Z + sz + dz)));
        var hull = Cv2.ConvexHull(corners);
        var box = Cv2.BoundingRect(hull) & new Rect(0, 0, p.Width, p.Height);
        if (box.Width <= 0 || box.Height <= 0) return;
        using var roi = new Mat(image, box);
        using var mask = new Mat(box.Height, box.Width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillConvexPoly(mask, hull.Select(q => new Point(q.X - box.X, q.Y - box.Y)).ToArray(), Scalar.All(255),
            LineTypes.AntiAlias);
        using var dark = new Mat();
        roi.ConvertTo(dark, -1, 1 - darkness);
        dark.CopyTo(roi, mask);
    }

    static void DrawObstacle(Mat image, Projector p, Obstacle o, double lb, double lg, double lr)
    {
        double s = o.Size / 2, h = o.Height, x = o.X, z = o.Z;
        Scalar Shade(double k) => new(o.Colour.Val0 * k * lb, o.Colour.Val1 * k * lg, o.Colour.Val2 * k * lr);
        if (o.Shape == ObstacleShape.Cylinder)
        {
            var bottomL = p.Project(x - s, 0, z);
            var bottomR = p.Project(x + s, 0, z);
            var topL = p.Project(x - s, h, z);
            int rx = Math.Max(1, (bottomR.X - bottomL.X) / 2);
            // Seen from above, the ends are ellipses: flatter the further away.
            int ry = Math.Max(1, (int)(rx * Math.Clamp(CameraHeight / Math.Max(z, 1), 0.15, 0.9)));
            int topRy = Math.Max(1, (int)(rx * Math.Clamp(Math.Abs(CameraHeight - h) / Math.Max(z, 1), 0.05, 0.9)));
            var centreBottom = new Point((bottomL.X + bottomR.X) / 2, bottomL.Y);
            var centreTop = new Point(centreBottom.X, topL.Y);
            Cv2.Ellipse(image, centreBottom, new Size(rx, ry), 0, 0, 180, Shade(0.8), -1, LineTypes.AntiAlias);
            Cv2.Rectangle(image, new Point(bottomL.X, topL.Y), new Point(bottomR.X, bottomL.Y), Shade(0.85), -1);
            Cv2.Rectangle(image, new Point(bottomL.X + rx / 3, topL.Y), new Point(bottomL.X + rx, bottomL.Y),
                Shade(1.0), -1);
            Cv2.Ellipse(image, centreTop, new Size(rx, topRy), 0, 0, 360,
                h < CameraHeight ? Shade(1.15) : Shade(0.75), -1, LineTypes.AntiAlias);
            return;
        }
        double zf = z - s, zb = z + s;
        if (x - s > 0)
            Cv2.FillConvexPoly(image, new[] { p.Project(x - s, 0, zf), p.Project(x - s, 0, zb),
                p.Project(x - s, h, zb), p.Project(x - s, h, zf) }, Shade(0.65), LineTypes.AntiAlias);
        else if (x + s < 0)
            Cv2.FillConvexPoly(image, new[] { p.Project(x + s, 0, zf), p.Project(x + s, 0, zb),
                p.Project(x + s, h, zb), p.Project(x + s, h, zf) }, Shade(0.65), LineTypes.AntiAlias);
        if (h < CameraHeight)
            Cv2.FillConvexPoly(image, new[] { p.Project(x - s, h, zf), p.Project(x + s, h, zf),
                p.Project(x + s, h, zb), p.Project(x - s, h, zb) }, Shade(1.15), LineTypes.AntiAlias);
        Cv2.FillConvexPoly(image, new[] { p.Project(x - s, 0, zf), p.Project(x + s, 0, zf),
            p.Project(x + s, h, zf), p.Project(x - s, h, zf) }, Shade(0.9), LineTypes.AntiAlias);
    }
}
