using System.Runtime.InteropServices;
using LiveCam.Capture.Synthetic;
using OpenCvSharp;

namespace LiveCam.Models.Robot.Training;

/// <summary>
/// Synthetic training and evaluation data for the robot model: random worlds seen by the robot's camera,
/// rendered at 160x128 and resized to the model's 80x64 exactly as live frames are, with labels by geometry.
/// Sample i depends only on (seed, i), so a set is reproducible and fresh seeds give held-out sets.
/// </summary>
public sealed class RobotDataset
{
    public const int RenderWidth = 160, RenderHeight = 128;
    const int Pixels = 3 * LongRangePerceptionNet.InputHeight * LongRangePerceptionNet.InputWidth;

    RobotDataset(int count, byte[] images, float[] labels)
    {
        Count = count;
        Images = images;
        Labels = labels;
    }

    public int Count { get; }
    /// <summary>80x64 BGR images, HWC bytes, one after the other.</summary>
    public byte[] Images { get; }
    /// <summary>325 labels per image (1, 0, or -1 for unknown), index d * 5 + s.</summary>
    public float[] Labels { get; }

    public ReadOnlySpan<byte> Image(int i) => Images.AsSpan(i * Pixels, Pixels);
    public ReadOnlySpan<float> LabelsOf(int i) =>
        Labels.AsSpan(i * LongRangePerceptionNet.Outputs, LongRangePerceptionNet.Outputs);

    public static RobotDataset Generate(int count, int seed, Action<int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var images = new byte[count * Pixels];
        var labels = new float[count * LongRangePerceptionNet.Outputs];
        int done = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var random = new Random(SampleSeed(seed, i));
            var (layout, floorColour, textureSeed) = RandomLayout(random);
            using (var floor = FloorWorld.RasteriseFloor(RenderWidth, RenderHeight, floorColour, textureSeed,
                tile: 15 + random.NextDouble() * 30))
            using (var frame = new Mat(RenderHeight, RenderWidth, MatType.CV_8UC3))
            {
                FloorWorld.Render(layout, floor, frame);
                using var small = RobotPreprocessing.Resize(frame);
                Marshal.Copy(small.Data, images, i * Pixels, Pixels);
            }
            Thymio.Labels(layout).CopyTo(labels, i * LongRangePerceptionNet.Outputs);
            int n = Interlocked.Increment(ref done);
            if (n % 500 == 0) progress?.Invoke(n);
        });
        return new RobotDataset(count, images, labels);
    }

    /// <summary>A seed per sample that is the same in every process (HashCode.Combine is randomised per process).
    /// </summary>
    static int SampleSeed(int seed, int index)
    {
        // SplitMix64 finaliser over (seed, index).
        ulong z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & 0x7FFFFFFF);
    }

    /// <summary>A random world: floor, 0-3 obstacles of varied shape, size and colour (a quarter of them the
    /// floor's colour), light strength, tint and shadow direction.</summary>
    public static (SceneLayout Layout, Scalar Floor, int TextureSeed) RandomLayout(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var floor = SyntheticScene.FloorColours[random.Next(SyntheticScene.FloorColours.Length)];
        floor = new Scalar(Jitter(random, floor.Val0, 25), Jitter(random, floor.Val1, 25),
            Jitter(random, floor.Val2, 25));
        int count = random.NextDouble() switch { < 0.15 => 0, < 0.55 => 1, < 0.85 => 2, _ => 3 };
        var obstacles = new List<Obstacle>();
        for (int i = 0; i < count; i++)
        {
            double size = 3 + random.NextDouble() * 9;
            Scalar colour = random.NextDouble() switch
            {
                < 0.25 => SyntheticScene.Scale(floor, 0.9 + random.NextDouble() * 0.15),
                < 0.7 => SyntheticScene.ObstacleColours[random.Next(SyntheticScene.ObstacleColours.Length)],
                _ => new Scalar(random.Next(256), random.Next(256), random.Next(256)),
            };
            // Mostly ahead and within the view; distances chosen so that near and far cases are both common.
            double z = -2 + Math.Pow(random.NextDouble(), 1.3) * 60;
            double x = (random.NextDouble() - 0.5) * (12 + z * 1.2);
            obstacles.Add(new Obstacle(random.Next(3) == 0 ? ObstacleShape.Cylinder : ObstacleShape.Box, x, z, size,
                size * (0.6 + random.NextDouble() * 1.2), colour));
        }
        double angle = random.NextDouble() * Math.PI * 2;
        var layout = new SceneLayout(obstacles, Gain: 0.6 + random.NextDouble() * 0.65,
            Warm: (random.NextDouble() - 0.5) * 0.16,
            ShadowDirection: (Math.Cos(angle) * (0.2 + random.NextDouble()),
                Math.Sin(angle) * (0.2 + random.NextDouble())),
            ShadowDarkness: random.NextDouble() * 0.6);
        return (layout, floor, random.Next());
    }

    static double Jitter(Random random, double value, double amount) =>
        Math.Clamp(value + (random.NextDouble() - 0.5) * 2 * amount, 0, 255);
}
