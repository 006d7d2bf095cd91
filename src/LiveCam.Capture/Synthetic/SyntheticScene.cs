using OpenCvSharp;

namespace LiveCam.Capture.Synthetic;

/// <summary>
/// A deterministic moving scene that looks like the robot's camera (<see cref="FloorWorld"/>): a textured floor,
/// a few coloured obstacles (one the colour of the floor) that come towards the camera as the robot drives,
/// their shadows, and light that changes over time. Frame n depends only on (seed, size, fps, n).
/// </summary>
/// <remarks>Cheap by construction: the floor is rasterised once; each frame is one tinted copy of it plus a few
/// polygons.</remarks>
public sealed class SyntheticScene : IDisposable
{
    const double NearestZ = -6, FarthestZ = 90;

    readonly Mat _floor;
    readonly Moving[] _obstacles;
    readonly double _lightPhase;

    public SyntheticScene(int width, int height, double fps = 30, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fps);
        Width = width;
        Height = height;
        Fps = fps;
        var random = new Random(seed);
        var floorColour = FloorColours[random.Next(FloorColours.Length)];
        _lightPhase = random.NextDouble() * Math.PI * 2;
        _obstacles = new Moving[4];
        for (int i = 0; i < _obstacles.Length; i++)
        {
            // The last one has the floor's colour: the hard case of the article's robustness workflow.
            var colour = i == _obstacles.Length - 1
                ? Scale(floorColour, 0.97)
                : ObstacleColours[random.Next(ObstacleColours.Length)];
            double size = 4 + random.NextDouble() * 7;
            _obstacles[i] = new Moving(random.Next(3) == 0 ? ObstacleShape.Cylinder : ObstacleShape.Box, size,
                size * (0.8 + random.NextDouble()), colour, X0: (random.NextDouble() - 0.5) * 24,
                Sway: 2 + random.NextDouble() * 5, SwayPeriod: 3 + random.NextDouble() * 5,
                Phase: random.NextDouble() * Math.PI * 2, Speed: 6 + random.NextDouble() * 8,
                StartZ: NearestZ + (FarthestZ - NearestZ) * (i + random.NextDouble() * 0.5) / _obstacles.Length);
        }
        _floor = FloorWorld.RasteriseFloor(width, height, floorColour, random.Next());
    }

    public int Width { get; }
    public int Height { get; }
    public double Fps { get; }

    public static readonly Scalar[] FloorColours =
    [
        new(172, 176, 170), // grey lino
        new(120, 150, 178), // light wood (BGR)
        new(150, 150, 150), // concrete
        new(160, 172, 150), // pale green-grey
        new(200, 205, 200), // white marble
    ];

    public static readonly Scalar[] ObstacleColours =
    [
        new(30, 40, 210),  // red
        new(200, 120, 30), // blue
        new(40, 170, 60),  // green
        new(30, 190, 230), // yellow
        new(40, 40, 40),   // black
        new(235, 235, 235), // white
    ];

    public static Scalar Scale(Scalar c, double k) => new(c.Val0 * k, c.Val1 * k, c.Val2 * k);

    sealed record Moving(ObstacleShape Shape, double Size, double Height, Scalar Colour, double X0, double Sway,
        double SwayPeriod, double Phase, double Speed, double StartZ);

    /// <summary>The world at frame <paramref name="index"/>: where each obstacle is, and the light.</summary>
    public SceneLayout LayoutAt(long index)
    {
        double t = index / Fps;
        double range = FarthestZ - NearestZ;
        var obstacles = _obstacles.Select(o =>
        {
            // The robot drives forward: obstacles approach, and come back far away once passed.
            double z = FarthestZ - (FarthestZ - o.StartZ + o.Speed * t) % range;
            double x = o.X0 + o.Sway * Math.Sin(2 * Math.PI * t / o.SwayPeriod + o.Phase);
            return new Obstacle(o.Shape, x, z, o.Size, o.Height, o.Colour);
        }).ToList();
        double gain = 0.88 + 0.16 * Math.Sin(2 * Math.PI * t / 9 + _lightPhase);
        double warm = 0.05 * Math.Sin(2 * Math.PI * t / 13 + _lightPhase * 2);
        double angle = 2 * Math.PI * t / 20 + _lightPhase;
        // Z < 0: light from behind the obstacles, shadows towards the camera.
        return new SceneLayout(obstacles, gain, warm, (Math.Cos(angle) * 0.9, 0.2 + 0.8 * Math.Sin(angle)), 0.5);
    }

    /// <summary>Renders frame <paramref name="index"/> into a new image the caller owns.</summary>
    public Mat Render(long index)
    {
        var image = new Mat(Height, Width, MatType.CV_8UC3);
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

    /// <summary>Renders frame <paramref name="index"/> into <paramref name="image"/>.</summary>
    public void Render(long index, Mat image) => FloorWorld.Render(LayoutAt(index), _floor, image);

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
