namespace LiveCam.Drawing;

/// <summary>How the live view is drawn; the window's keys change it, recordings and snapshots follow it.</summary>
public sealed record ViewOptions
{
    public OverlayOptions Overlay { get; init; } = new();
    /// <summary>Whether the heatmap is drawn at all.</summary>
    public bool ShowOverlay { get; init; } = true;
    /// <summary>Whether the HUD text and the model's inset are drawn.</summary>
    public bool ShowHud { get; init; } = true;
    public Corner InsetCorner { get; init; } = Corner.BottomRight;
    /// <summary>Text size against the usual (2 at a booth, read from across the room).</summary>
    public float TextScale { get; init; } = 1;
    /// <summary>Whether a sentence along the bottom says what the colours mean.</summary>
    public bool Legend { get; init; }
}
