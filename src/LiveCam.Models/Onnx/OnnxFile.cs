using System.Text;

namespace LiveCam.Models.Onnx;

/// <summary>A tensor of an ONNX file (an initializer or a Constant's value): float data, or integers (shapes, axes).
/// </summary>
public sealed record OnnxTensor(string Name, long[] Dims, int DataType, float[]? Floats, long[]? Longs)
{
    public const int FloatType = 1, Int32Type = 6, Int64Type = 7, DoubleType = 11;
    public long Count => Dims.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A node's attribute; only the fields its type uses are set.</summary>
public sealed record OnnxAttr(string Name, int Type, float F, long I, string? S, OnnxTensor? T, float[] Floats,
    long[] Ints, bool HasGraph);

public sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs,
    IReadOnlyDictionary<string, OnnxAttr> Attributes);

/// <summary>A graph input or output: its element type and shape (-1 where a dimension is symbolic or unknown).
/// </summary>
public sealed record OnnxValueInfo(string Name, int ElemType, long[]? Dims);

public sealed record OnnxGraph(IReadOnlyList<OnnxNode> Nodes, IReadOnlyDictionary<string, OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs, long Opset);

/// <summary>An ONNX file that cannot be read; the message is one line for the user.</summary>
public sealed class OnnxFormatException : Exception
{
    public OnnxFormatException(string message) : base(message) { }
    public OnnxFormatException(string message, Exception inner) : base(message, inner) { }
    public OnnxFormatException() { }
}

/// <summary>
/// Reads an ONNX model (protobuf) with a bounded decoder of its own: every length, count and dimension is checked
/// against what is left of the file and against fixed limits before anything is allocated, so a truncated, oversized
/// or hostile file ends in an <see cref="OnnxFormatException"/>, never a crash or a huge allocation. Field numbers are
/// onnx.proto's. Subgraphs, sparse and external tensors are refused.
/// </summary>
public static class OnnxFile
{
    public const long MaxFileBytes = 2L << 30;
    const int MaxNodes = 200_000, MaxDims = 8, MaxListItems = 4096, MaxNameBytes = 4096;
    const long MaxElements = 1L << 31;

