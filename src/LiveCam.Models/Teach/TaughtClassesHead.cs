using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Explain.Targets;
using LiveCam.Models.Classifiers;

namespace LiveCam.Models.Teach;

/// <summary>
/// How a taught head's outputs read: a classifier of its classes once two have examples (the top classes with their
/// probabilities, the explained class outlined); before that, the network's features, with a line saying how to teach.
/// </summary>
/// <param name="current">The head the network runs now (it changes while a head is taught live).</param>
public sealed class TaughtClassesHead(Func<TaughtHead?> current) : IPredictionHead
{
    readonly Func<TaughtHead?> _current = current ?? throw new ArgumentNullException(nameof(current));

    sealed record Labelled(TaughtHead Head, ClassifierHead Classifier);
    Labelled? _labelled;  // the classifier of the last head asked about: made once per head, not per picture

    /// <summary>The classifier for outputs made by the current head, when they are its classes.</summary>
    ClassifierHead? Classifier(IReadOnlyList<float>? outputs)
    {
        if (_current() is not { IsTrained: true } head
            || (outputs is not null && outputs.Count != head.Classes.Count)) return null;
        var labelled = Volatile.Read(ref _labelled);
        if (labelled is null || !ReferenceEquals(labelled.Head, head))
            Volatile.Write(ref _labelled, labelled = new Labelled(head, new ClassifierHead(head.Classes)));
        return labelled.Classifier;
    }

    public IReadOnlyList<PredictionReading> Readings(IReadOnlyList<float> outputs) =>
        Classifier(outputs) is { } classifier ? classifier.Readings(outputs) : [];

    public string DefaultTarget => "top";

    public bool OutputsAreClassLogits => _current() is { IsTrained: true };

    public HudLine? Line(IReadOnlyList<float> outputs, int? explained)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (Classifier(outputs) is { } classifier) return classifier.Line(outputs, explained);
        return new HudLine(HowToTeach(_current()));
    }

    /// <summary>What to do next, in one line (how many examples each class has is the teaching mode's to say).
    /// </summary>
    public static string HowToTeach(TaughtHead? head) => head is null || head.Classes.Count == 0
        ? "teach: show me a thing and press 1, then another and press 2"
        : $"teach: now show me something other than {head.Classes[0]} and press its number key";

    public IInset? Inset(IReadOnlyList<float> outputs, int? explained) =>
        Classifier(outputs)?.Inset(outputs, explained);

    public IReadOnlyList<PredictionBar> Bars(IReadOnlyList<float> outputs) => Classifier(outputs)?.Bars(outputs) ?? [];

    public IReadOnlyDictionary<string, object?> Json(IReadOnlyList<float> outputs, int? explained = null,
        PixelRect? inputRegion = null)
    {
        if (Classifier(outputs) is { } classifier)
        {
            var json = new Dictionary<string, object?>(classifier.Json(outputs)) { ["classes"] = _current()!.Classes };
            return json;
        }
        return new Dictionary<string, object?> { ["untaught"] = true, ["features"] = outputs.Count };
    }

    public Target? StepTarget(Target current, int by, int outputCount, int? lastExplained) =>
        new ClassifierHead().StepTarget(current, by, outputCount, lastExplained);

    public string? Label(int index) => Classifier(null)?.Label(index);

    public IPredictionHead WithLabels(IReadOnlyList<string> labels) =>
        throw new ArgumentException("a taught head names its classes itself (teach --classes, or its folders' names)");
}
