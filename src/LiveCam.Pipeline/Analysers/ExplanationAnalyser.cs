using LiveCam.Core;
using LiveCam.Explain;
using LiveCam.Explain.Engine;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models;
using static TorchSharp.torch;

namespace LiveCam.Pipeline.Analysers;

/// <summary>What the window's keys change while the pipeline runs; safe to call from any thread.
/// The next analysis uses the new choice.</summary>
public interface IExplanationControls
{
    /// <summary>The next (+1) or previous (-1) method of <see cref="MethodCatalog.Names"/>.</summary>
    void StepMethod(int by);
    /// <summary>A deeper (+1) or shallower (-1) layer with a spatial output.</summary>
    void StepLayer(int by);
    /// <summary>The next or previous target, as the model's head steps them (a class, a sensor).</summary>
    void StepTarget(int by);
    /// <summary>Back to the model's usual target (its head's: top-1 for classifiers, all outputs for the
    /// robot).</summary>
    void ResetTarget();
    /// <summary>The method of <see cref="MethodCatalog.Names"/> called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No method has that name.</exception>
    void SetMethod(string name);
    /// <summary>What the second explanation beside the first differs in; <see cref="SideBySide.Off"/> for
    /// none.</summary>
    void SetSideBySide(SideBySide side);
    /// <summary>The side-by-side view now (any thread).</summary>
    SideBySide SideBySide { get; }
    /// <summary>The method now (any thread).</summary>
    string Method { get; }
    /// <summary>DeepDream on the frames instead of explanations: what the current layer wants to see, built up over
    /// frames.</summary>
    void SetDreaming(bool dreaming);
    /// <summary>Whether it dreams now (any thread).</summary>
    bool Dreaming { get; }
}

/// <summary>Two explanations of the same frame at once, differing in one thing.</summary>
public enum SideBySide
{
    Off,
    /// <summary>Another method (Grad-CAM beside Eigen-CAM, or the current method beside Grad-CAM).</summary>
    Methods,
    /// <summary>The layer before the current one (a shallower view).</summary>
    Layers,
    /// <summary>Another class: the second most probable (a classifier), the next output (others).</summary>
    Targets,
}

/// <summary>
/// The analysis stage with a model: preprocess the frame, run the model and the explanation in one pass,
/// and hand on the small heatmap and the outputs. One dispose scope per frame; nothing torch leaves it.
/// </summary>
public sealed class ExplanationAnalyser : IAnalyser, IExplanationControls
{
    /// <summary>Method, layer and target; <paramref name="Interactive"/> when chosen by a key rather than at start,
    /// so a choice that does not apply to this model is reported in the HUD instead of ending the run.</summary>
    sealed record Choice(ExplanationMethod Method, LayerSelector Layer, Target Target, bool Interactive)
    {
        public SideBySide Side { get; init; }
        public bool Dream { get; init; }
    }

    readonly VisionModel _model;
    readonly Explainer _explainer;
    readonly List<string> _layers;
    readonly object _gate = new();
    Choice _choice;                 // what was asked for (any thread, under _gate)
    Choice? _applied;               // analysis thread only: what the fields below describe
    LayerInfo? _layerInfo;
    string? _problem;
    string _description = "";
    volatile int _outputCount, _lastExplained = -1;
    // Analysis thread only: the dreamer for the layer dreamt at, and the last dreamed input (built on frame after
    // frame).
    Explain.Visualisations.DeepDream? _dreamer;
    Tensor? _dreamed;

    /// <summary>DeepDream steps per analysed frame; the dream builds up over frames.</summary>
    public const int DreamStepsPerFrame = 2;

