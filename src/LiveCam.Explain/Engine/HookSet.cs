using static TorchSharp.torch;

namespace LiveCam.Explain.Engine;

/// <summary>Owns forward hooks: every hook added is removed on dispose, whatever happened in between.</summary>
public sealed class HookSet : IDisposable
{
    static long s_live;
    readonly List<Action> _removers = [];

    /// <summary>Hooks registered through any <see cref="HookSet"/> and not yet removed, process-wide.</summary>
    public static long LiveHooks => Interlocked.Read(ref s_live);

    /// <summary>Adds a hook that sees (module, input, output) and returns the output the model continues
    /// with.</summary>
    public void AddForwardHook(
        nn.Module<Tensor, Tensor> module, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(hook);
        var remover = module.register_forward_hook((m, input, output) => hook(m, input, output));
        Interlocked.Increment(ref s_live);
        _removers.Add(() =>
        {
            remover.remove();
            Interlocked.Decrement(ref s_live);
        });
    }

    /// <summary>How many hooks this set has added and not yet removed.</summary>
    public int Count => _removers.Count;

    public void Dispose()
    {
        for (int i = _removers.Count - 1; i >= 0; i--) _removers[i]();
        _removers.Clear();
    }
}
