using System.CommandLine;
using System.Diagnostics;
using LiveCam.Core;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary><c>livecam bench explain</c>: every method's cost as a ratio to a plain forward pass of the same model,
/// same run.</summary>
internal static class ExplainBench
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var runs = SharedOptions.Runs(
            "timed runs per measurement (methods of many passes on ResNet-18 get a tenth)", 20);
        var device = SharedOptions.Device("auto, cpu, cuda");
        var methods = SharedOptions.Methods("only these methods, comma-separated (default: all)");
        var latency = new Option<bool>("--latency")
        {
            Description = "instead, a latency table as torch-cam's README has (mean and std over --iterations after "
                + "--warmups, forward excluded and included, ResNet-18 and MobileNetV3-large), theirs beside it",
        };
        var iterations = new Option<int>("--iterations")
        {
            Description = "with --latency: timed iterations per method", DefaultValueFactory = _ => 100,
        };
        var warmups = new Option<int>("--warmups")
        {
            Description = "with --latency: untimed iterations first", DefaultValueFactory = _ => 10,
        };
        var command = new Command("explain", "Forward pass, each explanation method, and the ratio to forward, "
            + "for the robot model (64x80) and ResNet-18 (224x224).");
        command.Add(runs);
        command.Add(device);
        command.Add(methods);
        command.Add(latency);
        command.Add(iterations);
        command.Add(warmups);
        command.SetAction(parsed =>
        {
            int n = parsed.GetValue(runs);
            if (n < 3) throw new UsageException("--runs must be at least 3");
            var dev = ComputeDevice.Select(parsed.GetValue(device) ?? "auto");
            if (parsed.GetValue(latency))
            {
                int iters = parsed.GetValue(iterations), warm = parsed.GetValue(warmups);
                if (iters < 3) throw new UsageException("--iterations must be at least 3");
                if (warm < 0) throw new UsageException("--warmups must be 0 or more");
                var only = parsed.GetValue(methods)?.Split(',',
                    StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                try
                {
                    foreach (var m in only ?? []) MethodCatalog.Create(m);
                }
                catch (ArgumentException e) { throw new UsageException(e.Message, e); }
                LatencyTable.Print(dev, iters, warm, only, output);
                return Cli.Ok;
            }
            output.WriteLine(Cli.Format($"LiveCam bench explain: {dev.type.ToString().ToLowerInvariant()}, ")
                + Cli.Format($"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}; ")
                + Cli.Format($"medians of {n} runs ")
                + "(the robot's shipped weights, ResNet-18 untrained: cost does not depend on the weights)");
            var chosen = parsed.GetValue(methods) is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : MethodCatalog.Names.ToArray();
            // Unknown names fail before any timing, as bad input.
            try
            {
                foreach (var m in chosen) MethodCatalog.Create(m);
            }
            catch (ArgumentException e) { throw new UsageException(e.Message, e); }
            manual_seed(0);
            using (var robot = ModelCatalog.Load("robot", null, dev))
                Bench("robot (LongRangePerceptionNet)", robot, Target.Sum(), n * 5, chosen, output);
            using (var resnet = ModelCatalog.Load("resnet18", null, dev))
                Bench("resnet18", resnet, Target.Top(), n, chosen, output);
            return Cli.Ok;
        });
        return command;
    }

    static void Bench(string name, VisionModel vision, Target target, int runs, IReadOnlyList<string> methods,
        TextWriter output)
    {
        var model = vision.Network;
        model.eval();
        long[] shape = [1, 3, vision.InputHeight, vision.InputWidth];
        using var input = rand(shape, device: vision.Device);
        var explainer = vision.CreateExplainer();
        string layerName = vision.DefaultLayer;
        var layer = LayerSelector.Parse(layerName);
        output.WriteLine();
        output.WriteLine($"{name}, input {string.Join('x', shape)}, layer {layerName}, target {target.Description}");
        output.WriteLine($"  {"what",-44} {"median ms",10} {"vs forward",10}");

        void Forward()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.call(input);
        }
        var (forward, _) = Time(runs, Forward, Forward);
        Row("forward (no grad)", forward, forward, output);

        // How pytorch-grad-cam gets its gradients: backward through the whole network, parameter gradients included.
        var (usual, usualForward) = Time(runs, Forward, () =>
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            var o = model.call(input);
            target.Resolve(o)[0].ScoreOf(o).sum().backward();
        });
        model.zero_grad();
        Row("forward + full backward with parameter grads", usual, usualForward, output);

        foreach (var methodName in methods)
        {
            var method = MethodCatalog.Create(methodName);
            // Methods of many passes (dozens to a thousand) get a tenth of the runs on ResNet-18.
            int r = method.Cost >= MethodCost.Dozens && name.StartsWith("resnet", StringComparison.Ordinal)
                ? Math.Max(3, runs / 10)
                : runs;
            try
            {
                var (t, f) = Time(r, Forward, () => explainer.Explain(input, method, target, layer));
                Row(methodName, t, f, output);
            }
            catch (ArgumentException e) when (methodName == "cam")
            {
                output.WriteLine($"  {methodName,-44} {"n/a",10}  ({e.Message.Split(';')[0]})");
            }
        }
        if (target.Description == "top")
        {
            var (top5, f) = Time(runs, Forward, () => explainer.Explain(input, new GradCam(), Target.TopK(5), layer));
            Row("gradcam, top-5 classes from one forward", top5, f, output);
        }
    }

    /// <param name="forward">The median forward time measured alongside, for the ratio.</param>
    static void Row(string what, double ms, double forward, TextWriter output) =>
        output.WriteLine(Cli.Format($"  {what,-44} {ms,10:0.00} {ms / forward,9:0.00}x"));

    /// <summary>Medians of <paramref name="work"/> and of a forward pass, timed alternately so that drift in the
    /// machine's speed (other load, clock changes) falls on both alike.</summary>
    static (double Work, double Forward) Time(int runs, Action forward, Action work)
    {
        for (int i = 0; i < (runs < 5 ? 1 : 3); i++)
        {
            forward();
            work();
        }
        var w = new LatencyStats(runs);
        var f = new LatencyStats(runs);
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            forward();
            f.Add(Stopwatch.GetElapsedTime(start));
            start = Stopwatch.GetTimestamp();
            work();
            w.Add(Stopwatch.GetElapsedTime(start));
        }
        return (w.MedianMs, f.MedianMs);
    }
}
