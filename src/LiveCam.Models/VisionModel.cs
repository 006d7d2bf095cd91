using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>What a network takes: its input size, and how a frame becomes that input.</summary>
/// <param name="Preprocess">[1, 3, H, W] on the device, from a BGR image of any size.</param>
/// <param name="Region">The part of a width x height image the model sees (a centre crop for ImageNet models); null: all of it.</param>
public sealed record ModelInput(int Width, int Height, Func<Mat, Device, Tensor> Preprocess, Func<int, int, Rect>? Region = null);

/// <summary>A model LiveCam knows by name: registered once in <see cref="ModelCatalog"/>.</summary>
/// <param name="Load">Builds the network and loads weights (null: the shipped weights, or a random initialisation).</param>
public sealed record ModelDescriptor(string Name, string Summary, Func<string?, Device, VisionModel> Load);

/// <summary>A loaded model: the network with everything needed to run it on camera frames, read its outputs and
/// explain it. Made by a <see cref="ModelDescriptor"/>.</summary>
public sealed class VisionModel : IDisposable
{
    readonly ModelInput _input;

    /// <param name="network">Owned: disposed with the model.</param>
    /// <param name="defaultLayer">The layer CAM methods explain unless told otherwise.</param>
    /// <param name="weights">Where the weights came from, for the HUD and reports.</param>
    public VisionModel(string name, nn.Module<Tensor, Tensor> network, Device device, ModelInput input, IPredictionHead head, string defaultLayer, string weights)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device ?? throw new ArgumentNullException(nameof(device));
        _input = input ?? throw new ArgumentNullException(nameof(input));
        Head = head ?? throw new ArgumentNullException(nameof(head));
        DefaultLayer = defaultLayer ?? throw new ArgumentNullException(nameof(defaultLayer));
        Weights = weights ?? throw new ArgumentNullException(nameof(weights));
    }

    public string Name { get; }
    public nn.Module<Tensor, Tensor> Network { get; }
    public Device Device { get; }
    public int InputWidth => _input.Width;
    public int InputHeight => _input.Height;
    /// <summary>How the outputs read and are shown.</summary>
    public IPredictionHead Head { get; private set; }
    public string DefaultLayer { get; }
    /// <summary>The target explained unless told otherwise.</summary>
    public string DefaultTarget => Head.DefaultTarget;
    /// <summary>The explanation method used unless told otherwise.</summary>
    public string DefaultMethod { get; init; } = "gradcam";
    public string Weights { get; }

    /// <summary>Names the outputs (<c>--labels</c>).</summary>
    /// <exception cref="ArgumentException">The outputs are not classes.</exception>
    public void UseLabels(IReadOnlyList<string> labels) => Head = Head.WithLabels(labels);

    /// <summary>[1, 3, H, W] on the model's device, from a BGR image of any size.</summary>
    public Tensor Preprocess(Mat bgr) => _input.Preprocess(bgr, Device);

    /// <summary>The part of a <paramref name="width"/> x <paramref name="height"/> image the model sees.</summary>
    public Rect InputRegion(int width, int height) => _input.Region?.Invoke(width, height) ?? new Rect(0, 0, width, height);

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
