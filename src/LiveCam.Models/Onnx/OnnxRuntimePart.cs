using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace LiveCam.Models.Onnx;

/// <summary>
/// The part of an ONNX graph that needs no gradient, run by ONNX Runtime on the same file: its kernels are faster than
/// libtorch's on many processors, and where nothing is differentiated they give the same values. The graph's own
/// tensors are asked for by name (made outputs of a copy of the file), so a CAM's layer and whatever the rest of the
/// network reads come back, and TorchSharp runs only what follows them, with gradients.
/// </summary>
internal sealed class OnnxRuntimePart : IDisposable
{
    readonly byte[] _model;
    readonly string _input;
    readonly HashSet<string> _names, _outputs;
    // One session per thread count and set of tensors asked for (a method's layer, the graph's outputs), each with
    // its own copy of the weights (45 MB for ResNet-18): a live user stepping through the layers asks for a new set
    // at each. The least recently used beyond MaxSessions are let go once no run is using them.
    readonly Dictionary<(int Threads, string Names), CachedSession> _sessions = [];
    readonly Lock _gate = new();
    long _uses;

    /// <summary>How many sessions are kept: side by side explains two layers, besides the predictions' own.</summary>
    internal const int MaxSessions = 4;

    sealed class CachedSession(InferenceSession session)
    {
        public InferenceSession Session { get; } = session;
        public int Running;
        public long LastUse;
    }

    OnnxRuntimePart(byte[] model, OnnxGraph graph)
    {
        _model = model;
        _input = graph.Inputs[0].Name;
        _names = graph.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0).ToHashSet();
        _outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
    }

    /// <summary>ONNX Runtime on <paramref name="model"/> (the file's bytes), or null where it cannot load it.</summary>
    public static OnnxRuntimePart? Create(byte[] model, OnnxGraph graph)
    {
        var part = new OnnxRuntimePart(model, graph);
        try
        {
            part.Done(part.Session(graph.Outputs.Select(o => o.Name).ToArray()));
            return part;
        }
        catch (OnnxRuntimeException)
        {
            part.Dispose();
            return null;
        }
    }

    /// <summary>Whether the file itself names <paramref name="tensor"/> (LiveCam's own graph renames nothing it runs,
    /// but a folded batch norm's convolution keeps no output of its own).</summary>
    public bool Has(string tensor) => _names.Contains(tensor);

    /// <summary>The tensors named, for <paramref name="input"/> (float32, in the graph's own layout, on the CPU),
    /// as tensors of the caller's dispose scope. ONNX Runtime runs with as many threads as libtorch would on the
    /// calling thread (<c>--threads</c>; a live analysis leaves a core to the display).</summary>
    /// <remarks>ONNX Runtime reads the input where libtorch keeps it; each result is copied once, from ONNX Runtime's
    /// memory into a new tensor. (A fresh array per call for the input cost more than the copy: on a VM each of its
    /// new pages faults on first touch, 3 ms for a 224x224 image, a fifth of ResNet-18's pass.)</remarks>
    public Dictionary<string, Tensor> Run(Tensor input, IReadOnlyList<string> names)
    {
        if (input.dtype != ScalarType.Float32 || input.device_type != DeviceType.CPU)
            throw new ArgumentException($"ONNX Runtime's part takes float32 on the CPU, not {input.dtype} on "
                + input.device_type);
        var cached = Session(names);
        try { return Run(cached.Session, input, names); }
        finally { Done(cached); }
    }

    Dictionary<string, Tensor> Run(InferenceSession session, Tensor input, IReadOnlyList<string> names)
    {
        using var contiguous = input.contiguous();
        var bytes = contiguous.bytes;
        // `contiguous` outlives the run: ONNX Runtime only reads this memory while Run is under way.
        using var feed = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float,
            contiguous.shape, AddressOf(bytes), bytes.Length);
        using var options = new RunOptions();
        using var results = session.Run(options, [_input], [feed], names);
        var values = new Dictionary<string, Tensor>();
        for (int i = 0; i < names.Count; i++)
        {
            var result = results[i];
            var info = result.GetTensorTypeAndShape();
            // Besides features, the rest may read shapes and indices (int64) the part before it computed.
            values[names[i]] = info.ElementDataType switch
            {
                TensorElementType.Float => Copy<float>(result, info.Shape, ScalarType.Float32),
                TensorElementType.Int64 => Copy<long>(result, info.Shape, ScalarType.Int64),
                TensorElementType.Int32 => Copy<int>(result, info.Shape, ScalarType.Int32).to_type(ScalarType.Int64),
                var other => throw new OnnxFormatException(
                    $"ONNX Runtime gave '{names[i]}' as {other}, which LiveCam does not take here"),
            };
        }
        return values;
    }

    static unsafe IntPtr AddressOf(Span<byte> bytes)
    {
        fixed (byte* start = bytes) return (IntPtr)start;
    }

    static Tensor Copy<T>(OrtValue value, long[] shape, ScalarType type) where T : unmanaged
    {
        var copy = empty(shape, type);
        MemoryMarshal.AsBytes(value.GetTensorDataAsSpan<T>()).CopyTo(copy.bytes);
        return copy;
    }

    /// <summary>The thread counts of the sessions kept now.</summary>
    public IReadOnlyList<int> ThreadCounts
    {
        get { lock (_gate) return _sessions.Keys.Select(k => k.Threads).Distinct().Order().ToList(); }
    }

    /// <summary>How many sessions are kept now.</summary>
    internal int SessionCount
    {
        get { lock (_gate) return _sessions.Count; }
    }

    /// <summary>The session for <paramref name="names"/> at the calling thread's count, marked running until
    /// <see cref="Done"/>.</summary>
    CachedSession Session(IReadOnlyList<string> names)
    {
        // libtorch's thread count is the calling thread's own setting (OpenMP). A session's workers are made with it,
        // by the thread that first asks, so they also share that thread's lowered priority.
        var key = (Threads: get_num_threads(), Names: string.Join('\n', names.Order(StringComparer.Ordinal)));
        lock (_gate)
        {
            if (!_sessions.TryGetValue(key, out var cached))
            {
                var options = new SessionOptions { IntraOpNumThreads = key.Threads, InterOpNumThreads = 1 };
                // Its workers would otherwise spin after each run, taking the cores from the display and libtorch.
                options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                try
                {
                    cached = new CachedSession(new InferenceSession(
                        OnnxOutputs.Add(_model, names.Where(n => !_outputs.Contains(n)).ToList()), options));
                }
                finally { options.Dispose(); }
                _sessions[key] = cached;
            }
            cached.Running++;
            cached.LastUse = ++_uses;
            return cached;
        }
    }

    /// <summary>The run on <paramref name="cached"/> is over; the least recently used sessions beyond
    /// <see cref="MaxSessions"/> that no run is using go.</summary>
    void Done(CachedSession cached)
    {
        lock (_gate)
        {
            cached.Running--;
            while (_sessions.Count > MaxSessions)
            {
                var idle = _sessions.Where(e => e.Value.Running == 0).OrderBy(e => e.Value.LastUse).ToList();
                if (idle.Count == 0) break;
                Drop(idle[0].Key);
            }
        }
    }

    /// <summary>Median milliseconds of <paramref name="first"/> and of <paramref name="second"/> over
    /// <paramref name="runs"/> calls each after one warm-up each, taken in the order ABBA ABBA...: a load that comes
    /// and goes on a shared machine then falls on both, where one block of each chose the wrong runtime (a run here
    /// under load timed ONNX Runtime's block at 80.7 ms against libtorch's 50.0).</summary>
    public static (double First, double Second) TimeAlternately(Action first, Action second, int runs)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        first();
        second();
        var a = new double[runs];
        var b = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            if (i % 2 == 0)
            {
                a[i] = Milliseconds(first);
                b[i] = Milliseconds(second);
            }
            else
            {
                b[i] = Milliseconds(second);
                a[i] = Milliseconds(first);
            }
        }
        Array.Sort(a);
        Array.Sort(b);
        return (a[runs / 2], b[runs / 2]);
    }

    static double Milliseconds(Action pass)
    {
        long start = Stopwatch.GetTimestamp();
        pass();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>Lets every session not running go: the next run makes its own. The start-up measurement's ask for the
    /// graph's outputs alone, which a method explaining a layer does not, and their workers were made by the loading
    /// thread at its priority (seen as a nice-0 thread beside the nice-10 analysis), not the analysis's.</summary>
    public void ReleaseSessions()
    {
        lock (_gate)
        {
            foreach (var key in _sessions.Where(e => e.Value.Running == 0).Select(e => e.Key).ToList()) Drop(key);
        }
    }

    /// <summary>Under the gate: forgets the session and frees it.</summary>
    void Drop((int Threads, string Names) key)
    {
        if (_sessions.Remove(key, out var cached)) cached.Session.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var cached in _sessions.Values) cached.Session.Dispose();
            _sessions.Clear();
        }
    }
}

