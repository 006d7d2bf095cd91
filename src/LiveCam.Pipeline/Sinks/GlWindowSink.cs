using System.Globalization;
using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Drawing;
using LiveCam.Pipeline.Operators;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>What the live window needs besides the frames.</summary>
public sealed record GlWindowOptions
{
    public string Title { get; init; } = "LiveCam";
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 480;
    /// <summary>Where snapshots (s) and recordings (r) go.</summary>
    public string OutputFolder { get; init; } = Directory.GetCurrentDirectory();
    /// <summary>The frame rate recordings started with r are written at.</summary>
    public double RecordFps { get; init; } = 30;
    /// <summary>The analyser's method, layer and target keys; null when nothing is explained.</summary>
    public IExplanationControls? Explanation { get; init; }
    /// <summary>Freeze frame (space); null when the source cannot be frozen.</summary>
    public FreezeGate? Freeze { get; init; }
    /// <summary>Messages for the terminal (snapshot written, recording saved); called on the render thread.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>False for tests: the window exists but is not shown.</summary>
    public bool Visible { get; init; } = true;
    /// <summary>How the view starts.</summary>
    public ViewOptions View { get; init; } = new();
}

/// <summary>
/// The live window, drawn with OpenGL on the render thread it is given: the composer's picture (video, heatmap blended
/// on the GPU, HUD, inset) at the window's size. <see cref="Show"/> may be called from any thread: it hands the frame
/// to the render thread and waits until it is on screen. Between frames the render thread keeps handling keys and
/// redraws, so the window answers while the source stalls or a slow analysis blocks an exact-mode run.
/// </summary>
public sealed class GlWindowSink : IFrameSink, IAnalysisListener, IFramePainter
{
    // GLFW key codes for keys that are not printable ASCII.
    const int KeyEscape = 256, KeyRight = 262, KeyLeft = 263, KeyDown = 264, KeyUp = 265, KeyF1 = 290, KeypadMinus = 333, KeypadPlus = 334;

    readonly RenderThread _thread;
    readonly GlWindowOptions _options;
    readonly PictureComposer _composer;
    readonly Action _requestStop;
    readonly KeyTable _keys;
    readonly Recorder _recorder;
    readonly SnapshotWriter _snapshots;
    int _disposed;
    Analysis? _arrived;  // the newest analysis, from the analysis thread

    // Owned by the render thread: touched only there.
    GlfwWindowContext? _window;
    GlPictureRenderer? _renderer;
    Frame? _last;
    Analysis? _lastAnalysis;
    ViewOptions _view;
    bool _help, _dirty, _stopRequested, _snapshot;
    string? _notice;
    TimeSpan _noticeUntil, _shownAt;

