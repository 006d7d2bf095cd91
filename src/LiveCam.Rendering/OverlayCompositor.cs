using LiveCam.Core;
using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering;

/// <summary>
/// Draws a frame with its explanation on the GPU: the BGR frame as a texture (reallocated only when its size
/// changes), letterboxed to keep its aspect ratio; the heatmap uploaded at its own resolution as a float texture
/// and upsampled by the GPU's bilinear filtering, aligned to the frame's pixel centres; colormap and blend in
/// the fragment shader (the CPU back end follows the same rules). All calls on the thread that owns the GL context.
/// </summary>
public sealed class OverlayCompositor : IDisposable
{
    readonly GL _gl;
    readonly GlShaderProgram _program;
    readonly GlEmptyVertexArray _quad;
    readonly GlTexture _video, _heat, _colormaps, _dream;

    /// <param name="shaderDirectory">Where video.vert and overlay.frag are (shaders/ next to the app).</param>
    public OverlayCompositor(GL gl, string? shaderDirectory = null)
    {
        _gl = gl ?? throw new ArgumentNullException(nameof(gl));
        var dir = shaderDirectory ?? Path.Combine(AppContext.BaseDirectory, "shaders");
        _program = new GlShaderProgram(gl, Path.Combine(dir, "video.vert"), Path.Combine(dir, "overlay.frag"));
        _quad = new GlEmptyVertexArray(gl);
        _video = new GlTexture(gl, TextureMinFilter.Linear);
        _heat = new GlTexture(gl, TextureMinFilter.Linear);
        _colormaps = new GlTexture(gl, TextureMinFilter.Linear);
        _dream = new GlTexture(gl, TextureMinFilter.Linear);
        _colormaps.UploadRgbFloat(Colormaps.Table, 256, Colormaps.All.Length);
    }

    /// <summary>Draws the picture's video and heatmap into the bound target of <paramref name="targetWidth"/> x
    /// <paramref name="targetHeight"/>.</summary>
    /// <param name="flipY">True for a window (its origin is bottom-left); false for framebuffers read back into
    /// images.</param>
    public void Draw(Picture picture, int targetWidth, int targetHeight, bool flipY)
    {
        ArgumentNullException.ThrowIfNull(picture);
        var frame = picture.Video;
        var options = picture.Overlay;
        _video.UploadBgr(frame);
        var panels = PictureLayout.Panels(picture, targetWidth, targetHeight);
        _program.Use();
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, _video.Handle);
        _program.Set("video", 0);
        _gl.ActiveTexture(TextureUnit.Texture2);
        _gl.BindTexture(TextureTarget.Texture2D, _colormaps.Handle);
        _program.Set("colormaps", 2);
        _program.Set("target", targetWidth, targetHeight);
        _program.Set("flipY", flipY ? 1 : 0);
        _program.Set("mode", (int)options.Mode);
        _program.Set("colormap", (int)options.Colormap);
        _program.Set("opacity", options.Opacity);
        _program.Set("threshold", options.Threshold);
        _gl.ActiveTexture(TextureUnit.Texture3);
        if (picture.Dream is { } dream) _dream.UploadBgr(dream.Pixels, dream.Width, dream.Height);
        _gl.BindTexture(TextureTarget.Texture2D, _dream.Handle);
        _program.Set("dream", 3);
        _program.Set("hasDream", picture.Dream is null ? 0 : 1);
        // Only the letterbox bars need clearing: the quads cover the rest.
        float covered = panels.Sum(p => p.Width * p.Height);
        if (covered < targetWidth * (float)targetHeight)
        {
            _gl.ClearColor(0, 0, 0, 1);
            _gl.Clear(ClearBufferMask.ColorBufferBit);
        }
        _gl.BindVertexArray(_quad.Handle);
        // Side by side: the same frame twice, each copy with its own heatmap (uploaded between the two draws).
        foreach (var panel in panels)
        {
            var (x, y, w, h) = (panel.X, panel.Y, panel.Width, panel.Height);
            var heat = picture.Dream is null ? panel.Heatmap : null;  // a dream is shown instead of the heatmap
            // Uploading binds the texture to the active unit: unit 1, the heatmap's, so the colormaps stay bound to 2.
            _gl.ActiveTexture(TextureUnit.Texture1);
            if (heat is not null) _heat.UploadFloat(heat.Values, heat.Width, heat.Height);
            var region = panel.HeatmapRegion ?? new PixelRect(0, 0, frame.Width, frame.Height);
            _gl.BindTexture(TextureTarget.Texture2D, _heat.Handle);
            _program.Set("heat", 1);
            _program.Set("viewport", x, y, w, h);
            _program.Set("heatRegion", region.X / (float)frame.Width, region.Y / (float)frame.Height,
                region.Width / (float)frame.Width, region.Height / (float)frame.Height);
            _program.Set("hasHeat", heat is null ? 0 : 1);
            _program.Set("exactVideo",
                w == frame.Width && h == frame.Height && x == MathF.Floor(x) && y == MathF.Floor(y) ? 1 : 0);
            _gl.DrawArrays(PrimitiveType.TriangleStrip, 0, 4);
        }
        var error = _gl.GetError();
        if (error != GLEnum.NoError) throw new InvalidOperationException($"OpenGL error {error} while compositing");
    }

    public void Dispose()
    {
        _colormaps.Dispose();
        _dream.Dispose();
        _heat.Dispose();
        _video.Dispose();
        _quad.Dispose();
        _program.Dispose();
    }
}
