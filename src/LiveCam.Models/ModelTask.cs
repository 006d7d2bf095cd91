using LiveCam.Models.Classifiers;
using LiveCam.Models.Detection;
using LiveCam.Models.Segmentation;

namespace LiveCam.Models;

/// <summary>What an imported model's outputs are for, and how its head is made from them.</summary>
/// <param name="OutputShapes">Each graph output's shape without the batch, in the graph's order.</param>
/// <param name="Decoder">How the outputs are decoded (<c>--decoder</c>, the sidecar's); null: guessed from the
/// shapes.</param>
public sealed record TaskContext(IReadOnlyList<long[]> OutputShapes, int InputWidth, int InputHeight, string? Decoder,
    IReadOnlyList<string>? Labels, float? ScoreThreshold, float? IouThreshold);

/// <summary>A task a model can do (classify, detect, segment): its head, its decoders and the explanation that suits it
/// unless told otherwise. Each lives in its task's folder; <see cref="ModelTasks"/> lists them.</summary>
public interface IModelTask
{
    string Name { get; }

    /// <summary>The decoders it knows (<c>--decoder</c>); empty when its outputs need none.</summary>
    IReadOnlyList<string> Decoders { get; }

    /// <summary>The explanation method used unless told otherwise.</summary>
    string DefaultMethod { get; }

    /// <summary>Whether CAM methods look, unless told otherwise, at the features its prediction layers read (a
    /// detector's) rather than at those pooled into its prediction (a classifier's).</summary>
    bool ExplainsHeadInputs => false;

    /// <exception cref="ModelLoadException">The outputs do not fit the task or the decoder.</exception>
    IPredictionHead CreateHead(TaskContext context);
}

/// <summary>The tasks, each registered here once.</summary>
public static class ModelTasks
{
    public static IReadOnlyList<IModelTask> All { get; } = [new ClassifyTask(), new DetectTask(), new SegmentTask()];

    /// <exception cref="ModelLoadException">No task has that name.</exception>
    public static IModelTask Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(t => string.Equals(t.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ModelLoadException(
                $"unknown task '{name}'; tasks: {string.Join(", ", All.Select(t => t.Name))}");
    }
}
