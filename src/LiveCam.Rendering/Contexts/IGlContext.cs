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

internal static class GlContexts
{
    public static bool IsSoftwareRenderer(string renderer) =>
        renderer.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase)
        || renderer.Contains("softpipe", StringComparison.OrdinalIgnoreCase);
}
