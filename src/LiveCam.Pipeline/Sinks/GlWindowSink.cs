using LiveCam.Core;
using LiveCam.Pipeline.Analysers;
using LiveCam.Pipeline.Operators;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>What a live window needs besides the frames (the OpenGL window and OpenCV's).</summary>
public sealed record WindowOptions
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
    /// <summary>Messages for the terminal (snapshot written, recording saved); called on the window's thread.</summary>
    public Action<string>? Log { get; init; }
    /// <summary>False for tests: the window exists but is not shown.</summary>
    public bool Visible { get; init; } = true;
    /// <summary>How the view starts.</summary>
    public ViewOptions View { get; init; } = new();
    /// <summary>A mode's own keys (teach: 1 to 9, 0), given the frame on screen when a key is pressed (null before the
    /// first); they join the key table and its help. Called on the window's thread.</summary>
    public Func<Func<Frame?>, IEnumerable<Window.KeyBinding>>? ModeKeys { get; init; }
    /// <summary>A mode's own HUD lines (what teach has learnt), read for every picture on the window's
    /// thread.</summary>
    public Func<IEnumerable<HudLine>>? ModeHud { get; init; }
    /// <summary>Start in fullscreen.</summary>
    public bool Fullscreen { get; init; }
    /// <summary>Say so when no new frame has come for this long (a live camera unplugged); null never.</summary>
    public TimeSpan? StallNotice { get; init; }
    /// <summary>A demo booth's attract loop; null for none.</summary>
    public Window.AttractLoop? Attract { get; init; }
    /// <summary>The clock the view's timed behaviour reads (tests give their own).</summary>
    public Func<TimeSpan> Clock { get; init; } = () => MonotonicClock.Now;
}

/// <summary>
/// The live window, drawn with OpenGL on the render thread it is given: the live view's picture (video, heatmap blended
/// on the GPU, HUD, inset, help) at the window's size. <see cref="Show"/> may be called from any thread: it hands the
/// frame to the render thread and waits until it is on screen. Between frames the render thread keeps handling keys and
/// redraws, so the window answers while the source stalls or a slow analysis blocks an exact-mode run.
/// </summary>
public sealed class GlWindowSink : IFrameSink, IAnalysisListener
{
    readonly RenderThread _thread;
    int _disposed;
    Analysis? _arrived;  // the newest analysis, from the analysis thread

    // Owned by the render thread: touched only there.
    GlfwWindowContext? _window;
    GlPictureRenderer? _renderer;
    LiveView? _view;
    bool _dirty;
    TimeSpan _shownAt;

