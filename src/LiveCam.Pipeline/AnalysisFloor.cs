namespace LiveCam.Pipeline;

/// <summary>
/// A floor under the live analysis rate. The analysis runs at a lower priority than the display, so when something
/// else wants the CPU it is the analysis that stops. While fewer than <see cref="MinFps"/> analyses a second finish
/// (two windows in a row: one slow analysis is not starvation), the display gives way: it shows one frame in two,
/// then three, then four, and the CPU it does not spend drawing and encoding goes to the analysis.
/// Once the analysis runs clear of the floor, the display takes its frames back, one step a window.
/// </summary>
/// <remarks>
/// A lowered thread cannot be raised again by a user who is not root (a lower nice value needs CAP_SYS_NICE), so the
/// floor works on the display's side alone. Each step is judged by the analyses that follow it: a step that did not
/// raise the analysis rate (the method is slow in itself, or runs on a GPU) is taken back and not tried again for
/// <see cref="HoldOff"/>, so a slow method on an idle machine keeps its whole display. Times are
/// <see cref="Core.MonotonicClock"/>'s; <see cref="OnAnalysed"/> and <see cref="Shows"/> may be called from different
/// threads.
/// </remarks>
public sealed class AnalysisFloor
{
    /// <summary>How long the analysis rate is measured over before each step.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    /// <summary>How long the display keeps its frames after giving way did not help.</summary>
    public static readonly TimeSpan HoldOff = TimeSpan.FromSeconds(20);
    /// <summary>At worst the display shows one frame in this many.</summary>
    public const int MostFramesPerShown = 4;
    // Hysteresis: frames are taken back only with the analysis this far above the floor, so the display does not
    // swing between two steps at every window.
    const double Margin = 1.3;
    // A step towards fewer frames has helped when the rate rose by this much (or reached the floor).
    const double Helped = 1.2;
    // Windows in a row under the floor before the display first gives way: one slow analysis (a pause for garbage
    // collection, a burst of another program's work) is not starvation, and on a 2-core machine it comes often.
    const int Patience = 2;

    readonly object _gate = new();
    // What each step is judged by: the analyses finished since the last step. Null until the first analysis: a
    // model's first pass (its warm-up) says nothing about the CPU.
    TimeSpan? _since;
    int _count;
    TimeSpan _first, _last;
    TimeSpan _holdUntil = TimeSpan.MinValue;
    int _framesPerShown = 1;
    int _windowsUnder;
    long _frames;
    // The rate before the last step towards fewer frames; NaN when no step is waiting to be judged.
    double _rateBefore = double.NaN;

    /// <param name="minFps">Analyses a second to keep; 0 turns the floor off.</param>
    public AnalysisFloor(double minFps)
    {
        if (!(minFps >= 0)) throw new ArgumentOutOfRangeException(nameof(minFps), minFps, "must be 0 or more");
        MinFps = minFps;
    }

    /// <summary>The floor for a run whose analysis is also capped at <paramref name="maxFps"/> a second (0: not
    /// capped): a little under the cap, which the measured rate of a capped analysis never quite reaches.</summary>
    public static AnalysisFloor Under(double minFps, double maxFps) =>
        new(maxFps > 0 ? Math.Min(minFps, 0.8 * maxFps) : minFps);

    /// <summary>Analyses a second to keep; 0 when the floor is off.</summary>
    public double MinFps { get; }

    /// <summary>The display shows one frame in this many now (1: every frame).</summary>
    public int FramesPerShown
    {
        get { lock (_gate) return _framesPerShown; }
    }

    /// <summary>An analysis finished at <paramref name="at"/>.</summary>
    public void OnAnalysed(TimeSpan at)
    {
        lock (_gate)
        {
            _since ??= at;
            if (_count++ == 0) _first = at;
            _last = at;
        }
    }

    /// <summary>Whether the display shows the frame it has at <paramref name="now"/>; false: it gives way.</summary>
    public bool Shows(TimeSpan now)
    {
        if (MinFps <= 0) return true;
        lock (_gate)
        {
            if (RateSinceLastStep(now) is { } rate)
            {
                Step(now, rate);
                (_since, _count) = (now, 0);
            }
            return _frames++ % _framesPerShown == 0;
        }
    }

    /// <summary>The analysis rate since the last step, once there is enough to tell; null before.</summary>
    /// <remarks>Measured between the analyses that finished since the step: the first of them started before it, so
    /// its own time says nothing about the step. A starved analysis that finishes fewer than two in
    /// <see cref="Window"/>s is measured by its count over the time.</remarks>
    double? RateSinceLastStep(TimeSpan now)
    {
        if (_since is not { } since || now - since < Window) return null;
        if (_count >= 2 && _last > _first) return (_count - 1) / (_last - _first).TotalSeconds;
        return now - since >= Window * 3 ? _count / (now - since).TotalSeconds : null;
    }

    void Step(TimeSpan now, double rate)
    {
        double before = _rateBefore;
        _rateBefore = double.NaN;
        _windowsUnder = rate < MinFps ? _windowsUnder + 1 : 0;
        if (!double.IsNaN(before) && rate < MinFps && rate <= before * Helped)
        {
            // Showing fewer frames did not feed the analysis: the CPU is not what it lacks.
            _framesPerShown--;
            _holdUntil = now + HoldOff;
        }
        // A step that helped is followed at once by the next; the first waits for the rate to stay under.
        else if (rate < MinFps && _framesPerShown < MostFramesPerShown && now >= _holdUntil
            && (_windowsUnder >= Patience || !double.IsNaN(before)))
        {
            _rateBefore = rate;
            _framesPerShown++;
        }
        else if (rate >= MinFps * Margin && _framesPerShown > 1)
        {
            _framesPerShown--;
        }
    }
}
