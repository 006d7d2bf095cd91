using System.Globalization;
using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks.Window;

/// <summary>
/// What a live window is besides its drawing surface, shared by the OpenGL and the OpenCV windows: the frame on screen,
/// the view options, the help, notices, freeze, snapshots and recordings, all driven by one key table. Use it on the
/// window's thread only.
/// </summary>
public sealed class LiveView : IFramePainter, IDisposable
{
    /// <summary>Key codes (GLFW's; letters upper case) for keys that are not printable ASCII.</summary>
    public const int KeyEscape = 256, KeyRight = 262, KeyLeft = 263, KeyDown = 264, KeyUp = 265, KeyF1 = 290,
        KeypadMinus = 333, KeypadPlus = 334;

    readonly WindowOptions _options;
    readonly PictureComposer _composer;
    readonly Action<Picture, Mat> _renderAtFrameSize;
    readonly Action _requestStop;
    readonly Recorder _recorder;
    readonly SnapshotWriter _snapshots;
    bool _help, _stopRequested, _snapshot;
    TimeSpan _lastShown;
    int? _stalledShown;
    string? _notice;
    TimeSpan _noticeUntil;

    /// <param name="renderAtFrameSize">Draws a picture at its video's size into the given Mat (snapshots, recordings),
    /// on this thread.</param>
    /// <param name="toggleFullscreen">The f key; null where the window cannot.</param>
    public LiveView(
        WindowOptions options, PictureComposer composer, Action<Picture, Mat> renderAtFrameSize, Action requestStop,
        Action? toggleFullscreen)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _composer = composer ?? throw new ArgumentNullException(nameof(composer));
        _renderAtFrameSize = renderAtFrameSize ?? throw new ArgumentNullException(nameof(renderAtFrameSize));
        _requestStop = requestStop ?? throw new ArgumentNullException(nameof(requestStop));
        View = options.View;
        _recorder = new Recorder(options.OutputFolder, options.RecordFps, this);
        _snapshots = new SnapshotWriter(options.OutputFolder, this);
        Keys = new KeyTable(Bindings(toggleFullscreen));
    }

    public ViewOptions View { get; private set; }
    public KeyTable Keys { get; }
    /// <summary>The frame on screen (the view's own handle) and its analysis.</summary>
    public Frame? OnScreen { get; private set; }
    public Analysis? AnalysisOnScreen { get; set; }
    public string? LastSnapshot { get; private set; }
    public string? Recording => _recorder.Path;

    IEnumerable<KeyBinding> Bindings(Action? toggleFullscreen)
    {
        var x = _options.Explanation;
        void Change(Func<ViewOptions, ViewOptions> change) => View = change(View);
        void Overlay(Func<OverlayOptions, OverlayOptions> change) =>
            View = View with { Overlay = change(View.Overlay) };
        void Opacity(float by) => Overlay(o => o with { Opacity = MathF.Round(Math.Clamp(o.Opacity + by, 0, 1), 2) });
        var bindings = new List<KeyBinding>
        {
            KeyTable.Bind("right / left", "method next / previous",
                (KeyRight, () => x?.StepMethod(+1)), (KeyLeft, () => x?.StepMethod(-1))),
            KeyTable.Bind("down / up", "layer deeper / shallower",
                (KeyDown, () => x?.StepLayer(+1)), (KeyUp, () => x?.StepLayer(-1))),
            KeyTable.Bind(". / ,", "target next / previous",
                ('.', () => x?.StepTarget(+1)), (',', () => x?.StepTarget(-1))),
            KeyTable.Bind("t", "target top-1 (robot: all outputs)", ('T', () => x?.ResetTarget())),
            KeyTable.Bind("b", "side by side: two methods / layers / classes / off",
                ('B', () => x?.SetSideBySide((SideBySide)(((int)x.SideBySide + 1) % 4)))),
            KeyTable.Bind("d", "DeepDream on / off: what the layer wants to see",
                ('D', () => x?.SetDreaming(!x.Dreaming))),
            KeyTable.Bind("space", "freeze frame on / off", (' ', ToggleFreeze)),
            KeyTable.Bind("o", "overlay on / off", ('O', () => Change(v => v with { ShowOverlay = !v.ShowOverlay }))),
            KeyTable.Bind("+ / -", "opacity",
                ('=', () => Opacity(0.1f)), (KeypadPlus, () => Opacity(0.1f)),
                ('-', () => Opacity(-0.1f)), (KeypadMinus, () => Opacity(-0.1f))),
            KeyTable.Bind("c", "colormap", ('C', () => Overlay(o =>
                o with { Colormap = (Colormap)(((int)o.Colormap + 1) % Colormaps.All.Length) }))),
            KeyTable.Bind("m", "blend / heatmap / video / region",
                ('M', () => Overlay(o => o with { Mode = (OverlayMode)(((int)o.Mode + 1) % 4) }))),
            KeyTable.Bind("i", "inset corner",
                ('I', () => Change(v => v with { InsetCorner = (Corner)(((int)v.InsetCorner + 1) % 4) }))),
            KeyTable.Bind("s", "snapshot (PNG)", ('S', () => _snapshot = true)),
            KeyTable.Bind("r", "record on / off", ('R', () => Notice(_recorder.Toggle(OnScreen)))),
            KeyTable.Bind("h", "HUD on / off", ('H', () => Change(v => v with { ShowHud = !v.ShowHud }))),
        };
        if (_options.ModeKeys is { } modeKeys) bindings.AddRange(modeKeys(() => OnScreen));
        if (toggleFullscreen is not null) bindings.Add(KeyTable.Bind("f", "fullscreen", ('F', toggleFullscreen)));
        bindings.Add(KeyTable.Bind("?", "this help", ('/', () => _help = !_help), (KeyF1, () => _help = !_help)));
        bindings.Add(KeyTable.Bind("q / Esc", "quit", ('Q', Stop), (KeyEscape, Stop)));
        return bindings;
    }

    /// <summary>A key was pressed: it runs its action; during a booth's attract loop it ends the loop instead (quit
    /// still quits). True when something changed.</summary>
    public bool Press(int key)
    {
        if (_options.Attract is { } attract && attract.Input(_options.Clock(), _options.Explanation)
            && key is not ('Q' or KeyEscape))
            return true;
        return Keys.Press(key);
    }

    /// <summary>Time-driven changes, called while the window waits: the attract loop's steps, the notice of a stalled
    /// source appearing and counting seconds. True when the picture must be drawn again.</summary>
    public bool Tick()
    {
        var now = _options.Clock();
        bool changed = _options.Attract?.Tick(now, _options.Explanation) == true;
        var stalled = StalledSeconds(now);
        if (stalled != _stalledShown)
        {
            _stalledShown = stalled;
            changed = true;
        }
        return changed;
    }

    /// <summary>Whole seconds without a new frame, past the stall notice's delay; null when frames come (or are
    /// frozen).</summary>
    int? StalledSeconds(TimeSpan now)
    {
        if (_options.StallNotice is not { } after || _lastShown == TimeSpan.Zero || _options.Freeze?.IsFrozen == true)
            return null;
        var waited = now - _lastShown;
        return waited >= after ? (int)waited.TotalSeconds : null;
    }

    /// <summary>The frame is now on screen: the view keeps a handle on it, takes the snapshot asked for, records
    /// it.</summary>
    public void Shown(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var handle = frame.Share();
        _lastShown = _options.Clock();
        _stalledShown = null;
        OnScreen?.Dispose();
        OnScreen = handle;
        AnalysisOnScreen = analysis;
        if (_snapshot)
        {
            _snapshot = false;
            try
            {
                LastSnapshot = _snapshots.Write(frame, analysis);
                Notice($"snapshot {LastSnapshot}");
            }
            catch (SinkException e) { Notice(e.Message); }
        }
        _recorder.Show(frame, analysis);
    }

    /// <summary>What the window shows: the composer's picture with the view's state line, a notice and the
    /// help.</summary>
    public Picture ScreenPicture(Frame frame, Analysis? analysis) =>
        _composer.Compose(frame, analysis, View, StateLines(), _help ? Keys.Help : null);

    /// <summary>Snapshots and recordings: what the window shows without the help, at the frame's size.</summary>
    public void Paint(Frame frame, Analysis? analysis, Mat into) =>
        _renderAtFrameSize(_composer.Compose(frame, analysis, View, StateLines()), into);

    IEnumerable<HudLine> StateLines()
    {
        var o = View.Overlay;
        var segments = new List<HudSegment>();
        if (StalledSeconds(_options.Clock()) is { } stalled)
            yield return new HudLine(string.Create(CultureInfo.InvariantCulture,
                $"No picture from the camera for {stalled} s: waiting for it to come back..."), HudText.Notice);
        if (_options.Attract?.Running == true)
            yield return new HudLine("Demo: press any key to take over", HudText.Notice);
        if (_options.Freeze?.IsFrozen == true) segments.Add(new HudSegment("FROZEN"));
        if (_recorder.Path is { } recording) segments.Add(new HudSegment($"REC {Path.GetFileName(recording)}"));
        segments.Add(new HudSegment(string.Create(CultureInfo.InvariantCulture,
            $"{o.Colormap.ToString().ToLowerInvariant()} {o.Mode.ToString().ToLowerInvariant()} {o.Opacity:0.00}"
                + $"{(View.ShowOverlay ? "" : " (overlay off)")}"), 1));
        segments.Add(new HudSegment("? keys", 2));
        yield return HudText.Spaced(HudText.State, [.. segments]);
        if (_options.ModeHud is { } modeHud)
            foreach (var line in modeHud()) yield return line;
        if (_notice is not null && MonotonicClock.Now < _noticeUntil) yield return new HudLine(_notice, HudText.Notice);
    }

    void Notice(string message)
    {
        _notice = message;
        _noticeUntil = MonotonicClock.Now + TimeSpan.FromSeconds(4);
        _options.Log?.Invoke(message);
    }

    void ToggleFreeze()
    {
        if (_options.Freeze is not { } gate) return;
        if (gate.IsFrozen) gate.Thaw();
        else if (OnScreen is not null) gate.Freeze(OnScreen);
    }

    /// <summary>Asks the run to stop, once.</summary>
    public void Stop()
    {
        if (_stopRequested) return;
        _stopRequested = true;
        // Not on the window's thread: stopping the pipeline waits for the window to be disposed.
        ThreadPool.QueueUserWorkItem(_ => _requestStop());
    }

    /// <summary>A recording in progress is finalised, not lost; the frame on screen is released.</summary>
    public void Dispose()
    {
        _recorder.Dispose();
        OnScreen?.Dispose();
        OnScreen = null;
    }
}
