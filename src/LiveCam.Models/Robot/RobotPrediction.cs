namespace LiveCam.Models.Robot;

/// <summary>
/// The robot model's answer for one image: for each distance d (cm the robot will have driven, 0..64) and each
/// proximity sensor s (left to right: lx, cl, cx, cr, rx), the probability that s sees an obstacle there.
/// </summary>
public sealed class RobotPrediction
{
    public static readonly string[] SensorNames = [.. Thymio.Sensors.Select(s => s.Name)];

    /// <summary>The calibrated range: the original evaluation uses distances 0..30 cm.</summary>
    public const int CalibratedDistances = 31;

    readonly float[] _p;

    public RobotPrediction(IReadOnlyList<float> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count != LongRangePerceptionNet.Outputs)
            throw new ArgumentException(
                $"the robot model has {LongRangePerceptionNet.Outputs} outputs, not {outputs.Count}");
        _p = outputs.ToArray();
    }

    /// <summary>Probability of an obstacle for <paramref name="sensor"/> after driving <paramref name="distance"/> cm.
    /// </summary>
    public float Probability(int distance, int sensor) => _p[distance * LongRangePerceptionNet.Sensors + sensor];

    /// <summary>
    /// The estimated free distance of a sensor: the first distance in 0..30 whose probability exceeds
    /// <paramref name="threshold"/>, or null ("free") when none does.
    /// </summary>
    public int? FreeDistance(int sensor, float threshold = 0.5f)
    {
        for (int d = 0; d < CalibratedDistances; d++)
            if (Probability(d, sensor) > threshold) return d;
        return null;
    }

    public IReadOnlyList<int?> FreeDistances(float threshold = 0.5f) =>
        Enumerable.Range(0, LongRangePerceptionNet.Sensors).Select(s => FreeDistance(s, threshold)).ToArray();

    public string Summary(float threshold = 0.5f) =>
        string.Join("  ", Enumerable.Range(0, LongRangePerceptionNet.Sensors)
            .Select(s => $"{SensorNames[s]} {(FreeDistance(s, threshold) is { } d ? $"{d} cm" : "free")}"));
}
