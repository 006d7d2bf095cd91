using LiveCam.Core;
using LiveCam.Pipeline.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// A desktop window (OpenCV HighGUI), where OpenGL is not to be had: the same picture as the OpenGL window, drawn by
/// its painter (the CPU back end). Create, show and dispose on the display thread. Keys: q or Esc stops the run;
/// closing the window does too.
/// </summary>
public sealed class WindowSink : IFrameSink
{
    readonly string _title;
    readonly IFramePainter _painter;
    readonly Action _requestStop;
    readonly Mat _canvas = new();
    bool _disposed, _stopRequested, _seenVisible;

    /// <param name="painter">Borrowed.</param>
    public WindowSink(string title, int width, int height, IFramePainter painter, Action requestStop)
    {
        _title = title;
        _painter = painter ?? throw new ArgumentNullException(nameof(painter));
        _requestStop = requestStop ?? throw new ArgumentNullException(nameof(requestStop));
        try
        {
            Cv2.NamedWindow(_title, WindowFlags.Normal | WindowFlags.KeepRatio | WindowFlags.GuiNormal);
            Cv2.ResizeWindow(_title, width, height);
        }
        catch (OpenCVException e)
        {
            throw new SinkException($"cannot open a window: {e.ErrMsg}", e);
        }
    }

    public void Show(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _painter.Paint(frame, analysis, _canvas);
        Cv2.ImShow(_title, _canvas);
        int key = Cv2.WaitKey(1);
        // The window counts as closed only once it has been seen mapped: it may appear a few frames late.
        bool visible = Cv2.GetWindowProperty(_title, WindowPropertyFlags.Visible) >= 1;
        _seenVisible |= visible;
        bool closed = _seenVisible && !visible;
        if (!_stopRequested && (key is 'q' or 'Q' or 27 || closed))
        {
            _stopRequested = true;
            _requestStop();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            Cv2.DestroyWindow(_title);
            Cv2.WaitKey(1);
        }
        catch (OpenCVException) { /* the window was already gone */ }
        _canvas.Dispose();
    }
}
