namespace LiveCam.Explain;

/// <summary>What an explanation method must know about a model that its modules do not show.</summary>
/// <param name="OutputsAreClassLogits">The outputs are a classifier's logits: methods that weigh by confidence
/// (Score-CAM, the faithfulness metrics) use the class's softmax probability, not the raw logit.</param>
/// <param name="FunctionalReluOutputs">Module paths whose output leaves through a ReLU applied as a function inside
/// the module (TorchSharp's ResNet blocks end in <c>relu_()</c> after the residual sum): no ReLU module marks it,
/// so guided backpropagation applies its rule at these outputs.</param>
public sealed record ModelTraits(
    bool OutputsAreClassLogits = false, IReadOnlyList<string>? FunctionalReluOutputs = null)
{
    public static ModelTraits None { get; } = new();

    public IReadOnlyList<string> FunctionalReluOutputPaths => FunctionalReluOutputs ?? [];
}
