using System.Reflection;
using System.Runtime.InteropServices;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Contexts;

/// <summary>
/// A desktop window with an OpenGL 3.3 core context through GLFW (libglfw.so.3 on Linux, glfw3.dll on Windows):
/// vsync, resizing, a fullscreen toggle and key events. Create it, draw and poll on one thread only.
/// </summary>
public sealed partial class GlfwWindowContext : IGlContext
{
    const string Glfw = "glfw";
    const int ContextVersionMajor = 0x00022002, ContextVersionMinor = 0x00022003, OpenGlProfile = 0x00022008,
        OpenGlCoreProfile = 0x00032001, OpenGlForwardCompat = 0x00022006, Visible = 0x00020004;
    public const int KeyPress = 1, KeyRepeat = 2;

    static GlfwWindowContext()
    {
        NativeLibrary.SetDllImportResolver(typeof(GlfwWindowContext).Assembly, Resolve);
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Glfw) return IntPtr.Zero;
        foreach (var candidate in new[] { "libglfw.so.3", "glfw3.dll", "glfw3", "libglfw.3.dylib", "libglfw.so" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return IntPtr.Zero;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate void KeyCallback(IntPtr window, int key, int scancode, int action, int mods);

    [LibraryImport(Glfw)] private static partial int glfwInit();
    [LibraryImport(Glfw)] private static partial void glfwTerminate();
    [LibraryImport(Glfw)] private static partial void glfwWindowHint(int hint, int value);
    [LibraryImport(Glfw, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr glfwCreateWindow(int width, int height, string title, IntPtr monitor, IntPtr share);
    [LibraryImport(Glfw)] private static partial void glfwDestroyWindow(IntPtr window);
    [LibraryImport(Glfw)] private static partial void glfwMakeContextCurrent(IntPtr window);
    [LibraryImport(Glfw, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr glfwGetProcAddress(string name);
    [LibraryImport(Glfw)] private static partial void glfwSwapInterval(int interval);
    [LibraryImport(Glfw)] private static partial void glfwSwapBuffers(IntPtr window);
    [LibraryImport(Glfw)] private static partial void glfwPollEvents();
    [LibraryImport(Glfw)] private static partial int glfwWindowShouldClose(IntPtr window);
    [LibraryImport(Glfw)] private static partial void glfwSetWindowShouldClose(IntPtr window, int value);
    [LibraryImport(Glfw)] private static partial void glfwGetFramebufferSize(
        IntPtr window, out int width, out int height);
    [LibraryImport(Glfw)] private static partial IntPtr glfwSetKeyCallback(IntPtr window, IntPtr callback);
    [LibraryImport(Glfw)] private static partial IntPtr glfwGetPrimaryMonitor();
    [LibraryImport(Glfw)] private static partial IntPtr glfwGetVideoMode(IntPtr monitor);
    [LibraryImport(Glfw)] private static partial void glfwSetWindowMonitor(
        IntPtr window, IntPtr monitor, int x, int y, int width, int height, int refreshRate);
    [LibraryImport(Glfw)] private static partial int glfwGetError(out IntPtr description);

    [StructLayout(LayoutKind.Sequential)]
    struct VideoMode
    {
        public int Width, Height, RedBits, GreenBits, BlueBits, RefreshRate;
    }

    readonly IntPtr _window;
    readonly KeyCallback _keyCallback;  // kept alive while GLFW holds a pointer to it
    (int Width, int Height) _windowedSize;
    bool _fullscreen, _disposed;

    public GL Gl { get; }
    public string Renderer { get; }
    public bool IsSoftware => GlContexts.IsSoftwareRenderer(Renderer);

    /// <summary>Raised on the window's thread for each key press or repeat: the GLFW key code (printable keys are their
    /// upper-case ASCII).</summary>
    public event Action<int>? KeyPressed;

    /// <exception cref="RenderingUnavailableException">No GLFW, no display, or no OpenGL 3.3.</exception>
    public GlfwWindowContext(string title, int width, int height, bool visible = true)
    {
        try
        {
            if (glfwInit() == 0) throw new RenderingUnavailableException($"GLFW could not start: {LastError()}");
        }
        catch (DllNotFoundException e)
        {
            throw new RenderingUnavailableException(
                "GLFW is missing (Linux: apt-get install libglfw3; Windows: glfw3.dll next to the app)", e);
        }
        glfwWindowHint(ContextVersionMajor, 3);
        glfwWindowHint(ContextVersionMinor, 3);
        glfwWindowHint(OpenGlProfile, OpenGlCoreProfile);
        glfwWindowHint(OpenGlForwardCompat, 1);
        glfwWindowHint(Visible, visible ? 1 : 0);
        (width, height) = FitScreen(width, height);
        _window = glfwCreateWindow(width, height, title, IntPtr.Zero, IntPtr.Zero);
        if (_window == IntPtr.Zero)
        {
            var error = LastError();
            glfwTerminate();
            throw new RenderingUnavailableException($"no window with OpenGL 3.3: {error}");
        }
        _windowedSize = (width, height);
        glfwMakeContextCurrent(_window);
        glfwSwapInterval(1);  // vsync
        _keyCallback = (_, key, _, action, _) =>
        {
            if (action is KeyPress or KeyRepeat) KeyPressed?.Invoke(key);
        };
        glfwSetKeyCallback(_window, Marshal.GetFunctionPointerForDelegate(_keyCallback));
        Gl = GL.GetApi(name => glfwGetProcAddress(name));
        Renderer = $"{Gl.GetStringS(StringName.Renderer)}, {Gl.GetStringS(StringName.Version)}";
    }

    /// <summary>A frame larger than the screen (a 4K camera, a big photo) opens a window that fits in 90% of it,
    /// same aspect ratio; the renderer letterboxes whatever size the window has.</summary>
    static (int Width, int Height) FitScreen(int width, int height)
    {
        var monitor = glfwGetPrimaryMonitor();
        if (monitor == IntPtr.Zero) return (width, height);
        var videoMode = glfwGetVideoMode(monitor);
        if (videoMode == IntPtr.Zero) return (width, height);
        var mode = Marshal.PtrToStructure<VideoMode>(videoMode);
        double scale = Math.Min(1, Math.Min(mode.Width * 0.9 / width, mode.Height * 0.9 / height));
        return (Math.Max(1, (int)(width * scale)), Math.Max(1, (int)(height * scale)));
    }

    static string LastError()
    {
        int code = glfwGetError(out var description);
        return code == 0 ? "unknown error" : $"{Marshal.PtrToStringUTF8(description)} (0x{code:x})";
    }

    /// <summary>The drawable size in pixels (follows resizing).</summary>
    public (int Width, int Height) FramebufferSize
    {
        get
        {
            glfwGetFramebufferSize(_window, out int w, out int h);
            return (w, h);
        }
    }

    public bool ShouldClose => glfwWindowShouldClose(_window) != 0;

    public void RequestClose() => glfwSetWindowShouldClose(_window, 1);

    /// <summary>Binds the window's own framebuffer with a viewport of its current size.</summary>
    public void BindDefaultFramebuffer()
    {
        var (w, h) = FramebufferSize;
        Gl.BindFramebuffer(Silk.NET.OpenGL.FramebufferTarget.Framebuffer, 0);
        Gl.Viewport(0, 0, (uint)w, (uint)h);
    }

    public void SwapBuffers() => glfwSwapBuffers(_window);

    /// <summary>Reads the back buffer (what the next swap shows) into <paramref name="bgr"/>, a Mat of the
    /// framebuffer's size, top row first.</summary>
    public unsafe void ReadBackBuffer(OpenCvSharp.Mat bgr)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        var (w, h) = FramebufferSize;
        if (bgr.Width != w || bgr.Height != h || bgr.Type() != OpenCvSharp.MatType.CV_8UC3)
            throw new ArgumentException($"expected a {w}x{h} BGR image", nameof(bgr));
        Gl.BindFramebuffer(Silk.NET.OpenGL.FramebufferTarget.ReadFramebuffer, 0);
        Gl.ReadBuffer(Silk.NET.OpenGL.ReadBufferMode.Back);
        Gl.PixelStore(Silk.NET.OpenGL.PixelStoreParameter.PackAlignment, 1);
        Gl.ReadPixels(0, 0, (uint)w, (uint)h, Silk.NET.OpenGL.PixelFormat.Bgr, Silk.NET.OpenGL.PixelType.UnsignedByte,
            (void*)bgr.Data);
        // OpenGL's rows run bottom-up.
        OpenCvSharp.Cv2.Flip(bgr, bgr, OpenCvSharp.FlipMode.X);
    }

    /// <summary>Handles window events (keys, resize, close); key handlers run inside this call.</summary>
    public void PollEvents()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        glfwPollEvents();
    }

    public void ToggleFullscreen()
    {
        if (_fullscreen)
        {
            glfwSetWindowMonitor(_window, IntPtr.Zero, 50, 50, _windowedSize.Width, _windowedSize.Height, 0);
        }
        else
        {
            var monitor = glfwGetPrimaryMonitor();
            if (monitor == IntPtr.Zero) return;
            var mode = Marshal.PtrToStructure<VideoMode>(glfwGetVideoMode(monitor));
            glfwSetWindowMonitor(_window, monitor, 0, 0, mode.Width, mode.Height, mode.RefreshRate);
        }
        _fullscreen = !_fullscreen;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        glfwMakeContextCurrent(IntPtr.Zero);
        glfwDestroyWindow(_window);
        glfwTerminate();
        Gl.Dispose();
    }
}
