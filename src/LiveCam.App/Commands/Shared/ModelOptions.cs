using System.CommandLine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;

namespace LiveCam.App.Commands.Shared;

/// <summary>The options that choose a model and what to explain.</summary>
internal sealed class ModelOptions(string defaultModel)
{
    bool _withHead;

    public Option<string?> Model { get; } = SharedOptions.Model(
        $"the network: {string.Join(", ", ModelCatalog.Names)}" + (defaultModel == "none" ? ", or none" : ""),
        defaultModel);

    public Option<string?> Weights { get; } = SharedOptions.Weights(
        "weight file: PyTorch (torch.save of a state dict or a whole module, TorchVision's downloads), safetensors or "
            + "TorchSharp; for the robot also original (the paper's, its default) or synthetic (LiveCam's, its default "
            + "on the synthetic scene); TorchVision architectures are untrained without it");

    public Option<string?> Labels { get; } = new("--labels")
    {
        Description = "class names for a classifier: a text file with one label per line, in output order",
    };

    public Option<string?> Head { get; } = SharedOptions.Head(
        "a head taught on the model's features (livecam teach): the model then classifies the taught classes");

    public Option<string> Method { get; } = new("--method")
    {
        Description = $"explanation: {string.Join(", ", MethodCatalog.Names)}; default: the model's usual method "
            + "(gradcam; eigencam for a network without a classifier head). scorecam weighs each channel by a "
            + "classifier's softmax probability of the class (its authors' rule), by the target's score as it is for "
            + "other models (the robot's outputs)",
    };

    public Option<string?> Layer { get; } = SharedOptions.Layer(
        "layer to explain (CAM methods): a module path name (encoder.6, layer4), index:N, or last-conv; several "
            + "separated by commas (layer3,layer4) are explained one by one and combined into one map; default: the "
            + "model's usual layer");

    public Option<string> Smooth { get; } = new("--smooth")
    {
        Description = "none, or aug: test-time augmentation (the method on the frame flipped and scaled by 1.0, 1.1, "
            + "0.9; the six maps averaged; six times the cost)",
        DefaultValueFactory = _ => "none",
    };

    public Option<string?> Target { get; } = new("--target", "-t")
    {
        Description = "what to explain: all (sum of all outputs), top, N (an output index), topk:K, indices:i,j,...; "
            + "default: all for the robot, top for classifiers",
    };

    public Option<string> Device { get; } =
        SharedOptions.Device("where the network runs: auto (CUDA when available, else CPU), cpu, cuda, cuda:N");

    public Option<string?> Fit { get; } = new("--fit")
    {
        Description = "how a frame becomes the model's input: crop (the centre, as the model was trained; ImageNet "
            + "models' default), stretch (the whole frame, distorted; the robot's default), pad (the whole frame with "
            + "bars)",
    };

    public Option<string?> InputSize { get; } = new("--input-size")
    {
        Description = "an ONNX model's input, WIDTHxHEIGHT, where the graph does not fix it (default 224x224)"
    };
    public Option<string?> Mean { get; } = new("--mean")
    {
        Description = "an ONNX model's per-channel mean of pixels in [0, 1], r,g,b "
            + "(default ImageNet's 0.485,0.456,0.406)"
    };
    public Option<string?> Std { get; } = new("--std")
    {
        Description = "an ONNX model's per-channel standard deviation, r,g,b (default ImageNet's 0.229,0.224,0.225)"
    };
    public Option<string?> Task { get; } = new("--task")
    {
        Description = "what an ONNX model's outputs are: classify (default), detect (boxes) or segment (a class per "
            + "pixel); over its sidecar MODEL.onnx.json"
    };
    public Option<string?> Decoder { get; } = new("--decoder")
    {
        Description = "how a detector's or segmenter's outputs are decoded: yolov5, yolov8, ssd; argmax, threshold "
            + "(default: from the outputs' shapes)"
    };
    public Option<bool> Bgr { get; } = new("--bgr")
    {
        Description = "an ONNX model that takes blue, green, red (mean and std then in that order too)"
    };

    public void AddTo(Command command, bool withExplanation = true, bool withHead = true)
    {
        command.Add(Model);
        command.Add(Weights);
        AddLoadingTo(command, withHead);
        if (!withExplanation) return;
        command.Add(Method);
        command.Add(Layer);
        command.Add(Target);
        command.Add(Smooth);
    }

