using LiveCam.Core;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// A desktop window (OpenCV HighGUI) where OpenGL is not to be had: the same picture as the OpenGL window, drawn by the
/// CPU back end at the frame's size, and the same keys (one <see cref="LiveView"/>). Create, show and dispose on the
/// display thread; closing the window stops the run.
/// </summary>
public sealed class WindowSink : IFrameSink
{
    readonly string _title;
    readonly IPictureRenderer _renderer;
    readonly LiveView _view;
    readonly Mat _canvas = new();
    bool _disposed, _seenVisible, _fullscreen;

    /// <param name="renderer">The CPU back end; borrowed.</param>
    public WindowSink(WindowOptions options, IPictureRenderer renderer, PictureComposer composer, Action requestStop)
    {
        ArgumentNullException.ThrowIfNull(options);
        _title = options.Title;
        _renderer = renderer ?? throw new ArgumentNullException(nameof(renderer));
        try
        {
            Cv2.NamedWindow(_title, WindowFlags.Normal | WindowFlags.KeepRatio | WindowFlags.GuiNormal);
            Cv2.ResizeWindow(_title, options.Width, options.Height);
        }
        catch (OpenCVException e)
        {
            throw new SinkException($"cannot open a window: {e.ErrMsg}", e);
        }
        _view = new LiveView(options, composer, renderer.Render, requestStop, ToggleFullscreen);
        if (options.Fullscreen) ToggleFullscreen();
    }

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _view.Tick();  // the attract loop's steps (this window draws only when a frame comes)
        _renderer.Render(_view.ScreenPicture(frame, analysis), _canvas);
        Cv2.ImShow(_title, _canvas);
        _view.Shown(frame, analysis);
        if (KeyCode(Cv2.WaitKeyEx(1)) is { } key) _view.Press(key);
        // The window counts as closed only once it has been seen mapped: it may appear a few frames late.
        bool visible = Cv2.GetWindowProperty(_title, WindowPropertyFlags.Visible) >= 1;
        _seenVisible |= visible;
        if (_seenVisible && !visible) _view.Stop();
    }

    /// <summary>HighGUI's key code (GTK's for arrows) as the key table names it (GLFW's codes, letters upper
    /// case).</summary>
    public static int? KeyCode(int key) => key switch
    {
        < 0 => null,
        27 => LiveView.KeyEscape,
        65361 => LiveView.KeyLeft,
        65362 => LiveView.KeyUp,
        65363 => LiveView.KeyRight,
        65364 => LiveView.KeyDown,
        65451 => LiveView.KeypadPlus,
        65453 => LiveView.KeypadMinus,
        65470 => LiveView.KeyF1,
        '?' => '/',
        '+' => '=',
        >= 'a' and <= 'z' => key - 'a' + 'A',
        < 128 => key,
        _ => null,
    };

    void ToggleFullscreen()
    {
        _fullscreen = !_fullscreen;
        Cv2.SetWindowProperty(_title, WindowPropertyFlags.Fullscreen, _fullscreen ? 1 : 0);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.Dispose();
        try
        {
            Cv2.DestroyWindow(_title);
            Cv2.WaitKey(1);
        }
        catch (OpenCVException) { /* the window was already gone */ }
        _canvas.Dispose();
    }
}
