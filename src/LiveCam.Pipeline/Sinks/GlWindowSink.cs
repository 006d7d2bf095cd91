using System.Globalization;
using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Operators;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
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
}

/// <summary>
/// The live window, drawn with OpenGL on its own render thread: video, heatmap blended on the GPU, HUD,
/// distance bars or top labels. <see cref="Show"/> may be called from any thread: it hands the frame to the render
/// thread and waits until it is on screen. Between frames the render thread keeps handling keys and redraws,
/// so the window answers while the source stalls or a slow analysis blocks an exact-mode run.
/// </summary>
public sealed class GlWindowSink : IFrameSink, IAnalysisListener
{
    /// <summary>The keys, as the help overlay lists them.</summary>
    public static readonly IReadOnlyList<string> KeyHelp =
    [
        "keys:",
        "right / left\tmethod next / previous",
        "down / up\tlayer deeper / shallower",
        ". / ,\ttarget next / previous",
        "t\ttarget top-1 (robot: all outputs)",
        "space\tfreeze frame on / off",
        "o\toverlay on / off",
        "+ / -\topacity",
        "c\tcolormap",
        "m\tblend / heatmap / video / region",
        "s\tsnapshot (PNG)",
        "r\trecord on / off",
        "h\tHUD on / off",
        "f\tfullscreen",
        "?\tthis help",
        "q / Esc\tquit",
    ];

    // GLFW key codes for keys that are not printable ASCII.
    const int KeyEscape = 256, KeyRight = 262, KeyLeft = 263, KeyDown = 264, KeyUp = 265, KeyF1 = 290, KeypadMinus = 333, KeypadPlus = 334;

    readonly RenderThread _thread;
    readonly GlWindowOptions _options;
    readonly PipelineMetrics _metrics;
    readonly Func<string> _describe;
    readonly Action _requestStop;
    int _disposed;
    Analysis? _arrived;  // the newest analysis, from the analysis thread

    // Owned by the render thread: touched only there.
    GlfwWindowContext? _window;
    GlFrameRenderer? _renderer;
    Frame? _last;
    Analysis? _lastAnalysis;
    VideoFileSink? _recorder;
    bool _overlay = true, _hud = true, _help, _dirty, _stopRequested, _snapshot;
    string? _notice;
    TimeSpan _noticeUntil, _shownAt;

