using System.Text.Json;
using LiveCam.Drawing;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Operators;

namespace LiveCam.App.Serve;

/// <summary>What the page controls: the explanation's choices, the overlay's opacity, freezing the picture. A request
/// is checked whole before any of it is applied: all or nothing.</summary>
internal sealed class ServedControls(IExplanationControls? explanation, FreezeGate freeze, WebFeed feed)
{
    float _opacity = new OverlayOptions().Opacity;

    public ViewOptions View => new() { Overlay = new OverlayOptions { Opacity = Volatile.Read(ref _opacity) } };

    public float Opacity => Volatile.Read(ref _opacity);

    public bool Frozen => freeze.IsFrozen;

    /// <summary>Applies every control of <paramref name="body"/>, or none and says why.</summary>
    public string? Apply(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) return "expected a JSON object";
        var changes = new List<Action>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in body.EnumerateObject())
        {
            var name = Core.Printable.Escape(p.Name.Length > 40 ? p.Name[..40] + "..." : p.Name);
            if (!seen.Add(p.Name)) return $"{name} is given twice";
            var problem = p.Name switch
            {
                "method" or "layer" or "target" => Step(p, changes),
                "opacity" => SetOpacity(p.Value, changes),
                "freeze" => SetFreeze(p.Value, changes),
                _ => $"unknown control '{name}' (method, layer, target, opacity, freeze)",
            };
            if (problem is not null) return problem;
        }
        foreach (var change in changes) change();
        return null;
    }

    string? Step(JsonProperty p, List<Action> changes)
    {
        string expected = $"{p.Name}: expected \"next\" or \"previous\"{(p.Name == "target" ? " or \"reset\"" : "")}";
        if (p.Value.ValueKind != JsonValueKind.String) return expected;
        if (explanation is not { } controls) return "there is no model to control";
        int by = p.Value.GetString() switch
        {
            "next" => 1, "previous" => -1, "reset" when p.Name == "target" => 0, _ => int.MinValue
        };
        if (by == int.MinValue) return expected;
        changes.Add(p.Name switch
        {
            "method" => () => controls.StepMethod(by),
            "layer" => () => controls.StepLayer(by),
            _ when by == 0 => controls.ResetTarget,
            _ => () => controls.StepTarget(by),
        });
        return null;
    }

    string? SetOpacity(JsonElement value, List<Action> changes)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetSingle(out var o) || !(o >= 0 && o <= 1))
            return "opacity: a number from 0 to 1";
        changes.Add(() => Volatile.Write(ref _opacity, o));
        return null;
    }

    string? SetFreeze(JsonElement value, List<Action> changes)
    {
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return "freeze: true or false";
        changes.Add(value.GetBoolean()
            ? () =>
            {
                using var shown = feed.LastShown();
                if (shown is not null) freeze.Freeze(shown);
            }
            : freeze.Thaw);
        return null;
    }
}
