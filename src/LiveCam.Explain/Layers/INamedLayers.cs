namespace LiveCam.Explain.Layers;

/// <summary>A model whose layers have names of their own rather than module paths (an ONNX graph's tensor names,
/// which may hold characters a module path cannot): layers are found and listed by those names.</summary>
public interface INamedLayers
{
    /// <summary>The module path of the layer called <paramref name="layerName"/>, or null when there is none.</summary>
    string? ModulePath(string layerName);

    /// <summary>The layer name of the module at <paramref name="modulePath"/>.</summary>
    string LayerName(string modulePath);

    /// <summary>What makes the layer at <paramref name="modulePath"/> (an operator: Conv, Relu), or null to use the
    /// module's type.</summary>
    string? LayerType(string modulePath);

    /// <summary>How the channels of the layer at <paramref name="modulePath"/> are laid out when it is 4-D: "NCHW" or
    /// "NHWC" (a graph converted from TensorFlow); null when not known (then NCHW, as TorchSharp's modules give).
    /// </summary>
    string? LayerLayout(string modulePath) => null;
}
