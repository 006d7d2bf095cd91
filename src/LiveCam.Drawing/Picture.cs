using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Drawing;

public enum Corner { BottomRight, BottomLeft, TopLeft, TopRight }

/// <summary>One row of the help: the key(s) and what they do.</summary>
public readonly record struct HelpRow(string Keys, string Does);

/// <summary>
/// Everything one shown picture is made of, described once: the video, the heatmap and how it is blended, the HUD,
/// the model's inset and the help. An OpenGL or a CPU back end draws it (<see cref="IPictureRenderer"/>); the
/// layout (<see cref="PictureLayout"/>) is shared, so both draw the same picture.
/// </summary>
public sealed record Picture
{
    /// <summary>The frame, BGR 8-bit. Borrowed: the caller keeps it and disposes it.</summary>
    public required Mat Video { get; init; }

    /// <summary>The explanation at its own resolution, values in [0, 1]; null draws the video alone.</summary>
    public HeatmapImage? Heatmap { get; init; }

    /// <summary>The part of the video the heatmap covers (the model's input region); null = all of it.</summary>
    public PixelRect? HeatmapRegion { get; init; }

    public OverlayOptions Overlay { get; init; } = new();

    /// <summary>The HUD's lines, top-left, most important first; null or empty hides it.</summary>
    public IReadOnlyList<HudLine>? Hud { get; init; }

    /// <summary>The model's predictions drawn as an inset (distance bars, top labels); null for none.</summary>
    public IInset? Inset { get; init; }

    public Corner InsetCorner { get; init; } = Corner.BottomRight;

    /// <summary>What the model found, drawn where it lies over <see cref="HeatmapRegion"/> (boxes, keypoints, a class
    /// mask) in every panel; null for none.</summary>
    public SceneMarks? Marks { get; init; }

    /// <summary>The help, drawn on an opaque panel over everything else; null hides it.</summary>
    public IReadOnlyList<HelpRow>? Help { get; init; }

    /// <summary>An image drawn in place of the video over <see cref="HeatmapRegion"/> (a DeepDream of the frame),
    /// stretched to it; null for none. With it no heatmap is drawn.</summary>
    public BgrImage? Dream { get; init; }

    /// <summary>Text size against the usual for this target (a booth's screen read from across the room: 2).</summary>
    public float TextScale { get; init; } = 1;

    /// <summary>One sentence in a band along the bottom (what the colours mean); null for none.</summary>
    public string? Caption { get; init; }

    /// <summary>A second explanation of the same frame: the frame is drawn twice side by side, this map over the right
    /// one; null draws the frame once.</summary>
    public SidePanel? Side { get; init; }
}

/// <summary>The right half of a side-by-side picture: its heatmap over the same frame, and what each half
/// shows.</summary>
/// <param name="Heatmap">The right half's explanation; null shows the frame alone there.</param>
/// <param name="HeatmapRegion">The part of the frame it covers; null = all of it.</param>
public sealed record SidePanel(HeatmapImage? Heatmap, PixelRect? HeatmapRegion, string LeftLabel, string RightLabel);

/// <summary>Where one copy of the frame is drawn in the target, and the explanation over it.</summary>
public readonly record struct Panel(
    float X, float Y, float Width, float Height, HeatmapImage? Heatmap, PixelRect? HeatmapRegion);

/// <summary>Draws <see cref="Picture"/>s at the video's own size. One back end per implementation (OpenGL,
/// CPU).</summary>
public interface IPictureRenderer : IDisposable
{
    /// <summary>What draws, for the terminal: "OpenGL: llvmpipe ...", "CPU (OpenCV)".</summary>
    string Description { get; }

    /// <summary>Draws <paramref name="picture"/> into <paramref name="into"/> (BGR, the video's size; reallocated only
    /// when its size differs). Both are the caller's: the renderer keeps neither.</summary>
    void Render(Picture picture, Mat into);
}

/// <summary>Where the model's predictions are drawn over the picture: sized for the target, drawn as quads.</summary>
public interface IInset
{
    /// <summary>Its size in a target of <paramref name="targetWidth"/> x <paramref name="targetHeight"/> with text at
    /// <paramref name="scale"/>.</summary>
    (float Width, float Height) Size(GlyphAtlas font, float scale, int targetWidth, int targetHeight);

    /// <summary>Adds its quads inside the area at (x, y) of the size <see cref="Size"/> gave.</summary>
    void Add(QuadList quads, float x, float y, float width, float height, float scale);
}
