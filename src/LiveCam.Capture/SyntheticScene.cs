using System.Runtime.InteropServices;
using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>
/// A deterministic moving scene that looks like a small robot's camera: a textured floor in
/// perspective, a few coloured obstacles (one the colour of the floor) that come towards the camera,
/// their shadows, and light that changes over time. Frame n depends only on (seed, size, fps, n).
/// </summary>
/// <remarks>
/// Cheap by construction: the floor is rasterised once per scene; each frame is one tinted copy of it
/// plus a few filled polygons.
/// </remarks>
public sealed class SyntheticScene : IDisposable
{
    // Units: centimetres. A pinhole camera 9 cm above the floor, looking slightly down.
    const double CameraHeight = 9;
    const double NearestZ = 12, FarthestZ = 160;

    readonly int _width, _height;
    readonly double _fps, _focal, _horizon;
    readonly Mat _floor;
    readonly Obstacle[] _obstacles;
    readonly Scalar _floorColour;
    readonly double _lightPhase;

    public SyntheticScene(int width, int height, double fps = 30, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fps);
        _width = width;
        _height = height;
        _fps = fps;
        _focal = 0.85 * width;
        _horizon = 0.12 * height;
        var random = new Random(seed);
        _floorColour = s_floorColours[random.Next(s_floorColours.Length)];
        _lightPhase = random.NextDouble() * Math.PI * 2;
        _obstacles = CreateObstacles(random, _floorColour);
        _floor = RasteriseFloor(random.Next());
    }

    public int Width => _width;
    public int Height => _height;
    public double Fps => _fps;

    static readonly Scalar[] s_floorColours =
    [
        new(172, 176, 170), // grey lino
        new(120, 150, 178), // light wood (BGR)
        new(150, 150, 150), // concrete
        new(160, 172, 150), // pale green-grey
    ];

    static readonly Scalar[] s_obstacleColours =
    [
        new(30, 40, 210),  // red
        new(200, 120, 30), // blue
        new(40, 170, 60),  // green
        new(30, 190, 230), // yellow
        new(40, 40, 40),   // black
    ];

    sealed record Obstacle(bool Cylinder, double Size, double Height, Scalar Colour, double X0, double Sway, double SwayPeriod, double Phase, double Speed, double StartZ);

    static Obstacle[] CreateObstacles(Random random, Scalar floorColour)
    {
        var obstacles = new Obstacle[4];
        for (int i = 0; i < obstacles.Length; i++)
        {
            // The last one has the floor's colour: the hard case the article's robustness workflow tests.
            var colour = i == obstacles.Length - 1 ? new Scalar(floorColour.Val0 * 0.97, floorColour.Val1 * 0.97, floorColour.Val2 * 0.97) : s_obstacleColours[random.Next(s_obstacleColours.Length)];
            double size = 5 + random.NextDouble() * 9;
            obstacles[i] = new Obstacle(
                Cylinder: random.Next(3) == 0,
                Size: size,
                Height: size * (0.8 + random.NextDouble() * 0.9),
                Colour: colour,
                X0: (random.NextDouble() - 0.5) * 60,
                Sway: 4 + random.NextDouble() * 10,
                SwayPeriod: 3 + random.NextDouble() * 5,
                Phase: random.NextDouble() * Math.PI * 2,
                Speed: 6 + random.NextDouble() * 10,
                StartZ: NearestZ + (FarthestZ - NearestZ) * (i + random.NextDouble() * 0.5) / obstacles.Length);
        }
        return obstacles;
    }

    /// <summary>Floor tiles with a grain, darker with distance; a wall above the horizon.</summary>
    Mat RasteriseFloor(int seed)
    {
        var pixels = new byte[_width * _height * 3];
        var random = new Random(seed);
        var grain = new double[64];
        for (int i = 0; i < grain.Length; i++) grain[i] = random.NextDouble();
        double cx = _width / 2.0;
        for (int y = 0; y < _height; y++)
        {
            double dy = y + 0.5 - _horizon;
            for (int x = 0; x < _width; x++)
            {
                int o = (y * _width + x) * 3;
                double b, g, r;
                if (dy <= 0.5)
                {
                    // Wall: pale, lit from above, with a skirting board just above the floor line.
                    double shade = 0.9 + 0.1 * (1 - (double)y / Math.Max(1, _horizon));
                    (b, g, r) = (205 * shade, 210 * shade, 212 * shade);
                    if (dy > -0.015 * _height) (b, g, r) = (70, 72, 80);
                }
                else
                {
                    double z = _focal * CameraHeight / dy;
                    double wx = (x + 0.5 - cx) * z / _focal;
                    const double tile = 30;
                    // Half a tile off centre, so no seam runs down the middle of the view like a road marking.
                    double u = wx / tile + 0.5, v = z / tile;
                    int tx = (int)Math.Floor(u), tz = (int)Math.Floor(v);
                    double fx = u - tx, fz = v - tz;
                    double seam = Math.Min(Math.Min(fx, 1 - fx), Math.Min(fz, 1 - fz)) * tile;
                    double tone = 0.95 + 0.07 * grain[(tx * 7 + tz * 13) & 63];
                    double streak = 0.035 * Math.Sin(wx * 0.7 + 3 * grain[(tz * 5 + 3) & 63] + z * 0.11)
                        + 0.02 * Math.Sin(wx * 2.3 - z * 0.37 + grain[(tx * 3 + 1) & 63] * 6);
                    double fade = 1.0 / (1 + z / 900);
                    double seamDark = seam < 0.35 ? 0.8 + 0.2 * Math.Min(1, z / 400) : 1;
                    double k = (tone + streak) * fade * seamDark;
                    (b, g, r) = (_floorColour.Val0 * k, _floorColour.Val1 * k, _floorColour.Val2 * k);
                }
                pixels[o] = (byte)Math.Clamp(b, 0, 255);
                pixels[o + 1] = (byte)Math.Clamp(g, 0, 255);
                pixels[o + 2] = (byte)Math.Clamp(r, 0, 255);
            }
        }
        var mat = new Mat(_height, _width, MatType.CV_8UC3);
        Marshal.Copy(pixels, 0, mat.Data, pixels.Length);
        return mat;
    }

    /// <summary>Renders frame <paramref name="index"/> into a new image the caller owns.</summary>
    public Mat Render(long index)
    {
        var image = new Mat(_height, _width, MatType.CV_8UC3);
        try
        {
            Render(index, image);
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Renders frame <paramref name="index"/> into <paramref name="image"/> (BGR, scene size).</summary>
    public void Render(long index, Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        double t = index / _fps;
        // Light: slow brightness and warmth changes; the light's direction turns, so shadows swing.
        double gain = 0.88 + 0.16 * Math.Sin(2 * Math.PI * t / 9 + _lightPhase);
        double warm = 0.05 * Math.Sin(2 * Math.PI * t / 13 + _lightPhase * 2);
        Cv2.Multiply(_floor, new Scalar(gain * (1 - warm), gain, gain * (1 + warm)), image);
        double lightAngle = 2 * Math.PI * t / 20 + _lightPhase;
        // Z < 0: light from behind the obstacles, shadows towards the camera (the article's hard case).
        var shadowDir = (X: Math.Cos(lightAngle) * 0.9, Z: 0.2 + 0.8 * Math.Sin(lightAngle));

        Span<(double Z, int Index)> order = stackalloc (double, int)[_obstacles.Length];
        for (int i = 0; i < _obstacles.Length; i++) order[i] = (DepthOf(_obstacles[i], t), i);
        order.Sort((a, b) => b.Z.CompareTo(a.Z));  // far to near
        foreach (var (z, i) in order)
        {
            var o = _obstacles[i];
            double x = o.X0 + o.Sway * Math.Sin(2 * Math.PI * t / o.SwayPeriod + o.Phase);
            DrawShadow(image, o, x, z, shadowDir, gain);
            DrawObstacle(image, o, x, z, gain * (1 - warm), gain, gain * (1 + warm));
        }
    }

    static double DepthOf(Obstacle o, double t)
    {
        // The robot drives forward: obstacles approach, and come back far away once passed.
        double range = FarthestZ - NearestZ;
        double travelled = (FarthestZ - o.StartZ + o.Speed * t) % range;
        return FarthestZ - travelled;
    }

    Point Project(double x, double height, double z) =>
        new((int)Math.Round(_width / 2.0 + _focal * x / z), (int)Math.Round(_horizon + _focal * (CameraHeight - height) / z));

    void DrawShadow(Mat image, Obstacle o, double x, double z, (double X, double Z) dir, double gain)
    {
        double h = o.Height, s = o.Size / 2;
        // The shadow is the hull of the footprint and the footprint pushed away from the light by the height.
        var corners = new List<Point>(8);
        foreach (var (dx, dz) in new[] { (0.0, 0.0), (dir.X * h, dir.Z * h) })
            foreach (var (sx, sz) in new[] { (-s, -s), (s, -s), (s, s), (-s, s) })
                corners.Add(Project(x + sx + dx, 0, Math.Max(4, z + sz + dz)));
        var hull = Cv2.ConvexHull(corners);
        var box = Cv2.BoundingRect(hull) & new Rect(0, 0, _width, _height);
        if (box.Width <= 0 || box.Height <= 0) return;
        using var roi = new Mat(image, box);
        using var mask = new Mat(box.Height, box.Width, MatType.CV_8UC1, Scalar.All(0));
        var local = hull.Select(p => new Point(p.X - box.X, p.Y - box.Y)).ToArray();
        Cv2.FillConvexPoly(mask, local, Scalar.All(255), LineTypes.AntiAlias);
        using var dark = new Mat();
        roi.ConvertTo(dark, -1, 0.5 + 0.1 * (gain - 0.88));
        dark.CopyTo(roi, mask);
    }

    void DrawObstacle(Mat image, Obstacle o, double x, double z, double lb, double lg, double lr)
    {
        double s = o.Size / 2, h = o.Height;
        Scalar Shade(double k) => new(o.Colour.Val0 * k * lb, o.Colour.Val1 * k * lg, o.Colour.Val2 * k * lr);
        if (o.Cylinder)
        {
            var bottomL = Project(x - s, 0, z);
            var bottomR = Project(x + s, 0, z);
            var topL = Project(x - s, h, z);
            int rx = Math.Max(1, (bottomR.X - bottomL.X) / 2);
            int ry = Math.Max(1, (int)(rx * 0.35 * CameraHeight / Math.Max(CameraHeight, 1)));
            var centreTop = new Point((topL.X + bottomR.X) / 2, topL.Y);
            var centreBottom = new Point((bottomL.X + bottomR.X) / 2, bottomL.Y);
            Cv2.Ellipse(image, centreBottom, new Size(rx, ry), 0, 0, 180, Shade(0.8), -1, LineTypes.AntiAlias);
            Cv2.Rectangle(image, new Point(bottomL.X, topL.Y), new Point(bottomR.X, bottomL.Y), Shade(0.85), -1);
            // A lighter band on the lit side gives the body its roundness.
            Cv2.Rectangle(image, new Point(bottomL.X + rx / 3, topL.Y), new Point(bottomL.X + rx, bottomL.Y), Shade(1.0), -1);
            Cv2.Ellipse(image, centreTop, new Size(rx, ry), 0, 0, 360, h < CameraHeight ? Shade(1.15) : Shade(0.75), -1, LineTypes.AntiAlias);
            return;
        }
        double zf = z - s, zb = z + s;
        Point[] front = [Project(x - s, 0, zf), Project(x + s, 0, zf), Project(x + s, h, zf), Project(x - s, h, zf)];
        if (x - s > 0)
            Cv2.FillConvexPoly(image, new[] { Project(x - s, 0, zf), Project(x - s, 0, zb), Project(x - s, h, zb), Project(x - s, h, zf) }, Shade(0.65), LineTypes.AntiAlias);
        else if (x + s < 0)
            Cv2.FillConvexPoly(image, new[] { Project(x + s, 0, zf), Project(x + s, 0, zb), Project(x + s, h, zb), Project(x + s, h, zf) }, Shade(0.65), LineTypes.AntiAlias);
        if (h < CameraHeight)
            Cv2.FillConvexPoly(image, new[] { Project(x - s, h, zf), Project(x + s, h, zf), Project(x + s, h, zb), Project(x - s, h, zb) }, Shade(1.15), LineTypes.AntiAlias);
        Cv2.FillConvexPoly(image, front, Shade(0.9), LineTypes.AntiAlias);
    }

    public void Dispose() => _floor.Dispose();
}

/// <summary>The synthetic scene as a source: paced at its own frame rate by <see cref="CaptureSource"/>.</summary>
public sealed class SyntheticSceneReader : IFrameReader
{
    readonly SyntheticScene _scene;
    readonly string _name;
    long _next;

    public SyntheticSceneReader(int width, int height, double fps, int seed = 0, string? name = null)
    {
        _scene = new SyntheticScene(width, height, fps, seed);
        _name = name ?? $"synthetic:{width}x{height}@{fps:0.##}";
    }

    public SourceInfo Open()
    {
        _next = 0;
        return new SourceInfo(_name, _scene.Width, _scene.Height, _scene.Fps, FrameCount: -1, IsLive: false);
    }

    public ReadStatus Read(out Mat? image)
    {
        image = _scene.Render(_next++);
        return ReadStatus.Frame;
    }

    public bool Rewind()
    {
        _next = 0;
        return true;
    }

    public void Dispose() => _scene.Dispose();
}
