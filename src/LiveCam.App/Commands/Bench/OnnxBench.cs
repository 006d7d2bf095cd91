using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Models;
using LiveCam.Models.Classifiers;
using LiveCam.Models.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Bench;

/// <summary><c>livecam bench onnx</c>: an ONNX file's forward pass through LiveCam's import (TorchSharp) against ONNX
/// Runtime on the same file and input, timed alternately in one run.</summary>
internal static class OnnxBench
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var runs = SharedOptions.Runs("forward passes per runtime", 30);
        var file = SharedOptions.Model(
            "an ONNX file with a 1x3xHxW input; default: resnet18-imagenet's", shortAlias: false);
        var threads = SharedOptions.Threads("threads for both runtimes (0: each its default)", defaultValue: 0);
        var json = SharedOptions.Json("also write the medians and the ratios (forward_vs_ort, gradcam_vs_ort, "
            + "eigencam_vs_ort) as JSON");
        var command = new Command("onnx", "An ONNX model's forward pass in LiveCam's import (TorchSharp) against "
            + "ONNX Runtime, same file, same input.");
        command.Add(runs);
        command.Add(file);
        command.Add(threads);
        command.Add(json);
        command.SetAction(parsed =>
        {
            try
            {
                int n = parsed.GetValue(runs);
                if (n < 5) throw new UsageException("--runs must be at least 5");
                var path = parsed.GetValue(file)
                    ?? ModelCatalog.ShippedWeights($"{ResNet18ImageNet.Folder}/ResNet18.onnx")
                    ?? throw new UsageException("no ONNX file: give --model FILE.onnx");
                int t = parsed.GetValue(threads);
                if (t < 0) throw new UsageException("--threads must be 0 or more");
                var ratios = Bench(path, n, t, output);
                if (parsed.GetValue(json) is { } j)
                {
                    File.WriteAllText(j, FiniteJson.Serialize(ratios, $"the timings for {j}", JsonOptions));
                    output.WriteLine($"wrote {Path.GetFullPath(j)}");
                }
                return Cli.Ok;
            }
            catch (OnnxRuntimeException e)
            {
                throw new UsageException($"ONNX Runtime cannot run it: {e.Message}", e);
            }
        });
        return command;
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>Medians in milliseconds, and each as a ratio to ONNX Runtime's forward pass of the same run.</summary>
    internal sealed record OnnxBenchResult(string Model, int Runs, double OrtMs, double ForwardMs, double PlainMs,
        double GradcamMs, double EigencamMs, double LibtorchMs, string Layer, bool PackedConvolutions,
        string GradientFreeRuntime, double OutputsDiffer)
    {
        public double LibtorchVsOrt => LibtorchMs / OrtMs;
        public double ForwardVsOrt => ForwardMs / OrtMs;
        public double PlainVsOrt => PlainMs / OrtMs;
        public double GradcamVsOrt => GradcamMs / OrtMs;
        public double EigencamVsOrt => EigencamMs / OrtMs;
    }

    static OnnxBenchResult Bench(string path, int n, int threads, TextWriter output)
    {
        if (threads > 0) set_num_threads(threads);
        using var model = ModelCatalog.Load(path, null, CPU);
        int h = model.InputHeight, w = model.InputWidth;
        var random = new Random(1);
        var input = Enumerable.Range(0, 3 * h * w).Select(_ => (float)random.NextDouble()).ToArray();
        using var options = new SessionOptions();
        // Its workers would otherwise spin after each run and take the cores from the TorchSharp pass timed next.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // As LiveCam's own session is set up (Onnx/OnnxRuntimePart.cs): as many threads as libtorch's, a fair baseline.
        options.IntraOpNumThreads = threads > 0 ? threads : get_num_threads();
        options.InterOpNumThreads = 1;
        using var session = new InferenceSession(path, options);
        var inputName = session.InputMetadata.Keys.First();
        var ortInput = new DenseTensor<float>(input, [1, 3, h, w]);
        float[] Ort()
        {
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, ortInput)]);
            return results[0].AsEnumerable<float>().ToArray();
        }
        model.Network.eval();
        using var x = tensor(input, [1, 3, h, w]);
        var onnx = model.Network as OnnxNetwork;
        bool chosen = onnx?.UsesOnnxRuntime ?? false;
        float[] Torch()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return model.Network.call(x).flatten().data<float>().ToArray();
        }
        // The same without ONNX Runtime: libtorch's packed kernels.
        float[] Libtorch()
        {
            if (onnx is not null) onnx.UsesOnnxRuntime = false;
            try { return Torch(); }
            finally { if (onnx is not null) onnx.UsesOnnxRuntime = chosen; }
        }
        // The same pass with the input requiring a gradient (as saliency's) takes the plain path all the way:
        // libtorch's convolution, weights reordered on every call, ReLU and sums separate.
        float[] Plain()
        {
            using var scope = NewDisposeScope();
            using var _ = enable_grad();
            using var leaf = x.detach().requires_grad_(true);
            return model.Network.call(leaf).flatten().data<float>().ToArray();
        }
        // Whole explanations as the live view asks for them, at the model's own layer and target: the map on the CPU.
        var explainer = model.CreateExplainer();
        var layer = LayerSelector.Parse(model.DefaultLayer);
        var target = model.Head.ParseTarget(model.DefaultTarget);
        var gradCam = MethodCatalog.Create("gradcam");
        var eigenCam = MethodCatalog.Create("eigencam");
        void Explain(ExplanationMethod method) => explainer.Explain(x, method, target, layer);

        var a = Torch();
        var b = Ort();
        double worst = a.Zip(b, (p, q) => Math.Abs(p - q)).Max() / Math.Max(1, b.Max(Math.Abs));
        Action[] work =
        [
            () => Ort(), () => Torch(), () => Plain(), () => Explain(gradCam), () => Explain(eigenCam),
            () => Libtorch(),
        ];
        for (int i = 0; i < 3; i++)
            foreach (var step in work) step();
        // Alternately, so that drift in the machine's speed falls on all alike.
        var times = work.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < work.Length; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                work[k]();
                times[k].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        var result = new OnnxBenchResult(Path.GetFileName(path), n, Median(times[0]), Median(times[1]),
            Median(times[2]), Median(times[3]), Median(times[4]), Median(times[5]), model.DefaultLayer,
            OnnxNetwork.PackedConvolutionsAvailable, onnx?.GradientFreeRuntime ?? "libtorch", worst);

        // For scale: TorchSharp's own ResNet-18 (the same convolutions, plus its classifier) on the same input.
        double tvMs = 0;
        if (h == 224 && w == 224)
        {
            using var tv = ModelCatalog.Load("resnet18", null, CPU);
            tv.Network.eval();
            var tvTimes = new List<double>();
            for (int i = 0; i < n; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                using (NewDisposeScope()) using (no_grad()) tv.Network.call(x);
                tvTimes.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            tvMs = Median(tvTimes);
        }
        output.WriteLine(Cli.Format($"LiveCam bench onnx: {result.Model}, 1x3x{h}x{w}, ")
            + Cli.Format($"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}; ")
            + Cli.Format($"medians of {n}, timed alternately"));
        output.WriteLine(Cli.Format($"  {"ONNX Runtime, forward",-52} {result.OrtMs,8:0.00} ms"));
        output.WriteLine(Cli.Format($"  without gradients LiveCam runs: {result.GradientFreeRuntime}"));
        Row("LiveCam, forward", result.ForwardMs, result.ForwardVsOrt);
        output.WriteLine(Cli.Format($"    outputs agree with ONNX Runtime's within {worst:G2} of their scale"));
        var packed = result.PackedConvolutions
            ? "packed, fused convolutions"
            : "packed convolutions not available here";
        Row($"LiveCam, forward in libtorch ({packed})", result.LibtorchMs, result.LibtorchVsOrt);
        Row("LiveCam, forward on the plain path (input gradients)", result.PlainMs, result.PlainVsOrt);
        Row($"LiveCam, Grad-CAM at {Short(result.Layer)}", result.GradcamMs, result.GradcamVsOrt);
        Row($"LiveCam, Eigen-CAM at {Short(result.Layer)}", result.EigencamMs, result.EigencamVsOrt);
        if (tvMs > 0)
            output.WriteLine(Cli.Format($"  for scale: TorchSharp's own resnet18 (with its classifier) ")
                + Cli.Format($"{tvMs:0.00} ms, {tvMs / result.OrtMs:0.00}x ONNX Runtime"));
        output.WriteLine(Cli.Format($"forward_vs_ort {result.ForwardVsOrt:0.00}  ")
            + Cli.Format($"gradcam_vs_ort {result.GradcamVsOrt:0.00}  eigencam_vs_ort {result.EigencamVsOrt:0.00}"));
        return result;

        void Row(string what, double ms, double ratio) =>
            output.WriteLine(Cli.Format($"  {what,-52} {ms,8:0.00} ms   {ratio:0.00}x ONNX Runtime"));
    }

    /// <summary>A layer's ONNX tensor name, shortened for a table.</summary>
    static string Short(string layer) => layer.Length <= 24 ? layer : "..." + layer[^21..];
}
