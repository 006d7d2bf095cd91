using System.CommandLine;
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
        var command = new Command("onnx", "An ONNX model's forward pass in LiveCam's import (TorchSharp) against "
            + "ONNX Runtime, same file, same input.");
        command.Add(runs);
        command.Add(file);
        command.Add(threads);
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
                Bench(path, n, t, output);
                return Cli.Ok;
            }
            catch (OnnxRuntimeException e)
            {
                throw new UsageException($"ONNX Runtime cannot run it: {e.Message}", e);
            }
        });
        return command;
    }

    static void Bench(string path, int n, int threads, TextWriter output)
    {
        if (threads > 0) set_num_threads(threads);
        using var model = ModelCatalog.Load(path, null, CPU);
        int h = model.InputHeight, w = model.InputWidth;
        var random = new Random(1);
        var input = Enumerable.Range(0, 3 * h * w).Select(_ => (float)random.NextDouble()).ToArray();
        using var options = new SessionOptions();
        // Its workers would otherwise spin after each run and take the cores from the TorchSharp pass timed next.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (threads > 0) options.IntraOpNumThreads = threads;
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
        float[] Torch()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return model.Network.call(x).flatten().data<float>().ToArray();
        }
        // The same pass with gradients enabled (nothing requires one, so no graph is kept) takes the plain path that
        // explanations take: libtorch's convolution, weights reordered on every call, ReLU and sums separate.
        float[] Plain()
        {
            using var scope = NewDisposeScope();
            using var _ = enable_grad();
            return model.Network.call(x).flatten().data<float>().ToArray();
        }
        var a = Torch();
        var b = Ort();
        double worst = a.Zip(b, (p, q) => Math.Abs(p - q)).Max() / Math.Max(1, b.Max(Math.Abs));
        for (int i = 0; i < 3; i++) { Torch(); Ort(); Plain(); }
        var torchTimes = new List<double>();
        var ortTimes = new List<double>();
        var plainTimes = new List<double>();
        for (int i = 0; i < n; i++)
        {
            var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            Torch();
            var t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            Ort();
            var t2 = System.Diagnostics.Stopwatch.GetTimestamp();
            Plain();
            var t3 = System.Diagnostics.Stopwatch.GetTimestamp();
            torchTimes.Add((t1 - t0) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
            ortTimes.Add((t2 - t1) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
            plainTimes.Add((t3 - t2) * 1000.0 / System.Diagnostics.Stopwatch.Frequency);
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        // For scale: TorchSharp's own ResNet-18 (the same convolutions, plus its classifier) on the same input.
        double tvMs = 0;
        if (h == 224 && w == 224)
        {
            using var tv = ModelCatalog.Load("resnet18", null, CPU);
            tv.Network.eval();
            var tvTimes = new List<double>();
            for (int i = 0; i < n; i++)
            {
                var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                using (NewDisposeScope()) using (no_grad()) tv.Network.call(x);
                tvTimes.Add((System.Diagnostics.Stopwatch.GetTimestamp() - t0) * 1000.0
                    / System.Diagnostics.Stopwatch.Frequency);
            }
            tvMs = Median(tvTimes);
        }
        double torchMs = Median(torchTimes), ortMs = Median(ortTimes), plainMs = Median(plainTimes);
        output.WriteLine(Cli.Format($"LiveCam bench onnx: {Path.GetFileName(path)}, 1x3x{h}x{w}, ")
            + Cli.Format($"{Environment.ProcessorCount} cores, torch threads {get_num_threads()}; ")
            + Cli.Format($"medians of {n}, timed alternately"));
        output.WriteLine(Cli.Format($"  ONNX Runtime {ortMs,8:0.00} ms"));
        var packed = OnnxNetwork.PackedConvolutionsAvailable
            ? "packed, fused convolutions"
            : "packed convolutions not available here";
        output.WriteLine(Cli.Format($"  LiveCam      {torchMs,8:0.00} ms   {torchMs / ortMs:0.00}x ONNX Runtime ")
            + Cli.Format($"(outputs agree within {worst:G2} of their scale; {packed})"));
        output.WriteLine(Cli.Format($"  LiveCam, plain convolutions, as when explaining with gradients ")
            + Cli.Format($"{plainMs,8:0.00} ms   {plainMs / ortMs:0.00}x ONNX Runtime"));
        if (tvMs > 0)
            output.WriteLine(Cli.Format($"  for scale: TorchSharp's own resnet18 (with its classifier) ")
                + Cli.Format($"{tvMs:0.00} ms, {tvMs / ortMs:0.00}x ONNX Runtime"));
    }
}
