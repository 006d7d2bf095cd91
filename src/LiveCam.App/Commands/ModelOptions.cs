using System.CommandLine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;

namespace LiveCam.App.Commands;

/// <summary>The options that choose a model and what to explain.</summary>
internal sealed class ModelOptions(string defaultModel)
{
    public Option<string> Model { get; } = new("--model", "-m")
    {
        Description = $"the network: {string.Join(", ", ModelCatalog.Names)}" + (defaultModel == "none" ? ", or none" : ""),
        DefaultValueFactory = _ => defaultModel,
    };

    public Option<string?> Weights { get; } = new("--weights", "-w")
    {
        Description = "weight file (TorchSharp format); default: the shipped weights (robot) or an untrained network (resnet18)",
    };

    public Option<string> Method { get; } = new("--method")
    {
        Description = $"explanation: {string.Join(", ", MethodCatalog.Names)}",
        DefaultValueFactory = _ => "gradcam",
    };

    public Option<string?> Layer { get; } = new("--layer", "-l")
    {
        Description = "layer to explain (CAM methods): a module path name (encoder.6, layer4), index:N, or last-conv; default: the model's usual layer",
    };

    public Option<string?> Target { get; } = new("--target", "-t")
    {
        Description = "what to explain: all (sum of all outputs), top, N (an output index), topk:K, indices:i,j,...; default: all for the robot, top for classifiers",
    };

    public Option<string> Device { get; } = new("--device")
    {
        Description = "where the network runs: auto (CUDA when available, else CPU), cpu, cuda, cuda:N",
        DefaultValueFactory = _ => "auto",
    };

    public void AddTo(Command command, bool withExplanation = true)
    {
        command.Add(Model);
        command.Add(Weights);
        command.Add(Device);
        if (!withExplanation) return;
        command.Add(Method);
        command.Add(Layer);
        command.Add(Target);
    }

    public bool WantsModel(ParseResult parsed) => !string.Equals(parsed.GetValue(Model), "none", StringComparison.OrdinalIgnoreCase);

    public VisionModel LoadModel(ParseResult parsed)
    {
        TorchSharp.torch.Device device;
        try { device = ComputeDevice.Select(parsed.GetValue(Device) ?? "auto"); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        return ModelCatalog.Load(parsed.GetValue(Model) ?? defaultModel, parsed.GetValue(Weights), device);
    }

    public (ExplanationMethod Method, LayerSelector Layer, Target Target) Explanation(ParseResult parsed, VisionModel model)
    {
        try
        {
            var method = MethodCatalog.Create(parsed.GetValue(Method) ?? "gradcam");
            var layer = LayerSelector.Parse(parsed.GetValue(Layer) ?? model.DefaultLayer);
            var target = Explain.Targets.Target.Parse(parsed.GetValue(Target) ?? model.DefaultTarget);
            return (method, layer, target);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new UsageException(e.Message, e);
        }
    }
}
