using System.Runtime.InteropServices;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Contexts;

/// <summary>
/// An OpenGL 3.3 core context without any display or window: EGL on Mesa's surfaceless platform (or the
/// default display), rendering into framebuffer objects. For the robot's own computer, recording and tests.
/// </summary>
public sealed partial class EglHeadlessContext : IGlContext
{
    const string Egl = "libEGL.so.1";
    const int EglNone = 0x3038, EglRenderableType = 0x3040, EglOpenGlBit = 0x0008, EglSurfaceType = 0x3033;
    const int EglContextMajor = 0x3098, EglContextMinor = 0x30FB, EglProfileMask = 0x30FD, EglCoreProfileBit = 0x1;
    const uint EglOpenGlApi = 0x30A2;
    const int PlatformSurfacelessMesa = 0x31DD;

    [LibraryImport(Egl, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr eglGetProcAddress(string name);
    [LibraryImport(Egl)] private static partial IntPtr eglGetDisplay(IntPtr nativeDisplay);
    [LibraryImport(Egl)] private static partial uint eglInitialize(IntPtr display, out int major, out int minor);
    [LibraryImport(Egl)] private static partial uint eglBindAPI(uint api);
    [LibraryImport(Egl)] private static partial uint eglChooseConfig(
        IntPtr display, int[] attributes, IntPtr[] configs, int size, out int count);
    [LibraryImport(Egl)] private static partial IntPtr eglCreateContext(
        IntPtr display, IntPtr config, IntPtr share, int[] attributes);
    [LibraryImport(Egl)] private static partial uint eglMakeCurrent(
        IntPtr display, IntPtr draw, IntPtr read, IntPtr context);
    [LibraryImport(Egl)] private static partial uint eglDestroyContext(IntPtr display, IntPtr context);
    [LibraryImport(Egl)] private static partial uint eglTerminate(IntPtr display);
    [LibraryImport(Egl)] private static partial int eglGetError();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate IntPtr GetPlatformDisplay(int platform, IntPtr nativeDisplay, int[]? attributes);

    readonly IntPtr _display, _context;
    bool _disposed;

    public GL Gl { get; }
    public string Renderer { get; }

    /// <summary>Whether OpenGL here is drawn by the CPU (Mesa's llvmpipe or softpipe) rather than a GPU.</summary>
    public bool IsSoftware => GlContexts.IsSoftwareRenderer(Renderer);

    /// <summary>Creates the context and makes it current on the calling thread (which must do all GL work).</summary>
    /// <exception cref="RenderingUnavailableException">No EGL, or no OpenGL 3.3 through it.</exception>
    public EglHeadlessContext()
    {
        try
        {
            var getPlatformDisplay = eglGetProcAddress("eglGetPlatformDisplayEXT");
            _display = getPlatformDisplay != IntPtr.Zero
                ? Marshal.GetDelegateForFunctionPointer<GetPlatformDisplay>(getPlatformDisplay)(
                    PlatformSurfacelessMesa, IntPtr.Zero, null)
                : IntPtr.Zero;
            if (_display == IntPtr.Zero || eglInitialize(_display, out _, out _) == 0)
            {
                _display = eglGetDisplay(IntPtr.Zero);
                if (_display == IntPtr.Zero || eglInitialize(_display, out _, out _) == 0)
                    throw new RenderingUnavailableException(
                        $"EGL could not be initialised (error 0x{eglGetError():x})");
            }
            if (eglBindAPI(EglOpenGlApi) == 0) throw new RenderingUnavailableException("EGL has no desktop OpenGL");
            var configs = new IntPtr[1];
            if (eglChooseConfig(_display, [EglRenderableType, EglOpenGlBit, EglSurfaceType, 0, EglNone],
                    configs, 1, out int count) == 0 || count == 0)
                throw new RenderingUnavailableException($"no EGL configuration for OpenGL (error 0x{eglGetError():x})");
            _context = eglCreateContext(_display, configs[0], IntPtr.Zero,
                [EglContextMajor, 3, EglContextMinor, 3, EglProfileMask, EglCoreProfileBit, EglNone]);
            if (_context == IntPtr.Zero)
                throw new RenderingUnavailableException($"no OpenGL 3.3 core context (EGL error 0x{eglGetError():x})");
            if (eglMakeCurrent(_display, IntPtr.Zero, IntPtr.Zero, _context) == 0)
                throw new RenderingUnavailableException(
                    $"the context cannot be made current without a surface (EGL error 0x{eglGetError():x})");
        }
        catch (DllNotFoundException e)
        {
            throw new RenderingUnavailableException(
                "libEGL.so.1 is missing (install libegl1 libegl-mesa0 libgl1-mesa-dri)", e);
        }
        Gl = GL.GetApi(name => eglGetProcAddress(name));
        Renderer = $"{Gl.GetStringS(StringName.Renderer)}, {Gl.GetStringS(StringName.Version)}";
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Teardown: a failure here leaves nothing to recover.
        _ = eglMakeCurrent(_display, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero);
        _ = eglDestroyContext(_display, _context);
        _ = eglTerminate(_display);
        Gl.Dispose();
    }
}

/// <summary>No OpenGL here; the message says what is missing.</summary>
public sealed class RenderingUnavailableException : Exception
{
    public RenderingUnavailableException(string message) : base(message) { }
    public RenderingUnavailableException(string message, Exception inner) : base(message, inner) { }
    public RenderingUnavailableException() { }
}