/// <summary>A copy of an ONNX file whose graph also gives the named tensors as outputs: the file's bytes with
/// ValueInfoProto entries appended to its GraphProto (field 7 of ModelProto, outputs are field 12). ONNX Runtime infers
/// their types.</summary>
internal static class OnnxOutputs
{
    public static byte[] Add(byte[] model, IReadOnlyList<string> names)
    {
        using var result = new MemoryStream(model.Length + 64 * names.Count);
        int at = 0;
        bool graphSeen = false;
        while (at < model.Length)
        {
            int start = at;
            ulong tag = Varint(model, ref at);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            int bodyStart = at;
            switch (wire)
            {
                case 0: Varint(model, ref at); break;
                case 1: at += 8; break;
                case 5: at += 4; break;
                case 2:
                    ulong length = Varint(model, ref at);
                    if (length > (ulong)(model.Length - at)) throw new OnnxFormatException("truncated model");
                    bodyStart = at;
                    at += (int)length;
                    break;
                default: throw new OnnxFormatException($"wire type {wire} in the model");
            }
            if (at > model.Length) throw new OnnxFormatException("truncated model");
            if (field == 7 && wire == 2 && !graphSeen)
            {
                graphSeen = true;
                using var graph = new MemoryStream();
                graph.Write(model, bodyStart, at - bodyStart);
                foreach (var name in names)
                {
                    var utf8 = System.Text.Encoding.UTF8.GetBytes(name);
                    using var info = new MemoryStream();
                    info.WriteByte(1 << 3 | 2);  // ValueInfoProto.name
                    WriteVarint(info, (ulong)utf8.Length);
                    info.Write(utf8);
                    graph.WriteByte(12 << 3 | 2);  // GraphProto.output
                    WriteVarint(graph, (ulong)info.Length);
                    info.WriteTo(graph);
                }
                result.WriteByte(7 << 3 | 2);
                WriteVarint(result, (ulong)graph.Length);
                graph.WriteTo(result);
            }
            else result.Write(model, start, at - start);
        }
        if (!graphSeen) throw new OnnxFormatException("not an ONNX model: it has no graph");
        return result.ToArray();
    }

    static ulong Varint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (at >= bytes.Length) throw new OnnxFormatException("truncated model");
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new OnnxFormatException("a varint longer than 10 bytes");
    }

    static void WriteVarint(Stream to, ulong value)
    {
        while (value >= 0x80)
        {
            to.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        to.WriteByte((byte)value);
    }
}
