using System.CommandLine;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam layers</c>: the model's layers in the order the input traverses them.</summary>
internal static class LayersCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions("robot");
        var command = new Command("layers",
            "List a model's layers (name, type, output shape) in the order the input traverses them.");
        model.AddTo(command, withExplanation: false);
        command.SetAction(parsed =>
        {
            using var vision = model.LoadModel(parsed);
            using var scope = NewDisposeScope();
            var layers = vision.CreateExplainer().Layers(vision.ExampleInput());
            output.WriteLine(Cli.Format($"{vision.Name} ({vision.Weights}), ")
                + Cli.Format($"input 1x3x{vision.InputHeight}x{vision.InputWidth}; ")
                + Cli.Format($"CAM methods explain {vision.DefaultLayer} unless --layer says otherwise"));
            // The layout column says how a layer's channels lie: NHWC in graphs converted from TensorFlow, which the
            // CAM methods read as NCHW.
            output.WriteLine($"{"#",3}  {"name",-28} {"type",-20} {"output",-18} layout");
            foreach (var layer in layers) output.WriteLine(layer.ToString());
            return Cli.Ok;
        });
        return command;
    }
}
