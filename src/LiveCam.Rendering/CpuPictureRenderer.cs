using System.Runtime.InteropServices;
using LiveCam.Core;
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
    readonly Mat _small = new(), _resized = new(), _dream = new(), _large = new(), _bytes = new(), _colour = new(),
        _maskFloat = new(), _mask = new(), _blended = new();
    readonly QuadList _quads = new(GlyphAtlas.Shared);
    bool _disposed;

    public string Description => "CPU (OpenCV)";

    public void Render(Picture picture, Mat into)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(into);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (picture.Video.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"expected BGR 8-bit video, got {picture.Video.Type()}", nameof(picture));
        if (picture.Side is null)
        {
            picture.Video.CopyTo(into);
            if (picture.Dream is { } dream) DrawDream(dream, picture.HeatmapRegion, into);
            else if (picture.Heatmap is { } map)
                BlendHeatmap(picture.Overlay, map, picture.HeatmapRegion, new Rect(0, 0, into.Width, into.Height), 1,
                    into);
        }
        else
        {
            // Side by side: the frame twice at the video's size, each copy scaled into its half with its own heatmap.
            into.Create(picture.Video.Rows, picture.Video.Cols, MatType.CV_8UC3);
            into.SetTo(Scalar.Black);
            foreach (var panel in PictureLayout.Panels(picture, into.Width, into.Height))
            {
                var place = new Rect((int)panel.X, (int)panel.Y, (int)panel.Width, (int)panel.Height);
                if (place.Width <= 0 || place.Height <= 0) continue;
                using (var part = new Mat(into, place))
                    Cv2.Resize(picture.Video, part, place.Size, interpolation: InterpolationFlags.Linear);
                if (panel.Heatmap is { } heat)
                    BlendHeatmap(picture.Overlay, heat, panel.HeatmapRegion, place,
                        panel.Width / picture.Video.Width, into);
            }
        }
        _quads.Clear();
        PictureLayout.Build(picture, into.Width, into.Height, _quads);
        QuadRasteriser.Draw(_quads, into);
    }

    /// <summary>The dream stretched over the region (bilinear at pixel centres, as the GPU samples it), the frame's
    /// part kept.</summary>
    void DrawDream(BgrImage dream, PixelRect? heatRegion, Mat canvas)
    {
        var bounds = new Rect(0, 0, canvas.Width, canvas.Height);
        var full = heatRegion is { } r ? new Rect(r.X, r.Y, r.Width, r.Height) : bounds;
        var region = full & bounds;
        if (region.Width <= 0 || region.Height <= 0) return;
        using (var small = Mat.FromPixelData(dream.Height, dream.Width, MatType.CV_8UC3, dream.Pixels))
            Cv2.Resize(small, _dream, new Size(full.Width, full.Height), interpolation: InterpolationFlags.Linear);
        using var visible = new Mat(
            _dream, new Rect(region.X - full.X, region.Y - full.Y, region.Width, region.Height));
        using var into = new Mat(canvas, region);
        visible.CopyTo(into);
    }

    /// <param name="bounds">Where the frame is in the canvas.</param>
    /// <param name="scale">The frame's scale there (1: drawn at its own size).</param>
    void BlendHeatmap(
        OverlayOptions options, HeatmapImage map, PixelRect? heatRegion, Rect bounds, float scale, Mat canvas)
    {
        if (options.Mode == OverlayMode.VideoOnly) return;
        // The model's input may reach past the frame (a padded fit): the map is sized to all of it, the frame's part
        // kept.
        var full = heatRegion is { } r
            ? new Rect(bounds.X + (int)MathF.Round(r.X * scale), bounds.Y + (int)MathF.Round(r.Y * scale),
                (int)MathF.Round(r.Width * scale), (int)MathF.Round(r.Height * scale))
            : bounds;
        var region = full & bounds;
        if (region.Width <= 0 || region.Height <= 0 || full.Width <= 0 || full.Height <= 0) return;

        _small.Create(map.Height, map.Width, MatType.CV_32FC1);
        Marshal.Copy(map.Values, 0, _small.Data, map.Values.Length);
        // OpenCV's bilinear resize samples at pixel centres and clamps at the edges, as GL_LINEAR does.
        Cv2.Resize(_small, _resized, new Size(full.Width, full.Height), interpolation: InterpolationFlags.Linear);
        using (var visible = new Mat(
            _resized, new Rect(region.X - full.X, region.Y - full.Y, region.Width, region.Height)))
            visible.CopyTo(_large);
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
        // saturates: values above 1 take the last entry, as the shader's clamp
        _large.ConvertTo(_bytes, MatType.CV_8UC1, 255);
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
        _dream.Dispose();
        _large.Dispose();
        _bytes.Dispose();
        _colour.Dispose();
        _maskFloat.Dispose();
        _mask.Dispose();
        _blended.Dispose();
    }
}
