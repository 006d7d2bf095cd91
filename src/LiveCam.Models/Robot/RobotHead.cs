using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;

namespace LiveCam.Models.Robot;

/// <summary>The robot model's outputs as the paper reads them: per sensor, the free distance; drawn as the distance
/// bars; the keys step through all outputs, then each sensor over all distances.</summary>
public sealed class RobotHead : IPredictionHead
{
    public static readonly RobotHead Instance = new();

    readonly IReadOnlyList<Target> _targets =
    [
        Target.Sum(),
        .. Enumerable.Range(0, LongRangePerceptionNet.Sensors).Select(s => Target.Indices(
            Enumerable.Range(0, LongRangePerceptionNet.Distances)
                .Select(d => d * LongRangePerceptionNet.Sensors + s).ToList(),
            $"sensor {RobotPrediction.SensorNames[s]}, all distances")),
    ];

    RobotHead() { }

    public string DefaultTarget => "all";
    public bool OutputsAreFreeDistances => true;
    public bool OutputsAreClassLogits => false;

    static RobotPrediction? Read(IReadOnlyList<float> outputs) =>
        outputs.Count == LongRangePerceptionNet.Outputs ? new RobotPrediction(outputs) : null;

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained) => Read(outputs) is { } p
        ? new HudLine([new HudSegment("free distance: ", 1), new HudSegment(p.Summary())])
        : null;

    public IInset? Inset(IReadOnlyList<float> outputs, int? explained) =>
        Read(outputs) is { } p ? new ProximityInset(p.Probability, p.FreeDistances()) : null;

    /// <summary>Each sensor: how near its obstacle is (full at 0 cm, empty when free) and its free distance.</summary>
    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) => Read(outputs) is { } p
        ? RobotPrediction.SensorNames.Zip(p.FreeDistances()).Select(t => new PredictionBar(t.First,
            t.Second is { } d ? 1 - d / (float)RobotPrediction.CalibratedDistances : 0,
            t.Second is { } cm ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{cm} cm") : "free"))
            .ToList()
        : [];

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null)
    {
        var p = Read(outputs) ?? throw new ArgumentException(
            $"the robot model has {LongRangePerceptionNet.Outputs} outputs, not {outputs.Count}", nameof(outputs));
        return new Dictionary<string, object?>
        {
            ["free_distance_cm"] = RobotPrediction.SensorNames.Zip(p.FreeDistances())
                .ToDictionary(t => t.First, t => (object?)t.Second),
            ["probability_distance_by_sensor"] = Enumerable.Range(0, LongRangePerceptionNet.Distances)
                .Select(d => Enumerable.Range(0, LongRangePerceptionNet.Sensors)
                    .Select(s => p.Probability(d, s)).ToArray()).ToArray(),
        };
    }

    /// <summary>Two free distances this close agree: the paper's distance cells are 1 cm apart and neighbouring cells
    /// cross the 0.5 threshold a frame apart as an obstacle nears.</summary>
    public const double DistanceToleranceCm = 2;

    /// <summary>Each sensor's free distance in cm, or "free".</summary>
    public IReadOnlyList<PredictionReading> Readings(IReadOnlyList<float> outputs) => Read(outputs) is { } p
        ? RobotPrediction.SensorNames.Zip(p.FreeDistances()).Select(t => new PredictionReading(t.First,
            t.Second is { } cm ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{cm} cm") : "free",
            t.Second, DistanceToleranceCm)).ToList()
        : [];

    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained)
    {
        int i = Math.Max(0, _targets.ToList().IndexOf(current));
        return _targets[((i + by) % _targets.Count + _targets.Count) % _targets.Count];
    }

    public string? Label(int index) => null;

    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        throw new ArgumentException("--labels is for classifiers; the robot model's outputs are distances per sensor");
}
