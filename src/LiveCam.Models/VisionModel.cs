using LiveCam.Explain;
using LiveCam.Explain.Visualisations;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models;

/// <summary>What a network takes: its input size, how a frame is fitted to it, and how the fitted image becomes a
/// tensor.</summary>
/// <param name="Normalise">[1, 3, H, W] on the device, from a BGR image already of the input's size.</param>
/// <param name="DefaultFit">How frames are fitted unless told otherwise (<c>--fit</c>).</param>
/// <param name="CropFraction">For <see cref="FrameFit.Crop"/>: the share of the frame's centre kept (224/256 for
/// TorchVision's ImageNet models).</param>
public sealed record ModelInput(int Width, int Height, Func<Mat, Device, Tensor> Normalise,
    FrameFit DefaultFit = FrameFit.Stretch, double CropFraction = 1)
{
    /// <summary>The bars' colour when a frame is padded (the training data's mean, so the bars read as "nothing").
    /// </summary>
    public OpenCvSharp.Scalar PadColour { get; init; } = new(128, 128, 128);
    public InterpolationFlags Interpolation { get; init; } = InterpolationFlags.Area;

    /// <summary>The inverse of <see cref="Normalise"/>: a BGR 8-bit image from [1, 3, H, W] (values out of range
    /// clamped); null where the model does not say.</summary>
    public Func<Tensor, Mat>? Denormalise { get; init; }

    /// <summary>The values the normalised input can take (pixels 0..255 in the model's units); null where the model
    /// does not say.</summary>
    public InputRange? Range { get; init; }
}

/// <summary>A model LiveCam knows by name: registered once in <see cref="ModelCatalog"/>.</summary>
/// <param name="Load">Builds the network and loads weights (null: the shipped weights, or a random initialisation).
/// </param>
/// <param name="Head">How its outputs read, as the loaded model has it: known without building the network (a bench
/// draws the model's predictions from made-up outputs).</param>
public sealed record ModelDescriptor(string Name, string Summary, IPredictionHead Head,
    Func<string?, Device, VisionModel> Load)
{
    /// <summary>The weights to load, unless told otherwise, when the frames come from LiveCam's synthetic scene
    /// (weights trained on it); null: the same as for any other source.</summary>
    public string? WeightsForSyntheticScene { get; init; }
}

/// <summary>A loaded model: the network with everything needed to run it on camera frames, read its outputs and
/// explain it. Made by a <see cref="ModelDescriptor"/>.</summary>
public sealed class VisionModel : IDisposable
{
    readonly ModelInput _input;
    bool _handedOn;

