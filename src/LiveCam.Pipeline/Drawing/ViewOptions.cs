using LiveCam.Rendering;
using LiveCam.Drawing;

namespace LiveCam.Pipeline.Drawing;

/// <summary>How the live view is drawn; the window's keys change it, recordings and snapshots follow it.</summary>
public sealed record ViewOptions
{
    public OverlayOptions Overlay { get; init; } = new();
    /// <summary>Whether the heatmap is drawn at all.</summary>
    public bool ShowOverlay { get; init; } = true;
    /// <summary>Whether the HUD text and the model's inset are drawn.</summary>
    public bool ShowHud { get; init; } = true;
    public Corner InsetCorner { get; init; } = Corner.BottomRight;
}
