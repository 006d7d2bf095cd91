using System.CommandLine;
using LiveCam.Capture;
using LiveCam.Capture.Synthetic;
using LiveCam.Core;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using LiveCam.Models.Robot;
using LiveCam.Rendering;
using LiveCam.Drawing;
using OpenCvSharp;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Robot;

/// <summary>
/// <c>livecam robustness</c>: the article's workflow for testing the robot model. A cube the colour of the floor
/// and a red cube, each under four lights, go through the model and Grad-CAM; one contact sheet shows inputs,
/// heatmaps and predicted distances, and a JSON keeps the predictions.
/// </summary>
internal static class RobustnessCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new ModelOptions("robot");
        var outDir = SharedOptions.Out("folder for robustness.png and robustness.json", required: true);
        var images = new Option<string?>("--images")
        {
            Description = "run on these images (a folder or glob) instead of the rendered grid, "
                + "e.g. the article's renders"
        };
        var command = new Command("robustness", "The article's robustness test: floor-coloured vs red cube under four "
            + "lights, with Grad-CAM and predictions on one sheet.");
        model.AddTo(command, withExplanation: false);
        command.Add(outDir);
        command.Add(images);
        var renderer = RendererChoice.Option("how the heatmaps are drawn: auto (the live view's OpenGL renderer, "
            + "headless; OpenCV when there is no OpenGL), gl, cpu");
        command.Add(renderer);
        command.SetAction(parsed =>
        {
            var dir = parsed.GetValue(outDir)!;
            Directory.CreateDirectory(dir);
            // Rendered cases come from the synthetic scene; images of your own are footage.
            using var vision = model.LoadModel(parsed, syntheticScene: parsed.GetValue(images) is null);
            if (!vision.Head.OutputsAreFreeDistances)
                throw new UsageException("robustness tests the robot model (--model robot)");
            var cases = parsed.GetValue(images) is { } folder ? FromImages(folder) : Rendered();
            try
            {
                Run(vision, cases, dir, parsed.GetValue(renderer) ?? "auto", output);
            }
            finally
            {
                foreach (var c in cases) c.Image.Dispose();
            }
            return Cli.Ok;
        });
        return command;
    }

    sealed record Case(string Name, Mat Image);

    static readonly (string Name, double Gain, (double X, double Z) Shadow, double Darkness)[] s_lights =
    [
        ("realistic", 1.0, (0.35, 0.45), 0.3),
        ("strong back light, big shadow towards the camera", 1.25, (0.0, -1.8), 0.6),
        ("shadow on the left", 1.0, (-1.3, 0.1), 0.5),
        ("small shadow on the left", 1.0, (-0.45, 0.05), 0.35),
    ];

    static List<Case> Rendered()
    {
        var floorColour = new Scalar(160, 165, 160);
        var cubes = new[]
        {
            ("floor-coloured cube", SyntheticScene.Scale(floorColour, 0.97)), ("red cube", new Scalar(30, 40, 210))
        };
        using var floor = FloorWorld.RasteriseFloor(640, 480, floorColour, textureSeed: 7);
        var cases = new List<Case>();
        foreach (var (cube, colour) in cubes)
            foreach (var light in s_lights)
            {
                var layout = new SceneLayout([new Obstacle(ObstacleShape.Box, 0, 22, 9, 9, colour)], light.Gain, 0,
                    light.Shadow, light.Darkness);
                var image = new Mat(480, 640, MatType.CV_8UC3);
                FloorWorld.Render(layout, floor, image);
                cases.Add(new Case($"{cube}, {light.Name}", image));
            }
        return cases;
    }

    static List<Case> FromImages(string folder)
    {
        var files = ImageSequenceReader.Expand(folder);
        if (files.Length == 0) throw new UsageException($"no images in '{folder}'");
        var cases = new List<Case>();
        foreach (var file in files)
        {
            var image = Cv2.ImRead(file, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                continue;
            }
            cases.Add(new Case(Path.GetFileName(file), image));
        }
        return cases;
    }

    static void Run(VisionModel vision, List<Case> cases, string dir, string renderer, TextWriter output)
    {
        var explainer = vision.CreateExplainer();
        var method = new GradCam();
        var layer = LayerSelector.Parse(vision.DefaultLayer);
        var report = new List<object>();
        var panels = new List<Mat>();
        using var thread = new RenderThread("render-offscreen", TimeSpan.FromSeconds(1));
        using var painter = new RendererChoice(renderer, output).Offscreen(thread, "pictures", cpuOnSoftwareGl: false);
        try
        {
            foreach (var c in cases)
            {
                using var scope = NewDisposeScope();
                var set = explainer.Explain(vision.Preprocess(c.Image), method, Target.Sum(), layer);
                var prediction = new RobotPrediction(set.Outputs);
                var map = set.Items[0].Map;
                var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "robustness")
                {
                    Heatmap = new HeatmapImage(map.Height, map.Width, map.Normalised)
                };
                panels.Add(Panel(c.Image, analysis, prediction, $"{c.Name}: {prediction.Summary()}", painter));
                report.Add(new { name = c.Name, free_distance_cm = prediction.FreeDistances(), outputs = set.Outputs });
                output.WriteLine($"{c.Name}: {prediction.Summary()}");
            }
            using var sheet = Sheet(panels);
            var png = Path.Combine(dir, "robustness.png");
            if (!Cv2.ImWrite(png, sheet)) throw new UsageException($"cannot write '{png}'");
            var json = Path.Combine(dir, "robustness.json");
            File.WriteAllText(json, FiniteJson.Serialize(
                new
                {
                    model = vision.Name, weights = vision.Weights, method = method.Name, layer = vision.DefaultLayer,
                    target = "all outputs", cases = report
                },
                $"the robustness sheet for {json}"));
            output.WriteLine($"wrote {Path.GetFullPath(png)} and {Path.GetFullPath(json)}");
        }
        finally
        {
            foreach (var p in panels) p.Dispose();
        }
    }

    /// <summary>One case: the input, its heatmap and the paper-style grid side by side under a caption; a new Mat, the
    /// caller's.</summary>
    internal static Mat Panel(Mat image, Analysis analysis, RobotPrediction prediction, string caption,
        IPictureRenderer painter)
    {
        using var small = new Mat();
        Cv2.Resize(image, small, new OpenCvSharp.Size(320, 240), interpolation: InterpolationFlags.Area);
        using var heat = new Mat();
        painter.Render(PictureComposer.Still(small, analysis, new ViewOptions { ShowHud = false }, hud: null), heat);
        using var grid = ProximityGridPainter.Panel(prediction, 240);
        using var row = new Mat();
        Cv2.HConcat([small, heat, grid], row);
        var captioned = new Mat(row.Rows + 22, row.Cols, MatType.CV_8UC3, Scalar.White);
        using (var body = new Mat(captioned, new Rect(0, 22, row.Cols, row.Rows))) row.CopyTo(body);
        Cv2.PutText(captioned, caption, new Point(4, 16), HersheyFonts.HersheySimplex, 0.42, Scalar.Black, 1,
            LineTypes.AntiAlias);
        return captioned;
    }

    /// <summary>Two columns of panels (for the rendered grid, the two cubes side by side under each light); a new Mat,
    /// the caller's.</summary>
    internal static Mat Sheet(IReadOnlyList<Mat> panels)
    {
        int half = (panels.Count + 1) / 2;
        using var left = Stack(panels.Take(half));
        using var right = Stack(panels.Skip(half));
        var sheet = new Mat();
        if (right.Empty()) left.CopyTo(sheet);
        else
        {
            using var padded = Pad(right, left.Rows);
            Cv2.HConcat([left, padded], sheet);
        }
        return sheet;
    }

    /// <summary>The panels one above the other; a new Mat, the caller's.</summary>
    static Mat Stack(IEnumerable<Mat> mats)
    {
        var list = mats.ToArray();
        var result = new Mat();
        if (list.Length > 0) Cv2.VConcat(list, result);
        return result;
    }

    /// <summary><paramref name="m"/> with white rows added below up to <paramref name="rows"/>; always a new Mat, the
    /// caller's.</summary>
    static Mat Pad(Mat m, int rows)
    {
        var padded = new Mat();
        Cv2.CopyMakeBorder(m, padded, 0, Math.Max(0, rows - m.Rows), 0, 0, BorderTypes.Constant, Scalar.White);
        return padded;
    }
}
