using System.Runtime.InteropServices;
using LiveCam.Explain.Engine;
using static TorchSharp.torch;

namespace LiveCam.Explain.Visualisations;

/// <summary>How an image is changed to raise an objective.</summary>
/// <param name="Steps">Gradient steps, at each octave.</param>
/// <param name="StepSize">Each step moves the values by this share of the input's range on average: the gradient is
/// divided by its mean absolute value, then scaled by <c>StepSize</c> times the range's extent.</param>
/// <param name="Jitter">Each step shifts the image by up to this many pixels at random (a roll, wrapping around) and
/// shifts it back after, so the patterns do not lock onto the pixel grid; 0: none (deterministic).</param>
/// <param name="Octaves">Image scales, each <paramref name="OctaveScale"/> times smaller than the next, run smallest
/// first with the detail found carried up; 1: the input's own size only.</param>
public sealed record AscentSettings(
    int Steps = 10, float StepSize = 0.01f, int Jitter = 0, int Octaves = 1, double OctaveScale = 1.4)
{
    /// <summary>A few steps at the input's size: cheap enough for every analysed frame of a live view.</summary>
    public static AscentSettings Live { get; } = new(Steps: 2, StepSize: 0.01f, Jitter: 4);

    internal void Check()
    {
        if (Steps < 0) throw new ArgumentException($"steps must be 0 or more, not {Steps}");
        if (!(StepSize > 0) || float.IsInfinity(StepSize))
            throw new ArgumentException($"the step size must be a positive number, not {StepSize}");
        if (Jitter < 0) throw new ArgumentException($"jitter must be 0 or more pixels, not {Jitter}");
        if (Octaves < 1) throw new ArgumentException($"octaves must be 1 or more, not {Octaves}");
        if (!(OctaveScale > 1) || double.IsInfinity(OctaveScale))
            throw new ArgumentException($"the octave scale must be above 1, not {OctaveScale}");
    }
}

/// <summary>
/// Gradient ascent on the input image: the shared loop of <see cref="DeepDream"/> and <see cref="ClassModel"/>, which
/// only say what is raised. Each call puts the model in eval mode with its parameters frozen and adds its hooks, and
/// undoes all of it in <c>finally</c>; each step runs in its own dispose scope, so only the result outlives a call.
/// Not thread-safe: one thread (the one that runs the model) calls it.
/// </summary>
public abstract class GradientAscent
{
    readonly Random _random;

    /// <param name="seed">Of the jitter's random shifts.</param>
    protected GradientAscent(Explainer explainer, InputRange range, int seed)
    {
        Explainer = explainer ?? throw new ArgumentNullException(nameof(explainer));
        Range = range ?? throw new ArgumentNullException(nameof(range));
        _random = new Random(seed);
    }

    public Explainer Explainer { get; }
    public InputRange Range { get; }

    /// <summary>
    /// The objective to raise, for one call: a function of an input [1, C, H, W] (any size, for octaves) that runs the
    /// model and returns a scalar that the input's gradient flows from. Hooks it needs go in <paramref name="hooks"/>.
    /// </summary>
    /// <param name="input">The call's input, at its own size (to resolve layers on).</param>
    protected abstract Func<Tensor, Tensor> Begin(HookSet hooks, Tensor input);