    public ExplanationAnalyser(VisionModel model, ExplanationMethod method, LayerSelector layer, Target target)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(target);
        _explainer = model.CreateExplainer();
        _choice = new Choice(method, layer, target, Interactive: false);
        using var scope = NewDisposeScope();
        var example = model.ExampleInput();
        // Resolve the layer now: a wrong name fails before the run starts.
        Apply(_choice, example);
        // The layers the keys step through: those with a spatial output, in the order the input reaches them.
        _layers = _explainer.Layers(example).Where(l => l.OutputShape.Count == 4).Select(l => l.Name).ToList();
        var start = _layerInfo?.Name ?? SafeResolve(example, layer);
        if (start is not null && !_layers.Contains(start))
        {
            // A container (ResNet's layer4) sits after its last leaf.
            int last = _layers.FindLastIndex(n => n.StartsWith(start + ".", StringComparison.Ordinal));
            _layers.Insert(last < 0 ? _layers.Count : last + 1, start);
        }
    }

    string? SafeResolve(Tensor example, LayerSelector layer)
    {
        try { return _explainer.ResolveLayer(example, layer).Name; }
        catch (ArgumentException) { return null; }
    }

    /// <summary>The layers <see cref="StepLayer"/> moves through.</summary>
    public IReadOnlyList<string> SteppableLayers => _layers;

    public string Name => $"{_model.Name}: {Volatile.Read(ref _description)}";

    /// <summary>Makes <paramref name="choice"/> current on the analysis thread; a choice made by a key that does not
    /// apply here becomes the <see cref="_problem"/> shown in the HUD, one made at start is thrown.</summary>
    void Apply(Choice choice, Tensor example)
    {
        _applied = choice;
        _problem = null;
        try
        {
            _layerInfo = choice.Method.ExplainsLayer ? _explainer.ResolveLayer(example, choice.Layer) : null;
        }
        catch (ArgumentException e) when (choice.Interactive)
        {
            _layerInfo = null;
            _problem = e.Message;
        }
        Describe(choice);
    }

    void Describe(Choice choice)
    {
        var layer = choice.Method.ExplainsLayer
            ? $" @ {_layerInfo?.Name ?? LayerText(choice.Layer)}"
                + $"{(_layerInfo is null ? "" : $" ({_layerInfo.ShapeText})")}"
            : "";
        var label = choice.Target.ClassIndex is { } c && _model.Head.Label(c) is { } name ? $" ({name})" : "";
        var text = $"{choice.Method.Name}{layer}, target {choice.Target.Description}{label}";
        if (_problem is not null) text += $": not available here ({Shorten(_problem)})";
        Volatile.Write(ref _description, text);
    }

    static string LayerText(LayerSelector layer) => layer.ToString();

    static string Shorten(string message) => message.Length <= 90 ? message : message[..87] + "...";

    public Analysis Analyse(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        using var scope = NewDisposeScope();
        var choice = Volatile.Read(ref _choice);
        if (!ReferenceEquals(choice, _applied)) Apply(choice, _model.ExampleInput());
        var input = _model.Preprocess(frame.Pixels);
        var region = _model.InputRegion(frame.Width, frame.Height);
        var started = MonotonicClock.Now;
        var analysis = new Analysis(frame.Sequence, frame.CaptureTime, started, Name)
        {
            HeatmapRegion = new PixelRect(region.X, region.Y, region.Width, region.Height),
            StartedAt = started,
            Choice = new ExplanationChoice(choice.Method.Name,
                choice.Method.ExplainsLayer ? _layerInfo?.Name ?? LayerText(choice.Layer) : null,
                choice.Target.Description),
        };
        if (!choice.Dream) ForgetDream();
        else if (_problem is null) return Dream(input, analysis, choice);
        if (_problem is null)
        {
            try
            {
                var set = _explainer.Explain(input, choice.Method, choice.Target, choice.Layer);
                var first = set.Items[0];
                // NaN or infinity would draw as an empty map and print as garbage: say so instead.
                if ((NotFinite(set.Outputs) ?? NotFinite(first.Map.Values)) is { } kind)
                    return analysis with
                    {
                        CompletedAt = MonotonicClock.Now,
                        Problem = $"analysis gave {kind}",
                        Description = Volatile.Read(ref _description)
                    };
                _outputCount = set.Outputs.Length;
                _model.Head.Decode(set.Outputs);
                if (first.ClassIndex is { } explained) _lastExplained = explained;
                var side = choice.Side == SideBySide.Off
                    ? null
                    : ExplainBeside(input, choice, first, set.Outputs, analysis.HeatmapRegion);
                return analysis with
                {
                    CompletedAt = MonotonicClock.Now,
                    Heatmap = new HeatmapImage(first.Map.Height, first.Map.Width, first.Map.Normalised),
                    Outputs = set.Outputs,
                    ExplainedOutput = first.ClassIndex,
                    Description = Volatile.Read(ref _description),
                    Side = side,
                };
            }
            catch (Exception e) when (choice.Interactive && e is ArgumentException or InvalidOperationException)
            {
                _problem = e.Message;
                Describe(choice);
            }
            catch (ArgumentException e)
            {
                // Chosen at start (the command line): the run ends with this one line.
                throw new ExplanationUnavailableException($"--method {choice.Method.Name}: {e.Message}", e);
            }
        }
        // The explanation does not apply (say, CAM on a head without global pooling): the predictions still show.
        return analysis with
        {
            CompletedAt = MonotonicClock.Now,
            Outputs = Predict(input),
            Description = Volatile.Read(ref _description)
        };
    }

    static string? NotFinite(IReadOnlyList<float> values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return NotFiniteException.Kind(v);
        return null;
    }

    /// <summary>DeepDream (Mordvintsev et al. 2015) at the explained layer: a few steps of gradient ascent on the frame
    /// blended with the last dream, so the dream builds up over frames and follows the camera.</summary>
    Analysis Dream(Tensor input, Analysis analysis, Choice choice)
    {
        string layer = "";
        try
        {
            layer = _layerInfo?.Name ?? _explainer.ResolveLayer(input, choice.Layer).Name;
            if (_dreamer?.Layer is not LayerSelector.ByName dreamt || dreamt.Name != layer)
            {
                ForgetDream();
                _dreamer = new Explain.Visualisations.DeepDream(
                    _explainer, new LayerSelector.ByName(layer), _model.InputRange);
            }
            var start = _dreamed is null || !_dreamed.shape.SequenceEqual(input.shape)
                ? input
                : 0.5f * _dreamed + 0.5f * input;
            var dreamed = _dreamer.Steps(start, DreamStepsPerFrame);
            _dreamed?.Dispose();
            _dreamed = dreamed.detach().DetachFromDisposeScope();
            using var image = _model.ToImage(dreamed);
            var pixels = new byte[image.Width * image.Height * 3];
            using (var continuous = image.IsContinuous() ? null : image.Clone())
                System.Runtime.InteropServices.Marshal.Copy((continuous ?? image).Data, pixels, 0, pixels.Length);
            Volatile.Write(ref _description,
                $"deepdream @ {layer}: what the layer wants to see, {DreamStepsPerFrame} steps a frame");
            return analysis with
            {
                CompletedAt = MonotonicClock.Now,
                Dream = new BgrImage(image.Height, image.Width, pixels),
                Description = Volatile.Read(ref _description),
                Choice = new ExplanationChoice("deepdream", layer, "layer"),
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            ForgetDream();
            _problem = $"deepdream: {e.Message}";
            Describe(choice);
            return analysis with
            {
                CompletedAt = MonotonicClock.Now,
                Outputs = Predict(input),
                Description = Volatile.Read(ref _description)
            };
        }
    }

    void ForgetDream()
    {
        _dreamed?.Dispose();
        _dreamed = null;
        _dreamer = null;
    }

    /// <summary>The second explanation of a side-by-side view: the same frame, one thing changed.</summary>
    SideExplanation ExplainBeside(Tensor input, Choice choice, Explanation first, float[] outputs, PixelRect? region)
    {
        var method = choice.Method;
        var layer = choice.Layer;
        var target = choice.Target;
        string left, right;
        switch (choice.Side)
        {
            case SideBySide.Methods:
                method = MethodCatalog.Beside(method);
                (left, right) = (choice.Method.Name, method.Name);
                break;
            case SideBySide.Layers:
                var current = _layerInfo?.Name;
                int i = current is null ? -1 : _layers.IndexOf(current);
                var other = i > 0 ? _layers[i - 1]
                    : _layers.Count > 1 ? _layers[Math.Min(i + 1, _layers.Count - 1)]
                    : null;
                if (other is null || !method.ExplainsLayer)
                    return new SideExplanation(
                        null, region, current ?? "input", $"{method.Name} explains no layer", null);
                layer = new LayerSelector.ByName(other);
                (left, right) = (current ?? LayerText(choice.Layer), other);
                break;
            default:
                int? explained = first.ClassIndex;
                var next = _model.Head.OutputsAreClassLogits && outputs.Length > 1
                    ? Target.Class(
                        Enumerable.Range(0, outputs.Length).Where(k => k != explained).MaxBy(k => outputs[k]))
                    : _model.Head.StepTarget(choice.Target, +1, outputs.Length, explained);
                if (next is null)
                    return new SideExplanation(
                        null, region, TargetText(choice.Target, explained), "no other target", null);
                target = next;
                (left, right) = (TargetText(choice.Target, explained), TargetText(next, next.ClassIndex));
                break;
        }
        try
        {
            var e = _explainer.Explain(input, method, target, layer).Items[0];
            return new SideExplanation(
                new HeatmapImage(e.Map.Height, e.Map.Width, e.Map.Normalised), region, left, right, e.ClassIndex);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return new SideExplanation(null, region, left, $"{right}: not available here", null);
        }
    }

    string TargetText(Target target, int? explained) =>
        explained is { } k ? _model.Head.Label(k) ?? $"output {k}" : target.Description;

    float[] Predict(Tensor input)
    {
        using var state = ModelStateGuard.ForInference(_model.Network);
        using var _ = no_grad();
        var outputs = _model.Network.call(input).flatten().cpu().data<float>().ToArray();
        _model.Head.Decode(outputs);
        return outputs;
    }

    void Change(Func<Choice, Choice?> change)
    {
        lock (_gate)
        {
            if (change(_choice) is { } next) Volatile.Write(ref _choice, next with { Interactive = true });
        }
    }

    public void StepMethod(int by) => Change(c =>
    {
        var names = MethodCatalog.Names.ToList();
        int i = Math.Max(0, names.IndexOf(c.Method.Name));
        return c with { Method = MethodCatalog.Create(names[Mod(i + by, names.Count)]) };
    });

    public void StepLayer(int by) => Change(c =>
    {
        if (_layers.Count == 0) return null;
        var current = c.Layer is LayerSelector.ByName n ? n.Name : _layerInfo?.Name;
        int i = current is null ? _layers.Count - 1 : _layers.IndexOf(current);
        if (i < 0) i = _layers.Count - 1;
        int next = Math.Clamp(i + by, 0, _layers.Count - 1);
        return next == i && current is not null ? null : c with { Layer = new LayerSelector.ByName(_layers[next]) };
    });

    public void StepTarget(int by) => Change(c =>
        _model.Head.StepTarget(c.Target, by, _outputCount, _lastExplained >= 0 ? _lastExplained : null) is { } next
            ? c with { Target = next }
            : null);

    public void ResetTarget() => Change(c => c with { Target = _model.Head.ParseTarget(_model.DefaultTarget) });

    public void SetMethod(string name) => Change(c => c with { Method = MethodCatalog.Create(name) });

    public void SetSideBySide(SideBySide side) => Change(c => c.Side == side ? null : c with { Side = side });

    public SideBySide SideBySide => Volatile.Read(ref _choice).Side;

    public string Method => Volatile.Read(ref _choice).Method.Name;

    public void SetDreaming(bool dreaming) => Change(c => c.Dream == dreaming ? null : c with { Dream = dreaming });

    public bool Dreaming => Volatile.Read(ref _choice).Dream;

    static int Mod(int a, int n) => ((a % n) + n) % n;
}

/// <summary>The explanation chosen at start does not apply to this model (CAM on a head without global pooling,
/// a target the outputs do not have); the message is one line for the user.</summary>
public sealed class ExplanationUnavailableException : Exception
{
    public ExplanationUnavailableException(string message) : base(message) { }
    public ExplanationUnavailableException(string message, Exception inner) : base(message, inner) { }
    public ExplanationUnavailableException() { }
}
