using System.IO.Compression;
using System.Text.Json;
using static LiveCam.Models.Weights.PickleMachine;

namespace LiveCam.Models.Weights;

/// <summary>A tensor read from a file: float32 values in row-major order, and its shape.</summary>
public sealed record TensorData(float[] Values, long[] Shape)
{
    public string ShapeText => string.Join('x', Shape);
}

/// <summary>
/// Reads PyTorch weight files without Python and without executing anything in them:
/// the legacy (non-zip) <c>torch.save</c> format, including a pickled whole module (as in the robot model's
/// original <c>.pt</c>); the zip format of modern <c>torch.save</c> (state dicts or modules); and safetensors.
/// </summary>
public static class TorchFileReader
{
    // The globals a weight file may name. Classes become inert markers (never instantiated, never run);
    // functions are reimplemented here.
    static readonly HashSet<string> s_moduleClasses =
    [
        "torch.nn.modules.container.Sequential", "torch.nn.modules.container.ModuleList",
        "torch.nn.modules.conv.Conv2d", "torch.nn.modules.linear.Linear", "torch.nn.modules.activation.ReLU",
        "torch.nn.modules.activation.Sigmoid", "torch.nn.modules.activation.Softmax",
        "torch.nn.modules.pooling.MaxPool2d", "torch.nn.modules.pooling.AvgPool2d",
        "torch.nn.modules.pooling.AdaptiveAvgPool2d", "torch.nn.modules.dropout.Dropout",
        "torch.nn.modules.batchnorm.BatchNorm2d", "torch.nn.modules.flatten.Flatten",
        "torch.nn.modules.linear.Identity",
    ];

