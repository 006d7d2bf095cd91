using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;

namespace LiveCam.Models;

/// <summary>
/// How a model's outputs read as predictions: the JSON and the targets the window's keys step through, and how they are
/// shown (<see cref="IPredictionDrawing"/>: the HUD line, the inset drawn by either back end). Everything that knows
/// what the outputs mean lives behind this, with the model; the pipeline, the drawing and the command line only call
/// it.
/// </summary>
public interface IPredictionHead : IPredictionDrawing
{
    /// <summary>The target explained unless told otherwise, as <see cref="ParseTarget"/> reads it.</summary>
    string DefaultTarget { get; }

    /// <summary>Whether the outputs are free distances per proximity sensor, as <see cref="Robot.RobotPrediction"/>
    /// reads them: what the article's robustness test looks at.</summary>
    bool OutputsAreFreeDistances => false;

    /// <summary>Whether the outputs are a classifier's logits (confidence is then a class's softmax probability).
    /// </summary>
    bool OutputsAreClassLogits { get; }

    /// <summary>Reads the outputs once where the analysis runs (a detector's boxes, a segmenter's mask), so the display
    /// thread that draws them finds them read and runs no network code of its own.</summary>
    void Decode(IReadOnlyList<float> outputs) { }

    /// <summary>The predictions as plain values for JSON.</summary>
    /// <param name="explained">The output the explanation is of, as the analysis names it.</param>
    /// <param name="inputRegion">The part of the image the model saw, in the image's pixels: where a prediction has a
    /// place (a box), it is given there; null: in the model input's pixels.</param>
    IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null);

    /// <summary>A target as the command line or the keys name it (<c>--target</c>): the general forms of
    /// <see cref="Target.Parse"/> unless the outputs have targets of their own (a detector's boxes).</summary>
    /// <exception cref="FormatException">Not a target of this head's.</exception>
    Target ParseTarget(string text) => Target.Parse(text);

    /// <summary>The class of every pixel of the model's output, at its own resolution (a segmenter's mask); null when
    /// the outputs are not per pixel.</summary>
    ClassMask? PixelClasses(IReadOnlyList<float> outputs) => null;

    /// <summary>How many names <c>--labels</c> must give for a model of <paramref name="outputCount"/> outputs: one per
    /// output unless the head says otherwise (a detector's classes).</summary>
    long LabelCount(long outputCount) => outputCount;

    /// <summary>The target after <paramref name="current"/> when a key steps by <paramref name="by"/>; null when it
    /// cannot step yet (the number of outputs is not known before the first analysis).</summary>
    /// <param name="lastExplained">The output the last explanation was of, when it was of one.</param>
    Target? StepTarget(Target current, int by, int outputCount, int? lastExplained);

    /// <summary>What a summary of many frames follows over time and a comparison of two runs checks, frame by frame
    /// (the robot: each sensor's free distance; a classifier: its top class; a detector: its number of boxes); none
    /// when the outputs are not read that way.</summary>
    IReadOnlyList<PredictionReading> Readings(IReadOnlyList<float> outputs) => [];

    /// <summary>This head with names for its outputs (<c>--labels</c>).</summary>
    /// <exception cref="ArgumentException">The outputs are not classes.</exception>
    IPredictionHead WithLabels(IReadOnlyList<string> labels);
}

/// <summary>One quantity a head reads from a frame's outputs, as <c>summary</c> follows it and compares two runs'.
/// </summary>
/// <param name="Quantity">What is read: a sensor ("left"), "top-1", "boxes".</param>
/// <param name="Value">The value as text: "12 cm", "free", "tabby cat", "3".</param>
/// <param name="Number">The value as a number where it is one (cm, a count); null otherwise ("free", a class).</param>
/// <param name="Tolerance">How far two numbers may be apart and still agree.</param>
public sealed record PredictionReading(string Quantity, string Value, double? Number = null, double Tolerance = 0)
{
    /// <summary>Two numbers agree within the larger tolerance; anything else only when the texts are equal (free and
    /// 12 cm never agree).</summary>
    public bool AgreesWith(PredictionReading other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Number is { } a && other.Number is { } b
            ? Math.Abs(a - b) <= Math.Max(Tolerance, other.Tolerance)
            : Number is null && other.Number is null && string.Equals(Value, other.Value, StringComparison.Ordinal);
    }
}
