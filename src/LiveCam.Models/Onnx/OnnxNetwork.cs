using System.Text;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>
/// An ONNX graph run by TorchSharp, so gradients and every explanation method work on it. The float initializers
/// are the network's parameters; every node output passes through a module of its own named after the tensor
/// (a ReLU module for Relu nodes, so guided backprop finds them), so each is a layer the explainer can hook.
/// </summary>
public sealed class OnnxNetwork : nn.Module<Tensor, Tensor>, INamedLayers, IBiasedLayers, ILayerValues
{
    readonly OnnxGraph _graph;
    readonly Dictionary<string, Tensor> _constants = [];
    readonly Dictionary<string, nn.Module<Tensor, Tensor>> _taps = [];
    readonly Dictionary<string, string> _pathOfLayer = [], _layerOfPath = [], _typeOfPath = [];
    readonly string _input;
    readonly string[] _outputs;
    readonly Dictionary<string, string> _layoutOfPath = [];
    readonly Dictionary<int, ConvolutionFusion> _fusions;
    readonly Lock _packedGate = new();
    PackedConvolutions? _packed;
    bool _packedTried;
    OnnxRuntimePart? _onnxRuntime;

    /// <summary>The operators this runs (ONNX's default domain).</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>
    {
        "Conv", "ConvTranspose", "BatchNormalization",
        "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Softmax", "Add", "Sub", "Mul", "Div", "Pow",
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
        "Gemm", "MatMul", "Flatten", "Reshape", "Transpose",
        "Concat", "Split", "Slice", "Squeeze", "Unsqueeze", "Pad", "Resize",
        "Identity", "Dropout", "Constant", "Shape", "Gather", "Cast", "ConstantOfShape",
    };

