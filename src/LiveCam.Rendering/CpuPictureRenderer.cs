using System.Runtime.InteropServices;
using LiveCam.Rendering.Drawing;
using OpenCvSharp;

namespace LiveCam.Rendering;

/// <summary>
/// The CPU back end of the drawing model, with OpenCV: the same rules as the shaders (bilinear heatmap over its
/// region with pixel centres aligned, colormap entry rounded like <c>applyColorMap</c>, threshold, the four modes)
/// and the same quads from the shared layout, rasterised like the GPU does (pixel centres, bilinear glyph coverage,
/// alpha blending). For machines without OpenGL, and where OpenGL is a software rasteriser.
/// </summary>
public sealed class CpuPictureRenderer : IPictureRenderer
{
    readonly Mat _small = new(), _large = new(), _bytes = new(), _colour = new(), _mask = new(), _blended = new();
    readonly QuadList _quads = new(GlyphAtlas.Shared);
    bool _disposed;

    public string Description => "CPU (OpenCV)";

    public void Render(Picture picture, Mat into)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (picture.Video.Type() != MatType.CV_8UC3) throw new ArgumentException($"expected BGR 8-bit video, got {picture.Video.Type()}", nameof(picture));
        picture.Video.CopyTo(into);
        BlendHeatmap(picture, into);
        _quads.Clear();
        PictureLayout.Build(picture, into.Width, into.Height, _quads);
        Rasterise(_quads, into);
    }

    void BlendHeatmap(Picture picture, Mat canvas)
    {
        var options = picture.Overlay;
        if (picture.Heatmap is not { } map || options.Mode == OverlayMode.VideoOnly) return;
        var bounds = new Rect(0, 0, canvas.Width, canvas.Height);
        var region = (picture.HeatmapRegion is { } r ? new Rect(r.X, r.Y, r.Width, r.Height) : bounds) & bounds;
        if (region.Width <= 0 || region.Height <= 0) return;

        _small.Create(map.Height, map.Width, MatType.CV_32FC1);
        Marshal.Copy(map.Values, 0, _small.Data, map.Values.Length);
        // OpenCV's bilinear resize samples at pixel centres and clamps at the edges, as GL_LINEAR does.
        Cv2.Resize(_small, _large, new Size(region.Width, region.Height), interpolation: InterpolationFlags.Linear);
        using (var above = _large.GreaterThanOrEqual(options.Threshold)) above.ToMat().CopyTo(_mask);
        using var roi = new Mat(canvas, region);
        if (options.Mode == OverlayMode.InterestingRegion)
        {
            using var inverse = new Mat();
            Cv2.BitwiseNot(_mask, inverse);
            roi.SetTo(Scalar.Black, inverse);
            return;
        }
        _large.ConvertTo(_bytes, MatType.CV_8UC1, 255);  // saturates: values above 1 take the last entry, as the shader's clamp
        Cv2.ApplyColorMap(_bytes, _colour, Colormaps.OpenCvType(options.Colormap));
        if (options.Mode == OverlayMode.HeatmapOnly)
        {
            roi.SetTo(Scalar.Black);
            _colour.CopyTo(roi, _mask);
            return;
        }
        Cv2.AddWeighted(roi, 1 - options.Opacity, _colour, options.Opacity, 0, _blended);
        _blended.CopyTo(roi, _mask);
    }

    /// <summary>Draws the quads in order over <paramref name="canvas"/> (BGR, 8-bit), as the GPU rasterises them: a pixel is
    /// covered when its centre is inside the quad; the glyph atlas is sampled bilinearly; colour blended by its alpha.</summary>
    public static unsafe void Rasterise(QuadList quads, Mat canvas)
    {
        ArgumentNullException.ThrowIfNull(quads);
        ArgumentNullException.ThrowIfNull(canvas);
        if (canvas.Type() != MatType.CV_8UC3) throw new ArgumentException($"expected BGR 8-bit, got {canvas.Type()}", nameof(canvas));
        var font = quads.Font;
        int width = canvas.Width, height = canvas.Height, atlasWidth = font.Width, atlasHeight = font.Height;
        long step = canvas.Step();
        byte* data = (byte*)canvas.Data;
        // Per pixel column of a glyph: the atlas column left of its sample and the weight of the one right of it.
        Span<int> left = width <= 4096 ? stackalloc int[width] : new int[width];
        Span<float> across = width <= 4096 ? stackalloc float[width] : new float[width];
        fixed (byte* coverage = font.Coverage)
        {
            foreach (var q in quads.Items)
            {
                int x0 = Math.Max(0, (int)MathF.Ceiling(q.X0 - 0.5f)), x1 = Math.Min(width, (int)MathF.Ceiling(q.X1 - 0.5f));
                int y0 = Math.Max(0, (int)MathF.Ceiling(q.Y0 - 0.5f)), y1 = Math.Min(height, (int)MathF.Ceiling(q.Y1 - 0.5f));
                if (x0 >= x1 || y0 >= y1) continue;
                float r = q.Colour.R * 255, g = q.Colour.G * 255, b = q.Colour.B * 255, alpha = q.Colour.A;
                if (q.U0 == q.U1 && q.V0 == q.V1)
                {
                    // Solid: the white block, coverage 1 everywhere.
                    for (int y = y0; y < y1; y++)
                        for (byte* p = data + y * step + x0 * 3, end = p + (x1 - x0) * 3; p < end; p += 3)
                            Blend(p, b, g, r, alpha);
                    continue;
                }
                // A glyph: the texel columns each pixel column samples are the same on every row, so they are found once.
                int columns = x1 - x0;
                float du = (q.U1 - q.U0) / (q.X1 - q.X0), dv = (q.V1 - q.V0) / (q.Y1 - q.Y0);
                for (int i = 0; i < columns; i++)
                {
                    float tx = (q.U0 + (x0 + i + 0.5f - q.X0) * du) * atlasWidth - 0.5f;
                    int t = (int)MathF.Floor(tx);
                    left[i] = t;
                    across[i] = tx - t;
                }
                for (int y = y0; y < y1; y++)
                {
                    float ty = (q.V0 + (y + 0.5f - q.Y0) * dv) * atlasHeight - 0.5f;
                    int t = (int)MathF.Floor(ty);
                    float fy = ty - t;
                    byte* top = coverage + Math.Clamp(t, 0, atlasHeight - 1) * atlasWidth, bottom = coverage + Math.Clamp(t + 1, 0, atlasHeight - 1) * atlasWidth;
                    byte* p = data + y * step + x0 * 3;
                    for (int i = 0; i < columns; i++, p += 3)
                    {
                        int xa = Math.Clamp(left[i], 0, atlasWidth - 1), xb = Math.Clamp(left[i] + 1, 0, atlasWidth - 1);
                        int c00 = top[xa], c01 = top[xb], c10 = bottom[xa], c11 = bottom[xb];
                        if ((c00 | c01 | c10 | c11) == 0) continue;  // most of a glyph's cell is empty
                        float fx = across[i];
                        float c = ((c00 * (1 - fx) + c01 * fx) * (1 - fy) + (c10 * (1 - fx) + c11 * fx) * fy) / 255f;
                        Blend(p, b, g, r, alpha * c);
                    }
                }
            }
        }
    }

    /// <summary>One BGR pixel blended towards (b, g, r) by <paramref name="a"/>, rounded as an 8-bit framebuffer stores it.</summary>
    static unsafe void Blend(byte* p, float b, float g, float r, float a)
    {
        p[0] = (byte)(b * a + p[0] * (1 - a) + 0.5f);
        p[1] = (byte)(g * a + p[1] * (1 - a) + 0.5f);
        p[2] = (byte)(r * a + p[2] * (1 - a) + 0.5f);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _small.Dispose();
        _large.Dispose();
        _bytes.Dispose();
        _colour.Dispose();
        _mask.Dispose();
        _blended.Dispose();
    }
}
