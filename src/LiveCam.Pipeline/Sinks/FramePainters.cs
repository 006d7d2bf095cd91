using LiveCam.Core;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Turns a frame and its analysis into the picture a recording or a PNG folder stores.</summary>
public interface IFramePainter : IDisposable
{
    /// <summary>The picture, in a Mat the painter owns and reuses: valid until the next call.</summary>
    Mat Paint(Frame frame, Analysis? analysis);
}

/// <summary>CPU painting with OpenCV (heatmap blend, HUD text): for machines without OpenGL. The HUD painter stays its owner's.</summary>
public sealed class CpuFramePainter(HudPainter hud) : IFramePainter
{
    readonly Mat _canvas = new();

    public Mat Paint(Frame frame, Analysis? analysis)
    {
        hud.Paint(frame, analysis, _canvas);
        return _canvas;
    }

    public void Dispose() => _canvas.Dispose();
}

/// <summary>
/// The OpenGL renderer drawing offscreen at the frame's size and read back: recordings and PNGs show exactly
/// what the window shows (heatmap, HUD, distance bars or labels). Headless (EGL), on its own render thread;
/// <see cref="Paint"/> may be called from any thread, one call at a time.
/// </summary>
public sealed class GlFramePainter : IFramePainter
{
    readonly RenderThread _thread;
    readonly Func<Frame, Analysis?, FrameDecorations> _decorate;
    EglHeadlessContext? _context;
    GlFrameRenderer? _renderer;
    int _disposed;

    /// <summary>Draws the live HUD (the run's metrics and analyser) over each frame.</summary>
    /// <exception cref="RenderingUnavailableException">No headless OpenGL here.</exception>
    public GlFramePainter(PipelineMetrics metrics, Func<string> describe)
        : this(HudDecorations(metrics, describe))
    {
    }

    /// <param name="decorate">What to draw besides the video and heatmap, per frame.</param>
    /// <exception cref="RenderingUnavailableException">No headless OpenGL here.</exception>
    public GlFramePainter(Func<Frame, Analysis?, FrameDecorations> decorate)
    {
        _decorate = decorate ?? throw new ArgumentNullException(nameof(decorate));
        _thread = new RenderThread("render-offscreen", TimeSpan.FromSeconds(1));
        try
        {
            _thread.Invoke(() =>
            {
                _context = new EglHeadlessContext();
                _renderer = new GlFrameRenderer(_context);
            });
        }
        catch
        {
            _thread.Invoke(Release);
            _thread.Dispose();
            throw;
        }
    }

    static Func<Frame, Analysis?, FrameDecorations> HudDecorations(PipelineMetrics metrics, Func<string> describe)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(describe);
        return (frame, analysis) => new FrameDecorations(HudPainter.Lines(frame, analysis, metrics, describe()));
    }

    public string Renderer => _context?.Renderer ?? "";
    public bool IsSoftware => _context?.IsSoftware ?? false;

    /// <summary>How the heatmap is drawn (opacity, colormap, mode).</summary>
    public OverlayOptions Options
    {
        get => _thread.Invoke(() => _renderer!.Options);
        set => _thread.Invoke(() => _renderer!.Options = value);
    }

    public Mat Paint(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _thread.Invoke(() => _renderer!.Render(frame.Pixels, analysis, _decorate(frame, analysis)));
    }

    void Release()
    {
        _renderer?.Dispose();
        _renderer = null;
        _context?.Dispose();
        _context = null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _thread.Invoke(Release); }
        finally { _thread.Dispose(); }
    }
}
