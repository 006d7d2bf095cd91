using LiveCam.Pipeline.Analysers;

namespace LiveCam.Pipeline.Sinks.Window;

/// <summary>
/// A demo booth's attract loop: when nobody has pressed a key for <see cref="After"/>, the view tours what LiveCam can
/// show (methods alone, then side by side: two methods, two layers, two classes), a step every <see cref="Step"/>.
/// The first key pressed ends the tour and puts back what was chosen before it. Used on the window's thread.
/// </summary>
public sealed class AttractLoop(TimeSpan after, TimeSpan step)
{
    /// <summary>The tour: a method, and what a second explanation beside it differs in.</summary>
    public static readonly IReadOnlyList<(string Method, SideBySide Side)> Tour =
    [
        ("gradcam", SideBySide.Off),
        ("gradcam", SideBySide.Methods),
        ("gradcam", SideBySide.Targets),
        ("gradcam", SideBySide.Layers),
        ("eigencam", SideBySide.Off),
        ("gradcam++", SideBySide.Off),
    ];

    (string Method, SideBySide Side)? _before;
    TimeSpan _lastInput = TimeSpan.MinValue, _stepAt;
    int _next;

    public TimeSpan After { get; } =
        after > TimeSpan.Zero ? after : throw new ArgumentOutOfRangeException(nameof(after));
    public TimeSpan Step { get; } = step > TimeSpan.Zero ? step : throw new ArgumentOutOfRangeException(nameof(step));

    /// <summary>Whether the tour is on.</summary>
    public bool Running => _before is not null;

    /// <summary>A key was pressed: the tour ends (what it changed is put back). True when it was running.</summary>
    public bool Input(TimeSpan now, IExplanationControls? controls)
    {
        _lastInput = now;
        if (_before is not { } before) return false;
        _before = null;
        if (controls is not null)
        {
            controls.SetMethod(before.Method);
            controls.SetSideBySide(before.Side);
        }
        return true;
    }

    /// <summary>Starts the tour or takes its next step when it is time. True when something changed.</summary>
    public bool Tick(TimeSpan now, IExplanationControls? controls)
    {
        if (controls is null) return false;
        if (_lastInput == TimeSpan.MinValue) _lastInput = now;  // idle counts from the first frame
        if (_before is null)
        {
            if (now - _lastInput < After) return false;
            _before = (controls.Method, controls.SideBySide);
            _next = 0;
        }
        else if (now < _stepAt) return false;
        var (method, side) = Tour[_next];
        _next = (_next + 1) % Tour.Count;
        _stepAt = now + Step;
        controls.SetMethod(method);
        controls.SetSideBySide(side);
        return true;
    }
}
