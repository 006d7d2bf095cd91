namespace LiveCam.Drawing;

/// <summary>A colour, RGBA in [0, 1].</summary>
public readonly record struct Rgba(float R, float G, float B, float A = 1)
{
    public static readonly Rgba White = new(1, 1, 1), Black = new(0, 0, 0);
}

/// <summary>An axis-aligned quad in target pixels from the top-left, textured from the glyph atlas and tinted.
/// Solid rectangles point at the atlas's white block.</summary>
public readonly record struct Quad(
    float X0, float Y0, float X1, float Y1, float U0, float V0, float U1, float V1, Rgba Colour);

/// <summary>
/// What is drawn over the video: text and rectangles, in drawing order (later over earlier). The layout fills it
/// once per picture; the OpenGL back end draws it as one vertex batch, the CPU back end rasterises the same quads.
/// </summary>
public sealed class QuadList
{
    readonly List<Quad> _quads = [];

    public QuadList(GlyphAtlas font) => Font = font ?? throw new ArgumentNullException(nameof(font));

    public GlyphAtlas Font { get; }
    public IReadOnlyList<Quad> Items => _quads;

    public void Clear() => _quads.Clear();

    /// <summary>A filled rectangle.</summary>
    public void Rectangle(float x, float y, float width, float height, Rgba colour)
    {
        if (width <= 0 || height <= 0) return;
        var (u, v) = Font.White;
        _quads.Add(new Quad(x, y, x + width, y + height, u, v, u, v, colour));
    }

    /// <summary>A rectangle's outline, <paramref name="thickness"/> pixels inside its edge.</summary>
    public void Outline(float x, float y, float width, float height, float thickness, Rgba colour)
    {
        Rectangle(x, y, width, thickness, colour);
        Rectangle(x, y + height - thickness, width, thickness, colour);
        Rectangle(x, y + thickness, thickness, height - 2 * thickness, colour);
        Rectangle(x + width - thickness, y + thickness, thickness, height - 2 * thickness, colour);
    }

    /// <summary>A line of text whose top-left corner is at (x, y).</summary>
    public void Text(string text, float x, float y, float scale, Rgba colour)
    {
        ArgumentNullException.ThrowIfNull(text);
        Font.AddText(_quads, text, x, y, scale, colour);
    }
}
