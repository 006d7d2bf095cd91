using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Rendering;

/// <summary>
/// The OpenGL back end of the drawing model: the video and heatmap by <see cref="OverlayCompositor"/>, then the
/// shared layout's quads (HUD, inset, help) by <see cref="QuadBatch"/>. Draws into a window's framebuffer at any size,
/// or offscreen at the video's size and reads the picture back. Use on the thread that owns the GL context.
/// </summary>
public sealed class GlPictureRenderer : IDisposable
{
    readonly IGlContext _context;
    readonly OverlayCompositor _compositor;
    readonly QuadBatch _batch;
    readonly QuadList _quads = new(GlyphAtlas.Shared);
    GlFramebuffer? _offscreen;
    bool _disposed;

    /// <param name="context">A window or headless context, current on this thread; borrowed.</param>
    public GlPictureRenderer(IGlContext context)
    {
        _context = context ?? throw new ArgumentNullException(nameof(context));
        _compositor = new OverlayCompositor(context.Gl);
        try { _batch = new QuadBatch(context.Gl, GlyphAtlas.Shared); }
        catch
        {
            _compositor.Dispose();
            throw;
        }
    }

    public string Description => $"OpenGL: {_context.Renderer}";

    /// <summary>Draws into the bound framebuffer of <paramref name="width"/> x <paramref name="height"/>
    /// (<paramref name="flipY"/> for a window's bottom-up framebuffer).</summary>
    public void Draw(Picture picture, int width, int height, bool flipY)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _compositor.Draw(picture, width, height, flipY);
        _quads.Clear();
        PictureLayout.Build(picture, width, height, _quads);
        _batch.Draw(_quads.Items, width, height, flipY);
    }

    /// <summary>Draws offscreen at the video's size and reads the picture back into <paramref name="into"/> (BGR, top
    /// row first).</summary>
    public void Render(Picture picture, Mat into)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed, this);
        int width = picture.Video.Width, height = picture.Video.Height;
        if (_offscreen is null || _offscreen.Width != width || _offscreen.Height != height)
        {
            _offscreen?.Dispose();
            _offscreen = null;
            _offscreen = new GlFramebuffer(_context.Gl, width, height);
        }
        _offscreen.Bind();
        Draw(picture, width, height, flipY: false);
        _offscreen.ReadBgr(into);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _offscreen?.Dispose();
        _batch.Dispose();
        _compositor.Dispose();
    }
}

/// <summary>
/// The OpenGL back end offscreen (headless EGL) as an <see cref="IPictureRenderer"/>: every call runs on the render
/// thread it is given, so it may be called from any thread, one call at a time.
/// </summary>
public sealed class GlHeadlessRenderer : IPictureRenderer
{
    readonly RenderThread _thread;
    EglHeadlessContext? _context;
    GlPictureRenderer? _renderer;
    int _disposed;

    /// <param name="thread">The thread that owns this renderer's context: the composition root's, borrowed.</param>
    /// <exception cref="Contexts.RenderingUnavailableException">No headless OpenGL here.</exception>
    public GlHeadlessRenderer(RenderThread thread)
    {
        _thread = thread ?? throw new ArgumentNullException(nameof(thread));
        try
        {
            _thread.Invoke(() =>
            {
                _context = new EglHeadlessContext();
                _renderer = new GlPictureRenderer(_context);
                Description = _renderer.Description;
                IsSoftware = _context.IsSoftware;
            });
        }
        catch
        {
            _thread.Invoke(Release);
            throw;
        }
    }

    public string Description { get; private set; } = "";

    /// <summary>Whether the GL is a software rasteriser (Mesa llvmpipe): drawing then costs CPU like the CPU back end,
    /// plus readback.</summary>
    public bool IsSoftware { get; private set; }

    public void Render(Picture picture, Mat into)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _thread.Invoke(() => _renderer!.Render(picture, into));
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
        _thread.Invoke(Release);
    }
}
