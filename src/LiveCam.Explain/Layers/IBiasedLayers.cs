using static TorchSharp.torch;

namespace LiveCam.Explain.Layers;

/// <summary>A model whose convolutions are not modules (an ONNX graph run as functions) but whose outputs are: each
/// convolution's output layer and the bias added there, for methods that decompose a score into bias terms
/// (FullGrad).</summary>
public interface IBiasedLayers
{
    /// <summary>(module path of the output, bias [C]) for every convolution with a bias.</summary>
    IEnumerable<(string ModulePath, Tensor Bias)> ConvolutionBiases();
}
