using LiveCam.Rendering.Contexts;

namespace LiveCam.Rendering.Tests;

internal static class HeadlessGl
{
    /// <summary>A headless context, or the test is skipped where there is no OpenGL.</summary>
    public static EglHeadlessContext Context()
    {
        try { return new EglHeadlessContext(); }
        catch (RenderingUnavailableException e) { throw new SkipException($"no headless OpenGL here: {e.Message}"); }
    }
}
