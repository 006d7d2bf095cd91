using TorchSharp;
using LiveCam.Models.Classifiers;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>An ONNX file as a model (<c>--model PATH.onnx</c>): the graph run by TorchSharp, ImageNet's input by default.</summary>
public static class OnnxModel
{
    public static bool IsOnnxPath(string name) => name.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <exception cref="ModelLoadException">The file cannot be read or run; one line naming why.</exception>
    public static VisionModel Load(string path, Device device)
    {
        OnnxNetwork network;
        try { network = new OnnxNetwork(OnnxFile.Read(path)); }
        catch (OnnxFormatException e) { throw new ModelLoadException($"cannot load '{path}': {e.Message}", e); }
        try
        {
            var dims = network.Input.Dims;
            if (dims is { Length: 4 } && dims[1] is not (-1 or 3)) throw new ModelLoadException($"cannot load '{path}': its input has {dims[1]} channels; an image model has 3");
            // A fixed input size is taken as it is; a symbolic one gets ImageNet's 224.
            int height = dims is { Length: 4 } && dims[2] > 0 ? (int)dims[2] : 224, width = dims is { Length: 4 } && dims[3] > 0 ? (int)dims[3] : 224;
            if (height != width) throw new ModelLoadException($"cannot load '{path}': a {width}x{height} input is not supported yet (square inputs only)");
            var input = new ImageNetPreprocessing(height, (int)Math.Round(height * 256 / 224.0));
            network.to(device);
            return new VisionModel(Path.GetFileName(path), network, device, new ModelInput(width, height, (image, d) => input.ToTensor(image, d), input.CropOf),
                new ClassifierHead(), network.DefaultLayer(), Path.GetFileName(path));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
