using LiveCam.Core;
using System.CommandLine;
using System.Globalization;
using LiveCam.Models;
using LiveCam.Models.Robot;
using LiveCam.Models.Robot.Training;
using OpenCvSharp;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Robot;

/// <summary><c>livecam train-robot</c> and <c>livecam eval-robot</c>: the robot model on synthetic data.</summary>
internal static class RobotCommands
{
    public static Command Train(TextWriter output, TextWriter error)
    {
        var samples = SharedOptions.Samples("training images to generate", 16_000);
        var epochs = new Option<int>("--epochs")
        {
            Description = "passes over the data", DefaultValueFactory = _ => 20
        };
        var seed = SharedOptions.Seed("seed of the data and of training", 1);
        var outFile = SharedOptions.Out("where to save the weights (TorchSharp format)", required: true);
        var device = SharedOptions.Device("auto, cpu, cuda");
        var preview = new Option<string?>("--preview")
        {
            Description = "also write a PNG of the first 16 training images with their labels"
        };
        var command = new Command("train-robot",
            "Train the robot model on synthetic data the project generates (deterministic by seed).");
        command.Add(samples);
        command.Add(epochs);
        command.Add(seed);
        command.Add(outFile);
        command.Add(device);
        command.Add(preview);
        command.SetAction(parsed =>
        {
            int n = parsed.GetValue(samples), e = parsed.GetValue(epochs), s = parsed.GetValue(seed);
            if (n < 64) throw new UsageException("--samples must be at least 64 (one batch)");
            if (e < 1) throw new UsageException("--epochs must be at least 1");
            var path = parsed.GetValue(outFile)!;
            Cli.RequireFolderOf(path);
            var dev = ComputeDevice.Select(parsed.GetValue(device) ?? "auto");

            var watch = System.Diagnostics.Stopwatch.StartNew();
            error.Write($"generating {n} images (seed {s})...");
            var data = RobotDataset.Generate(n, s);
            error.WriteLine(Cli.Format($" {watch.Elapsed.TotalSeconds:0.0} s"));
            if (parsed.GetValue(preview) is { } previewPath)
            {
                using var sheet = Preview(data, 16);
                if (!Cv2.ImWrite(previewPath, sheet)) throw new UsageException($"cannot write '{previewPath}'");
                output.WriteLine($"wrote {Path.GetFullPath(previewPath)}");
            }
            using var net = new LongRangePerceptionNet();
            var bar = new ProgressBar(error);
            RobotTrainer.Train(net, data, e, s, dev, bar.Report);
            bar.Done();
            net.save(path);
            output.WriteLine(Cli.Format($"trained {e} epochs on {n} images in {watch.Elapsed.TotalMinutes:0.0} min; ")
                + Cli.Format($"saved {Path.GetFullPath(path)}"));
            return Cli.Ok;
        });
        return command;
    }