    /// <param name="thread">The render thread that owns the window's GL context: the composition root's,
    /// borrowed.</param>
    /// <exception cref="RenderingUnavailableException">No window or no OpenGL 3.3 here.</exception>
    public GlWindowSink(WindowOptions options, RenderThread thread, PictureComposer composer, Action requestStop)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(composer);
        ArgumentNullException.ThrowIfNull(requestStop);
        _thread = thread ?? throw new ArgumentNullException(nameof(thread));
        try
        {
            _thread.Invoke(() =>
            {
                _window = new GlfwWindowContext(options.Title, options.Width, options.Height, options.Visible);
                _renderer = new GlPictureRenderer(_window);
                _view = new LiveView(options, composer, (picture, into) => _renderer.Render(picture, into), requestStop,
                    _window.ToggleFullscreen);
                _window.KeyPressed += OnKey;
                if (options.Fullscreen) _window.ToggleFullscreen();
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

    public string Renderer { get; private set; } = "";

    /// <summary>Pictures drawn on screen so far: each frame shown, and each redraw between frames (a late analysis,
    /// a key, the attract loop's step, a stalled source's notice). For tests and support.</summary>
    public long Presented => Interlocked.Read(ref _presented);
    long _presented;

    /// <summary>The help's rows, as the window draws them: the key table's.</summary>
    public IReadOnlyList<HelpRow> Help => _thread.Invoke(() => _view!.Keys.Help);

    /// <summary>The last snapshot written, if any.</summary>
    public string? LastSnapshot => _thread.Invoke(() => _view!.LastSnapshot);

    /// <summary>The frame number of the analysis drawn over the picture on screen, if any.</summary>
    public long? AnalysisOnScreen => _thread.Invoke(() => _view!.AnalysisOnScreen?.FrameSequence);

    /// <summary>How the view is drawn now.</summary>
    public ViewOptions View => _thread.Invoke(() => _view!.View);

    /// <summary>The recording started with r, while it runs.</summary>
    public string? Recording => _thread.Invoke(() => _view!.Recording);

    /// <summary>What the window shows now, read from its own framebuffer at its size (BGR, top row first; the
    /// caller's), and the first GL error of the window's context since the last call (NO_ERROR when none). For tests
    /// and support.</summary>
    public (Mat Picture, Silk.NET.OpenGL.GLEnum Error) Screenshot() => _thread.Invoke(() =>
    {
        var (w, h) = _window!.FramebufferSize;
        var picture = new Mat(h, w, MatType.CV_8UC3);
        if (_view!.OnScreen is { } frame && w > 0 && h > 0)
        {
            // Drawn again into the back buffer and read before any swap, where its content is defined.
            _window.BindDefaultFramebuffer();
            _renderer!.Draw(_view.ScreenPicture(frame, _view.AnalysisOnScreen), w, h, flipY: true);
            _window.ReadBackBuffer(picture);
            _window.SwapBuffers();
        }
        return (picture, _window.Gl.GetError());
    });

    /// <summary>Presses a key as the user would (GLFW key code; letters upper case). For tests and scripts.</summary>
    public void PressKey(int key) => _thread.Invoke(() => OnKey(key));

    /// <summary>Asks for a snapshot of the next frame shown (as the s key does).</summary>
    public void RequestSnapshot() => PressKey('S');

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _thread.Invoke(() =>
        {
            _shownAt = MonotonicClock.Now;
            PollEvents();
            _view!.Tick();  // the attract loop steps however fast frames come
            Present(frame, analysis);
            _view!.Shown(frame, analysis);
        });
    }

    public void OnAnalysis(Analysis analysis) => Volatile.Write(ref _arrived, analysis);

    void OnIdle()
    {
        if (_window is null) return;
        PollEvents();
        // A slow or stalled source: show the frame on screen with the analysis that arrived since. At full rate
        // the next frame brings it, and drawing every frame twice would halve what the renderer can keep up with.
        if (Volatile.Read(ref _arrived) is { } arrived && _view!.OnScreen is { } frame
            && arrived.FrameSequence <= frame.Sequence
            && arrived.FrameSequence > (_view.AnalysisOnScreen?.FrameSequence ?? -1)
            && MonotonicClock.Now - _shownAt > TimeSpan.FromMilliseconds(100))
        {
            _view.AnalysisOnScreen = arrived;
            _dirty = true;
        }
        if (_view!.Tick()) _dirty = true;  // a time-driven change: the attract loop's next step, a stall notice
        if (_dirty && _view.OnScreen is { } onScreen) Present(onScreen, _view.AnalysisOnScreen);
    }

    void PollEvents()
    {
        _window!.PollEvents();
        if (_window.ShouldClose) _view!.Stop();
    }

    void Present(Frame frame, Analysis? analysis)
    {
        _dirty = false;
        var (w, h) = _window!.FramebufferSize;
        if (w == 0 || h == 0) return;  // minimised
        _window.BindDefaultFramebuffer();
        _renderer!.Draw(_view!.ScreenPicture(frame, analysis), w, h, flipY: true);
        _window.SwapBuffers();
        Interlocked.Increment(ref _presented);
    }

    void OnKey(int key)
    {
        if (_view is not null && _view.Press(key)) _dirty = true;
    }

    void ReleaseGl()
    {
        _thread.Idle = null;
        _view?.Dispose();  // a recording in progress is finalised, not lost
        _view = null;
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
