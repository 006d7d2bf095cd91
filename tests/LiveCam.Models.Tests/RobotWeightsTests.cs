using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LiveCam.Models.Robot;
using LiveCam.Models.Weights;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class RobotWeightsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-weights-").FullName;
    static string? Original => SharedData.Find("seed/models/long_range_perception.pt");

    /// <summary>The oracle's deterministic input: x[c][h][w] = 2 sin(0.11 (h+1)(c+1+k) + 0.07 (w+1)(k+1))
    /// cos(0.05 w - 0.03 h c).</summary>
    static Tensor OracleInput(int k)
    {
        var x = new float[3 * 64 * 80];
        for (int c = 0; c < 3; c++)
            for (int h = 0; h < 64; h++)
                for (int w = 0; w < 80; w++)
                    x[(c * 64 + h) * 80 + w] = (float)(
                        2 * Math.Sin(0.11 * (h + 1) * (c + 1 + k) + 0.07 * (w + 1) * (k + 1))
                        * Math.Cos(0.05 * w - 0.03 * h * c));
        return tensor(x, [1, 3, 64, 80]);
    }

    static float[] Outputs(LongRangePerceptionNet net, Tensor input)
    {
        net.eval();
        using var _ = no_grad();
        return net.call(input).data<float>().ToArray();
    }

    [SkippableFact]
    public void The_original_weights_reproduce_the_oracle_outputs()
    {
        var pt = Original;
        var oracle = SharedData.Find("reference/long-range-perception-oracle.json");
        Skip.If(pt is null || oracle is null, "../shared is absent");
        using var doc = JsonDocument.Parse(File.ReadAllText(oracle!));
        int k = doc.RootElement.GetProperty("k").GetInt32();
        var expected = doc.RootElement.GetProperty("outputs").EnumerateArray().Select(e => e.GetDouble()).ToArray();

        using var scope = NewDisposeScope();
        using var net = new LongRangePerceptionNet();
        WeightFiles.Load(net, pt!);
        var actual = Outputs(net, OracleInput(k));
        Assert.Equal(325, expected.Length);
        double worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        Assert.True(worst <= 1e-4, $"largest difference {worst:E2}");
    }

    [SkippableFact]
    public void The_same_weights_load_from_zip_torch_save_safetensors_and_TorchSharp_files()
    {
        Skip.If(Original is null, "../shared is absent");
        using var scope = NewDisposeScope();
        var tensors = TorchFileReader.Read(Original!);
        Assert.Equal(10, tensors.Count);
        Assert.Equal("10x3x3x3", tensors["encoder.0.weight"].ShapeText);
        var input = OracleInput(0);
        using var reference = new LongRangePerceptionNet();
        WeightFiles.Load(reference, Original!);
        var expected = Outputs(reference, input);

        var zip = Path.Combine(_dir, "state_dict.pt");
        WriteZipStateDict(zip, tensors);
        var safetensors = Path.Combine(_dir, "weights.safetensors");
        WriteSafetensors(safetensors, tensors);
        var own = Path.Combine(_dir, "weights.dat");
        reference.save(own);

        foreach (var file in new[] { zip, safetensors, own })
        {
            using var net = new LongRangePerceptionNet();
            WeightFiles.Load(net, file);
            Assert.Equal(expected, Outputs(net, input));
        }
    }

    [SkippableFact]
    public void A_truncated_file_is_a_clear_error()
    {
        Skip.If(Original is null, "../shared is absent");
        var truncated = Path.Combine(_dir, "truncated.pt");
        File.WriteAllBytes(truncated, File.ReadAllBytes(Original!)[..300_000]);
        using var net = new LongRangePerceptionNet();
        var e = Assert.Throws<ModelLoadException>(() => WeightFiles.Load(net, truncated));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Weights_of_another_shape_are_refused_naming_the_tensor()
    {
        Skip.If(Original is null, "../shared is absent");
        var tensors = TorchFileReader.Read(Original!).ToDictionary();
        tensors["decoder.3.weight"] = new TensorData(new float[256 * 100], [100, 256]);
        var file = Path.Combine(_dir, "wrong.safetensors");
        WriteSafetensors(file, tensors);
        using var net = new LongRangePerceptionNet();
        var e = Assert.Throws<ModelLoadException>(() => WeightFiles.Load(net, file));
        Assert.Contains("decoder.3.weight is 100x256 in the file, the network expects 325x256", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickle_naming_a_global_outside_the_allow_list_is_refused_without_running_it()
    {
        // PROTO 2; GLOBAL 'os system'; (echo pwned,); REDUCE; STOP  -- what a malicious file looks like.
        var file = Path.Combine(_dir, "evil.pt");
        using (var s = File.Create(file))
        {
            s.Write([0x80, 0x02]);
            s.Write(Encoding.ASCII.GetBytes("cos\nsystem\n"));
            s.Write([(byte)'X', 11, 0, 0, 0]);
            s.Write(Encoding.ASCII.GetBytes("echo pwned!"));
            s.Write([0x85, (byte)'R', (byte)'.']);
        }
        using var net = new LongRangePerceptionNet();
        var e = Assert.Throws<ModelLoadException>(() => WeightFiles.Load(net, file));
        Assert.Contains("'os.system'", e.Message, StringComparison.Ordinal);
        Assert.Contains("allow-list", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_is_not_taken_for_weights()
    {
        var file = Path.Combine(_dir, "garbage.pt");
        File.WriteAllBytes(file, Enumerable.Range(0, 4000).Select(i => (byte)(i * 7 + 3)).ToArray());
        using var net = new LongRangePerceptionNet();
        Assert.Throws<ModelLoadException>(() => WeightFiles.Load(net, file));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static void WriteSafetensors(string path, IReadOnlyDictionary<string, TensorData> tensors)
    {
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            header[name] = new
            {
                dtype = "F32", shape = t.Shape, data_offsets = new[] { offset, offset + t.Values.Length * 4L }
            };
            offset += t.Values.Length * 4L;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var s = File.Create(path);
        s.Write(BitConverter.GetBytes((ulong)json.Length));
        s.Write(json);
        foreach (var t in tensors.Values)
            foreach (var v in t.Values) s.Write(BitConverter.GetBytes(v));
    }

    /// <summary>The layout of torch.save(model.state_dict()) since PyTorch 1.6: a zip with data.pkl and
    /// data/&lt;key&gt;.</summary>
    static void WriteZipStateDict(string path, IReadOnlyDictionary<string, TensorData> tensors)
    {
        using var pickle = new MemoryStream();
        void Op(params byte[] b) => pickle.Write(b);
        void Text(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            Op((byte)'X');
            Op(BitConverter.GetBytes(b.Length));
            Op(b);
        }
        void Int(long v)
        {
            Op((byte)'J');
            Op(BitConverter.GetBytes((int)v));
        }
        void Global(string module, string name) => Op(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        void Tuple(IEnumerable<long> values)
        {
            Op((byte)'(');
            foreach (var v in values) Int(v);
            Op((byte)'t');
        }

        Op(0x80, 0x02);
        Global("collections", "OrderedDict");
        Op((byte)')', (byte)'R', (byte)'(');
        int key = 0;
        var keys = new Dictionary<string, int>();
        foreach (var (name, t) in tensors)
        {
            keys[name] = key;
            Text(name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op((byte)'(', (byte)'(');
            Text("storage");
            Global("torch", "FloatStorage");
            Text(key.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Text("cpu");
            Int(t.Values.Length);
            Op((byte)'t', (byte)'Q');
            Int(0);
            Tuple(t.Shape);
            var stride = new long[t.Shape.Length];
            long s = 1;
            for (int i = t.Shape.Length - 1; i >= 0; i--) { stride[i] = s; s *= t.Shape[i]; }
            Tuple(stride);
            Op(0x89);
            Global("collections", "OrderedDict");
            Op((byte)')', (byte)'R', (byte)'t', (byte)'R');
            key++;
        }
        Op((byte)'u', (byte)'.');

        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var e = zip.CreateEntry("archive/data.pkl").Open()) e.Write(pickle.ToArray());
        foreach (var (name, t) in tensors)
        {
            using var e = zip.CreateEntry($"archive/data/{keys[name]}").Open();
            foreach (var v in t.Values) e.Write(BitConverter.GetBytes(v));
        }
    }
}
