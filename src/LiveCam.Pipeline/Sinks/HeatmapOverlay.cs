using System.Runtime.InteropServices;
using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>
/// CPU blend of an analysis over a frame, for machines without OpenGL: the small heatmap is
/// upsampled bilinearly onto the region the model saw, coloured with a colormap and blended.
/// </summary>
public sealed class HeatmapOverlay : IDisposable
{
    readonly Mat _small = new(), _large = new(), _bytes = new(), _colour = new();

    public double Opacity { get; set; } = 0.45;
    public ColormapTypes Colormap { get; set; } = ColormapTypes.Jet;

    /// <summary>Blends <paramref name="analysis"/>'s heatmap into <paramref name="canvas"/> (BGR) in place.</summary>
    public void Blend(Mat canvas, Analysis analysis)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(analysis);
        if (analysis.Heatmap is not { } map) return;
        var region = analysis.HeatmapRegion is { } r ? new Rect(r.X, r.Y, r.Width, r.Height) : new Rect(0, 0, canvas.Width, canvas.Height);
        region &= new Rect(0, 0, canvas.Width, canvas.Height);
        if (region.Width <= 0 || region.Height <= 0) return;

        _small.Create(map.Height, map.Width, MatType.CV_32FC1);
        Marshal.Copy(map.Values, 0, _small.Data, map.Values.Length);
        Cv2.Resize(_small, _large, new Size(region.Width, region.Height), interpolation: InterpolationFlags.Linear);
        _large.ConvertTo(_bytes, MatType.CV_8UC1, 255);
        Cv2.ApplyColorMap(_bytes, _colour, Colormap);
        using var roi = new Mat(canvas, region);
        Cv2.AddWeighted(roi, 1 - Opacity, _colour, Opacity, 0, roi);
    }

    public void Dispose()
    {
        _small.Dispose();
        _large.Dispose();
        _bytes.Dispose();
        _colour.Dispose();
    }
}
