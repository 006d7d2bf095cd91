using System.Text;
using LiveCam.Explain.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LiveCam.Models.Onnx;

/// <summary>
/// An ONNX graph run by TorchSharp, so gradients and every explanation method work on it. The float initializers
/// are the network's parameters; every node output passes through a module of its own named after the tensor
/// (a ReLU module for Relu nodes, so guided backprop finds them), so each is a layer the explainer can hook.
/// </summary>
public sealed class OnnxNetwork : nn.Module<Tensor, Tensor>, INamedLayers
{
    readonly OnnxGraph _graph;
    readonly Dictionary<string, Tensor> _constants = [];
    readonly Dictionary<string, nn.Module<Tensor, Tensor>> _taps = [];
    readonly Dictionary<string, string> _pathOfLayer = [], _layerOfPath = [], _typeOfPath = [];
    readonly string _input, _output;

    /// <summary>The operators this runs (ONNX's default domain).</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>
    {
        "Conv", "ConvTranspose", "BatchNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
        "Tanh", "Softmax", "Add", "Sub", "Mul", "Div", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
        "Gemm", "MatMul", "Flatten", "Reshape", "Transpose", "Concat", "Split", "Slice", "Squeeze", "Unsqueeze", "Pad", "Resize",
        "Identity", "Dropout", "Constant", "Shape", "Gather", "Cast", "ConstantOfShape",
    };

    /// <exception cref="OnnxFormatException">Operators it does not run (all named), or a graph it cannot take.</exception>
    public OnnxNetwork(OnnxGraph graph) : base("OnnxNetwork")
    {
        _graph = graph ?? throw new ArgumentNullException(nameof(graph));
        var unsupported = graph.Nodes.Where(n => n.Domain is not ("" or "ai.onnx") || !Supported.Contains(n.OpType))
            .Select(n => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}.{n.OpType}").Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (unsupported.Count > 0) throw new OnnxFormatException($"unsupported ONNX operators: {string.Join(", ", unsupported)}");
        // Opsets 7 and 8 differ from 9 only in operators this does not run (the featurizer of ML.NET is opset 8).
        if (graph.Opset is > 0 and < 7) throw new OnnxFormatException($"opset {graph.Opset}: opsets 7 and up are supported");
        if (graph.Inputs.Count != 1) throw new OnnxFormatException($"the graph has {graph.Inputs.Count} inputs; an image model has one");
        if (graph.Outputs.Count < 1) throw new OnnxFormatException("the graph has no output");
        _input = graph.Inputs[0].Name;
        _output = graph.Outputs[0].Name;
        // Nodes run in the file's order: each must read only what the input, the weights or an earlier node makes
        // (which also refuses cycles).
        var made = new HashSet<string>(graph.Initializers.Keys) { _input };
        foreach (var node in graph.Nodes)
        {
            if (node.Inputs.FirstOrDefault(i => i.Length > 0 && !made.Contains(i)) is { } missing)
                throw new OnnxFormatException($"node {node.Name} ({node.OpType}) reads '{missing}', which no earlier node makes (a cycle, or nodes out of order)");
            made.UnionWith(node.Outputs);
        }
        if (!made.Contains(_output)) throw new OnnxFormatException($"nothing makes the graph's output '{_output}'");
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
    }

    /// <summary>The graph's input: its declared shape (-1 where symbolic).</summary>
    public OnnxValueInfo Input => _graph.Inputs[0];

    public string? ModulePath(string layerName) => _pathOfLayer.GetValueOrDefault(layerName);

    public string LayerName(string modulePath) => _layerOfPath.GetValueOrDefault(modulePath) ?? modulePath;

    public string? LayerType(string modulePath) => _typeOfPath.GetValueOrDefault(modulePath);

    /// <summary>The feature map the network pools into its prediction (the input of its first global pooling, mean or
    /// flatten), where CAM methods look by default; else the last convolution's output.</summary>
    public string DefaultLayer()
    {
        var pooling = _graph.Nodes.FirstOrDefault(n => n.OpType is "GlobalAveragePool" or "GlobalMaxPool" or "ReduceMean" or "Flatten" or "AveragePool");
        if (pooling is not null && _taps.ContainsKey(pooling.Inputs[0])) return pooling.Inputs[0];
        return _graph.Nodes.LastOrDefault(n => n.OpType == "Conv")?.Outputs[0] ?? "last-conv";
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

    public override Tensor forward(Tensor input)
    {
        // Channels-last (NHWC strides, the same NCHW shape): libtorch's CPU convolutions run ~1.2x faster so here,
        // and every layer after keeps that layout. Values are unchanged; only their order in memory differs.
        if (input.dim() == 4) input = ChannelsLast(input);
        var values = new Dictionary<string, Tensor>(_constants) { [_input] = input };
        foreach (var node in _graph.Nodes)
        {
            var inputs = node.Inputs.Select(name => name.Length == 0 ? null
                : values.TryGetValue(name, out var v) ? v : throw new OnnxFormatException($"node {node.Name} ({node.OpType}) reads '{name}', which nothing before it makes")).ToArray();
            if (node.OpType == "Relu")
            {
                // The tap is the ReLU itself: guided backprop hooks ReLU modules.
                values[node.Outputs[0]] = _taps[node.Outputs[0]].call(inputs[0] ?? throw new OnnxFormatException($"node {node.Name} (Relu) has no input"));
                continue;
            }
            Tensor[] results;
            try { results = OnnxOperators.Run(node, inputs); }
            catch (Exception e) when (e is not OnnxFormatException && (e is ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException))
            {
                throw new OnnxFormatException($"node {node.Name} ({node.OpType}) failed: {e.Message.Split('\n')[0]}", e);
            }
            for (int i = 0; i < results.Length && i < node.Outputs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                values[node.Outputs[i]] = _taps[node.Outputs[i]].call(results[i]);
            }
        }
        return values.TryGetValue(_output, out var output) ? output : throw new OnnxFormatException($"nothing makes the graph's output '{_output}'");
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
            foreach (var c in _constants.Values.Where(c => c is not Parameter)) c.Dispose();
        base.Dispose(disposing);
    }
}