    /// <param name="channelsLastInput">The graph takes [N, H, W, C] (converted from TensorFlow, TFLite, MediaPipe or
    /// Barracuda): the network still takes LiveCam's [N, C, H, W] and lays it out as the graph wants.</param>
    /// <exception cref="OnnxFormatException">Operators it does not run (all named), or a graph it cannot take.
    /// </exception>
    public OnnxNetwork(OnnxGraph graph, bool channelsLastInput = false) : base("OnnxNetwork")
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph = FoldBatchNorms(graph);
        _graph = graph;
        var unsupported = graph.Nodes.Where(n => n.Domain is not ("" or "ai.onnx") || !Supported.Contains(n.OpType))
            .Select(n => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}").Distinct()
            .OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unsupported.Count > 0)
            throw new OnnxFormatException($"unsupported ONNX operators: {string.Join(", ", unsupported)}");
        // Opsets 7 and 8 differ from 9 only in operators this does not run (the featurizer of ML.NET is opset 8).
        if (graph.Opset is > 0 and < 7)
            throw new OnnxFormatException($"opset {graph.Opset}: opsets 7 and up are supported");
        if (graph.Inputs.Count != 1)
            throw new OnnxFormatException($"the graph has {graph.Inputs.Count} inputs; an image model has one");
        if (graph.Outputs.Count < 1) throw new OnnxFormatException("the graph has no output");
        _input = graph.Inputs[0].Name;
        _outputs = graph.Outputs.Select(o => o.Name).ToArray();
        ChannelsLastInput = channelsLastInput;
        // Nodes run in the file's order: each must read only what the input, the weights or an earlier node makes
        // (which also refuses cycles).
        var made = new HashSet<string>(graph.Initializers.Keys) { _input };
        foreach (var node in graph.Nodes)
        {
            if (node.Inputs.FirstOrDefault(i => i.Length > 0 && !made.Contains(i)) is { } missing)
                throw new OnnxFormatException($"node {node.Name} ({node.OpType}) reads '{missing}', " +
                    $"which no earlier node makes (a cycle, or nodes out of order)");
            made.UnionWith(node.Outputs);
        }
        if (_outputs.FirstOrDefault(o => !made.Contains(o)) is { } unmade)
            throw new OnnxFormatException($"nothing makes the graph's output '{unmade}'");
        foreach (var node in graph.Nodes) CheckWindows(node, graph);
        var parameters = new ParameterDict();
        var parameterNames = new HashSet<string>();
        foreach (var (name, t) in graph.Initializers)
        {
            if (t.Floats is { } floats)
            {
                // Copied into memory libtorch allocates (aligned for its kernels), not left on the managed array;
                // 4-D weights channels-last, as the input is laid out (see forward).
                using var managed = tensor(floats, t.Dims);
                using var laid = t.Dims.Length == 4 ? ChannelsLast(managed) : managed.clone();
                var p = new Parameter(laid.clone(), requires_grad: false);
                parameters.Add(UniqueName(name, parameterNames), p);
                _constants[name] = p;
            }
            else _constants[name] = tensor(t.Longs!, t.Dims);
        }
        register_module("weights", parameters);
        var used = new HashSet<string>();
        foreach (var node in graph.Nodes)
        {
            foreach (var output in node.Outputs.Where(o => o.Length > 0))
            {
                var path = UniqueName(output, used);
                nn.Module<Tensor, Tensor> tap = node.OpType == "Relu" ? nn.ReLU() : new Tap();
                register_module(path, tap);
                _taps[output] = tap;
                _pathOfLayer[output] = path;
                _layerOfPath[path] = output;
                _typeOfPath[path] = node.OpType;
            }
        }
        foreach (var c in _constants.Values.Where(c => c is not Parameter)) c.DetachFromDisposeScope();
        _fusions = PlanFusions(graph);
        foreach (var (tensorName, layout) in Layouts(graph, channelsLastInput))
            if (_pathOfLayer.TryGetValue(tensorName, out var path)) _layoutOfPath[path] = layout;
    }

    /// <summary>Whether the graph takes [N, H, W, C].</summary>
    public bool ChannelsLastInput { get; }

    /// <summary>How many outputs the graph has: with more than one, the network gives them flattened per sample and
    /// concatenated in the graph's order, [N, total] (a detector's scores and boxes); see <see cref="OutputShapes"/>.
    /// </summary>
    public int OutputCount => _outputs.Length;

    /// <summary>Each graph output's shape for <paramref name="example"/>, in the graph's order (one pass).</summary>
    public IReadOnlyList<long[]> OutputShapes(Tensor example)
    {
        ArgumentNullException.ThrowIfNull(example);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return RunGraph(example).Select(o => o.shape).ToList();
    }

    /// <summary>How each 4-D tensor's channels are laid out: from the input's, through the graph's transposes;
    /// operators of images (convolutions, pooling) give NCHW, as ONNX defines them.</summary>
    static Dictionary<string, string> Layouts(OnnxGraph graph, bool channelsLastInput)
    {
        var layouts = new Dictionary<string, string> { [graph.Inputs[0].Name] = channelsLastInput ? "NHWC" : "NCHW" };
        foreach (var node in graph.Nodes)
        {
            var first = node.Inputs.Length > 0 ? layouts.GetValueOrDefault(node.Inputs[0]) : null;
            string? layout = node.OpType switch
            {
                "Conv" or "ConvTranspose" or "MaxPool" or "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool"
                    or "BatchNormalization" or "Resize" => "NCHW",
                "Transpose" when node.Attributes.TryGetValue("perm", out var p) && p.Ints is { } perm =>
                    (first, string.Join(',', perm)) switch
                    {
                        ("NHWC", "0,3,1,2") => "NCHW",
                        ("NCHW", "0,2,3,1") => "NHWC",
                        _ => null,
                    },
                "Reshape" or "Flatten" or "Gemm" or "MatMul" or "Squeeze" or "Unsqueeze" or "Shape" or "Gather"
                    or "ReduceMean" or "Split" or "Slice" or "Softmax" => null,
                _ => first,
            };
            if (layout is not null) foreach (var o in node.Outputs) layouts[o] = layout;
        }
        return layouts;
    }

    // Larger strides, dilations, kernels or pads are no image network's; refused before any allocation they would size.
    const long MaxWindow = 1 << 16;

    /// <summary>A convolution's or pooling's window as libtorch can run it: strides, dilations and kernel sizes from 1,
    /// pads from 0, none absurd; groups from 1, dividing the weights' output channels. A file that says otherwise is
    /// refused at load, naming the node, rather than failing (or dividing by zero) in the first pass.</summary>
    static void CheckWindows(OnnxNode node, OnnxGraph graph)
    {
        if (node.OpType is not ("Conv" or "ConvTranspose" or "MaxPool" or "AveragePool")) return;
        void Within(string attribute, long min)
        {
            if (node.Attributes.TryGetValue(attribute, out var a) && a.Ints is { } values
                && values.Any(v => v < min || v > MaxWindow))
                throw new OnnxFormatException($"node {node.Name} ({node.OpType}): " +
                    $"{attribute} [{string.Join(", ", values)}] must lie in {min}..{MaxWindow}");
        }
        Within("strides", 1);
        Within("dilations", 1);
        Within("kernel_shape", 1);
        Within("pads", 0);
        Within("output_padding", 0);
        if (!node.Attributes.TryGetValue("group", out var g)) return;
        if (g.I < 1) throw new OnnxFormatException($"node {node.Name} ({node.OpType}): group {g.I} must be at least 1");
        if (node.OpType == "Conv" && node.Inputs.Length > 1 && graph.Initializers.TryGetValue(node.Inputs[1], out var w)
            && w.Dims.Length > 0 && w.Dims[0] % g.I != 0)
            throw new OnnxFormatException(
                $"node {node.Name} (Conv): group {g.I} does not divide its {w.Dims[0]} output channels");
    }

    /// <summary>Whether forward passes without gradients run packed, fused oneDNN convolutions on this machine.
    /// </summary>
    public static bool PackedConvolutionsAvailable => PackedConvolutions.Available;

    /// <summary>The graph's input: its declared shape (-1 where symbolic).</summary>
    public OnnxValueInfo Input => _graph.Inputs[0];

    public string? ModulePath(string layerName) => _pathOfLayer.GetValueOrDefault(layerName);

    public string LayerName(string modulePath) => _layerOfPath.GetValueOrDefault(modulePath) ?? modulePath;

    public string? LayerType(string modulePath) => _typeOfPath.GetValueOrDefault(modulePath);

    public string? LayerLayout(string modulePath) => _layoutOfPath.GetValueOrDefault(modulePath);

    /// <summary>The feature map the network pools into its prediction (the input of its first global pooling, mean or
    /// flatten), where CAM methods look by default; else the last convolution's output.</summary>
    public string DefaultLayer()
    {
        var pooling = _graph.Nodes.FirstOrDefault(n =>
            n.OpType is "GlobalAveragePool" or "GlobalMaxPool" or "ReduceMean" or "Flatten" or "AveragePool");
        if (pooling is not null && _taps.ContainsKey(pooling.Inputs[0])) return pooling.Inputs[0];
        return _graph.Nodes.LastOrDefault(n => n.OpType == "Conv")?.Outputs[0] ?? "last-conv";
    }

    /// <summary>The feature map a detector's last prediction layer reads (the input of the last convolution that reads
    /// a feature map, not the box decoding's reshaped bins): where CAM methods look in a detector by default.</summary>
    public string HeadInputLayer()
    {
        var producers = new Dictionary<string, string>();
        foreach (var node in _graph.Nodes)
            foreach (var o in node.Outputs) producers[o] = node.OpType;
        var conv = _graph.Nodes.LastOrDefault(n => n.OpType == "Conv" && n.Inputs.Length > 0
            && _taps.ContainsKey(n.Inputs[0])
            && producers.GetValueOrDefault(n.Inputs[0]) is not (null or "Softmax" or "Transpose" or "Reshape"));
        return conv?.Inputs[0] ?? DefaultLayer();
    }

    public IEnumerable<(string ModulePath, Tensor Bias)> ConvolutionBiases()
    {
        foreach (var node in _graph.Nodes)
            if (node.OpType == "Conv" && node.Inputs.Length > 2 && _constants.TryGetValue(node.Inputs[2], out var bias)
                && bias.dim() == 1)
                yield return (_pathOfLayer[node.Outputs[0]], bias);
    }

    static string UniqueName(string name, HashSet<string> used)
    {
        var s = new StringBuilder();
        foreach (char c in name) s.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        if (s.Length == 0 || char.IsAsciiDigit(s[0])) s.Insert(0, 'v');
        var unique = s.ToString();
        for (int i = 2; !used.Add(unique); i++) unique = $"{s}_{i}";
        return unique;
    }

    public override Tensor forward(Tensor input) => Combined(RunGraph(input, null, out _));

    static Tensor Combined(Tensor[] outputs)
    {
        if (outputs.Length == 1) return outputs[0];
        long n = outputs[0].shape[0];
        return cat(outputs.Select(o => o.reshape(n, -1)).ToList(), 1);
    }

    /// <summary>The layer's value is the graph's own (no tap is called for it that is not hooked, and nothing fused
    /// writes over it), so on ONNX Runtime it is read where it was handed over.</summary>
    public (Tensor Output, Tensor Layer)? ForwardWithLayer(Tensor input, string layerName)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layerName);
        var name = _taps.ContainsKey(layerName) ? layerName : _layerOfPath.GetValueOrDefault(layerName);
        if (name is null || is_grad_enabled()) return null;
        var outputs = RunGraph(input, name, out var layer);
        return layer is null ? null : (Combined(outputs), layer);
    }

    Tensor[] RunGraph(Tensor input) => RunGraph(input, null, out _);

    /// <summary>The graph's outputs for an input [N, C, H, W], and the value called <paramref name="kept"/>, which
    /// counts as hooked for what may be fused or run elsewhere.</summary>
    Tensor[] RunGraph(Tensor input, string? kept, out Tensor? keptValue)
    {
        // A graph converted from TensorFlow takes [N, H, W, C]: the same values, laid out as it wants.
        if (ChannelsLastInput && input.dim() == 4) input = input.permute(0, 2, 3, 1).contiguous();
        var onOnnxRuntime = _onnxRuntime is not null && OnOnnxRuntime(input);
        // Channels-last (NHWC strides, the same NCHW shape): libtorch's CPU convolutions run ~1.2x faster so here,
        // and every layer after keeps that layout. Values are unchanged; only their order in memory differs. (ONNX
        // Runtime reads the input as the graph lays it out: no copy for it.)
        if (!ChannelsLastInput && input.dim() == 4 && !onOnnxRuntime) input = ChannelsLast(input);
        // Convolutions whose input needs no gradient run packed and fused (see PackedConvolutions): every pass without
        // gradients, and with them the part before the first value that requires one (a CAM's explained layer,
        // where autograd starts; parameters never require one), so only the rest records a graph.
        var packed = input.dim() == 4 && input.dtype == ScalarType.Float32 && input.device_type == DeviceType.CPU
            && (FastBeforeTheLayer || !is_grad_enabled()) ? Packed() : null;
        var skipped = new bool[_graph.Nodes.Count];
        var values = new Dictionary<string, Tensor>(_constants) { [_input] = input };
        if (onOnnxRuntime) RunOnOnnxRuntime(_onnxRuntime!, input, values, skipped, kept);
        for (int k = 0; k < _graph.Nodes.Count; k++)
        {
            var node = _graph.Nodes[k];
            if (skipped[k]) continue;
            var inputs = node.Inputs.Select(name => name.Length == 0 ? null
                : values.TryGetValue(name, out var v) ? v
                : throw new OnnxFormatException(
                    $"node {node.Name} ({node.OpType}) reads '{name}', which nothing before it makes")).ToArray();
            if (node.OpType == "Relu")
            {
                // The tap is the ReLU itself: guided backprop hooks ReLU modules.
                values[node.Outputs[0]] = _taps[node.Outputs[0]].call(
                    inputs[0] ?? throw new OnnxFormatException($"node {node.Name} (Relu) has no input"));
                continue;
            }
            if (packed is not null && node.OpType == "Conv")
            {
                try
                {
                    if (TryPackedConvolution(packed, k, inputs, values, skipped, kept)) continue;
                }
                catch (Exception e) when (e is not OnnxFormatException && (e is ArgumentException
                    or InvalidOperationException or System.Runtime.InteropServices.ExternalException))
                {
                    throw new OnnxFormatException(
                        $"node {node.Name} ({node.OpType}) failed: {LibTorchError.Reason(e)}", e);
                }
            }
            Tensor[] results;
            try { results = OnnxOperators.Run(node, inputs); }
            catch (Exception e) when (e is not OnnxFormatException && (e is ArgumentException
                or InvalidOperationException or System.Runtime.InteropServices.ExternalException))
            {
                throw new OnnxFormatException($"node {node.Name} ({node.OpType}) failed: {LibTorchError.Reason(e)}", e);
            }
            for (int i = 0; i < results.Length && i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                values[node.Outputs[i]] = _taps[node.Outputs[i]].call(results[i]);
            }
        }
        keptValue = kept is null ? null : values.GetValueOrDefault(kept);
        return _outputs.Select(name => values.TryGetValue(name, out var output)
            ? output
            : throw new OnnxFormatException($"nothing makes the graph's output '{name}'")).ToArray();
    }

    /// <summary>Which runtime runs what needs no gradient: "ONNX Runtime" where it was faster at load and agreed,
    /// else "libtorch"; with the measurement behind the choice.</summary>
    public string GradientFreeRuntime { get; private set; } = "libtorch (ONNX Runtime not tried)";

    /// <summary>Whether ONNX Runtime runs what needs no gradient. Off by default: <see cref="OfferOnnxRuntime"/>
    /// turns it on where it measures faster; tests turn it off to compare.</summary>
    public bool UsesOnnxRuntime { get; set; }

    /// <summary>Whether, with gradients on, the part before the first value that requires one takes the fast paths
    /// (packed convolutions; ONNX Runtime where <see cref="UsesOnnxRuntime"/>). Off only to measure how it was
    /// (<c>bench live</c>): every pass with gradients then runs on libtorch's plain path.</summary>
    public bool FastBeforeTheLayer { get; set; } = true;

    long _onnxRuntimePasses;

    long _onnxRuntimeWholePasses;

    /// <summary>How many passes with a hooked layer ONNX Runtime ran to the end (the hooks only looked).</summary>
    internal long OnnxRuntimeWholePasses => Interlocked.Read(ref _onnxRuntimeWholePasses);

    /// <summary>The thread counts of the ONNX Runtime sessions this network holds (none after the start-up
    /// measurement).</summary>
    internal IReadOnlyList<int> OnnxRuntimeThreadCounts => _onnxRuntime?.ThreadCounts ?? [];

    /// <summary>How many ONNX Runtime sessions this network holds (at most <see cref="OnnxRuntimePart.MaxSessions"/>
    /// between runs).</summary>
    internal int OnnxRuntimeSessions => _onnxRuntime?.SessionCount ?? 0;

    /// <summary>How many passes ONNX Runtime has run for this network (not the start-up measurement's).</summary>
    internal long OnnxRuntimePasses => Interlocked.Read(ref _onnxRuntimePasses);

    /// <summary>Loads ONNX Runtime on the same file and keeps it for what needs no gradient if, on
    /// <paramref name="example"/>, its outputs agree with libtorch's and it is faster (medians of a few passes each).
    /// </summary>
    public void OfferOnnxRuntime(byte[] file, Tensor example)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(example);
        if (example.device_type != DeviceType.CPU) return;
        _onnxRuntime?.Dispose();
        _onnxRuntime = OnnxRuntimePart.Create(file, _graph);
        _plans.Clear();  // what they found available was the old part's
        if (_onnxRuntime is null)
        {
            GradientFreeRuntime = "libtorch (ONNX Runtime cannot load the file)";
            return;
        }
        try { Measure(example); }
        catch (Exception e) when (e is OnnxFormatException or OnnxRuntimeException or ArgumentException
            or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            // The first real pass says what is wrong, as it would without ONNX Runtime.
            UsesOnnxRuntime = false;
            GradientFreeRuntime = $"libtorch (the start-up comparison failed: {e.Message})";
        }
        // The measurement's sessions are rarely the analysis's and have the loading thread's priority.
        finally { _onnxRuntime.ReleaseSessions(); }
    }

    void Measure(Tensor example)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        UsesOnnxRuntime = false;
        var torchOutputs = RunGraph(example);
        UsesOnnxRuntime = true;
        var ortOutputs = RunGraph(example);
        void On(bool onnxRuntime)
        {
            UsesOnnxRuntime = onnxRuntime;
            using (NewDisposeScope()) RunGraph(example);
        }
        var (torchMs, ortMs) = OnnxRuntimePart.TimeAlternately(() => On(false), () => On(true), 5);
        Interlocked.Exchange(ref _onnxRuntimePasses, 0);
        double worst = 0;
        for (int i = 0; i < torchOutputs.Length; i++)
        {
            double scale = Math.Max(1, torchOutputs[i].abs().max().item<float>());
            worst = Math.Max(worst, (torchOutputs[i] - ortOutputs[i]).abs().max().item<float>() / scale);
        }
        // Both compute the same float32 graph; more than rounding apart, one of them is wrong here: libtorch's
        // kernels are the ones proven against a reference at start-up (see PackedConvolutions).
        UsesOnnxRuntime = worst <= 1e-4 && ortMs < torchMs;
        // Measured at this thread's count: the caller loads at the count the work will run with (TorchThreads.With).
        int threads = get_num_threads();
        GradientFreeRuntime = (UsesOnnxRuntime ? "ONNX Runtime" : "libtorch")
            + $" (forward {ortMs:0.0} ms in ONNX Runtime, {torchMs:0.0} ms in libtorch"
            + $" at {threads} thread{(threads == 1 ? "" : "s")}"
            + (worst <= 1e-4 ? $"; outputs agree within {worst:G2})" : $"; outputs differ by {worst:G2})");
    }

    bool OnOnnxRuntime(Tensor input)
    {
        if (!UsesOnnxRuntime || input.requires_grad || !FastBeforeTheLayer && is_grad_enabled()
            || input.dtype != ScalarType.Float32
            || input.device_type != DeviceType.CPU) return false;
        // A shape the graph does not declare stays with libtorch (ONNX Runtime would refuse it).
        var declared = _graph.Inputs[0].Dims;
        var shape = input.shape;
        return declared is null || declared.Length == shape.Length
            && declared.Zip(shape).All(d => d.First <= 0 || d.First == d.Second);
    }

    /// <summary>ONNX Runtime computes every value that needs no gradient and that the rest reads: all of the graph
    /// when nothing hooks a layer; else the hooked layers (their hooks then see them, and may require their gradient or
    /// replace them) and what the nodes after them read from before. Those nodes are left to the caller's loop, unless
    /// the hooks only looked (Eigen-CAM's capture): then ONNX Runtime's outputs are the pass's too.</summary>
    void RunOnOnnxRuntime(OnnxRuntimePart part, Tensor input, Dictionary<string, Tensor> values, bool[] skipped,
        string? kept)
    {
        var hooked = _taps.Where(t => ModuleHooks.Watched(t.Value)).Select(t => t.Key).ToList();
        var watched = kept is null || hooked.Contains(kept) ? hooked : [.. hooked, kept];
        var plan = _plans.GetOrAdd(
            string.Join('\n', watched), _ => new OnnxRuntimePlan(_graph, watched, _outputs, part.Has));
        if (!plan.Runnable) return;
        // Where the hooks only looked last time, or the rest is too cheap to matter (a pooling and a classifier), the
        // outputs come too: if the hooks only look, the rest is then not run again.
        bool whole = (hooked.Count == 0 || plan.HooksOnlyLooked || plan.RestIsCheap) && plan.WholeAvailable;
        Dictionary<string, Tensor> computed;
        // A value ONNX Runtime cannot hand over (a type LiveCam does not take): libtorch runs the whole pass.
        try { computed = part.Run(input, whole ? plan.Whole : plan.Needed); }
        catch (Exception e) when (e is OnnxFormatException or OnnxRuntimeException) { return; }
        Interlocked.Increment(ref _onnxRuntimePasses);
        bool looked = true;
        foreach (var (name, value) in computed)
        {
            // A value only kept is the graph's own: a ReLU's tap would give the same values again.
            if (!plan.Watched.Contains(name) || !hooked.Contains(name))
            {
                values[name] = value;
                continue;
            }
            var seen = _taps[name].call(value);
            // A ReLU tap returns a new tensor of the same (non-negative) values: only a changed value, or one that now
            // needs a gradient, makes the rest depend on the hook.
            looked &= ReferenceEquals(seen, value) || !seen.requires_grad && seen.dtype == value.dtype
                && seen.shape.SequenceEqual(value.shape) && seen.Equals(value);
            values[name] = seen;
        }
        plan.HooksOnlyLooked = looked;
        if (whole && looked) Interlocked.Increment(ref _onnxRuntimeWholePasses);
        for (int k = 0; k < skipped.Length; k++) skipped[k] |= whole && looked || !plan.After[k];
    }

    readonly System.Collections.Concurrent.ConcurrentDictionary<string, OnnxRuntimePlan> _plans = new();

    /// <summary>What ONNX Runtime computes for one set of hooked layers: the nodes after them, which the rest runs,
    /// and the values it reads from before.</summary>
    sealed class OnnxRuntimePlan
    {
        public OnnxRuntimePlan(OnnxGraph graph, IReadOnlyList<string> watched, IReadOnlyList<string> outputs,
            Func<string, bool> named)
        {
            var nodes = graph.Nodes;
            Watched = watched.ToHashSet();
            var downstream = new HashSet<string>(watched);
            After = new bool[nodes.Count];
            for (int k = 0; k < nodes.Count; k++)
                if (nodes[k].Inputs.Any(downstream.Contains))
                {
                    After[k] = true;
                    downstream.UnionWith(nodes[k].Outputs);
                }
            var before = new HashSet<string>();
            for (int k = 0; k < nodes.Count; k++)
                if (!After[k]) before.UnionWith(nodes[k].Outputs.Where(o => o.Length > 0));
            var needed = new HashSet<string>(watched.Where(before.Contains));
            for (int k = 0; k < nodes.Count; k++)
                if (After[k]) needed.UnionWith(nodes[k].Inputs.Where(before.Contains));
            needed.UnionWith(outputs.Where(before.Contains));
            Needed = [.. needed];
            Whole = [.. needed.Union(outputs)];
            // ONNX Runtime hands over only what the file names.
            Runnable = Needed.Length > 0 && Needed.All(named);
            // A hooked layer after another is computed from what that one's hook returns: never taken from ONNX
            // Runtime whole.
            WholeAvailable = watched.All(before.Contains) && Whole.All(named);
            RestIsCheap = !nodes.Where((_, k) => After[k]).Any(n => n.OpType is "Conv" or "ConvTranspose");
        }

        public HashSet<string> Watched { get; }
        public bool[] After { get; }
        public string[] Needed { get; }
        public string[] Whole { get; }
        /// <summary>Whether ONNX Runtime can give every value the rest needs.</summary>
        public bool Runnable { get; }
        public bool WholeAvailable { get; }
        /// <summary>Whether no convolution follows the hooked layers.</summary>
        public bool RestIsCheap { get; }
        /// <summary>Whether, the last time, every hook returned its layer's values unchanged.</summary>
        public volatile bool HooksOnlyLooked;
    }

    PackedConvolutions? Packed()
    {
        lock (_packedGate)
        {
            if (!_packedTried) _packed = PackedConvolutions.Create();
            _packedTried = true;
            return _packed;
        }
    }

    /// <summary>A convolution of the file's weights, packed; with the ReLU (or sum and ReLU) after it in the same pass
    /// when nothing hooks the values that fusing skips. False where it takes another path.</summary>
    bool TryPackedConvolution(PackedConvolutions packed, int k, Tensor?[] inputs, Dictionary<string, Tensor> values,
        bool[] skipped, string? kept)
    {
        bool Watched(string output) => output == kept || this.Watched(output);
        var node = _graph.Nodes[k];
        // Weights computed at run time would be packed anew on every call.
        if (inputs[0] is not { } x || node.Inputs.Length < 2 || !_constants.ContainsKey(node.Inputs[1])) return false;
        // The packed kernels have no backward: a value on the way to a gradient takes libtorch's own convolution.
        if (x.requires_grad) return false;
        if (node.Inputs.Length > 2 && node.Inputs[2].Length > 0 && !_constants.ContainsKey(node.Inputs[2]))
            return false;
        var weight = inputs[1]!;
        var bias = inputs.Length > 2 ? inputs[2] : null;
        if (x.dtype != ScalarType.Float32 || weight.dtype != ScalarType.Float32 || weight.dim() != 4) return false;
        var padded = OnnxOperators.ConvolutionInput(node, x, weight, out var c);
        if (_fusions.TryGetValue(k, out var fusion) && !Watched(node.Outputs[0]) && !Watched(fusion.Relu.Outputs[0])
            && (fusion.Add is null || !Watched(fusion.Add.Outputs[0])))
        {
            Tensor? residual = null;
            var (inputShape, output) = Shapes(padded, weight, c);
            if (fusion.Residual is null || values.TryGetValue(fusion.Residual, out residual)
                && residual.dtype == ScalarType.Float32 && !residual.requires_grad
                && residual.shape.SequenceEqual(output))
            {
                var epilogue = residual is null ? ConvolutionEpilogue.Relu
                    : fusion.ResidualWritable && !Watched(fusion.Residual!) && IsChannelsLast(residual)
                        ? ConvolutionEpilogue.AddReluInPlace
                    : ConvolutionEpilogue.AddRelu;
                if (PackedConvolutions.Supports(epilogue, inputShape[1], output[1], output[2] * output[3]))
                {
                    values[fusion.Relu.Outputs[0]] =
                        packed.Run(node.Outputs[0], padded, weight, bias, c, epilogue, residual);
                    skipped[fusion.ReluIndex] = true;
                    if (fusion.AddIndex is { } add) skipped[add] = true;
                    return true;
                }
            }
        }
        values[node.Outputs[0]] = _taps[node.Outputs[0]].call(
            packed.Run(node.Outputs[0], padded, weight, bias, c, ConvolutionEpilogue.None, null));
        return true;
    }

    bool Watched(string output) => ModuleHooks.Watched(_taps[output]);

    // Each .shape is a native call that allocates: read once.
    static (long[] Input, long[] Output) Shapes(Tensor x, Tensor weight, Convolution c)
    {
        long[] input = x.shape, kernel = weight.shape;
        return (input,
        [
            input[0], kernel[0],
            (input[2] + 2 * c.Pads[0] - c.Dilations[0] * (kernel[2] - 1) - 1) / c.Strides[0] + 1,
            (input[3] + 2 * c.Pads[1] - c.Dilations[1] * (kernel[3] - 1) - 1) / c.Strides[1] + 1,
        ]);
    }

    /// <summary>A convolution whose output only a ReLU reads, or only an Add whose sum only a ReLU reads (a residual
    /// block's end): computable in one pass when nothing hooks the values in between. The sum may be written over the
    /// residual when that is a tensor of the pass's own that nothing reads after the convolution.</summary>
    sealed record ConvolutionFusion(OnnxNode Relu, int ReluIndex, OnnxNode? Add, int? AddIndex, string? Residual,
        bool ResidualWritable);

    // Operators whose output is a new tensor, never a view of their input or of a constant.
    static readonly HashSet<string> NewTensorOperators =
        ["Conv", "Relu", "Add", "MaxPool", "AveragePool", "BatchNormalization"];

    static bool IsChannelsLast(Tensor t)
    {
        var shape = t.shape;
        return shape.Length == 4
            && t.stride().SequenceEqual([shape[1] * shape[2] * shape[3], 1, shape[3] * shape[1], shape[1]]);
    }

    static Dictionary<int, ConvolutionFusion> PlanFusions(OnnxGraph graph)
    {
        var readers = new Dictionary<string, List<int>>();
        for (int k = 0; k < graph.Nodes.Count; k++)
            foreach (var i in graph.Nodes[k].Inputs.Where(i => i.Length > 0).Distinct())
                (readers.TryGetValue(i, out var list) ? list : readers[i] = []).Add(k);
        var producers = new Dictionary<string, int>();
        for (int k = 0; k < graph.Nodes.Count; k++)
            foreach (var o in graph.Nodes[k].Outputs) producers[o] = k;
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        int? OnlyReader(string value) =>
            !outputs.Contains(value) && readers.TryGetValue(value, out var r) && r.Count == 1 ? r[0] : null;
        bool Writable(string residual, int conv, int add) =>
            !outputs.Contains(residual) && producers.TryGetValue(residual, out var p)
            && NewTensorOperators.Contains(graph.Nodes[p].OpType)
            && readers[residual].All(r => r == add || r < conv);
        var fusions = new Dictionary<int, ConvolutionFusion>();
        for (int k = 0; k < graph.Nodes.Count; k++)
        {
            var conv = graph.Nodes[k];
            if (conv.OpType != "Conv" || conv.Outputs.Length != 1 || OnlyReader(conv.Outputs[0]) is not { } next)
                continue;
            var reader = graph.Nodes[next];
            if (reader.OpType == "Relu")
                fusions[k] = new ConvolutionFusion(reader, next, null, null, null, false);
            else if (reader.OpType == "Add" && reader.Inputs.Length == 2 && reader.Inputs[0] != reader.Inputs[1]
                && OnlyReader(reader.Outputs[0]) is { } relu && graph.Nodes[relu].OpType == "Relu")
            {
                var residual = reader.Inputs[0] == conv.Outputs[0] ? reader.Inputs[1] : reader.Inputs[0];
                fusions[k] = new ConvolutionFusion(graph.Nodes[relu], relu, reader, next, residual,
                    Writable(residual, k, next));
            }
        }
        return fusions;
    }

    /// <summary>A convolution whose only reader is a BatchNormalization computes both in one: inference's batch norm is
    /// a per-channel scale and shift, folded into the convolution's weights and bias. The convolution's own output is
    /// then not a layer; the normalised one is.</summary>
    static OnnxGraph FoldBatchNorms(OnnxGraph graph)
    {
        var readers = new Dictionary<string, int>();
        foreach (var n in graph.Nodes) foreach (var i in n.Inputs) readers[i] = readers.GetValueOrDefault(i) + 1;
        var nodes = graph.Nodes.ToList();
        var initializers = new Dictionary<string, OnnxTensor>(graph.Initializers);
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        for (int k = 0; k + 1 < nodes.Count; k++)
        {
            var conv = nodes[k];
            if (conv.OpType != "Conv" || conv.Outputs.Length != 1 || outputs.Contains(conv.Outputs[0])
                || readers.GetValueOrDefault(conv.Outputs[0]) != 1) continue;
            int b = nodes.FindIndex(k + 1, n => n.Inputs.Length > 0 && n.Inputs[0] == conv.Outputs[0]);
            if (b < 0 || nodes[b].OpType != "BatchNormalization" || nodes[b].Inputs.Length < 5) continue;
            var bn = nodes[b];
            if (!initializers.TryGetValue(conv.Inputs[1], out var w) || w.Floats is null || w.Dims.Length != 4)
                continue;
            var parts = bn.Inputs[1..5].Select(n => initializers.TryGetValue(n, out var t) ? t.Floats : null).ToArray();
            if (parts.Any(p => p is null || p.Length != w.Dims[0])) continue;
            float[] scale = parts[0]!, shift = parts[1]!, mean = parts[2]!, variance = parts[3]!;
            float eps = bn.Attributes.TryGetValue("epsilon", out var e) ? e.F : 1e-5f;
            float[]? bias = conv.Inputs.Length > 2 && initializers.TryGetValue(conv.Inputs[2], out var bt)
                ? bt.Floats
                : null;
            long perOut = w.Count / w.Dims[0];
            var folded = new float[w.Floats.Length];
            var foldedBias = new float[w.Dims[0]];
            for (int o = 0; o < w.Dims[0]; o++)
            {
                float f = scale[o] / MathF.Sqrt(variance[o] + eps);
                for (long i = 0; i < perOut; i++) folded[o * perOut + i] = w.Floats[o * perOut + i] * f;
                foldedBias[o] = ((bias?[o] ?? 0) - mean[o]) * f + shift[o];
            }
            string wName = $"{conv.Outputs[0]}::folded_w", bName = $"{conv.Outputs[0]}::folded_b";
            initializers[wName] = new OnnxTensor(wName, w.Dims, OnnxTensor.FloatType, folded, null);
            initializers[bName] = new OnnxTensor(bName, [w.Dims[0]], OnnxTensor.FloatType, foldedBias, null);
            nodes[k] = conv with { Inputs = [conv.Inputs[0], wName, bName], Outputs = bn.Outputs[..1] };
            nodes.RemoveAt(b);
        }
        // Weights no node reads any more are dropped.
        var read = nodes.SelectMany(n => n.Inputs).ToHashSet();
        return graph with
        {
            Nodes = nodes, Initializers = initializers.Where(t => read.Contains(t.Key)).ToDictionary()
        };
    }

    /// <summary>The same tensor with its channels innermost in memory (channels-last strides).</summary>
    static Tensor ChannelsLast(Tensor t) => t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>A node output as a layer: passes its value on, so hooks can see and replace it.</summary>
    sealed class Tap() : nn.Module<Tensor, Tensor>("Tap")
    {
        public override Tensor forward(Tensor input) => input;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var c in _constants.Values.Where(c => c is not Parameter)) c.Dispose();
            _packed?.Dispose();
            _onnxRuntime?.Dispose();
        }
        base.Dispose(disposing);
    }
}