    /// <param name="network">Owned: disposed with the model.</param>
    /// <param name="defaultLayer">The layer CAM methods explain unless told otherwise.</param>
    /// <param name="weights">Where the weights came from, for the HUD and reports.</param>
    public VisionModel(string name, nn.Module<Tensor, Tensor> network, Device device, ModelInput input,
        IPredictionHead head, string defaultLayer, string weights)
    {
        Name = name ?? throw new ArgumentNullException(nameof(name));
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device ?? throw new ArgumentNullException(nameof(device));
        _input = input ?? throw new ArgumentNullException(nameof(input));
        Head = head ?? throw new ArgumentNullException(nameof(head));
        Fit = input.DefaultFit;
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

    /// <summary>What runs the passes and parts of passes that need no gradient where the loader chose between
    /// runtimes (an ONNX file: ONNX Runtime or libtorch, with the start-up measurement behind it); null: libtorch.
    /// </summary>
    public string? GradientFreeRuntime { get; init; }

    /// <summary>Module paths whose output leaves through a ReLU applied as a function (see <see cref="ModelTraits"/>).
    /// </summary>
    public IReadOnlyList<string> FunctionalReluOutputs { get; init; } = [];

    /// <summary>What explanation methods must know about this model beyond its modules.</summary>
    public ModelTraits Traits => new(Head.OutputsAreClassLogits, FunctionalReluOutputs);

    /// <summary>An explainer of this model's network that knows its <see cref="Traits"/>.</summary>
    public Explainer CreateExplainer() => new(Network, Traits);

    /// <summary>How many outputs the network gives for one input, counted by one pass of a blank input: when asked, not
    /// when built, since most models are never asked and a head taught while it runs changes its count.</summary>
    public long CountOutputs()
    {
        using var scope = NewDisposeScope();
        using var state = Explain.Engine.ModelStateGuard.ForInference(Network);
        using var _ = no_grad();
        return Network.call(ExampleInput()).shape[^1];
    }

    /// <summary>Names the outputs (<c>--labels</c>).</summary>
    /// <exception cref="ArgumentException">The outputs are not classes.</exception>
    public void UseLabels(IReadOnlyList<string> labels) => Head = Head.WithLabels(labels);

    /// <summary>How frames are fitted to the input (<c>--fit</c>).</summary>
    public FrameFit Fit { get; set; }

    /// <summary>[1, 3, H, W] on the model's device, from a BGR image of any size, fitted as <see cref="Fit"/> says.
    /// An analysis begins here: a network updated while it runs takes its newest weights now.</summary>
    public Tensor Preprocess(Mat bgr)
    {
        (Network as Teach.IUpdatedWhileRunning)?.TakeNewest();
        using var fitted = FrameFitting.Fit(bgr, InputWidth, InputHeight, Fit, _input.CropFraction, _input.PadColour,
            _input.Interpolation);
        return _input.Normalise(fitted, Device);
    }

    /// <summary>The values the input can take, in its normalised units (for images made by gradient ascent).</summary>
    /// <exception cref="InvalidOperationException">The model does not say.</exception>
    public InputRange InputRange =>
        _input.Range ?? throw new InvalidOperationException($"{Name} does not say what values its input takes");

    /// <summary>A BGR 8-bit image (a new Mat the caller owns) from an input [1, 3, H, W] in the model's normalised
    /// units: the inverse of <see cref="Preprocess"/> after the fit.</summary>
    /// <exception cref="InvalidOperationException">The model does not say how.</exception>
    public Mat ToImage(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var denormalise = _input.Denormalise
            ?? throw new InvalidOperationException($"{Name} does not say how its input becomes an image");
        return denormalise(input);
    }

    /// <summary>The part of a <paramref name="width"/> x <paramref name="height"/> image the model sees (past its edges
    /// when padded).</summary>
    public Rect InputRegion(int width, int height) =>
        FrameFitting.Region(width, height, InputWidth, InputHeight, Fit, _input.CropFraction);

    /// <summary>A blank input of the model's size, for tracing.</summary>
    public Tensor ExampleInput() => zeros(1, 3, InputHeight, InputWidth, device: Device);

    /// <summary>This model with its network inside another (a taught head on top), same input and layers. The network
    /// moves to the returned model, which owns it; this one is spent (disposing it does nothing).</summary>
    /// <param name="wrap">Makes the new network around this one's; must not dispose it.</param>
    public VisionModel HandOn(Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> wrap, IPredictionHead head,
        string weights, string defaultMethod,
        Func<string, string> modulePathInside)
    {
        ArgumentNullException.ThrowIfNull(wrap);
        ArgumentNullException.ThrowIfNull(modulePathInside);
        ObjectDisposedException.ThrowIf(_handedOn, this);
        var network = wrap(Network);
        _handedOn = true;
        return new VisionModel(Name, network, Device, _input, head, DefaultLayer, weights)
        {
            DefaultMethod = defaultMethod,
            GradientFreeRuntime = GradientFreeRuntime,
            FunctionalReluOutputs = FunctionalReluOutputs.Select(modulePathInside).ToList(),
            Fit = Fit,
        };
    }

    public void Dispose()
    {
        if (!_handedOn) Network.Dispose();
    }
}

/// <summary>A model or weight file that cannot be used; the message is one line for the user.</summary>
public sealed class ModelLoadException : Exception
{
    public ModelLoadException(string message) : base(message) { }
    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
    public ModelLoadException() { }
}