    static readonly Dictionary<string, (int Bytes, Func<byte[], int, float> Read)> s_storageTypes = new()
    {
        ["FloatStorage"] = (4, (b, i) => BitConverter.ToSingle(b, i * 4)),
        ["DoubleStorage"] = (8, (b, i) => (float)BitConverter.ToDouble(b, i * 8)),
        ["HalfStorage"] = (2, (b, i) => (float)BitConverter.ToHalf(b, i * 2)),
        ["BFloat16Storage"] = (2, (b, i) => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(b, i * 2) << 16)),
        ["LongStorage"] = (8, (b, i) => BitConverter.ToInt64(b, i * 8)),
        ["IntStorage"] = (4, (b, i) => BitConverter.ToInt32(b, i * 4)),
        ["ByteStorage"] = (1, (b, i) => b[i]),
        ["BoolStorage"] = (1, (b, i) => b[i]),
    };

    sealed class Storage(string type, string key, long count)
    {
        public string Type { get; } = type;
        public string Key { get; } = key;
        public long Count { get; } = count;
        public byte[]? Bytes { get; set; }
    }

    sealed record TensorRef(Storage Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>Reads every parameter and buffer, by its dotted name (<c>encoder.0.weight</c>).</summary>
    /// <param name="expectedShapes">The shapes the network that will take these tensors has, by name: a tensor the
    /// file declares otherwise is refused before any storage is read, inflated or materialised.</param>
    /// <exception cref="InvalidDataException">The file is not one of these formats, is truncated, names a global
    /// outside the allow-list, declares more than it can hold, or declares a tensor of a shape the network does not
    /// take.</exception>
    public static IReadOnlyDictionary<string, TensorData> Read(string path,
        IReadOnlyDictionary<string, long[]>? expectedShapes = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        s_expected.Value = expectedShapes;
        using var file = File.OpenRead(path);
        // What the file may honestly hold: no more values than it has bytes for at two bytes each (float16), and a
        // little more for views that repeat their values (stride 0). A hostile file that declares more is refused
        // before anything that size is allocated or inflated.
        s_budget.Value = file.Length / 2 + (16 << 20);
        s_fileBytes.Value = file.Length;
        var head = new byte[8];
        int got = file.Read(head, 0, 8);
        file.Position = 0;
        try
        {
            if (got >= 4 && head[0] == 'P' && head[1] == 'K') return ReadZip(file);
            if (got >= 2 && head[0] == 0x80) return ReadLegacy(file);
            if (got == 8 && BitConverter.ToUInt64(head) is > 1 and < 100_000_000) return ReadSafetensors(file);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("the file is truncated", e);
        }
        throw new InvalidDataException("not a PyTorch (.pt/.pth) or safetensors file");
    }

    static IReadOnlyDictionary<string, TensorData> ReadLegacy(Stream file)
    {
        var storages = new Dictionary<string, Storage>();
        object Persistent(object id) => PersistentStorage(id, storages);

        var magic = PickleMachine.Load(file, Global, Persistent);
        if (magic is not System.Numerics.BigInteger m
            || m != System.Numerics.BigInteger.Parse("119547037146038801333356",
                System.Globalization.CultureInfo.InvariantCulture))
            throw new InvalidDataException("a pickle, but not a torch.save file (wrong magic number)");
        var protocol = PickleMachine.Load(file, Global, Persistent);
        if (protocol is not 1001L) throw new InvalidDataException($"unsupported torch.save protocol {protocol}");
        PickleMachine.Load(file, Global, Persistent);  // system info
        var root = PickleMachine.Load(file, Global, Persistent);
        if (PickleMachine.Load(file, Global, Persistent) is not List<object?> keys)
            throw new InvalidDataException("the list of storages is missing");
        var tensors = Tensors(root);

        // The storages follow, in that order: an int64 element count, then the raw little-endian values.
        using var reader = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
        foreach (var key in keys.Cast<string>())
        {
            if (!storages.TryGetValue(key, out var storage))
                throw new InvalidDataException($"storage {key} is listed but never used");
            long count = reader.ReadInt64();
            if (count != storage.Count)
                throw new InvalidDataException(
                    $"storage {key} holds {count} values, its tensors expect {storage.Count}");
            long bytes = count * s_storageTypes[storage.Type].Bytes;
            storage.Bytes = reader.ReadBytes(checked((int)bytes));
            if (storage.Bytes.Length != bytes) throw new EndOfStreamException();
        }
        return Materialise(tensors);
    }

    // Values left to materialise for the file being read, and the shapes its network takes (per thread: files may be
    // read in parallel).
    static readonly ThreadLocal<long> s_budget = new(() => long.MaxValue);
    static readonly ThreadLocal<IReadOnlyDictionary<string, long[]>?> s_expected = new(() => null);
    static readonly ThreadLocal<long> s_fileBytes = new(() => long.MaxValue);
    const int MaxPickleBytes = 64 << 20;

    /// <summary>Takes <paramref name="values"/> from the file's budget, or refuses the file.</summary>
    static void Spend(long values, string what)
    {
        if (values < 0 || values > s_budget.Value)
            throw new InvalidDataException($"{what} declares {values} values, more than a file this size can hold");
        s_budget.Value -= values;
    }

    /// <summary>Exactly <paramref name="count"/> bytes of a zip entry, never inflating more.</summary>
    static byte[] ReadExactly(ZipArchiveEntry entry, long count, string what)
    {
        if (entry.Length != count)
            throw new InvalidDataException($"{what} holds {entry.Length} bytes; its tensors need {count}");
        var bytes = new byte[checked((int)count)];
        using var s = entry.Open();
        int read = 0, n;
        while (read < bytes.Length && (n = s.Read(bytes, read, bytes.Length - read)) > 0) read += n;
        if (read < bytes.Length) throw new InvalidDataException($"{what} is shorter than its tensors need");
        return bytes;
    }

    static IReadOnlyDictionary<string, TensorData> ReadZip(Stream file)
    {
        using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
        var pkl = zip.Entries
            .FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName == "data.pkl")
            ?? throw new InvalidDataException("a zip file without data.pkl: not a torch.save file");
        var prefix = pkl.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, Storage>();
        object? root;
        using (var stream = pkl.Open())
        using (var buffered = new MemoryStream())
        {
            // Inflated no further than any real checkpoint's pickle needs.
            var chunk = new byte[1 << 16];
            int n;
            while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (buffered.Length + n > MaxPickleBytes)
                    throw new InvalidDataException($"data.pkl inflates to over {MaxPickleBytes >> 20} MB");
                buffered.Write(chunk, 0, n);
            }
            buffered.Position = 0;
            root = PickleMachine.Load(buffered, Global, id => PersistentStorage(id, storages));
        }
        var tensors = Tensors(root);
        foreach (var storage in storages.Values)
        {
            var entry = zip.GetEntry($"{prefix}data/{storage.Key}")
                ?? throw new InvalidDataException($"storage data/{storage.Key} is missing");
            storage.Bytes = ReadExactly(entry, storage.Count * s_storageTypes[storage.Type].Bytes,
                $"storage data/{storage.Key}");
        }
        return Materialise(tensors);
    }

    static IReadOnlyDictionary<string, TensorData> ReadSafetensors(Stream file)
    {
        using var reader = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
        long headerLength = reader.ReadInt64();
        if (headerLength <= 0 || headerLength > file.Length - 8)
            throw new InvalidDataException("not a safetensors file");
        var header = reader.ReadBytes(checked((int)headerLength));
        if (header.Length != headerLength || header.Length == 0 || header[0] != '{')
            throw new InvalidDataException("not a safetensors file");
        long dataStart = 8 + headerLength;
        var result = new Dictionary<string, TensorData>();
        try
        {
            using var doc = JsonDocument.Parse(header);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__") continue;
                var dtype = p.Value.GetProperty("dtype").GetString();
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var (type, size) = dtype switch
                {
                    "F32" => ("FloatStorage", 4), "F64" => ("DoubleStorage", 8),
                    "F16" => ("HalfStorage", 2), "BF16" => ("BFloat16Storage", 2),
                    "I64" => ("LongStorage", 8), "I32" => ("IntStorage", 4),
                    "U8" => ("ByteStorage", 1), "BOOL" => ("BoolStorage", 1),
                    _ => throw new InvalidDataException($"tensor {p.Name}: dtype {dtype} is not supported"),
                };
                // Checked against the file before anything is read or allocated.
                if (shape.Any(d => d < 0)) throw new InvalidDataException($"tensor {p.Name}: a negative dimension");
                ExpectShape(p.Name, shape);
                long count = shape.Aggregate(1L, (a, b) => checked(a * b));
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0]
                    || dataStart + offsets[1] > file.Length
                    || offsets[1] - offsets[0] != checked(count * size))
                    throw new InvalidDataException($"tensor {p.Name}: its data_offsets do not hold " +
                        $"{string.Join('x', shape)} {dtype} values in this file");
                file.Position = dataStart + offsets[0];
                var bytes = reader.ReadBytes(checked((int)(offsets[1] - offsets[0])));
                if (bytes.Length != offsets[1] - offsets[0]) throw new EndOfStreamException();
                var storage = new Storage(type, p.Name, count) { Bytes = bytes };
                result[p.Name] = Materialise(new TensorRef(storage, 0, shape, ContiguousStride(shape)), p.Name);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException
            or FormatException or OverflowException)
        {
            throw new InvalidDataException(
                $"a malformed safetensors header ({e.Message.Split('\n')[0].TrimEnd('.')})", e);
        }
        return result;
    }

    static object Global(string module, string name)
    {
        string full = $"{module}.{name}";
        if (module == "torch" && s_storageTypes.ContainsKey(name)) return new ClassMarker(module, name);
        if (s_moduleClasses.Contains(full)) return new ClassMarker(module, name);
        // Layers and networks of a whole pickled module (torch.save(model)): inert containers whose state holds the
        // tensors.
        if (module.StartsWith("torch.nn.modules.", StringComparison.Ordinal)
            || module.StartsWith("torchvision.models.", StringComparison.Ordinal)
            || module == "torchvision.ops.misc") return new ClassMarker(module, name);
        // The network's own class, pickled from the training script: only ever an inert container here.
        if (module == "__main__") return new ClassMarker(module, name);
        return full switch
        {
            "collections.OrderedDict" => new FunctionMarker(module, name, _ => new Dictionary<object, object?>()),
            // A module's set of non-persistent buffer names: kept as an inert list.
            "__builtin__.set" or "builtins.set" => new FunctionMarker(module, name,
                a => a.Length > 0 && a[0] is List<object?> items ? items : new List<object?>()),
            "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor" =>
                new FunctionMarker(module, name, RebuildTensor),
            "torch._utils._rebuild_parameter" or "torch.nn.parameter.Parameter" =>
                new FunctionMarker(module, name, a => a[0]),
            "torch.nn.backends.thnn._get_thnn_function_backend" => new FunctionMarker(module, name, _ => null),
            _ => throw new InvalidDataException($"the file names the global '{full}', " +
                $"which is not on the allow-list of a weight file; refusing to load it"),
        };
    }

    static object RebuildTensor(object?[] a)
    {
        if (a.Length < 4 || a[0] is not Storage storage) throw new InvalidDataException("a tensor without its storage");
        long offset = (long)a[1]!;
        long[] shape = ((PyTuple)a[2]!).Items.Select(x => (long)x!).ToArray();
        long[] stride = ((PyTuple)a[3]!).Items.Select(x => (long)x!).ToArray();
        return new TensorRef(storage, offset, shape, stride);
    }

    static object PersistentStorage(object id, Dictionary<string, Storage> storages)
    {
        // ('storage', storage_type, key, location, numel[, view_metadata])
        if (id is not PyTuple { Items: ["storage", ClassMarker type, string key, _, long count, ..] })
        {
            // ('module', class, source file, source code) of a pickled module: the class marker; the source is ignored.
            if (id is PyTuple { Items: ["module", ClassMarker moduleClass, ..] }) return moduleClass;
            throw new InvalidDataException("an unknown persistent object in the pickle");
        }
        if (!s_storageTypes.ContainsKey(type.Name))
            throw new InvalidDataException($"storage type {type.Name} is not supported");
        if (!storages.TryGetValue(key, out var storage))
        {
            // A storage's bytes are in the file (uncompressed, as torch.save writes them).
            if (count < 0 || count > s_fileBytes.Value / s_storageTypes[type.Name].Bytes)
                throw new InvalidDataException(
                    $"storage {key} declares {count} values, more than a file this size can hold");
            storages[key] = storage = new Storage(type.Name, key, count);
        }
        return storage;
    }

    /// <summary>Parameters and buffers of a pickled module tree, or the entries of a state dict, as declared (nothing
    /// read yet), each declared shape checked against the network's.</summary>
    static Dictionary<string, TensorRef> Tensors(object? root)
    {
        var result = new Dictionary<string, TensorRef>();
        void Walk(object? node, string prefix)
        {
            switch (node)
            {
                case TensorRef t:
                    ExpectShape(prefix.TrimEnd('.'), t.Shape);
                    result[prefix.TrimEnd('.')] = t;
                    break;
                case PyObject o when o.State is Dictionary<object, object?> state:
                    foreach (var part in new[] { "_parameters", "_buffers" })
                        if (state.TryGetValue(part, out var d) && d is Dictionary<object, object?> tensors)
                            foreach (var (k, v) in tensors)
                                if (v is not null) Walk(v, $"{prefix}{k}.");
                    if (state.TryGetValue("_modules", out var m) && m is Dictionary<object, object?> modules)
                        foreach (var (k, v) in modules) Walk(v, $"{prefix}{k}.");
                    break;
                case Dictionary<object, object?> dict:
                    foreach (var (k, v) in dict) Walk(v, $"{prefix}{k}.");
                    break;
            }
        }
        Walk(root, "");
        if (result.Count == 0) throw new InvalidDataException("the file holds no tensors");
        return result;
    }

    /// <summary>Refuses a tensor whose declared shape is not the one the network has under that name.</summary>
    static void ExpectShape(string name, long[] shape)
    {
        if (s_expected.Value is { } expected && expected.TryGetValue(name, out var wanted)
            && !wanted.SequenceEqual(shape))
            throw new InvalidDataException(
                $"{name} is {string.Join('x', shape)} in the file, the network expects {string.Join('x', wanted)}");
    }

    static Dictionary<string, TensorData> Materialise(Dictionary<string, TensorRef> tensors) =>
        tensors.ToDictionary(t => t.Key, t => Materialise(t.Value, t.Key));

    static long[] ContiguousStride(long[] shape)
    {
        var stride = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = s;
            s *= shape[i];
        }
        return stride;
    }

    static TensorData Materialise(TensorRef t, string name)
    {
        var bytes = t.Storage.Bytes ?? throw new InvalidDataException($"{name}: its storage was never read");
        var (size, read) = s_storageTypes[t.Storage.Type];
        if (t.Shape.Any(d => d < 0)) throw new InvalidDataException($"{name}: a negative dimension");
        long count;
        try { count = t.Shape.Aggregate(1L, (a, b) => checked(a * b)); }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{name}: its shape holds more values than can be counted");
        }
        Spend(count, name);
        var values = new float[count];
        var index = new long[t.Shape.Length];
        for (long i = 0; i < count; i++)
        {
            long at = t.Offset;
            for (int d = 0; d < index.Length; d++) at += index[d] * t.Stride[d];
            if (at < 0 || (at + 1) * size > bytes.Length)
                throw new InvalidDataException($"{name}: its view runs past its storage");
            values[i] = read(bytes, (int)at);
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) break;
                index[d] = 0;
            }
        }
        return new TensorData(values, t.Shape);
    }
}
