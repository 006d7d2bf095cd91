using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>
/// Captures a layer's output during the forward pass. When gradients are wanted, the output is cut from
/// the graph and made a leaf that requires grad: gradients then flow from the target back to this layer
/// only, so a Grad-CAM costs about one forward pass. The model continues with a copy of it, so an
/// in-place operation after the layer (ReLU(inplace)) cannot touch the captured values.
/// </summary>
internal sealed class ActivationCapture
{
    public ActivationCapture(HookSet hooks, nn.Module<Tensor, Tensor> layer, DisposeScope owner, bool forGradients)
    {
        hooks.AddForwardHook(layer, (_, _, output) =>
        {
            // Tensors made inside a forward (TorchVision models run forward in their own dispose
            // scope) would be freed when it returns: the captured one belongs to the caller's scope.
            var captured = forGradients ? output.detach().requires_grad_(true) : output.detach().clone();
            // (Moving a tensor into the scope it is already in unbalances TorchSharp's bookkeeping.)
            if (!owner.Contains(captured)) captured.MoveToOtherDisposeScope(owner);
            Activation = captured;
            return forGradients ? captured.clone() : output;
        });
    }

    /// <summary>The layer's output of the last forward pass.</summary>
    public Tensor? Activation { get; private set; }
}