    public static Command Eval(TextWriter output, TextWriter error)
    {
        var weights = SharedOptions.Weights(
            "weights to evaluate (default: the shipped ones); .pt, .safetensors or TorchSharp");
        var samples = SharedOptions.Samples("held-out images to generate", 4000);
        var seed = SharedOptions.Seed("seed of the held-out set (use one training did not)", 1_000_001);
        var json = SharedOptions.Json("write {\"auc\": [[5 values] per distance 0..30]} here (null where undefined)");
        var png = SharedOptions.Out("write the AUC table as a picture like the paper's");
        var command = new Command("eval-robot",
            "ROC AUC per (distance, sensor) of the robot model on a fresh synthetic held-out set.");
        command.Add(weights);
        command.Add(samples);
        command.Add(seed);
        command.Add(json);
        command.Add(png);
        command.SetAction(parsed =>
        {
            // Generated data: the synthetic scene's weights unless told otherwise.
            using var model = ModelCatalog.Load(
                "robot", parsed.GetValue(weights), ComputeDevice.Select("auto"), syntheticScene: true);
            var data = RobotDataset.Generate(parsed.GetValue(samples), parsed.GetValue(seed));
            var predictions = RobotEvaluation.Predict((LongRangePerceptionNet)model.Network, data, model.Device);
            var auc = RobotEvaluation.Auc(predictions, data);
            Print(auc, output);
            output.WriteLine(Cli.Format(
                    $"mean AUC, distances 0..10 cm, all sensors: {RobotEvaluation.MeanAuc(auc, 10):0.000}; ")
                + Cli.Format($"0..30 cm: {RobotEvaluation.MeanAuc(auc, 30):0.000} ")
                + Cli.Format($"({model.Weights}, {data.Count} images, seed {parsed.GetValue(seed)})"));
            if (parsed.GetValue(json) is { } j)
            {
                File.WriteAllText(j, FiniteJson.Serialize(
                    new { auc, weights = model.Weights, samples = data.Count, seed = parsed.GetValue(seed) },
                    $"the evaluation for {j}"));
                output.WriteLine($"wrote {Path.GetFullPath(j)}");
            }
            if (parsed.GetValue(png) is { } p)
            {
                using var picture = Picture(auc);
                if (!Cv2.ImWrite(p, picture)) throw new UsageException($"cannot write '{p}'");
                output.WriteLine($"wrote {Path.GetFullPath(p)}");
            }
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>Training images (enlarged 2x) each beside its labels drawn as the paper's grid (unknown =
    /// grey).</summary>
    static Mat Preview(RobotDataset data, int count)
    {
        var tiles = new List<Mat>();
        try
        {
            for (int i = 0; i < Math.Min(count, data.Count); i++)
            {
                using var small = new Mat(
                    LongRangePerceptionNet.InputHeight, LongRangePerceptionNet.InputWidth, MatType.CV_8UC3);
                System.Runtime.InteropServices.Marshal.Copy(
                    data.Images, i * small.Rows * small.Cols * 3, small.Data, small.Rows * small.Cols * 3);
                using var large = new Mat();
                Cv2.Resize(small, large, new OpenCvSharp.Size(160, 128), interpolation: InterpolationFlags.Nearest);
                var labels = data.LabelsOf(i).ToArray().Select(l => l < 0 ? 0.5f : l).ToArray();
                using var grid = Models.Robot.ProximityGridPainter.Panel(new RobotPrediction(labels), 128);
                var tile = new Mat();
                Cv2.HConcat([large, grid], tile);
                Cv2.CopyMakeBorder(tile, tile, 2, 2, 2, 2, BorderTypes.Constant, Scalar.White);
                tiles.Add(tile);
            }
            var rows = tiles.Chunk(4).Select(r =>
            {
                var row = new Mat();
                Cv2.HConcat(r, row);
                return row;
            }).ToList();
            var sheet = new Mat();
            Cv2.VConcat(rows.ToArray(), sheet);
            foreach (var r in rows) r.Dispose();
            return sheet;
        }
        finally
        {
            foreach (var t in tiles) t.Dispose();
        }
    }

    static void Print(double?[][] auc, TextWriter output)
    {
        output.WriteLine($"{"cm",4} " + string.Join(" ", RobotPrediction.SensorNames.Select(n => $"{n,6}")));
        for (int d = 0; d < auc.Length; d++)
            output.WriteLine($"{d,4} " + string.Join(" ", auc[d].Select(v => v is { } a
                ? a.ToString("0.000", CultureInfo.InvariantCulture).PadLeft(6)
                : "     -")));
    }

    /// <summary>The paper's picture: sensors as columns, distance 0 at the bottom, cells from white (0.5) to dark red
    /// (1).</summary>
    static Mat Picture(double?[][] auc)
    {
        const int cellW = 64, cellH = 18, left = 40, top = 30;
        int rows = auc.Length;
        var image = new Mat(top + rows * cellH + 10, left + 5 * cellW + 10, MatType.CV_8UC3, Scalar.White);
        for (int s = 0; s < 5; s++)
            Cv2.PutText(image, RobotPrediction.SensorNames[s], new Point(left + s * cellW + 22, top - 10),
                HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
        for (int d = 0; d < rows; d++)
        {
            int y = top + (rows - 1 - d) * cellH;
            if (d % 5 == 0)
                Cv2.PutText(image, $"{d}", new Point(8, y + 13), HersheyFonts.HersheySimplex, 0.4, Scalar.Black, 1,
                    LineTypes.AntiAlias);
            for (int s = 0; s < 5; s++)
            {
                var rect = new Rect(left + s * cellW, y, cellW - 1, cellH - 1);
                if (auc[d][s] is not { } a)
                {
                    Cv2.Rectangle(image, rect, new Scalar(220, 220, 220), -1);
                    continue;
                }
                double k = Math.Clamp((a - 0.5) / 0.5, 0, 1);
                var colour = new Scalar(255 * (1 - k), 255 * (1 - k), 255 - 115 * k);  // white -> dark red
                Cv2.Rectangle(image, rect, colour, -1);
                Cv2.PutText(image, a.ToString("0.00", CultureInfo.InvariantCulture),
                    new Point(rect.X + 16, rect.Y + 13), HersheyFonts.HersheySimplex, 0.4,
                    k > 0.6 ? Scalar.White : Scalar.Black, 1, LineTypes.AntiAlias);
            }
        }
        return image;
    }

    /// <summary>A one-line progress bar with the running loss, redrawn in place.</summary>
    sealed class ProgressBar(TextWriter error)
    {
        TimeSpan? _last;

        public void Report(TrainingProgress p)
        {
            if (_last is { } last && p.Elapsed - last < TimeSpan.FromMilliseconds(250) && p.Step != p.Steps) return;
            _last = p.Elapsed;
            double fraction = ((p.Epoch - 1) * (double)p.Steps + p.Step) / ((double)p.Epochs * p.Steps);
            int filled = (int)(fraction * 30);
            var eta = fraction > 0
                ? TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (1 - fraction) / fraction)
                : TimeSpan.Zero;
            error.Write(string.Create(CultureInfo.InvariantCulture,
                    $"\repoch {p.Epoch}/{p.Epochs} [{new string('#', filled)}{new string('.', 30 - filled)}] ")
                + string.Create(CultureInfo.InvariantCulture,
                    $"{fraction * 100,3:0}% loss {p.Loss:0.0000} eta {eta:mm\\:ss} "));
            error.Flush();
        }

        public void Done() => error.WriteLine();
    }
}