    /// <summary>The options that say how any model is loaded, not which one: <c>compare</c> names its models
    /// itself.</summary>
    public void AddLoadingTo(Command command, bool withHead = true)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(Device);
        command.Add(Labels);
        _withHead = withHead;
        if (withHead) command.Add(Head);
        command.Add(Fit);
        command.Add(InputSize);
        command.Add(Mean);
        command.Add(Std);
        command.Add(Bgr);
        command.Add(Task);
        command.Add(Decoder);
    }

    public bool WantsModel(ParseResult parsed) =>
        !string.Equals(parsed.GetValue(Model), "none", StringComparison.OrdinalIgnoreCase);

    /// <param name="syntheticScene">The frames come from the built-in synthetic scene (a model may have weights for
    /// it).</param>
    public VisionModel LoadModel(ParseResult parsed, bool syntheticScene = false)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        return LoadModel(parsed, parsed.GetValue(Model) ?? defaultModel, parsed.GetValue(Weights), syntheticScene);
    }

    /// <summary>The model <paramref name="name"/> (a catalog name or an ONNX path) with <paramref name="weights"/>,
    /// loaded as the other options say (device, --fit, --labels, an ONNX model's input). Every command loads its models
    /// here, <c>compare</c> each of its list.</summary>
    /// <param name="weights">A weight file; null for the shipped weights or a random initialisation.</param>
    /// <param name="syntheticScene">The frames come from the built-in synthetic scene (a model may have weights for
    /// it).</param>
    public VisionModel LoadModel(ParseResult parsed, string name, string? weights, bool syntheticScene = false)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(name);
        TorchSharp.torch.Device device;
        try { device = ComputeDevice.Select(parsed.GetValue(Device) ?? "auto"); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        var model = ModelCatalog.Load(name, weights, device, OnnxInput(parsed), syntheticScene);
        try
        {
            if (parsed.GetValue(Fit) is { } fit)
            {
                try { model.Fit = FrameFitting.Parse(fit); }
                catch (ArgumentException e) { throw new UsageException(e.Message, e); }
            }
            if (parsed.GetValue(Labels) is { } labels) UseLabels(labels, model);
            return _withHead && parsed.GetValue(Head) is { } head
                ? Models.Teach.TaughtModel.Attach(model, Models.Teach.TaughtHead.Load(head))
                : model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    Models.Onnx.OnnxModelOptions OnnxInput(ParseResult parsed)
    {
        int? width = null, height = null;
        if (parsed.GetValue(InputSize) is { } size)
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length != 2
                || !int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out int w)
                || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out int h)
                || w is < 8 or > 4096 || h is < 8 or > 4096)
                throw new UsageException($"--input-size '{size}': expected WIDTHxHEIGHT, each 8 to 4096");
            (width, height) = (w, h);
        }
        var task = parsed.GetValue(Task);
        if (task is not null
            && !ModelTasks.All.Any(t => string.Equals(t.Name, task.Trim(), StringComparison.OrdinalIgnoreCase)))
            throw new UsageException(
                $"--task '{task}': expected {string.Join(", ", ModelTasks.All.Select(t => t.Name))}");
        return new(width, height, Triple(parsed.GetValue(Mean), "--mean"), Triple(parsed.GetValue(Std), "--std"),
            parsed.GetValue(Bgr) ? true : null, Task: task, Decoder: parsed.GetValue(Decoder));
    }

    static float[]? Triple(string? text, string option)
    {
        if (text is null) return null;
        var values = text.Split(',')
            .Select(v => float.TryParse(v, System.Globalization.NumberStyles.Float,
                System.Globalization.CultureInfo.InvariantCulture, out float f) ? f : float.NaN)
            .ToArray();
        if (values.Length != 3 || values.Any(float.IsNaN))
            throw new UsageException($"{option} '{text}': expected three numbers, r,g,b");
        if (option == "--std" && values.Any(v => v <= 0))
            throw new UsageException($"{option} '{text}': a standard deviation is positive");
        return values;
    }

    /// <summary>One label per line; their number must match the model's outputs.</summary>
    static void UseLabels(string path, VisionModel model)
    {
        // Asked first with no labels at all: a head whose outputs are not classes says so before any file is read.
        try { model.Head.WithLabels([]); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        if (!File.Exists(path)) throw new UsageException($"cannot read labels '{path}': no such file");
        var labels = ReadLabels(path).Select(l => Core.Printable.Escape(l.Trim())).ToList();
        while (labels.Count > 0 && labels[^1].Length == 0) labels.RemoveAt(labels.Count - 1);
        long outputs = model.Head.LabelCount(model.CountOutputs());
        if (labels.Count != outputs)
            throw new UsageException(
                $"labels '{path}' has {labels.Count} lines but {model.Name} has {outputs} "
                + (outputs == model.CountOutputs() ? "outputs" : "classes"));
        model.UseLabels(labels);
    }

    /// <summary>A labels file's lines, read no further than <see cref="MaxLabelBytes"/> (a device such as /dev/zero has
    /// no end).</summary>
    static List<string> ReadLabels(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[MaxLabelBytes + 1];
        int read = 0, n;
        while (read < buffer.Length && (n = file.Read(buffer, read, buffer.Length - read)) > 0) read += n;
        if (read > MaxLabelBytes)
            throw new UsageException(
                $"labels '{path}' is over {MaxLabelBytes >> 20} MB; a label file has one short line per output");
        return [.. System.Text.Encoding.UTF8.GetString(buffer, 0, read).Split('\n').Select(l => l.TrimEnd('\r'))];
    }

    /// <summary>ImageNet-21k's labels take about 1 MB.</summary>
    const int MaxLabelBytes = 8 << 20;

    /// <summary>The method <paramref name="name"/>, smoothed as --smooth says.</summary>
    /// <exception cref="ArgumentException">No such method.</exception>
    public ExplanationMethod CreateMethod(ParseResult parsed, string name)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var method = MethodCatalog.Create(name);
        return parsed.GetValue(Smooth) switch
        {
            null or "none" => method,
            "aug" => new AugmentationSmoothing(method),
            var other => throw new UsageException($"--smooth {other}: expected none or aug"),
        };
    }

    public (ExplanationMethod Method, LayerSelector Layer, Target Target) Explanation(ParseResult parsed,
        VisionModel model)
    {
        try
        {
            var method = CreateMethod(parsed, parsed.GetValue(Method) ?? model.DefaultMethod);
            var layer = LayerSelector.Parse(parsed.GetValue(Layer) ?? model.DefaultLayer);
            var target = model.Head.ParseTarget(parsed.GetValue(Target) ?? model.DefaultTarget);
            return (method, layer, target);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new UsageException(e.Message, e);
        }
    }
}
