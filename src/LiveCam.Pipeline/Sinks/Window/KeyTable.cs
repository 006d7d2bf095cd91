using LiveCam.Drawing;

namespace LiveCam.Pipeline.Sinks.Window;

/// <summary>One row of the window's keys: what the help shows, and the key codes with what each does.</summary>
/// <param name="Keys">The keys as the help names them ("right / left").</param>
/// <param name="Does">What they do, as the help says it.</param>
/// <param name="Actions">Each key code (GLFW's: letters upper case) and its action.</param>
public sealed record KeyBinding(string Keys, string Does, IReadOnlyList<(int Code, Action Act)> Actions);

/// <summary>The window's keys in one table: pressing a key runs its action; the help is drawn from the same rows, so
/// the two cannot drift apart.</summary>
public sealed class KeyTable
{
    readonly Dictionary<int, Action> _actions = [];

    public KeyTable(IEnumerable<KeyBinding> bindings)
    {
        ArgumentNullException.ThrowIfNull(bindings);
        Bindings = bindings.ToList();
        foreach (var binding in Bindings)
            foreach (var (code, act) in binding.Actions)
                if (!_actions.TryAdd(code, act))
                    throw new ArgumentException(
                        $"key {code} is bound twice (again for '{binding.Keys}')", nameof(bindings));
        Help = Bindings.Select(b => new HelpRow(b.Keys, b.Does)).ToList();
    }

    public IReadOnlyList<KeyBinding> Bindings { get; }

    /// <summary>The help panel's rows, in the table's order.</summary>
    public IReadOnlyList<HelpRow> Help { get; }

    /// <summary>Runs the key's action; false when the key does nothing.</summary>
    public bool Press(int code)
    {
        if (!_actions.TryGetValue(code, out var act)) return false;
        act();
        return true;
    }

    public static KeyBinding Bind(string keys, string does, params (int Code, Action Act)[] actions) =>
        new(keys, does, actions);
}
