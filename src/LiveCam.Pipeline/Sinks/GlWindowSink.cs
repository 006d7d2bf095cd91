using System.Globalization;
using LiveCam.Core;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// The live window, drawn with OpenGL: video, heatmap blended on the GPU, HUD, distance bars.
/// Create, show and dispose on the display thread (it owns the GL context). Keys: q/Esc quit, o overlay,
/// +/- opacity, c colormap, m mode, h HUD, f fullscreen, s snapshot (PNG, drawn by the same compositor), ? help.
/// </summary>
public sealed class GlWindowSink : IFrameSink
{
    readonly GlfwWindowContext _window;
    readonly OverlayCompositor _compositor;
    readonly QuadBatch _batch;
    readonly PipelineMetrics _metrics;
    readonly Func<string> _describe;
    readonly Action _requestStop;
    readonly string _snapshotFolder;
    bool _overlay = true, _hud = true, _help, _stopRequested, _snapshot, _disposed;

    /// <exception cref="RenderingUnavailableException">No window or no OpenGL 3.3 here.</exception>
    public GlWindowSink(string title, int width, int height, PipelineMetrics metrics, Func<string> describe, Action requestStop, string? snapshotFolder = null)
    {
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _describe = describe ?? throw new ArgumentNullException(nameof(describe));
        _requestStop = requestStop ?? throw new ArgumentNullException(nameof(requestStop));
        _snapshotFolder = snapshotFolder ?? Directory.GetCurrentDirectory();
        _window = new GlfwWindowContext(title, width, height);
        try
        {
            _compositor = new OverlayCompositor(_window.Gl);
            _batch = new QuadBatch(_window.Gl);
        }
        catch
        {
            _compositor?.Dispose();
            _window.Dispose();
            throw;
        }
        _window.KeyPressed += OnKey;
    }

    public string Renderer => _window.Renderer;

    /// <summary>The last snapshot written, if any.</summary>
    public string? LastSnapshot { get; private set; }

    void OnKey(int key)
    {
        var options = _compositor.Options;
        switch (key)
        {
            case 'Q' or 256: Stop(); break;                                                   // Esc
            case 'O': _overlay = !_overlay; break;
            case '=' or 334: _compositor.Options = options with { Opacity = Math.Min(1, options.Opacity + 0.1f) }; break;   // + (and keypad +)
            case '-' or 333: _compositor.Options = options with { Opacity = Math.Max(0, options.Opacity - 0.1f) }; break;
            case 'C': _compositor.Options = options with { Colormap = (Colormap)(((int)options.Colormap + 1) % Colormaps.All.Length) }; break;
            case 'M': _compositor.Options = options with { Mode = (OverlayMode)(((int)options.Mode + 1) % 4) }; break;
            case 'H': _hud = !_hud; break;
            case 'F': _window.ToggleFullscreen(); break;
            case 'S': _snapshot = true; break;
            case '/' or 290: _help = !_help; break;                                           // ? and F1
        }
    }

    void Stop()
    {
        if (_stopRequested) return;
        _stopRequested = true;
        _requestStop();
    }

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _window.PollEvents();
        if (_window.ShouldClose) Stop();
        var (w, h) = _window.FramebufferSize;
        if (w == 0 || h == 0) return;  // minimised
        _window.BindDefaultFramebuffer();
        Draw(frame, analysis, w, h, flipY: true);
        _window.SwapBuffers();
        if (_snapshot)
        {
            _snapshot = false;
            Snapshot(frame, analysis);
        }
    }

    void Draw(Frame frame, Analysis? analysis, int width, int height, bool flipY)
    {
        var gl = _window.Gl;
        gl.ClearColor(0, 0, 0, 1);
        gl.Clear(Silk.NET.OpenGL.ClearBufferMask.ColorBufferBit);
        var options = _compositor.Options;
        string state = string.Create(CultureInfo.InvariantCulture, $"{options.Colormap} {options.Mode} opacity {options.Opacity:0.0}{(_overlay ? "" : " (overlay off)")}  ? for keys");
        HudOverlay.Draw(_compositor, _batch, frame, analysis, _metrics, _describe(), width, height, flipY, _overlay, _hud, [state]);
        if (_help)
        {
            float scale = Math.Clamp(width / 900f, 0.8f, 2f);
            HudOverlay.TextBlock(_batch, ["keys:", "q / Esc  quit", "o  overlay on/off", "+ / -  opacity", "c  colormap", "m  blend / heatmap / video / region",
                "h  HUD on/off", "f  fullscreen", "s  snapshot (PNG)", "?  this help"], width / 2f - 150, height / 4f, scale);
            _batch.Flush(width, height, flipY);
        }
    }

    /// <summary>The frame at its own size, drawn offscreen by the same compositor, saved as a PNG.</summary>
    void Snapshot(Frame frame, Analysis? analysis)
    {
        using var target = new GlFramebuffer(_window.Gl, frame.Width, frame.Height);
        target.Bind();
        Draw(frame, analysis, frame.Width, frame.Height, flipY: false);
        using var image = target.ReadBgr();
        var path = Path.Combine(_snapshotFolder, string.Create(CultureInfo.InvariantCulture, $"livecam-snapshot-{frame.Sequence:D6}.png"));
        if (Cv2.ImWrite(path, image)) LastSnapshot = path;
    }

    /// <summary>Asks for a snapshot of the next frame shown (as the s key does).</summary>
    public void RequestSnapshot() => _snapshot = true;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _batch.Dispose();
        _compositor.Dispose();
        _window.Dispose();
    }
}
