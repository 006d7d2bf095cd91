using System.CommandLine;
using LiveCam.Models;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam models</c>: the models LiveCam knows by name, and how to bring your own weights.</summary>
internal static class ModelsCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("models", "The models LiveCam knows by name, and how to bring your own weights.");
        command.SetAction(_ =>
        {
            output.WriteLine("Models (--model NAME):");
            foreach (var d in ModelCatalog.All) output.WriteLine($"  {d.Name,-20} {d.Summary}");
            output.WriteLine();
            output.WriteLine(
                "Your own weights for any of them (--weights FILE), read without running anything from the file:");
            output.WriteLine("  PyTorch: torch.save(model.state_dict(), 'w.pt') or torch.save(model, 'w.pt'), "
                + "legacy or zip; TorchVision's downloaded");
            output.WriteLine(
                "  checkpoints (resnet18-f37072fd.pth, ...); safetensors; TorchSharp's module.save. For example:");
            output.WriteLine("    ./livecam run --model resnet50 --weights resnet50-0676ba61.pth "
                + "--labels imagenet_classes.txt");
            output.WriteLine("    ./livecam explain --model mobilenet_v2 --weights my_finetuned.pt "
                + "--image shot.png --out explained.png");
            output.WriteLine("  --labels FILE names a classifier's outputs, one per line.");
            output.WriteLine();
            output.WriteLine("An ONNX file is a model of its own (--model PATH.onnx), its weights inside; "
                + "every node output is a layer, by its");
            output.WriteLine("ONNX name (./livecam layers --model PATH.onnx). A fixed input size is taken "
                + "from the graph (else 224), with");
            output.WriteLine("ImageNet's normalisation. For example, from PyTorch:");
            output.WriteLine(
                "    torch.onnx.export(model, torch.randn(1, 3, 224, 224), 'model.onnx', opset_version=13)");
            output.WriteLine("    ./livecam run --model model.onnx --method gradcam");
            output.WriteLine(
                $"  Operators: {string.Join(", ", Models.Onnx.OnnxNetwork.Supported.Order(StringComparer.Ordinal))}.");
            output.WriteLine();
            output.WriteLine("A sidecar MODEL.onnx.json says what the file does not (every key optional; --task, "
                + "--decoder, --input-size,");
            output.WriteLine("--mean, --std and --bgr override it): input_size, mean, std, bgr, layout (nchw or nhwc), "
                + "layer, and its task:");
            foreach (var task in ModelTasks.All)
                output.WriteLine($"  {task.Name,-9} decoders: "
                    + (task.Decoders.Count == 0 ? "none" : string.Join(", ", task.Decoders))
                    + $"; explained by {task.DefaultMethod} unless --method says otherwise");
            output.WriteLine("  with labels, score_threshold and iou_threshold. A YOLO export from Ultralytics:");
            output.WriteLine("    yolo export model=yolov8n.pt format=onnx opset=13   "
                + "# then yolov8n.onnx.json:");
            output.WriteLine("    {\"task\": \"detect\", \"decoder\": \"yolov8\", \"labels\": [\"person\", ...], "
                + "\"mean\": [0, 0, 0], \"std\": [1, 1, 1]}");
            output.WriteLine("    ./livecam run --model yolov8n.onnx --fit pad --target box:1 --method gradcam");
            output.WriteLine(
                "  A segmenter from TorchVision (its forward returning out[\"out\"], [1, C, H, W] logits):");
            output.WriteLine("    {\"task\": \"segment\", \"labels\": [\"background\", \"person\", ...]}");
            output.WriteLine("    ./livecam explain --model seg.onnx --image shot.png --target class:person "
                + "--out seg.png --mask-out mask.png");
            return Cli.Ok;
        });
        return command;
    }
}
