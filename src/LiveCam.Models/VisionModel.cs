using LiveCam.Core;
using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>A network with everything needed to run it on camera frames: preprocessing, how to read its
/// outputs, and sensible explanation defaults.</summary>
public sealed class VisionModel : IDisposable
{
    public VisionModel(string name, nn.Module<Tensor, Tensor> network, Device device, int inputWidth, int inputHeight,
        Func<Mat, Device, Tensor> preprocess, PredictionKind kind, string defaultLayer, string defaultTarget, string weights,
        Func<int, int, Rect>? inputRegion = null)
    {
        Name = name;
        Network = network;
        Device = device;
        InputWidth = inputWidth;
        InputHeight = inputHeight;
        _preprocess = preprocess;
        Kind = kind;
        DefaultLayer = defaultLayer;
        DefaultTarget = defaultTarget;
        Weights = weights;
        _inputRegion = inputRegion ?? ((w, h) => new Rect(0, 0, w, h));
    }

    readonly Func<Mat, Device, Tensor> _preprocess;
    readonly Func<int, int, Rect> _inputRegion;

    public string Name { get; }
    public nn.Module<Tensor, Tensor> Network { get; }
    public Device Device { get; }
    public int InputWidth { get; }
    public int InputHeight { get; }
    public PredictionKind Kind { get; }
    /// <summary>The layer CAM methods explain unless told otherwise.</summary>
    public string DefaultLayer { get; }
    /// <summary>The target explained unless told otherwise (<c>all</c> for the robot, <c>top</c> for classifiers).</summary>
    public string DefaultTarget { get; }
    /// <summary>Where the weights came from, for the HUD and reports.</summary>
    public string Weights { get; }

    /// <summary>Class names, one per output (classifiers given a labels file); null: outputs are shown by index.</summary>
    public IReadOnlyList<string>? Labels { get; set; }

    /// <summary>[1, 3, H, W] on the model's device, from a BGR image of any size.</summary>
    public Tensor Preprocess(Mat bgr) => _preprocess(bgr, Device);

    /// <summary>The part of a <paramref name="width"/> x <paramref name="height"/> image the model sees (a centre crop for ImageNet models).</summary>
    public Rect InputRegion(int width, int height) => _inputRegion(width, height);

    /// <summary>A blank input of the model's size, for tracing.</summary>
    public Tensor ExampleInput() => zeros(1, 3, InputHeight, InputWidth, device: Device);

    public void Dispose() => Network.Dispose();
}

/// <summary>A model or weight file that cannot be used; the message is one line for the user.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message) { }
    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
    public ModelLoadException() { }
}
