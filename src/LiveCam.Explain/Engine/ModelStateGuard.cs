using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>
/// Puts a model in the state an explanation needs (eval mode, parameters frozen) and puts back exactly
/// what it found, module by module and parameter by parameter, when disposed. What is already so is not touched.
/// </summary>
public sealed class ModelStateGuard : IDisposable
{
    readonly List<(nn.Module Module, bool Training)> _modes = [];
    readonly List<(TorchSharp.Modules.Parameter Parameter, bool RequiresGrad)> _parameters = [];
    bool _disposed;

    ModelStateGuard(nn.Module model)
    {
        // named_modules() leaves out the root; train(bool) is recursive, so the root goes first.
        _modes.Add((model, model.training));
        foreach (var (name, module) in model.named_modules())
            if (name.Length > 0) _modes.Add((module, module.training));
        foreach (var p in model.parameters()) _parameters.Add((p, p.requires_grad));
        Device = _parameters.Count > 0 ? _parameters[0].Parameter.device : CPU;
    }

    /// <summary>The device the model's parameters live on (CPU for a model without parameters).</summary>
    public Device Device { get; }

    /// <summary>Eval mode (dropout off, batch-norm running statistics) and no parameter gradients.</summary>
    public static ModelStateGuard ForInference(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var guard = new ModelStateGuard(model);
        try
        {
            // Only what differs is changed (and so put back): a model already in that state, as the live view's is
            // frame after frame, costs no recursive eval() and no parameter writes.
            if (guard._modes.Any(m => m.Training)) model.eval();
            foreach (var (p, requiresGrad) in guard._parameters)
                if (requiresGrad) p.requires_grad = false;
            return guard;
        }
        catch
        {
            guard.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // train(bool) is recursive: in the order found (each module before its children), each is set as it was.
        if (_modes.Any(m => m.Training))
            foreach (var (module, training) in _modes) module.train(training);
        foreach (var (p, requiresGrad) in _parameters)
            if (requiresGrad) p.requires_grad = true;
    }
}