    /// <summary>
    /// <paramref name="input"/> [1, C, H, W] (the model's normalised input) changed by
    /// <see cref="AscentSettings.Steps"/> steps at each octave: a new tensor of the same size on the model's device, in
    /// the caller's dispose scope. The input is not changed.
    /// </summary>
    public Tensor Run(Tensor input, AscentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Check();
        if (input.ndim != 4 || input.shape[0] != 1)
            throw new ArgumentException(
                $"input must be one image [1, C, H, W], not [{string.Join(", ", input.shape)}]");
        using var state = ModelStateGuard.ForInference(Explainer.Model);
        using var scope = NewDisposeScope();
        using var hooks = new HookSet();
        var baseImage = input.to(state.Device).detach();
        if (!baseImage.is_floating_point())
            throw new ArgumentException($"input must be floating point, not {baseImage.dtype}");
        var objective = Begin(hooks, baseImage);

        // Octaves (Mordvintsev et al.): the smallest scale first; what the steps add at one scale (the detail) is
        // enlarged and added to the next larger one.
        long height = baseImage.shape[2], width = baseImage.shape[3];
        var sizes = Enumerable.Range(0, settings.Octaves)
            .Select(i => (H: Math.Max(1L, (long)Math.Round(height / Math.Pow(settings.OctaveScale, i))),
                W: Math.Max(1L, (long)Math.Round(width / Math.Pow(settings.OctaveScale, i)))))
            .Reverse().ToList();
        Tensor? detail = null;
        Tensor image = baseImage;
        foreach (var (h, w) in sizes)
        {
            var octaveBase = h == height && w == width ? baseImage : Resize(baseImage, h, w);
            image = detail is null ? octaveBase.clone() : Range.Project(octaveBase + Resize(detail, h, w));
            for (int i = 0; i < settings.Steps; i++)
            {
                var next = Step(image, objective, settings, octave: h != height || w != width);
                image.Dispose();
                image = next;
            }
            detail = image - octaveBase;
        }
        return image.MoveToOuterDisposeScope();
    }

    /// <summary>A few steps at the input's own size (no octaves), the same as <see cref="Run"/> with
    /// <see cref="AscentSettings.Octaves"/> 1: for a live view, once per analysed frame.</summary>
    public Tensor Steps(Tensor input, int steps, float stepSize = 0.01f, int jitter = 4) =>
        Run(input, new AscentSettings(steps, stepSize, jitter));

    /// <summary>The objective's value for <paramref name="input"/> [1, C, H, W], what the steps raise.</summary>
    public double Objective(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.ndim != 4 || input.shape[0] != 1)
            throw new ArgumentException(
                $"input must be one image [1, C, H, W], not [{string.Join(", ", input.shape)}]");
        using var state = ModelStateGuard.ForInference(Explainer.Model);
        using var scope = NewDisposeScope();
        using var hooks = new HookSet();
        var x = input.to(state.Device).detach();
        var objective = Begin(hooks, x);
        using (no_grad()) return objective(x).to_type(ScalarType.Float64).item<double>();
    }

    Tensor Step(Tensor image, Func<Tensor, Tensor> objective, AscentSettings settings, bool octave)
    {
        using var scope = NewDisposeScope();
        long dy = 0, dx = 0;
        if (settings.Jitter > 0)
        {
            dy = _random.Next(-settings.Jitter, settings.Jitter + 1);
            dx = _random.Next(-settings.Jitter, settings.Jitter + 1);
        }
        var shifted = dy != 0 || dx != 0 ? image.roll([dy, dx], [2, 3]) : image;
        var leaf = shifted.detach().requires_grad_(true);
        Tensor value;
        try
        {
            using (enable_grad()) value = objective(leaf);
        }
        catch (Exception e) when (octave
            && (e is ExternalException or InvalidOperationException || e.InnerException is ExternalException))
        {
            throw new ArgumentException($"the model does not take a {leaf.shape[3]}x{leaf.shape[2]} input "
                + "(a smaller octave): use one octave", e);
        }
        if (!value.requires_grad)
            throw new ArgumentException(
                "the objective has no gradient with respect to the input (nothing between them is differentiable)");
        var gradient = autograd.grad([value], [leaf])[0];
        if (dy != 0 || dx != 0) gradient = gradient.roll([-dy, -dx], [2, 3]);
        // Mordvintsev et al.'s normalisation: the step's size does not depend on the gradient's scale.
        var step = gradient / (gradient.abs().mean() + 1e-8);
        return Range.Project(image + settings.StepSize * Range.Extent(image) * step).MoveToOuterDisposeScope();
    }

    static Tensor Resize(Tensor x, long height, long width) =>
        nn.functional.interpolate(x, size: [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}
