using System.CommandLine;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Drawing;

namespace LiveCam.App.Commands.Shared;

/// <summary>
/// What draws the pictures, decided here and nowhere else. <c>--renderer cpu</c> never tries OpenGL; <c>gl</c> insists
/// on it; <c>auto</c> uses OpenGL and falls back to the CPU back end when there is none, and for recordings also where
/// OpenGL is a software rasteriser (there drawing plus readback costs more CPU than OpenCV's drawing).
/// </summary>
internal sealed class RendererChoice(string renderer, TextWriter output)
{
    public static Option<string> Option(string description)
    {
        var option = new Option<string>("--renderer") { Description = description, DefaultValueFactory = _ => "auto" };
        option.AcceptOnlyFromAmong("auto", "gl", "cpu");
        return option;
    }

    /// <summary>OpenGL when this choice allows it and it is to be had, else the CPU alternative.</summary>
    public T Choose<T>(string fallbackMessage, Func<T> openGl, Func<T> cpu)
    {
        ArgumentNullException.ThrowIfNull(openGl);
        ArgumentNullException.ThrowIfNull(cpu);
        if (renderer == "cpu") return cpu();
        try
        {
            return openGl();
        }
        catch (RenderingUnavailableException e) when (renderer == "auto")
        {
            output.WriteLine($"{fallbackMessage} (no OpenGL: {e.Message})");
            return cpu();
        }
        catch (RenderingUnavailableException e)
        {
            throw new UsageException($"--renderer gl: {e.Message}", e);
        }
    }

    /// <summary>A renderer drawing at the frame's size, for <paramref name="what"/> ("recording",
    /// "pictures").</summary>
    /// <param name="thread">The render thread an OpenGL renderer runs on; borrowed.</param>
    /// <param name="cpuOnSoftwareGl">With auto, draw on the CPU where OpenGL is a software rasteriser (live
    /// recordings).</param>
    public IPictureRenderer Offscreen(RenderThread thread, string what, bool cpuOnSoftwareGl)
    {
        ArgumentNullException.ThrowIfNull(thread);
        var chosen = Choose<IPictureRenderer>($"{what} drawn on the CPU",
            () =>
            {
                var gl = new GlHeadlessRenderer(thread);
                if (renderer == "auto" && cpuOnSoftwareGl && gl.IsSoftware)
                {
                    gl.Dispose();
                    output.WriteLine($"{what} drawn on the CPU (OpenGL here is a software rasteriser; "
                        + "--renderer gl to use it anyway)");
                    return new CpuPictureRenderer();
                }
                return gl;
            },
            () => new CpuPictureRenderer());
        if (chosen is GlHeadlessRenderer) output.WriteLine($"{what} drawn by {chosen.Description}");
        return chosen;
    }
}
