using System.Diagnostics;
using LiveCam.Rendering.Contexts;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Tests;

/// <summary>A real window under Xvfb: opens, renders, reads its pixels back, closes.</summary>
public sealed partial class WindowTests : IDisposable
{
    // .NET's Environment.SetEnvironmentVariable does not reach the C library's environment, which GLFW reads.
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);

    readonly Process? _xvfb;
    readonly string? _previousDisplay = Environment.GetEnvironmentVariable("DISPLAY");

    public WindowTests()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/Xvfb")) return;
        int display = 80 + Environment.ProcessId % 9;
        _xvfb = Process.Start(new ProcessStartInfo("/usr/bin/Xvfb", $":{display} -screen 0 640x480x24 -nolisten tcp")
        { RedirectStandardError = true, UseShellExecute = false });
        SpinWait.SpinUntil(() => File.Exists($"/tmp/.X11-unix/X{display}"), TimeSpan.FromSeconds(20));
        Environment.SetEnvironmentVariable("DISPLAY", $":{display}");
        _ = SetNativeEnvironment("DISPLAY", $":{display}", 1);
    }

    [SkippableFact]
    public unsafe void Under_Xvfb_a_window_opens_renders_the_overlay_and_closes_without_GL_errors()
    {
        Skip.If(_xvfb is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        // With Xvfb present (setup installs it with libglfw3), a window must open: no skipping here.
        using (var window = new GlfwWindowContext("LiveCam test", 320, 240))
        {
            using var frame = new Mat(240, 320, MatType.CV_8UC3, new Scalar(200, 40, 20));  // blue in BGR
            using var compositor = new OverlayCompositor(window.Gl);
            var keys = new List<int>();
            window.KeyPressed += keys.Add;
            var (w, h) = window.FramebufferSize;
            Assert.Equal((320, 240), (w, h));
            for (int i = 0; i < 5; i++)
            {
                window.BindDefaultFramebuffer();
                compositor.Draw(frame, null, w, h, flipY: true);
                if (i == 4)
                {
                    var pixel = new byte[3];
                    window.Gl.PixelStore(PixelStoreParameter.PackAlignment, 1);
                    fixed (byte* p = pixel) window.Gl.ReadPixels(w / 2, h / 2, 1, 1, PixelFormat.Bgr, PixelType.UnsignedByte, p);
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
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DISPLAY", _previousDisplay);
        _ = SetNativeEnvironment("DISPLAY", _previousDisplay ?? "", 1);
        if (_xvfb is null) return;
        _xvfb.Kill();
        _xvfb.WaitForExit();
        _xvfb.Dispose();
    }
}
