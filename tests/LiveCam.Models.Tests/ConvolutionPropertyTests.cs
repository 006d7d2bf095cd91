using System.Text.Json;
using LiveCam.Explain.Kernels;
using LiveCam.Models.Onnx;
using LiveCam.Tests;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>
/// Every convolution path LiveCam runs (plain NCHW, channels-last, and the packed kernels with each epilogue: none,
/// ReLU, residual sum and ReLU, the sum written in place) on hundreds of seeded problems, against float64 computed by
/// libtorch's own kernels and by PyTorch. Channel counts no vector width divides, every group form, kernels 1 to 7,
/// strides 1 to 3, dilations 1 and 2, asymmetric pads, odd image sizes, batches 1 and 3.
/// </summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public class ConvolutionPropertyTests
{
    static readonly int[] Channels = [1, 3, 7, 8, 10, 16, 17, 64, 1000, 1001];
    const double Tolerance = KernelFamily.Tolerance;

    /// <summary>Seeded problems whose cost (multiply-adds) stays under <paramref name="budget"/>.</summary>
    internal static List<ConvolutionGeometry> Geometries(int count, long budget, int seed)
    {
        var random = new Random(seed);
        var list = new List<ConvolutionGeometry>();
        while (list.Count < count)
        {
            int cin = Channels[random.Next(Channels.Length)], cout = Channels[random.Next(Channels.Length)];
            int groups = random.Next(4) switch
            {
                0 => cin,                   // depthwise (with a multiplier where cout is a multiple)
                1 => random.Next(2, 5),
                _ => 1,
            };
            if (groups == cin && cout % cin != 0) cout = cin;
            int kernel = new[] { 1, 3, 5, 7 }[random.Next(4)], stride = random.Next(1, 4), dilation = random.Next(1, 3);
            int height = random.Next(1, 58), width = random.Next(1, 32);
            int span = dilation * (kernel - 1);
            int[] pads = random.Next(2) == 0
                ? Enumerable.Repeat(random.Next(0, span / 2 + 1), 4).ToArray()
                :
                [
                    random.Next(0, span + 1), random.Next(0, span + 1), random.Next(0, span + 1),
                    random.Next(0, span + 1)
                ];
            var g = new ConvolutionGeometry(random.Next(2) == 0 ? 1 : 3, cin, cout, height, width, kernel, stride,
                dilation, groups, pads[0], pads[1], pads[2], pads[3]);
            if (!g.Valid) continue;
            var (oh, ow) = g.Output;
            long macs = (long)g.Batch * cout * oh * ow * (cin / groups) * kernel * kernel;
            if (macs > budget) continue;
            list.Add(g);
        }
        return list;
    }

    [Fact]
    public void Every_path_computes_what_float64_and_PyTorch_compute_on_300_problems() =>
        Check(Geometries(300, 2_000_000, seed: 20));

    [Trait("Category", "Slow")]
    [Fact]
    public void Every_path_computes_what_float64_and_PyTorch_compute_on_2000_larger_problems() =>
        Check(Geometries(2000, 40_000_000, seed: 21));

    static void Check(List<ConvolutionGeometry> geometries)
    {
        using var packed = PackedConvolutions.Create();
        Assert.True(packed is not null || !CpuKernels.EnsureChecked().OneDnn,
            "packed convolutions should run where oneDNN is on");
        var pytorch = PyTorchOracle.Missing is null ? PyTorch(geometries) : null;
        var failures = new List<string>();
        int paths = 0;
        for (int i = 0; i < geometries.Count; i++)
        {
            var g = geometries[i];
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (x, w, b) = g.Tensors(seed: i);
            var reference = g.Convolve(x.to(ScalarType.Float64), w.to(ScalarType.Float64), b.to(ScalarType.Float64));
            void Record(string path, double error)
            {
                paths++;
                if (!(error <= Tolerance)) failures.Add($"{path} on {g}: {error:E2} of scale");
            }
            void Expect(string path, Tensor actual, Tensor expected) =>
                Record(path, KernelFamily.RelativeError(actual, expected));
            if (pytorch is not null)
                Expect("float64 against PyTorch's", reference, tensor(pytorch[i]).reshape(reference.shape));
            Expect("plain NCHW", g.Convolve(x, w, b), reference);
            Expect("channels-last",
                g.Convolve(KernelFamilies.ChannelsLast(x), KernelFamilies.ChannelsLast(w), b), reference);
            if (packed is null) continue;
            foreach (var epilogue in Enum.GetValues<ConvolutionEpilogue>())
            {
                if (!PackedConvolutions.Supports(
                    epilogue, g.InChannels, g.OutChannels, g.Output.Height * g.Output.Width)) continue;
                double error, residualError;
                try { (error, residualError) = PackedConvolutions.Check(packed, $"case {i}", g, epilogue, seed: i); }
                catch (System.Runtime.InteropServices.ExternalException e)
                {
                    failures.Add($"packed {epilogue} on {g}: {LibTorchError.Reason(e)}");
                    continue;
                }
                Record($"packed {epilogue}", error);
                if (epilogue == ConvolutionEpilogue.AddReluInPlace)
                    Record("packed sum in place (the residual)", residualError);
            }
        }
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {paths} paths wrong:\n{string.Join('\n', failures.Take(20))}");
        Assert.True(paths >= geometries.Count * 3);
    }

    /// <summary>PyTorch's float64 outputs for the same problems and tensors, one array per problem.</summary>
    static List<double[]> PyTorch(List<ConvolutionGeometry> geometries)
    {
        var dir = Directory.CreateTempSubdirectory("livecam-conv-oracle-").FullName;
        try
        {
            var cases = Path.Combine(dir, "cases.json");
            var inputs = Path.Combine(dir, "inputs.bin");
            var outputs = Path.Combine(dir, "outputs.bin");
            File.WriteAllText(cases, JsonSerializer.Serialize(geometries.Select(g => new Dictionary<string, int>
            {
                ["batch"] = g.Batch, ["in"] = g.InChannels, ["out"] = g.OutChannels, ["height"] = g.Height,
                ["width"] = g.Width,
                ["kernel"] = g.Kernel, ["stride"] = g.Stride, ["dilation"] = g.Dilation, ["groups"] = g.Groups,
                ["left"] = g.PadLeft, ["right"] = g.PadRight, ["top"] = g.PadTop, ["bottom"] = g.PadBottom,
            })));
            using (var file = File.Create(inputs))
                for (int i = 0; i < geometries.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    var (x, w, b) = geometries[i].Tensors(seed: i);
                    foreach (var t in new[] { x, w, b })
                        file.Write(
                            System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.data<float>().ToArray().AsSpan()));
                }
            PyTorchOracle.Script("convolution_oracle.py", cases, inputs, outputs);
            var all = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(outputs))
                .ToArray();
            var result = new List<double[]>();
            int at = 0;
            foreach (var g in geometries)
            {
                var (oh, ow) = g.Output;
                var n = g.Batch * g.OutChannels * oh * ow;
                result.Add(all[at..(at + n)]);
                at += n;
            }
            Assert.Equal(all.Length, at);
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
