using LiveCam.Explain.Engine;
using static TorchSharp.torch;

namespace LiveCam.Models.Teach;

/// <summary>A network of features with a taught head on top: a classifier of the taught classes (<c>--head</c>, and
/// <c>teach</c> while it teaches).</summary>
public static class TaughtModel
{
    /// <summary>The model's outputs as the head's classes. The model becomes the returned one's (spent here).</summary>
    /// <param name="head">A trained head, or null to start untaught (live teaching offers heads as they are trained).
    /// </param>
    /// <exception cref="ModelLoadException">The head was taught on another network, or on features of another size.
    /// </exception>
    public static VisionModel Attach(VisionModel features, TaughtHead? head)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (head is not null)
        {
            if (!string.Equals(head.Model, features.Name, StringComparison.Ordinal))
                throw new ModelLoadException(
                    $"the head was taught on {head.Model}, not {features.Name} (use --model {head.Model})");
            long count = FeatureCount(features);
            if (count != head.FeatureCount)
                throw new ModelLoadException(
                    $"the head takes {head.FeatureCount} features; {features.Name} makes {count}");
        }
        TaughtNetwork? network = null;
        var weights = head is null
            ? $"{features.Weights} + a head taught live"
            : $"{features.Weights} + head of {string.Join(", ", head.Classes)}";
        return features.HandOn(backbone => network = new TaughtNetwork(backbone, head, features.Device),
            new TaughtClassesHead(() => network?.Current), weights, "gradcam", TaughtNetwork.BackbonePath);
    }

    /// <summary>How many features the model's output has (flattened).</summary>
    public static long FeatureCount(VisionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var state = ModelStateGuard.ForInference(model.Network);
        using var _ = no_grad();
        return model.Network.call(model.ExampleInput()).flatten(1).shape[1];
    }
}