    public static OnnxGraph Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new OnnxFormatException($"cannot read '{path}': no such file");
        if (info.Length > MaxFileBytes)
            throw new OnnxFormatException($"'{path}' is {info.Length >> 20} MB, " +
                $"more than an ONNX model may be here ({MaxFileBytes >> 20} MB)");
        return Parse(File.ReadAllBytes(path));
    }

    public static OnnxGraph Parse(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var r = new Reader(bytes, 0, bytes.Length);
        OnnxGraph? graph = null;
        long opset = 0;
        bool otherDomain = false;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 7 when wire == 2: graph = ReadGraph(r.Message(), opset); break;
                case 8 when wire == 2:
                {
                    var (domain, version) = ReadOpset(r.Message());
                    if (domain is "" or "ai.onnx") opset = version;
                    else otherDomain = true;
                    break;
                }
                default: r.Skip(wire); break;
            }
        }
        if (graph is null) throw new OnnxFormatException("not an ONNX model: it has no graph");
        if (opset == 0 && !otherDomain) opset = 1;
        return graph with { Opset = opset };
    }

    static (string Domain, long Version) ReadOpset(Reader r)
    {
        string domain = "";
        long version = 0;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) domain = r.String();
            else if (field == 2 && wire == 0) version = (long)r.Varint();
            else r.Skip(wire);
        }
        return (domain, version);
    }

    static OnnxGraph ReadGraph(Reader r, long opset)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2:
                    if (nodes.Count >= MaxNodes) throw new OnnxFormatException($"more than {MaxNodes} nodes");
                    nodes.Add(ReadNode(r.Message(), nodes.Count));
                    break;
                case 5 when wire == 2:
                {
                    var t = ReadTensor(r.Message());
                    initializers[t.Name] = t;
                    break;
                }
                case 15 when wire == 2: throw new OnnxFormatException("sparse initializers are not supported");
                case 11 when wire == 2: inputs.Add(ReadValueInfo(r.Message())); break;
                case 12 when wire == 2: outputs.Add(ReadValueInfo(r.Message())); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs.Where(i => !initializers.ContainsKey(i.Name)).ToList(),
            outputs, opset);
    }

    static OnnxNode ReadNode(Reader r, int index)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttr>();
        string name = "", op = "", domain = "";
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: inputs.Add(r.String()); Limit(inputs.Count); break;
                case 2 when wire == 2: outputs.Add(r.String()); Limit(outputs.Count); break;
                case 3 when wire == 2: name = r.String(); break;
                case 4 when wire == 2: op = r.String(); break;
                case 7 when wire == 2: domain = r.String(); break;
                case 5 when wire == 2:
                {
                    var a = ReadAttribute(r.Message());
                    attributes[a.Name] = a;
                    Limit(attributes.Count);
                    break;
                }
                default: r.Skip(wire); break;
            }
        }
        if (op.Length == 0) throw new OnnxFormatException($"node {index} has no operator");
        if (outputs.Count == 0) throw new OnnxFormatException($"node {index} ({op}) has no output");
        return new OnnxNode(name.Length > 0 ? name : $"{op}_{index}", op, domain, [.. inputs], [.. outputs],
            attributes);
    }

    static OnnxAttr ReadAttribute(Reader r)
    {
        string name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        string? s = null;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        bool graph = false;
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 2: name = r.String(); break;
                case 20 when wire == 0: type = (int)r.Varint(); break;
                case 2 when wire == 5: f = r.Float(); break;
                case 3 when wire == 0: i = (long)r.Varint(); break;
                case 4 when wire == 2: s = r.String(); break;
                case 5 when wire == 2: t = ReadTensor(r.Message()); break;
                case 6 or 11: graph = true; r.Skip(wire); break;
                case 7 when wire == 5: floats.Add(r.Float()); Limit(floats.Count); break;
                case 7 when wire == 2: r.PackedFloats(floats, MaxListItems); break;
                case 8 when wire == 0: ints.Add((long)r.Varint()); Limit(ints.Count); break;
                case 8 when wire == 2: r.PackedVarints(ints, MaxListItems); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxAttr(name, type, f, i, s, t, [.. floats], [.. ints], graph);
    }

    static OnnxTensor ReadTensor(Reader r)
    {
        var dims = new List<long>();
        int type = 0;
        string name = "";
        Reader? raw = null;
        var floats = new List<float>();
        var longs = new List<long>();
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == 0:
                    dims.Add((long)r.Varint());
                    if (dims.Count > MaxDims)
                        throw new OnnxFormatException($"a tensor with more than {MaxDims} dimensions");
                    break;
                case 1 when wire == 2: r.PackedVarints(dims, MaxDims); break;
                case 2 when wire == 0: type = (int)r.Varint(); break;
                case 8 when wire == 2: name = r.String(); break;
                case 9 when wire == 2: raw = r.Message(); break;
                case 4 when wire == 2: r.PackedFloats(floats, r.Remaining / 4 + 1); break;
                case 4 when wire == 5: floats.Add(r.Float()); break;
                case 5 or 7 when wire == 2: r.PackedVarints(longs, r.Remaining + 1); break;
                case 5 or 7 when wire == 0: longs.Add((long)r.Varint()); break;
                case 13 or 14:
                    throw new OnnxFormatException(
                        $"tensor '{name}' keeps its data in an external file, which is not supported");
                default: r.Skip(wire); break;
            }
        }
        if (dims.Any(d => d < 0 || d > MaxElements))
            throw new OnnxFormatException($"tensor '{name}' has an impossible dimension ({string.Join('x', dims)})");
        long count = 1;
        foreach (var d in dims)
        {
            count *= d;
            if (count > MaxElements)
                throw new OnnxFormatException(
                    $"tensor '{name}' would have more than {MaxElements} elements ({string.Join('x', dims)})");
        }
        var shape = dims.ToArray();
        switch (type)
        {
            case OnnxTensor.FloatType or OnnxTensor.DoubleType:
            {
                int size = type == OnnxTensor.FloatType ? 4 : 8;
                if (raw is { } bytes)
                {
                    if (bytes.Remaining != count * size)
                        throw new OnnxFormatException($"tensor '{name}' holds {bytes.Remaining} bytes, " +
                            $"{string.Join('x', shape)} needs {count * size}");
                    return new OnnxTensor(name, shape, OnnxTensor.FloatType, bytes.Floats((int)count, size), null);
                }
                if (floats.Count != count)
                    throw new OnnxFormatException(
                        $"tensor '{name}' holds {floats.Count} values, {string.Join('x', shape)} needs {count}");
                return new OnnxTensor(name, shape, OnnxTensor.FloatType, [.. floats], null);
            }
            case OnnxTensor.Int64Type or OnnxTensor.Int32Type:
            {
                int size = type == OnnxTensor.Int64Type ? 8 : 4;
                if (raw is { } bytes)
                {
                    if (bytes.Remaining != count * size)
                        throw new OnnxFormatException($"tensor '{name}' holds {bytes.Remaining} bytes, " +
                            $"{string.Join('x', shape)} needs {count * size}");
                    return new OnnxTensor(name, shape, OnnxTensor.Int64Type, null, bytes.Longs((int)count, size));
                }
                if (longs.Count != count)
                    throw new OnnxFormatException(
                        $"tensor '{name}' holds {longs.Count} values, {string.Join('x', shape)} needs {count}");
                return new OnnxTensor(name, shape, OnnxTensor.Int64Type, null, [.. longs]);
            }
            default:
                throw new OnnxFormatException($"tensor '{name}' is of ONNX data type {type}; " +
                    $"only float, double, int32 and int64 are supported");
        }
    }

    static OnnxValueInfo ReadValueInfo(Reader r)
    {
        string name = "";
        int elem = 0;
        long[]? dims = null;
        while (r.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 2) name = r.String();
            else if (field == 2 && wire == 2)
            {
                var type = r.Message();
                while (type.Next(out int tf, out int tw))
                {
                    if (tf != 1 || tw != 2) { type.Skip(tw); continue; }
                    var tensor = type.Message();
                    while (tensor.Next(out int ef, out int ew))
                    {
                        if (ef == 1 && ew == 0) elem = (int)tensor.Varint();
                        else if (ef == 2 && ew == 2) dims = ReadShape(tensor.Message());
                        else tensor.Skip(ew);
                    }
                }
            }
            else r.Skip(wire);
        }
        return new OnnxValueInfo(name, elem, dims);
    }

    static long[] ReadShape(Reader r)
    {
        var dims = new List<long>();
        while (r.Next(out int field, out int wire))
        {
            if (field != 1 || wire != 2) { r.Skip(wire); continue; }
            if (dims.Count >= MaxDims) throw new OnnxFormatException($"a value with more than {MaxDims} dimensions");
            var d = r.Message();
            long value = -1;
            while (d.Next(out int df, out int dw))
            {
                if (df == 1 && dw == 0) value = (long)d.Varint();
                else d.Skip(dw);
            }
            dims.Add(value is >= 0 and <= MaxElements ? value : -1);
        }
        return [.. dims];
    }

    static void Limit(int count)
    {
        if (count > MaxListItems) throw new OnnxFormatException($"a list of more than {MaxListItems} items");
    }

    /// <summary>A bounded view of protobuf bytes: nothing is read past its end.</summary>
    sealed class Reader(byte[] bytes, int start, int end)
    {
        int _at = start;

        public int Remaining => end - _at;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_at >= end) return false;
            ulong key = Varint();
            wire = (int)(key & 7);
            if (key >> 3 is 0 or > int.MaxValue)
                throw new OnnxFormatException($"not an ONNX model: a field number of {key >> 3} at byte {_at}");
            field = (int)(key >> 3);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_at >= end) throw new OnnxFormatException("the file ends inside a number (truncated?)");
                byte b = bytes[_at++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
            throw new OnnxFormatException("a malformed number");
        }

        public float Float()
        {
            Need(4);
            float f = BitConverter.ToSingle(bytes, _at);
            _at += 4;
            return f;
        }

        int Length()
        {
            ulong n = Varint();
            if (n > (ulong)Remaining)
                throw new OnnxFormatException(
                    $"a field of {n} bytes where {Remaining} are left (truncated or not an ONNX file)");
            return (int)n;
        }

        public Reader Message()
        {
            int n = Length();
            var inner = new Reader(bytes, _at, _at + n);
            _at += n;
            return inner;
        }

        public string String()
        {
            int n = Length();
            if (n > MaxNameBytes) throw new OnnxFormatException($"a name of {n} bytes");
            // Every name in the file (operators, layers, values) is printed and drawn: its control characters never
            // act.
            var s = Core.Printable.Escape(Encoding.UTF8.GetString(bytes, _at, n));
            _at += n;
            return s;
        }

        public void PackedVarints(List<long> into, int max)
        {
            var inner = Message();
            while (inner.Remaining > 0)
            {
                into.Add((long)inner.Varint());
                if (into.Count > max) throw new OnnxFormatException($"a list of more than {max} numbers");
            }
        }

        public void PackedFloats(List<float> into, int max)
        {
            var inner = Message();
            if (inner.Remaining % 4 != 0)
                throw new OnnxFormatException("a list of floats whose length is not a multiple of 4");
            if (inner.Remaining / 4 + into.Count > max)
                throw new OnnxFormatException($"a list of more than {max} floats");
            while (inner.Remaining > 0) into.Add(inner.Float());
        }

        public float[] Floats(int count, int size)
        {
            var values = new float[count];
            if (size == 4) Buffer.BlockCopy(bytes, _at, values, 0, count * 4);
            else for (int i = 0; i < count; i++) values[i] = (float)BitConverter.ToDouble(bytes, _at + i * 8);
            _at += count * size;
            return values;
        }

        public long[] Longs(int count, int size)
        {
            var values = new long[count];
            for (int i = 0; i < count; i++)
                values[i] = size == 8
                    ? BitConverter.ToInt64(bytes, _at + i * 8)
                    : BitConverter.ToInt32(bytes, _at + i * 4);
            _at += count * size;
            return values;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Need(8); _at += 8; break;
                case 2:
                {
                    int n = Length();
                    _at += n;
                    break;
                }
                case 5: Need(4); _at += 4; break;
                default: throw new OnnxFormatException($"not an ONNX model: wire type {wire} at byte {_at}");
            }
        }

        void Need(int n)
        {
            if (Remaining < n) throw new OnnxFormatException("the file ends inside a value (truncated?)");
        }
    }
}
