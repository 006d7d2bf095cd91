using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LiveCam.Drawing;
using LiveCam.Explain;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Rendering;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Explain;

/// <summary><c>livecam compare</c>: the article's comparison figures, one explanation per cell of a labelled grid, each
/// drawn as <c>explain</c> draws it.</summary>
internal static class CompareCommand
{
    const int ModelAxis = 0, ImageAxis = 1, MethodAxis = 2, LayerAxis = 3, TargetAxis = 4;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var options = new ModelOptions("robot");
        var images = new Option<string>("--images", "-i")
        {
            Description = "the images, separated by commas", Required = true
        };
        var models = new Option<string>("--models", "-m")
        {
            Description = $"the networks, separated by commas: {string.Join(", ", ModelCatalog.Names)}, "
                + "or an ONNX file; NAME=WEIGHTS_FILE for other weights "
                + "(a PyTorch checkpoint of a TorchVision architecture); "
                + "TorchVision architectures without weights are untrained (the label says so). Loaded one at a time",
            DefaultValueFactory = _ => "robot",
        };
        var methods = SharedOptions.Methods("explanation methods, separated by commas: "
            + $"{string.Join(", ", MethodCatalog.Names)}; default: each model's usual one");
        var layers = new Option<string?>("--layers", "-l")
        {
            Description = "layers (CAM methods), separated by commas, each as --layer takes it with + for a "
                + "combination (layer3+layer4); a layer a model lacks leaves its cell saying so; default: each model's "
                + "usual one",
        };
        var targets = new Option<string?>("--targets", "-t")
        {
            Description = "what to explain, separated by commas: all, top, N (an output index), indices:i+j "
                + "(their sum); default: each model's usual target",
        };
        var cell = new Option<string>("--cell")
        {
            Description = "each cell's size, WIDTHxHEIGHT: every image is scaled to fit it (keeping its shape) and "
                + "explained at that size", DefaultValueFactory = _ => "400x300"
        };
        var transpose = new Option<bool>("--transpose") { Description = "swap rows and columns" };
        var outPath = SharedOptions.Out(
            "the grid to write: .png, or .jpg (quality 90) for a smaller file", required: true);
        var renderer = RendererChoice.Option("how the cells are drawn: auto (the live view's OpenGL renderer, "
            + "headless; OpenCV when there is no OpenGL), gl, cpu");
        var command = new Command("compare", "A grid of explanations: every image x model x method x layer x target, "
            + "each cell drawn as explain draws it (the heatmap, the HUD, the model's predictions), rows and columns "
            + "labelled. Lists with more than one entry vary: the last of them (in the order models, images, methods, "
            + "layers, targets) runs along the columns, the others, crossed in that order, down the rows (one row when "
            + "only one list varies); --transpose swaps them. Single entries are named in a title line. Size: width = "
            + "left label band + 4 + columns x (cell width + 4), height = top label band + 4 + rows x "
            + "(cell height + 4); the bands are printed.");
        command.Add(images);
        command.Add(models);
        command.Add(methods);
        command.Add(layers);
        command.Add(targets);
        command.Add(cell);
        command.Add(transpose);
        command.Add(outPath);
        command.Add(renderer);
        options.AddLoadingTo(command);
        command.Add(options.Smooth);
        command.SetAction(parsed =>
        {
            var request = new Request(
                List(parsed.GetValue(images), "--images")!, List(parsed.GetValue(models), "--models")!,
                List(parsed.GetValue(methods), "--methods"), List(parsed.GetValue(layers), "--layers"),
                List(parsed.GetValue(targets), "--targets"),
                CellSize(parsed.GetValue(cell)!), parsed.GetValue(transpose), parsed.GetValue(outPath)!,
                parsed.GetValue(renderer) ?? "auto");
            return Run(parsed, options, request, output);
        });
        return command;
    }

    sealed record Request(IReadOnlyList<string> Images, IReadOnlyList<string> Models, IReadOnlyList<string>? Methods,
        IReadOnlyList<string>? Layers, IReadOnlyList<string>? Targets, (int Width, int Height) Cell, bool Transpose,
        string Out, string Renderer);

    static List<string>? List(string? text, string option)
    {
        if (text is null) return null;
        var entries = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return entries.Count > 0 ? entries : throw new UsageException($"{option}: no entries");
    }

    static (int, int) CellSize(string text)
    {
        var parts = text.ToLowerInvariant().Split('x');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
            || w is < 64 or > 4096 || h is < 64 or > 4096)
            throw new UsageException($"--cell '{text}': expected WIDTHxHEIGHT, each 64 to 4096");
        return (w, h);
    }

    static int Run(ParseResult parsed, ModelOptions options, Request request, TextWriter output)
    {
        // Everything that can be checked without a model is checked before the first one loads; nothing is written
        // unless every model loads.
        Cli.RequireImageFile(request.Out);
        var models = request.Models.Select(ModelEntry).ToList();
        try
        {
            foreach (var m in request.Methods ?? []) options.CreateMethod(parsed, m);
            foreach (var l in request.Layers ?? []) LayerSelector.Parse(Combination(l));
            foreach (var t in request.Targets ?? []) CheckTarget(t);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new UsageException(e.Message, e);
        }

        var images = new List<Mat>();
        var cells = new Dictionary<int, Mat>();
        try
        {
            foreach (var path in request.Images) images.Add(FitToCell(path, request.Cell));
            var modelLabels = new IReadOnlyList<string>[models.Count];
            // A class index's name when every model agrees on it (one model with labels, a taught head).
            var classNames = new Dictionary<int, string?>();
            int sizeX = request.Methods?.Count ?? 1, sizeL = request.Layers?.Count ?? 1,
                sizeT = request.Targets?.Count ?? 1;
            int Key(int m, int i, int x, int l, int t) =>
                (((m * images.Count + i) * sizeX + x) * sizeL + l) * sizeT + t;

            var total = Stopwatch.StartNew();
            using (var thread = new RenderThread("render-offscreen", TimeSpan.FromSeconds(1)))
            using (var painter =
                new RendererChoice(request.Renderer, output).Offscreen(thread, "cells", cpuOnSoftwareGl: false))
            {
                for (int m = 0; m < models.Count; m++)
                {
                    var clock = Stopwatch.StartNew();
                    // One model in memory at a time.
                    using var model = options.LoadModel(parsed, models[m].Name, models[m].Weights);
                    modelLabels[m] = [model.Name, .. Wrapped($"weights: {model.Weights}")];
                    foreach (var t in request.Targets ?? [])
                        if (int.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out int k))
                            classNames[k] = m == 0 || classNames.GetValueOrDefault(k) == model.Head.Label(k)
                                ? model.Head.Label(k)
                                : null;
                    var explainer = model.CreateExplainer();
                    double loaded = clock.Elapsed.TotalSeconds;
                    for (int i = 0; i < images.Count; i++)
                    {
                        using var scope = NewDisposeScope();
                        var input = model.Preprocess(images[i]);
                        for (int x = 0; x < sizeX; x++)
                            for (int l = 0; l < sizeL; l++)
                                for (int t = 0; t < sizeT; t++)
                                {
                                    var method =
                                        options.CreateMethod(parsed, request.Methods?[x] ?? model.DefaultMethod);
                                    var layer = LayerSelector.Parse(
                                        request.Layers is { } ls ? Combination(ls[l]) : model.DefaultLayer);
                                    var target = ParseTarget(model,
                                        request.Targets is { } ts ? TargetText(ts[t]) : model.DefaultTarget);
                                    var canvas = new Mat(
                                        request.Cell.Height, request.Cell.Width, MatType.CV_8UC3, Scalar.Black);
                                    cells[Key(m, i, x, l, t)] = canvas;
                                    if (DrawCell(painter, model, explainer, input, images[i], method, layer, target,
                                            canvas) is { } problem)
                                        output.WriteLine($"{model.Name} on {Path.GetFileName(request.Images[i])}, "
                                            + $"{method.Name}: {problem}");
                                }
                    }
                    output.WriteLine(Cli.Format($"{model.Name}: loaded in {loaded:0.0} s, ")
                        + Cli.Format($"{images.Count * sizeX * sizeL * sizeT} cells in ")
                        + Cli.Format($"{clock.Elapsed.TotalSeconds - loaded:0.0} s"));
                }
            }

            var axes = new List<ComparisonAxis>
            {
                new("model", modelLabels),
                new("image", request.Images.Select(p => (IReadOnlyList<string>)[Path.GetFileName(p)]).ToList()),
                Axis("method", request.Methods, m => m),
                Axis("layer", request.Layers, l => $"@ {l}"),
                Axis("target", request.Targets, t =>
                    int.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out int k)
                    && classNames.GetValueOrDefault(k) is { } name
                        ? $"target: {t} ({name})" : $"target: {t}"),
            };
            var grid = new ComparisonSheet(axes, request.Cell.Width, request.Cell.Height, request.Transpose);
            using var picture =
                grid.Draw(e => cells[Key(e[ModelAxis], e[ImageAxis], e[MethodAxis], e[LayerAxis], e[TargetAxis])]);
            // JPEG at quality 90: a figure small enough to keep in a repository.
            var quality = new ImageEncodingParam(ImwriteFlags.JpegQuality, 90);
            if (!Cv2.ImWrite(request.Out, picture, quality)) throw new UsageException($"cannot write '{request.Out}'");
            string Names(IReadOnlyList<int> a) => a.Count == 0 ? "-" : string.Join(" x ", a.Select(k => axes[k].Name));
            output.WriteLine(Cli.Format($"wrote {Path.GetFullPath(request.Out)}: ")
                + Cli.Format($"{grid.Rows} rows ({Names(grid.RowAxes)}) x {grid.Columns} columns ")
                + Cli.Format($"({Names(grid.ColumnAxes)}) of {grid.CellWidth}x{grid.CellHeight} cells; ")
                + Cli.Format($"label bands left {grid.Left} px, top {grid.Top} px; ")
                + Cli.Format($"{cells.Count} cells in {total.Elapsed.TotalSeconds:0.0} s"));
            return Cli.Ok;
        }
        finally
        {
            foreach (var image in images) image.Dispose();
            foreach (var canvas in cells.Values) canvas.Dispose();
        }
    }

    static ComparisonAxis Axis(string name, IReadOnlyList<string>? entries, Func<string, string> label) =>
        entries is null
            ? new(name, [[$"{name}: each model's default"]], Given: false)
            : new(name, entries.Select(e => (IReadOnlyList<string>)[label(e)]).ToList());

    /// <summary>One explanation as <c>explain</c> draws it, centred in the cell; or, when it cannot be made for this
    /// model, a short reason over the dimmed image, returned.</summary>
    static string? DrawCell(IPictureRenderer painter, VisionModel model, Explainer explainer, Tensor input, Mat image,
        ExplanationMethod method, LayerSelector layer, Target target, Mat canvas)
    {
        using var roi = new Mat(canvas, ComparisonSheet.Centred(canvas, image.Size()));
        string problem;
        try
        {
            if (method.ExplainsLayer) explainer.ResolveLayer(input, layer);
        }
        catch (ArgumentException)
        {
            problem = $"{layer}: not in this model";
            return Dim(problem);
        }
        try
        {
            var set = explainer.Explain(input, method, target, layer);
            using var panel = new Mat();
            painter.Render(ExplainCommand.Still(model, image, set, set.Items[0]), panel);
            panel.CopyTo(roi);
            return null;
        }
        catch (ArgumentException e)
        {
            problem = e.Message;
            return Dim(problem);
        }

        string Dim(string text)
        {
            ComparisonSheet.Unavailable(canvas, image, text);
            return text;
        }
    }

    /// <summary>A label's parenthesised details on a line of their own, so the row labels' band stays narrow.</summary>
    static string[] Wrapped(string label) =>
        label.IndexOf(" (", StringComparison.Ordinal) is > 0 and var at ? [label[..at], label[(at + 1)..]] : [label];

    /// <summary>An image scaled to fit the cell, keeping its shape.</summary>
    static Mat FitToCell(string path, (int Width, int Height) cell)
    {
        if (!File.Exists(path)) throw new UsageException($"cannot read '{path}': no such file");
        using var image = Cv2.ImRead(path, ImreadModes.Color);
        if (image.Empty()) throw new UsageException($"cannot read '{path}': not an image OpenCV can decode");
        double scale = Math.Min(cell.Width / (double)image.Width, cell.Height / (double)image.Height);
        var size = new OpenCvSharp.Size(Math.Clamp((int)Math.Round(image.Width * scale), 1, cell.Width),
            Math.Clamp((int)Math.Round(image.Height * scale), 1, cell.Height));
        if (size == image.Size()) return image.Clone();
        var fitted = new Mat();
        Cv2.Resize(image, fitted, size, interpolation: scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Linear);
        return fitted;
    }

    static (string Name, string? Weights) ModelEntry(string entry)
    {
        int eq = entry.IndexOf('=', StringComparison.Ordinal);
        var (name, weights) = eq < 0 ? (entry, null) : (entry[..eq].Trim(), entry[(eq + 1)..].Trim());
        if (name.Length == 0 || weights?.Length == 0)
            throw new UsageException($"--models '{entry}': expected NAME or NAME=WEIGHTS_FILE");
        if (LiveCam.Models.Onnx.OnnxModel.IsOnnxPath(name))
        {
            if (!File.Exists(name)) throw new UsageException($"cannot read model '{name}': no such file");
        }
        else if (!ModelCatalog.Names.Contains(name.ToLowerInvariant()))
        {
            throw new UsageException($"unknown model '{name}'; models: {string.Join(", ", ModelCatalog.Names)}");
        }
        return (name, weights);
    }

    /// <summary>A layer entry as --layer takes it: + joins layers explained together (a comma separates entries
    /// here).</summary>
    static string Combination(string layer) => layer.Replace('+', ',');

    /// <summary>Each cell shows one explanation: several classes (topk:K) would need several cells.</summary>
    static void CheckTarget(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t.StartsWith("topk:", StringComparison.Ordinal) && t != "topk:1")
            throw new UsageException($"--targets {text}: a cell shows one explanation; "
                + "name the outputs (top, N, ...) as entries of their own");
    }

    /// <summary>A target as the model's head reads it (a detector's boxes, a segmenter's classes).</summary>
    static Target ParseTarget(VisionModel model, string text)
    {
        try { return model.Head.ParseTarget(text); }
        catch (FormatException e) { throw new UsageException($"--targets: {e.Message}", e); }
    }

    /// <summary>A target entry as --target takes it: indices:i+j for indices:i,j (a comma separates entries
    /// here).</summary>
    static string TargetText(string target) =>
        target.Trim().StartsWith("indices:", StringComparison.OrdinalIgnoreCase) ? target.Replace('+', ',') : target;
}
