using Silk.NET.OpenGL;

namespace LiveCam.Rendering.Contexts;

/// <summary>
/// An OpenGL 3.3 context, current on the thread that created it: a window (<see cref="GlfwWindowContext"/>) or
/// headless (<see cref="EglHeadlessContext"/>). Drawing code takes this and works on either.
/// </summary>
public interface IGlContext : IDisposable
{
    GL Gl { get; }

    /// <summary>GL_RENDERER and GL_VERSION, for logs and the HUD.</summary>
    string Renderer { get; }

    /// <summary>Whether OpenGL here is drawn by the CPU (Mesa's llvmpipe or softpipe) rather than a GPU.</summary>
    bool IsSoftware { get; }
}

public static class GlContexts
{
    internal static bool IsSoftwareRenderer(string renderer) =>
        renderer.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase) || renderer.Contains("softpipe", StringComparison.OrdinalIgnoreCase);

    /// <summary>A window when <paramref name="window"/> says so, else headless; both fail with
    /// <see cref="RenderingUnavailableException"/> when OpenGL is missing.</summary>
    public static IGlContext Create(bool window, string title = "LiveCam", int width = 640, int height = 480) =>
        window ? new GlfwWindowContext(title, width, height) : new EglHeadlessContext();
}
