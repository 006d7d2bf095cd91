using static TorchSharp.torch;

namespace LiveCam.Explain.Layers;

/// <summary>A network that can hand over one of its layers' values with its output, from one pass and without hooks
/// (an ONNX graph keeps every value it computes): for what needs no gradient, cheaper than a capturing hook, which
/// copies the layer and makes the network check whether it was changed.</summary>
public interface ILayerValues
{
    /// <summary>The output for <paramref name="input"/> and the values of the layer called
    /// <paramref name="layerName"/> in the same pass, computed without gradients, as tensors of the caller's dispose
    /// scope that nothing writes afterwards; null where this network cannot (then a hook captures the layer).</summary>
    (Tensor Output, Tensor Layer)? ForwardWithLayer(Tensor input, string layerName);
}
