using LiveCam.Rendering.Contexts;
using LiveCam.Tests.Shared;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Tests;

/// <summary>A real window under Xvfb: opens, renders, reads its pixels back, closes.</summary>
public sealed class WindowTests : IDisposable
{
    readonly XvfbDisplay _display = new();

    [SkippableFact]
    public unsafe void Under_Xvfb_a_window_opens_renders_the_overlay_and_closes_without_GL_errors()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        // With Xvfb present (setup installs it with libglfw3), a window must open: no skipping here.
        using var window = new GlfwWindowContext("LiveCam test", 320, 240);
        using var frame = new Mat(240, 320, MatType.CV_8UC3, new Scalar(200, 40, 20));  // blue in BGR
        using var compositor = new OverlayCompositor(window.Gl);
        var (w, h) = window.FramebufferSize;
        Assert.Equal((320, 240), (w, h));
        for (int i = 0; i < 5; i++)
        {
            window.BindDefaultFramebuffer();
            compositor.Draw(new Drawing.Picture { Video = frame }, w, h, flipY: true);
            if (i == 4)
            {
                var pixel = new byte[3];
                window.Gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
                fixed (byte* p = pixel)
                    window.Gl.ReadPixels(w / 2, h / 2, 1, 1, PixelFormat.Bgr, PixelType.UnsignedByte, p);
                Assert.Equal(new byte[] { 200, 40, 20 }, pixel);
            }
            window.SwapBuffers();
            window.PollEvents();
        }
        Assert.Equal(GLEnum.NoError, window.Gl.GetError());
        Assert.False(window.ShouldClose);
        window.RequestClose();
        Assert.True(window.ShouldClose);
    }

    public void Dispose() => _display.Dispose();
}
