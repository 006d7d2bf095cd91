namespace LiveCam.Drawing;

public enum OverlayMode { Blend, HeatmapOnly, VideoOnly, InterestingRegion }

/// <summary>How the heatmap is drawn over the video.</summary>
public sealed record OverlayOptions
{
    public float Opacity { get; init; } = 0.45f;
    /// <summary>Heat below this is transparent.</summary>
    public float Threshold { get; init; }
    public OverlayMode Mode { get; init; } = OverlayMode.Blend;
    public Colormap Colormap { get; init; } = Colormap.Jet;
}
