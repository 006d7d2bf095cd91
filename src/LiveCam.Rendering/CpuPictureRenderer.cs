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
        int width = canvas.Width, height = canvas.Height;
        long step = canvas.Step();
        byte* data = (byte*)canvas.Data;
        foreach (var q in quads.Items)
        {
            int x0 = Math.Max(0, (int)MathF.Ceiling(q.X0 - 0.5f)), x1 = Math.Min(width, (int)MathF.Ceiling(q.X1 - 0.5f));
            int y0 = Math.Max(0, (int)MathF.Ceiling(q.Y0 - 0.5f)), y1 = Math.Min(height, (int)MathF.Ceiling(q.Y1 - 0.5f));
            if (x0 >= x1 || y0 >= y1) continue;
            bool solid = q.U0 == q.U1 && q.V0 == q.V1;
            float r = q.Colour.R * 255, g = q.Colour.G * 255, b = q.Colour.B * 255;
            float du = (q.U1 - q.U0) / (q.X1 - q.X0), dv = (q.V1 - q.V0) / (q.Y1 - q.Y0);
            for (int y = y0; y < y1; y++)
            {
                byte* row = data + y * step;
                float v = q.V0 + (y + 0.5f - q.Y0) * dv;
                for (int x = x0; x < x1; x++)
                {
                    float a = q.Colour.A * (solid ? 1 : font.Sample(q.U0 + (x + 0.5f - q.X0) * du, v));
                    if (a <= 0) continue;
                    byte* p = row + x * 3;
                    p[0] = (byte)(b * a + p[0] * (1 - a) + 0.5f);
                    p[1] = (byte)(g * a + p[1] * (1 - a) + 0.5f);
                    p[2] = (byte)(r * a + p[2] * (1 - a) + 0.5f);
                }
            }
        }
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
