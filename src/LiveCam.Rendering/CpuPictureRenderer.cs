using System.Runtime.InteropServices;
using LiveCam.Drawing;
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
    readonly Mat _small = new(), _resized = new(), _large = new(), _bytes = new(), _colour = new(), _maskFloat = new(), _mask = new(), _blended = new();
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
        QuadRasteriser.Draw(_quads, into);
    }

    void BlendHeatmap(Picture picture, Mat canvas)
    {
        var options = picture.Overlay;
        if (picture.Heatmap is not { } map || options.Mode == OverlayMode.VideoOnly) return;
        var bounds = new Rect(0, 0, canvas.Width, canvas.Height);
        // The model's input may reach past the frame (a padded fit): the map is sized to all of it, the frame's part kept.
        var full = picture.HeatmapRegion is { } r ? new Rect(r.X, r.Y, r.Width, r.Height) : bounds;
        var region = full & bounds;
        if (region.Width <= 0 || region.Height <= 0 || full.Width <= 0 || full.Height <= 0) return;

        _small.Create(map.Height, map.Width, MatType.CV_32FC1);
        Marshal.Copy(map.Values, 0, _small.Data, map.Values.Length);
        // OpenCV's bilinear resize samples at pixel centres and clamps at the edges, as GL_LINEAR does.
        Cv2.Resize(_small, _resized, new Size(full.Width, full.Height), interpolation: InterpolationFlags.Linear);
        using (var visible = new Mat(_resized, new Rect(region.X - full.X, region.Y - full.Y, region.Width, region.Height))) visible.CopyTo(_large);
        // h >= threshold, into buffers kept between frames (strictly above the next float below it).
        Cv2.Threshold(_large, _maskFloat, MathF.BitDecrement(options.Threshold), 255, ThresholdTypes.Binary);
        _maskFloat.ConvertTo(_mask, MatType.CV_8UC1);
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

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _small.Dispose();
        _resized.Dispose();
        _large.Dispose();
        _bytes.Dispose();
        _colour.Dispose();
        _maskFloat.Dispose();
        _mask.Dispose();
        _blended.Dispose();
    }
}
