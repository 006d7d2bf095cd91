using System.CommandLine;
using System.Diagnostics;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Targets;
using LiveCam.Explain.Visualisations;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam dream</c>: what the network wants to see. DeepDream amplifies what a layer sees in an image; a
/// class model (<c>--class N</c>) is the image that raises output N most. The PNG is at the model's input
/// size.</summary>
internal static class DreamCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions("resnet18-imagenet");
        var image = SharedOptions.Image("the image to start from (fitted to the model's input as --fit says); "
            + "a class model starts from the mean image (with faint noise) without it");
        var layer = SharedOptions.Layer("DeepDream: the layer whose activations are amplified "
            + "(layer3, features.11, index:N, an ONNX tensor name; several with commas)");
        var klass = new Option<int?>("--class", "-c")
        {
            Description = "class model instead: the output index whose raw score (a logit, a sensor reading, "
                + "a feature unit) is raised"
        };
        var outPng = SharedOptions.Out("the PNG to write, at the model's input size", required: true);
        var steps = new Option<int?>("--steps")
        {
            Description = "gradient steps at each octave (default 20 for DeepDream, 200 for a class model)"
        };
        var octaves = new Option<int?>("--octaves")
        {
            Description = "image scales, each 1.4 times smaller, smallest first (default 4 for DeepDream, "
                + "1 for a class model); 1 for a model that takes only its own input size"
        };
        var stepSize = new Option<float?>("--step-size")
        {
            Description = "each step's mean change, as a share of the pixel range (default 0.01 for DeepDream, "
                + "0.005 for a class model)"
        };
        var jitter = new Option<int?>("--jitter")
        {
            Description = "random shift of up to this many pixels each step, undone after it "
                + "(default: the input's width / 28, 8 at 224; 0: deterministic)"
        };
        var l2 = new Option<float?>("--l2")
        {
            Description = "class model: λ of the penalty λ‖I‖² on the image, in pixel values scaled to 0..1 "
                + "(default 0.05)"
        };
        var command = new Command("dream", "What the network wants to see: DeepDream on an image at a layer "
            + "(--layer), or the image that maximises one output (--class), as a PNG.");
        foreach (var o in new Option[] { image, layer, klass, outPng, steps, octaves, stepSize, jitter, l2 })
            command.Add(o);
        model.AddTo(command, withExplanation: false);
        command.SetAction(parsed =>
        {
            var request = new Request(parsed.GetValue(image), parsed.GetValue(layer), parsed.GetValue(klass),
                parsed.GetValue(outPng)!, parsed.GetValue(steps), parsed.GetValue(octaves), parsed.GetValue(stepSize),
                parsed.GetValue(jitter), parsed.GetValue(l2));
            return Run(parsed, model, request, output);
        });
        return command;
    }

    sealed record Request(string? Image, string? Layer, int? Class, string Out, int? Steps, int? Octaves,
        float? StepSize, int? Jitter, float? L2);

    static int Run(ParseResult parsed, ModelOptions options, Request r, TextWriter output)
    {
        if ((r.Layer is null) == (r.Class is null))
            throw new UsageException(
                "give --layer L (DeepDream on an image) or --class N (the image that raises output N), one of them");
        if (r.Layer is not null && r.Image is null)
            throw new UsageException("DeepDream changes an image: give --image");
        if (r.Steps is < 1 or > 10_000) throw new UsageException($"--steps {r.Steps}: expected 1 to 10000");
        if (r.Octaves is < 1 or > 10) throw new UsageException($"--octaves {r.Octaves}: expected 1 to 10");
        if (r.StepSize is { } s && !(s is > 0 and <= 1))
            throw new UsageException($"--step-size {s}: expected a share of the pixel range above 0, at most 1");
        if (r.Jitter is < 0) throw new UsageException($"--jitter {r.Jitter}: expected 0 or more pixels");
        if (r.L2 is { } l && !(l >= 0 && !float.IsInfinity(l)))
            throw new UsageException($"--l2 {l}: expected 0 or more");
        if (r.L2 is not null && r.Class is null) throw new UsageException("--l2 is for a class model (--class)");
        Mat? picture = null;
        if (r.Image is not null)
        {
            if (!File.Exists(r.Image)) throw new UsageException($"cannot read '{r.Image}': no such file");
            picture = Cv2.ImRead(r.Image, ImreadModes.Color);
            if (picture.Empty())
            {
                picture.Dispose();
                throw new UsageException($"cannot read '{r.Image}': not an image OpenCV can decode");
            }
        }
        using var _ = picture;
        Cli.RequireImageFile(r.Out);

        using var model = options.LoadModel(parsed);
        using var scope = NewDisposeScope();
        bool dream = r.Layer is not null;
        Tensor start;
        if (picture is not null) start = model.Preprocess(picture);
        else
        {
            // The mean image (zeros in the model's units) with faint noise: an output that a ReLU shuts at exactly the
            // mean image (most of resnet18-imagenet's pooled features) would have no gradient there.
            var zero = model.ExampleInput();
            var generator = new TorchSharp.torch.Generator(0);
            start = model.InputRange.Project(
                zero + 0.1 * model.InputRange.Extent(zero) * randn(zero.shape, generator: generator).to(zero.device));
        }
        var settings = new AscentSettings(
            Steps: r.Steps ?? (dream ? 20 : 200),
            StepSize: r.StepSize ?? (dream ? 0.01f : 0.005f),
            Jitter: r.Jitter ?? Math.Max(1, model.InputWidth / 28),
            Octaves: r.Octaves ?? (dream ? 4 : 1));
        GradientAscent ascent;
        string what;
        try
        {
            if (dream)
            {
                var selector = LayerSelector.Parse(r.Layer!);
                var explainer = model.CreateExplainer();
                what = $"DeepDream at {explainer.ResolveLayer(start, selector).Name}";
                ascent = new DeepDream(explainer, selector, model.InputRange);
            }
            else
            {
                ascent = new ClassModel(
                    model.CreateExplainer(), Target.Class(r.Class!.Value), model.InputRange, r.L2 ?? 0.05f);
                what = Cli.Format($"class model of output {r.Class}");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new UsageException(e.Message, e);
        }

        Tensor result;
        double before, after;
        var clock = Stopwatch.StartNew();
        try
        {
            before = ascent.Objective(start);
            result = ascent.Run(start, settings);
            after = ascent.Objective(result);
        }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        clock.Stop();
        using (var png = model.ToImage(result))
            if (!Cv2.ImWrite(r.Out, png)) throw new UsageException($"cannot write '{r.Out}'");
        output.WriteLine($"wrote {Path.GetFullPath(r.Out)}: {model.InputWidth}x{model.InputHeight}, {what}");
        output.WriteLine(Cli.Format($"objective {before:G4} -> {after:G4}; ")
            + Cli.Format($"{settings.Steps} steps x {settings.Octaves} octaves, step {settings.StepSize}, ")
            + Cli.Format($"jitter {settings.Jitter}, in {clock.Elapsed.TotalSeconds:F1} s"));
        return Cli.Ok;
    }
}
