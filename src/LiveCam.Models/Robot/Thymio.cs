using LiveCam.Capture.Synthetic;

namespace LiveCam.Models.Robot;

/// <summary>A proximity sensor on the robot's front arc: where it sits (x to the right of the front's centre, z ahead
/// of it, cm) and where it looks (degrees from straight ahead, positive to the right).</summary>
public sealed record ProximitySensor(string Name, double X, double Z, double AngleDegrees);

/// <summary>
/// The robot the model is of, a Thymio: its five front proximity sensors, how far they see, its body; and from those
/// the labels of the long-range perception task for a world of the synthetic scene, by geometry.
/// </summary>
public static class Thymio
{
    /// <summary>Left to right, in the order of the model's outputs (lx, cl, cx, cr, rx).</summary>
    public static IReadOnlyList<ProximitySensor> Sensors { get; } =
    [
        new("lx", -5.5, -1.6, -40),
        new("cl", -2.9, -0.5, -20),
        new("cx", 0, 0, 0),
        new("cr", 2.9, -0.5, 20),
        new("rx", 5.5, -1.6, 40),
    ];

    /// <summary>How far a sensor sees an obstacle, cm.</summary>
    public const double SensorRange = 11;

    /// <summary>The robot's half width and length behind its front, for "would it have hit something".</summary>
    const double HalfWidth = 5.5, Length = 11;

    /// <summary>
    /// Labels for distances 0..64 and the 5 sensors, index d * 5 + s (the model's outputs): 1 when sensor s, after the
    /// robot has driven d cm straight ahead, sees an obstacle within its range; 0 when it sees none; -1 (unknown) when
    /// the robot could not be there because it would have hit something first.
    /// </summary>
    public static float[] Labels(SceneLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        const int distances = LongRangePerceptionNet.Distances, sensors = LongRangePerceptionNet.Sensors;
        var labels = new float[distances * sensors];
        for (int d = 0; d < distances; d++)
        {
            bool blocked = layout.Obstacles.Any(o => Overlaps(o, d));
            for (int s = 0; s < sensors; s++)
                labels[d * sensors + s] = blocked ? -1 : SensorSees(layout, Sensors[s], d) ? 1 : 0;
        }
        return labels;
    }

    /// <summary>Whether the robot's body, moved <paramref name="d"/> cm ahead, intersects the obstacle.</summary>
    static bool Overlaps(Obstacle o, double d)
    {
        double half = o.Size / 2;
        // The footprint as a box (a cylinder's bounding square: the robot is not a precise instrument either).
        return Math.Abs(o.X) < HalfWidth + half && o.Z + half > d - Length && o.Z - half < d;
    }

    static bool SensorSees(SceneLayout layout, ProximitySensor sensor, double d)
    {
        double a = sensor.AngleDegrees * Math.PI / 180, dx = Math.Sin(a), dz = Math.Cos(a);
        for (double t = 0; t <= SensorRange; t += 0.25)
        {
            double px = sensor.X + dx * t, pz = d + sensor.Z + dz * t;
            foreach (var o in layout.Obstacles)
            {
                double half = o.Size / 2;
                bool inside = o.Shape == ObstacleShape.Cylinder
                    ? (px - o.X) * (px - o.X) + (pz - o.Z) * (pz - o.Z) <= half * half
                    : Math.Abs(px - o.X) <= half && Math.Abs(pz - o.Z) <= half;
                if (inside) return true;
            }
        }
        return false;
    }
}
