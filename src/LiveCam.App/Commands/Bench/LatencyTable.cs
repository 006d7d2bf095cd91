using System.Diagnostics;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using static TorchSharp.torch;

namespace LiveCam.App.Commands.Bench;

/// <summary><c>livecam bench explain --latency</c>: a latency table laid out as torch-cam's README lays out its own
/// (mean and standard deviation of each CAM method on ResNet-18 and MobileNetV3-large at 224x224), with the forward
/// pass excluded and included, and torch-cam's published CPU figures beside ours.</summary>
internal static class LatencyTable
{
    /// <summary>torch-cam's README, "Latency benchmark" (forward pass not included; 100 iterations at 224x224 on an
    /// Intel Core i7-10750H laptop CPU): mean and standard deviation in milliseconds. Theirs, from another machine.
    /// </summary>
    static readonly Dictionary<(string Arch, string Method), (double Mean, double Std)> TorchCam = new()
    {
        [("resnet18", "cam")] = (0.14, 0.03),
        [("resnet18", "gradcam")] = (40.66, 1.82),
        [("resnet18", "gradcam++")] = (41.61, 3.24),
        [("resnet18", "scorecam")] = (6796.89, 415.14),
        [("resnet18", "xgradcam")] = (40.63, 2.03),
        [("resnet18", "layercam")] = (40.91, 1.79),
        [("mobilenet_v3_large", "gradcam")] = (26.64, 3.46),
        [("mobilenet_v3_large", "gradcam++")] = (25.50, 3.10),
        [("mobilenet_v3_large", "scorecam")] = (679.16, 55.04),
        [("mobilenet_v3_large", "xgradcam")] = (24.21, 2.94),
        [("mobilenet_v3_large", "layercam")] = (25.14, 3.17),
    };

    static readonly string[] DefaultMethods =
        ["cam", "gradcam", "gradcam++", "xgradcam", "layercam", "eigencam", "reciprocam", "scorecam"];

    /// <param name="iterations">Timed iterations per method (torch-cam's: 100); methods of hundreds of passes get a
    /// tenth, at least 3.</param>
    /// <param name="warmups">Untimed iterations first (torch-cam's: 10; a tenth for methods of hundreds).</param>
    public static void Print(Device device, int iterations, int warmups, IReadOnlyList<string>? methods,
        TextWriter output)
    {
        var chosen = methods ?? DefaultMethods.Where(MethodCatalog.Names.Contains).ToArray();
        output.WriteLine($"LiveCam bench explain --latency: {device.type.ToString().ToLowerInvariant()}, "
            + $"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}; 224x224, top class; "
            + $"{iterations} iterations after {warmups} warm-ups (methods of hundreds of passes: a tenth)");
        output.WriteLine("  excluded: the method's time less the mean of a plain forward pass timed alternately with "
            + "it (std of both combined); torch-cam times its CAM after the forward pass, so its figures exclude it");
        output.WriteLine();
        output.WriteLine($"  {"method",-12} {"arch",-19} {"LiveCam, forward excluded",27} "
            + $"{"LiveCam, forward included",27} {"torch-cam CPU (theirs)*",25}");
        foreach (var arch in new[] { "resnet18", "mobilenet_v3_large" })
        {
            manual_seed(0);
            using var model = ModelCatalog.Load(arch, null, device);
            model.Network.eval();
            using var input = rand(1, 3, 224, 224, device: device);
            var explainer = model.CreateExplainer();
            var layer = LayerSelector.Parse(model.DefaultLayer);
            void Forward()
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                model.Network.call(input);
            }
            foreach (var name in chosen)
            {
                var method = MethodCatalog.Create(name);
                bool many = method.Cost >= MethodCost.Hundreds;
                int n = many ? Math.Max(3, iterations / 10) : iterations;
                int w = many ? Math.Max(1, warmups / 10) : warmups;
                string excluded, included;
                try
                {
                    var (work, forward) = Time(n, w, Forward,
                        () => explainer.Explain(input, method, Target.Top(), layer));
                    excluded = MeanStd(work.Mean - forward.Mean, Math.Sqrt(work.Var + forward.Var));
                    included = MeanStd(work.Mean, Math.Sqrt(work.Var));
                }
                catch (ArgumentException e)
                {
                    // CAM needs a pooled linear head (MobileNetV3's has two layers, as torch-cam says too).
                    excluded = included = "n/a";
                    output.WriteLine($"  ({name} on {arch}: {e.Message.Split(';')[0]})");
                }
                var theirs = TorchCam.TryGetValue((arch, name), out var t) ? MeanStd(t.Mean, t.Std) : "";
                output.WriteLine($"  {name,-12} {arch,-19} {excluded,27} {included,27} {theirs,25}");
            }
        }
        output.WriteLine();
        output.WriteLine("  * torch-cam's README, 'Latency benchmark': forward pass not included, 100 iterations at "
            + "224x224 on an Intel Core i7-10750H laptop CPU. Another machine: for scale, not a race.");
    }

    static string MeanStd(double mean, double std) => Cli.Format($"{mean:0.00} ms ({std:0.00} ms)");

    /// <summary>Mean and variance (ms) of <paramref name="work"/> and of a forward pass, timed alternately.</summary>
    static ((double Mean, double Var) Work, (double Mean, double Var) Forward) Time(int runs, int warmups,
        Action forward, Action work)
    {
        for (int i = 0; i < warmups; i++)
        {
            forward();
            work();
        }
        var w = new double[runs];
        var f = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            forward();
            f[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            start = Stopwatch.GetTimestamp();
            work();
            w[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return (Stats(w), Stats(f));
    }

    static (double Mean, double Var) Stats(double[] values)
    {
        double mean = values.Average();
        double var = values.Length > 1 ? values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1) : 0;
        return (mean, var);
    }
}