    /// <param name="thread">The render thread that owns the window's GL context: the composition root's, borrowed.</param>
    /// <exception cref="RenderingUnavailableException">No window or no OpenGL 3.3 here.</exception>
    public GlWindowSink(GlWindowOptions options, RenderThread thread, PictureComposer composer, Action requestStop)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _thread = thread ?? throw new ArgumentNullException(nameof(thread));
        _composer = composer ?? throw new ArgumentNullException(nameof(composer));
        _requestStop = requestStop ?? throw new ArgumentNullException(nameof(requestStop));
        _view = options.View;
        _keys = new KeyTable(Bindings());
        _recorder = new Recorder(options.OutputFolder, options.RecordFps, this);
        _snapshots = new SnapshotWriter(options.OutputFolder, this);
        try
        {
            _thread.Invoke(() =>
            {
                _window = new GlfwWindowContext(options.Title, options.Width, options.Height, options.Visible);
                _renderer = new GlPictureRenderer(_window);
                _window.KeyPressed += OnKey;
                Renderer = _window.Renderer;
            });
        }
        catch
        {
            _thread.Invoke(ReleaseGl);
            throw;
        }
        _thread.Idle = OnIdle;
    }

    /// <summary>The keys: each row is one line of the help.</summary>
    IEnumerable<KeyBinding> Bindings()
    {
        var x = _options.Explanation;
        void View(Func<ViewOptions, ViewOptions> change) => _view = change(_view);
        void Overlay(Func<OverlayOptions, OverlayOptions> change) => _view = _view with { Overlay = change(_view.Overlay) };
        static float Step(float opacity, float by) => MathF.Round(Math.Clamp(opacity + by, 0, 1), 2);
        return
        [
            KeyTable.Bind("right / left", "method next / previous", (KeyRight, () => x?.StepMethod(+1)), (KeyLeft, () => x?.StepMethod(-1))),
            KeyTable.Bind("down / up", "layer deeper / shallower", (KeyDown, () => x?.StepLayer(+1)), (KeyUp, () => x?.StepLayer(-1))),
            KeyTable.Bind(". / ,", "target next / previous", ('.', () => x?.StepTarget(+1)), (',', () => x?.StepTarget(-1))),
            KeyTable.Bind("t", "target top-1 (robot: all outputs)", ('T', () => x?.ResetTarget())),
            KeyTable.Bind("space", "freeze frame on / off", (' ', ToggleFreeze)),
            KeyTable.Bind("o", "overlay on / off", ('O', () => View(v => v with { ShowOverlay = !v.ShowOverlay }))),
            KeyTable.Bind("+ / -", "opacity",
                ('=', () => Overlay(o => o with { Opacity = Step(o.Opacity, 0.1f) })), (KeypadPlus, () => Overlay(o => o with { Opacity = Step(o.Opacity, 0.1f) })),
                ('-', () => Overlay(o => o with { Opacity = Step(o.Opacity, -0.1f) })), (KeypadMinus, () => Overlay(o => o with { Opacity = Step(o.Opacity, -0.1f) }))),
            KeyTable.Bind("c", "colormap", ('C', () => Overlay(o => o with { Colormap = (Colormap)(((int)o.Colormap + 1) % Colormaps.All.Length) }))),
            KeyTable.Bind("m", "blend / heatmap / video / region", ('M', () => Overlay(o => o with { Mode = (OverlayMode)(((int)o.Mode + 1) % 4) }))),
            KeyTable.Bind("i", "inset corner", ('I', () => View(v => v with { InsetCorner = (Corner)(((int)v.InsetCorner + 1) % 4) }))),
            KeyTable.Bind("s", "snapshot (PNG)", ('S', () => _snapshot = true)),
            KeyTable.Bind("r", "record on / off", ('R', () => Notice(_recorder.Toggle(_last)))),
            KeyTable.Bind("h", "HUD on / off", ('H', () => View(v => v with { ShowHud = !v.ShowHud }))),
            KeyTable.Bind("f", "fullscreen", ('F', () => _window!.ToggleFullscreen())),
            KeyTable.Bind("?", "this help", ('/', () => _help = !_help), (KeyF1, () => _help = !_help)),
            KeyTable.Bind("q / Esc", "quit", ('Q', Stop), (KeyEscape, Stop)),
        ];
    }

    /// <summary>The help's rows, as the window draws them.</summary>
    public IReadOnlyList<HelpRow> Help => _keys.Help;

    public string Renderer { get; private set; } = "";

    /// <summary>The last snapshot written, if any.</summary>
    public string? LastSnapshot { get; private set; }

    /// <summary>The frame number of the analysis drawn over the picture on screen, if any.</summary>
    public long? AnalysisOnScreen => _thread.Invoke(() => _lastAnalysis?.FrameSequence);

    /// <summary>How the view is drawn now.</summary>
    public ViewOptions View => _thread.Invoke(() => _view);

    /// <summary>What the window shows now, read from its own framebuffer at its size (BGR, top row first; the caller's),
    /// and the first GL error of the window's context since the last call (NO_ERROR when none). For tests and support.</summary>
    public (Mat Picture, Silk.NET.OpenGL.GLEnum Error) Screenshot() => _thread.Invoke(() =>
    {
        var (w, h) = _window!.FramebufferSize;
        var picture = new Mat(h, w, MatType.CV_8UC3);
        if (_last is not null && w > 0 && h > 0)
        {
            // Drawn again into the back buffer and read before any swap, where its content is defined.
            _window.BindDefaultFramebuffer();
            _renderer!.Draw(OnScreen(_last, _lastAnalysis), w, h, flipY: true);
            _window.ReadBackBuffer(picture);
            _window.SwapBuffers();
        }
        return (picture, _window.Gl.GetError());
    });

    /// <summary>The recording started with r, while it runs.</summary>
    public string? Recording => _thread.Invoke(() => _recorder.Path);

    /// <summary>Presses a key as the user would (GLFW key code; letters upper case). For tests and scripts.</summary>
    public void PressKey(int key) => _thread.Invoke(() => OnKey(key));

    /// <summary>Asks for a snapshot of the next frame shown (as the s key does).</summary>
    public void RequestSnapshot() => PressKey('S');

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _thread.Invoke(() => ShowOnRenderThread(frame, analysis));
    }

    void ShowOnRenderThread(Frame frame, Analysis? analysis)
    {
        // The window keeps its own handle on the frame on screen: for redraws between frames and for freezing.
        var handle = frame.Share();
        _last?.Dispose();
        _last = handle;
        _lastAnalysis = analysis;
        _shownAt = MonotonicClock.Now;
        PollEvents();
        Present();
        if (_snapshot)
        {
            _snapshot = false;
            try { LastSnapshot = _snapshots.Write(frame, analysis); Notice($"snapshot {LastSnapshot}"); }
            catch (SinkException e) { Notice(e.Message); }
        }
        _recorder.Show(frame, analysis);
    }

    public void OnAnalysis(Analysis analysis) => Volatile.Write(ref _arrived, analysis);

    void OnIdle()
    {
        if (_window is null) return;
        PollEvents();
        // A slow or stalled source: show the frame on screen with the analysis that arrived since. At full rate
        // the next frame brings it, and drawing every frame twice would halve what the renderer can keep up with.
        if (Volatile.Read(ref _arrived) is { } arrived && _last is not null && arrived.FrameSequence <= _last.Sequence
            && arrived.FrameSequence > (_lastAnalysis?.FrameSequence ?? -1) && MonotonicClock.Now - _shownAt > TimeSpan.FromMilliseconds(100))
        {
            _lastAnalysis = arrived;
            _dirty = true;
        }
        if (_dirty) Present();
    }

    void PollEvents()
    {
        _window!.PollEvents();
        if (_window.ShouldClose) Stop();
    }

    void Present()
    {
        _dirty = false;
        if (_last is null) return;
        var (w, h) = _window!.FramebufferSize;
        if (w == 0 || h == 0) return;  // minimised
        _window.BindDefaultFramebuffer();
        _renderer!.Draw(OnScreen(_last, _lastAnalysis), w, h, flipY: true);
        _window.SwapBuffers();
    }

    /// <summary>The window's picture: the composer's, with the window's state line, a notice and the help.</summary>
    Picture OnScreen(Frame frame, Analysis? analysis) => _composer.Compose(frame, analysis, _view, StateLines(), _help ? _keys.Help : null);

    /// <summary>Recordings and snapshots: what the window shows, without the help, drawn offscreen at the frame's size on the render thread.</summary>
    void IFramePainter.Paint(Frame frame, Analysis? analysis, Mat into) =>
        _thread.Invoke(() => _renderer!.Render(_composer.Compose(frame, analysis, _view, StateLines()), into));

    IEnumerable<HudLine> StateLines()
    {
        var o = _view.Overlay;
        var segments = new List<HudSegment>();
        if (_options.Freeze?.IsFrozen == true) segments.Add(new HudSegment("FROZEN"));
        if (_recorder.Path is { } recording) segments.Add(new HudSegment($"REC {Path.GetFileName(recording)}"));
        segments.Add(new HudSegment(string.Create(CultureInfo.InvariantCulture,
            $"{o.Colormap.ToString().ToLowerInvariant()} {o.Mode.ToString().ToLowerInvariant()} {o.Opacity:0.00}{(_view.ShowOverlay ? "" : " (overlay off)")}"), 1));
        segments.Add(new HudSegment("? keys", 2));
        yield return HudText.Spaced(HudText.State, [.. segments]);
        if (_notice is not null && MonotonicClock.Now < _noticeUntil) yield return new HudLine(_notice, HudText.Notice);
    }

    void Notice(string message)
    {
        _notice = message;
        _noticeUntil = MonotonicClock.Now + TimeSpan.FromSeconds(4);
        _options.Log?.Invoke(message);
    }

    void OnKey(int key)
    {
        if (_renderer is null) return;
        if (_keys.Press(key)) _dirty = true;
    }

    void ToggleFreeze()
    {
        if (_options.Freeze is not { } gate) return;
        if (gate.IsFrozen) gate.Thaw();
        else if (_last is not null) gate.Freeze(_last);
    }

    void Stop()
    {
        if (_stopRequested) return;
        _stopRequested = true;
        // Not on the render thread: stopping the pipeline waits for this sink to be disposed.
        ThreadPool.QueueUserWorkItem(_ => _requestStop());
    }

    void ReleaseGl()
    {
        _thread.Idle = null;
        _recorder.Dispose();  // a recording in progress is finalised, not lost
        _last?.Dispose();
        _last = null;
        _renderer?.Dispose();
        _renderer = null;
        _window?.Dispose();
        _window = null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _thread.Invoke(ReleaseGl);
    }
}
