using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Explain;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Visualisations;
using LiveCam.Models;
using LiveCam.Rendering;
using LiveCam.Drawing;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam explain</c>: one image, one explanation, as a PNG (and JSON).</summary>
internal static class ExplainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions("robot");
        var image = SharedOptions.Image("the image to explain", required: true);
        var outPng = SharedOptions.Out("the PNG to write: the image with the explanation over it", required: true);
        var json = SharedOptions.Json("also write the raw heatmap, layer, target and model outputs as JSON");
        var maskOut = new Option<string?>("--mask-out")
        {
            Description = "a segmenter's mask as a PNG of the image's size: each pixel's class number (0 = background)"
        };
        var renderer = RendererChoice.Option("how the PNG is drawn: auto (the live view's OpenGL renderer, headless; "
            + "OpenCV when there is no OpenGL), gl, cpu");
        var command = new Command("explain", "Explain a model's prediction on one image: the heatmap over the image "
            + "as a PNG, the numbers as JSON. --method filters or activations shows the chosen layer's filter weights "
            + "or feature maps instead.");
        command.Add(image);
        command.Add(outPng);
        command.Add(json);
        command.Add(maskOut);
        command.Add(renderer);
        model.AddTo(command);
        command.SetAction(parsed =>
        {
            return Run(parsed, model, parsed.GetValue(image)!, parsed.GetValue(outPng)!, parsed.GetValue(json),
                parsed.GetValue(maskOut), parsed.GetValue(renderer) ?? "auto", output);
        });
        return command;
    }

    static int Run(ParseResult parsed, ModelOptions options, string imagePath, string outPath, string? jsonPath,
        string? maskPath, string renderer, TextWriter output)
    {
        if (!File.Exists(imagePath)) throw new UsageException($"cannot read '{imagePath}': no such file");
        using var image = Cv2.ImRead(imagePath, ImreadModes.Color);
        if (image.Empty()) throw new UsageException($"cannot read '{imagePath}': not an image OpenCV can decode");
        Cli.RequireImageFile(outPath);
        if (jsonPath is not null) Cli.RequireFolderOf(jsonPath);
        if (maskPath is not null) Cli.RequireImageFile(maskPath);

        using var model = options.LoadModel(parsed);
        using var scope = NewDisposeScope();
        var input = model.Preprocess(image);
        var explainer = model.CreateExplainer();
        var methodName = (parsed.GetValue(options.Method) ?? model.DefaultMethod).Trim().ToLowerInvariant();
        if (methodName is "filters" or "activations")
            return LayerView(parsed, options, model, explainer, input, methodName, outPath, output);

        var (method, layer, target) = options.Explanation(parsed, model);
        ExplanationSet set;
        try { set = explainer.Explain(input, method, target, layer); }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }

        var panels = new List<Mat>();
        try
        {
            using var thread = new RenderThread("render-offscreen", TimeSpan.FromSeconds(1));
            using var painter =
                new RendererChoice(renderer, output).Offscreen(thread, "pictures", cpuOnSoftwareGl: false);
            foreach (var e in set.Items)
            {
                var panel = new Mat();
                panels.Add(panel);
                painter.Render(Still(model, image, set, e), panel);
            }
            using var sheet = new Mat();
            Cv2.HConcat(panels.ToArray(), sheet);
            if (!Cv2.ImWrite(outPath, sheet)) throw new UsageException($"cannot write '{outPath}'");
        }
        finally
        {
            foreach (var p in panels) p.Dispose();
        }
        output.WriteLine($"wrote {Path.GetFullPath(outPath)}");

        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath,
                FiniteJson.Serialize(Report(model, set, image), $"the explanation for {jsonPath}", s_json));
            output.WriteLine($"wrote {Path.GetFullPath(jsonPath)}");
        }
        if (maskPath is not null)
        {
            WriteMask(model, set, image, maskPath);
            output.WriteLine($"wrote {Path.GetFullPath(maskPath)}");
        }
        foreach (var e in set.Items)
            output.WriteLine(Cli.Format($"{e.Method} target {e.Target}: {e.Map.Height}x{e.Map.Width} map, ")
                + Cli.Format($"max {e.Map.Max:G4} at {e.Map.ArgMax()}"));
        return Cli.Ok;
    }

    /// <summary>The picture of one explanation (<c>compare</c> draws its cells with it too): the image with the
    /// heatmap over the part the model sees, the HUD naming model, method, layer and target, and the model's
    /// prediction line and inset.</summary>
    internal static Picture Still(VisionModel model, Mat image, ExplanationSet set, Explanation e)
    {
        var region = model.InputRegion(image.Width, image.Height);
        var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "explain")
        {
            Heatmap = new HeatmapImage(e.Map.Height, e.Map.Width, e.Map.Normalised),
            HeatmapRegion = new PixelRect(region.X, region.Y, region.Width, region.Height),
            Outputs = set.OutputsOf(e.Sample).ToArray(),
            ExplainedOutput = e.ClassIndex,
        };
        var hud = new List<HudLine>
        {
            HudText.FromDescription(
                $"{model.Name}: {e.Method}" + (e.Layer is { } l ? $" @ {l.Name} ({l.ShapeText})" : "")),
            new($"target: {e.Target}")
        };
        var outputs = analysis.Outputs;
        if (model.Head.Line(outputs, e.ClassIndex) is { } p) hud.Add(p);
        return PictureComposer.Still(image, analysis, new ViewOptions(), hud, model.Head.Inset(outputs, e.ClassIndex))
            with { Marks = model.Head.Marks(outputs, e.ClassIndex) };
    }

    static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    /// <summary>The segmenter's classes as a PNG of the image's size: the mask laid over the part of the image the
    /// model saw (nearest pixel), the rest 0.</summary>
    static void WriteMask(VisionModel model, ExplanationSet set, Mat image, string path)
    {
        var mask = model.Head.PixelClasses(set.OutputsOf(0).ToArray())
            ?? throw new UsageException($"--mask-out: {model.Name} gives no mask (it is not a segmenter)");
        using var small = new Mat(mask.Height, mask.Width, MatType.CV_8UC1);
        Marshal.Copy(mask.Classes, 0, small.Data, mask.Classes.Length);
        var region = model.InputRegion(image.Width, image.Height);
        using var scaled = new Mat();
        Cv2.Resize(small, scaled, new OpenCvSharp.Size(region.Width, region.Height),
            interpolation: InterpolationFlags.Nearest);
        using var full = new Mat(image.Height, image.Width, MatType.CV_8UC1, Scalar.All(0));
        // The region may reach past the image (padded) or lie inside it (cropped): copy where they meet.
        var inImage = region & new Rect(0, 0, image.Width, image.Height);
        using (var from = new Mat(scaled, new Rect(inImage.X - region.X, inImage.Y - region.Y, inImage.Width,
                   inImage.Height)))
        using (var to = new Mat(full, inImage))
            from.CopyTo(to);
        if (!Cv2.ImWrite(path, full)) throw new UsageException($"cannot write '{path}'");
    }

    static Dictionary<string, object?> Report(VisionModel model, ExplanationSet set, Mat image)
    {
        var r = model.InputRegion(image.Width, image.Height);
        var inputRegion = new PixelRect(r.X, r.Y, r.Width, r.Height);
        static Dictionary<string, object?> One(Explanation e) => new()
        {
            ["method"] = e.Method,
            ["target"] = e.Target,
            ["class"] = e.ClassIndex,
            ["layer"] = e.Layer is null
                ? null
                : new Dictionary<string, object> { ["name"] = e.Layer.Name, ["shape"] = e.Layer.OutputShape },
            ["at_input_resolution"] = e.AtInputResolution,
            ["heatmap"] = new Dictionary<string, object>
            {
                ["height"] = e.Map.Height, ["width"] = e.Map.Width, ["values"] = e.Map.Values
            },
        };
        var first = One(set.Items[0]);
        first["model"] = model.Name;
        first["weights"] = model.Weights;
        first["outputs"] = set.Outputs;
        var predictions = model.Head.Json(set.Outputs, set.Items[0].ClassIndex, inputRegion);
        first["predictions"] = predictions;
        // What the head finds (a detector's "detections", a segmenter's "segmentation") also stands at the top; where
        // it says more of the target (the explained box), its word replaces the target's name.
        foreach (var (key, value) in predictions) first[key] = value;
        first["output_shape"] = set.OutputShape;
        if (set.Items.Count > 1) first["explanations"] = set.Items.Select(One).ToList();
        return first;
    }

    static int LayerView(ParseResult parsed, ModelOptions options, VisionModel model, Explainer explainer,
        Tensor input, string view, string outPath, TextWriter output)
    {
        var selector = LayerSelector.Parse(
            parsed.GetValue(options.Layer) ?? (view == "filters" ? "index:0" : model.DefaultLayer));
        ImageGrid grid;
        string name;
        try
        {
            name = explainer.ResolveLayer(input, selector).Name;
            grid = view == "filters"
                ? LayerViews.FilterWeights(ModuleTree.Find(model.Network, name))
                : LayerViews.FeatureMaps(explainer.Activations(input, selector));
        }
        catch (ArgumentException e) { throw new UsageException(e.Message, e); }
        using var small = new Mat(grid.Height, grid.Width, grid.Channels == 3 ? MatType.CV_32FC3 : MatType.CV_32FC1);
        Marshal.Copy(grid.Pixels, 0, small.Data, grid.Pixels.Length);
        using var bytes = new Mat();
        small.ConvertTo(bytes, grid.Channels == 3 ? MatType.CV_8UC3 : MatType.CV_8UC1, 255);
        // Small tiles (3x3 filters) are enlarged without blurring so each weight stays visible.
        int scale = Math.Max(1, 480 / Math.Max(grid.Width, grid.Height));
        using var large = new Mat();
        Cv2.Resize(bytes, large, new OpenCvSharp.Size(grid.Width * scale, grid.Height * scale),
            interpolation: InterpolationFlags.Nearest);
        if (!Cv2.ImWrite(outPath, large)) throw new UsageException($"cannot write '{outPath}'");
        output.WriteLine($"wrote {Path.GetFullPath(outPath)}: {grid.Tiles} {view} of {name}");
        return Cli.Ok;
    }
}