    /// <exception cref="RenderingUnavailableException">No window or no OpenGL 3.3 here.</exception>
    public GlWindowSink(GlWindowOptions options, PipelineMetrics metrics, Func<string> describe, Action requestStop)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _describe = describe ?? throw new ArgumentNullException(nameof(describe));
        _requestStop = requestStop ?? throw new ArgumentNullException(nameof(requestStop));
        _thread = new RenderThread("render", TimeSpan.FromMilliseconds(15));
        try
        {
            _thread.Invoke(() =>
            {
                _window = new GlfwWindowContext(options.Title, options.Width, options.Height, options.Visible);
                _renderer = new GlFrameRenderer(_window);
                _window.KeyPressed += OnKey;
                Renderer = _window.Renderer;
            });
        }
        catch
        {
            _thread.Invoke(ReleaseGl);
            _thread.Dispose();
            throw;
        }
        _thread.Idle = OnIdle;
    }

    public string Renderer { get; private set; } = "";

    /// <summary>The last snapshot written, if any.</summary>
    public string? LastSnapshot { get; private set; }

    /// <summary>The frame number of the analysis drawn over the picture on screen, if any.</summary>
    public long? AnalysisOnScreen => _thread.Invoke(() => _lastAnalysis?.FrameSequence);

    /// <summary>What the window shows now, read from its own framebuffer at its size (BGR, top row first), and the
    /// first GL error of the window's context since the last call (NO_ERROR when none). For tests and support.</summary>
    public (Mat Picture, Silk.NET.OpenGL.GLEnum Error) Screenshot() => _thread.Invoke(() =>
    {
        var (w, h) = _window!.FramebufferSize;
        var picture = new Mat(h, w, MatType.CV_8UC3);
        if (_last is not null && w > 0 && h > 0)
        {
            // Drawn again into the back buffer and read before any swap, where its content is defined.
            _window.BindDefaultFramebuffer();
            _renderer!.Draw(_last.Pixels, _lastAnalysis, Decorations(_last, _lastAnalysis), w, h, flipY: true);
            _window.ReadBackBuffer(picture);
            _window.SwapBuffers();
        }
        return (picture, _window.Gl.GetError());
    });

    /// <summary>The recording started with r, while it runs.</summary>
    public string? Recording => _thread.Invoke(() => _recorder?.Path);

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
            Snapshot(frame, analysis);
        }
        _recorder?.Show(frame, analysis);
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
        _renderer!.Draw(_last.Pixels, _lastAnalysis, Decorations(_last, _lastAnalysis), w, h, flipY: true);
        _window.SwapBuffers();
    }

    FrameDecorations Decorations(Frame frame, Analysis? analysis)
    {
        List<string>? lines = null;
        if (_hud)
        {
            lines = HudPainter.Lines(frame, analysis, _metrics, _describe());
            var o = _renderer!.Options;
            var state = string.Create(CultureInfo.InvariantCulture, $"{o.Colormap} {o.Mode} opacity {o.Opacity:0.00}{(_overlay ? "" : " (overlay off)")}");
            if (_options.Freeze?.IsFrozen == true) state += "  FROZEN";
            if (_recorder is not null) state += $"  REC {Path.GetFileName(_recorder.Path)}";
            lines.Add(state + "  ? for keys");
            if (_notice is not null && MonotonicClock.Now < _noticeUntil) lines.Add(_notice);
        }
        return new FrameDecorations(lines, _overlay, Predictions: _hud, Centred: _help ? KeyHelp : null);
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
        _dirty = true;
        var options = _renderer.Options;
        var explanation = _options.Explanation;
        switch (key)
        {
            case 'Q' or KeyEscape: Stop(); break;
            case 'O': _overlay = !_overlay; break;
            case '=' or KeypadPlus: _renderer.Options = options with { Opacity = MathF.Round(Math.Min(1, options.Opacity + 0.1f), 2) }; break;
            case '-' or KeypadMinus: _renderer.Options = options with { Opacity = MathF.Round(Math.Max(0, options.Opacity - 0.1f), 2) }; break;
            case 'C': _renderer.Options = options with { Colormap = (Colormap)(((int)options.Colormap + 1) % Colormaps.All.Length) }; break;
            case 'M': _renderer.Options = options with { Mode = (OverlayMode)(((int)options.Mode + 1) % 4) }; break;
            case 'H': _hud = !_hud; break;
            case 'F': _window!.ToggleFullscreen(); break;
            case 'S': _snapshot = true; break;
            case 'R': ToggleRecording(); break;
            case ' ': ToggleFreeze(); break;
            case KeyRight: explanation?.StepMethod(+1); break;
            case KeyLeft: explanation?.StepMethod(-1); break;
            case KeyDown: explanation?.StepLayer(+1); break;
            case KeyUp: explanation?.StepLayer(-1); break;
            case '.': explanation?.StepTarget(+1); break;
            case ',': explanation?.StepTarget(-1); break;
            case 'T': explanation?.ResetTarget(); break;
            case '/' or KeyF1: _help = !_help; break;
        }
    }

    void ToggleFreeze()
    {
        if (_options.Freeze is not { } gate) return;
        if (gate.IsFrozen) gate.Thaw();
        else if (_last is not null) gate.Freeze(_last);
    }

    void ToggleRecording()
    {
        if (_recorder is { } running)
        {
            _recorder = null;
            long frames = running.FramesWritten;
            running.Dispose();
            Notice(frames == 0 ? "recording stopped before its first frame: nothing saved"
                : string.Create(CultureInfo.InvariantCulture, $"saved {running.Path} ({frames} frames)"));
            return;
        }
        if (_last is null)
        {
            Notice("nothing to record yet");
            return;
        }
        var path = Path.Combine(_options.OutputFolder, string.Create(CultureInfo.InvariantCulture, $"livecam-{DateTime.Now:yyyyMMdd-HHmmss}.mp4"));
        try
        {
            _recorder = new VideoFileSink(path, _last.Width, _last.Height, _options.RecordFps, new WindowPainter(this));
            Notice($"recording to {_recorder.Path}");
        }
        catch (SinkException e)
        {
            Notice(e.Message);
        }
    }

    /// <summary>What the window shows, without the help, drawn offscreen at the frame's own size (snapshots and recordings).</summary>
    Mat PictureAtFrameSize(Frame frame, Analysis? analysis) =>
        _renderer!.Render(frame.Pixels, analysis, Decorations(frame, analysis) with { Centred = null });

    /// <summary>The frame at its own size, drawn offscreen by the same renderer, saved as a PNG.</summary>
    void Snapshot(Frame frame, Analysis? analysis)
    {
        var picture = PictureAtFrameSize(frame, analysis);
        var path = Path.Combine(_options.OutputFolder, string.Create(CultureInfo.InvariantCulture, $"livecam-snapshot-{frame.Sequence:D6}.png"));
        bool written;
        try { written = Cv2.ImWrite(path, picture); }
        catch (OpenCVException) { written = false; }
        if (!written)
        {
            Notice($"cannot write '{path}'");
            return;
        }
        LastSnapshot = path;
        Notice($"snapshot {path}");
    }

    /// <summary>Recordings from the window draw what the window shows, at the frame's size, on the render thread.</summary>
    sealed class WindowPainter(GlWindowSink window) : IFramePainter
    {
        public Mat Paint(Frame frame, Analysis? analysis) => window.PictureAtFrameSize(frame, analysis);

        public void Dispose() { }  // the renderer is the window's
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
        _recorder?.Dispose();  // a recording in progress is finalised, not lost
        _recorder = null;
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
        try { _thread.Invoke(ReleaseGl); }
        finally { _thread.Dispose(); }
    }
}
