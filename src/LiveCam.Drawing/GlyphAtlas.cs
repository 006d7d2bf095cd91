using System.Runtime.InteropServices;
using OpenCvSharp;

namespace LiveCam.Drawing;

/// <summary>
/// The picture's font: OpenCV's Hershey simplex rasterised once into a coverage atlas (ASCII 32..126) with a white
/// block that solid quads point at. Both back ends draw text from these same pixels, so text is laid out and drawn
/// alike by the GPU and the CPU. Immutable; shared by every renderer in the process.
/// </summary>
public sealed class GlyphAtlas
{
    const int FirstChar = 32, LastChar = 126, Columns = 16;
    /// <summary>The Hershey font scale the atlas is rasterised at; text scale 1 draws it 1:1.</summary>
    const double RasterScale = 0.5;

    static readonly Lazy<GlyphAtlas> s_shared = new(() => new GlyphAtlas());

    readonly (float U0, float V0, float U1, float V1, int Advance)[] _glyphs =
        new (float, float, float, float, int)[LastChar - FirstChar + 1];
    readonly int _cellWidth;

    public static GlyphAtlas Shared => s_shared.Value;

    /// <summary>Coverage, 0..255, row-major, <see cref="Width"/> x <see cref="Height"/>.</summary>
    public byte[] Coverage { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>Height of one line of text at scale 1, in pixels.</summary>
    public int CellHeight { get; }
    /// <summary>A texture coordinate inside the white block: a quad there is solid.</summary>
    public (float U, float V) White { get; }

    GlyphAtlas()
    {
        var size = Cv2.GetTextSize("Mg", HersheyFonts.HersheySimplex, RasterScale, 1, out int baseline);
        _cellWidth = size.Width;
        CellHeight = size.Height + baseline + 4;
        int rows = (LastChar - FirstChar + 1 + Columns - 1) / Columns + 1;  // + a row for the white block
        using var atlas = new Mat(rows * CellHeight, Columns * _cellWidth, MatType.CV_8UC1, Scalar.All(0));
        for (int c = FirstChar; c <= LastChar; c++)
        {
            int i = c - FirstChar, x = i % Columns * _cellWidth, y = i / Columns * CellHeight;
            var text = ((char)c).ToString();
            int advance = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, RasterScale, 1, out _).Width;
            Cv2.PutText(atlas, text, new Point(x, y + size.Height + 2), HersheyFonts.HersheySimplex, RasterScale,
                Scalar.All(255), 1, LineTypes.AntiAlias);
            _glyphs[i] = (x / (float)atlas.Width, y / (float)atlas.Height,
                (x + _cellWidth) / (float)atlas.Width, (y + CellHeight) / (float)atlas.Height, advance);
        }
        int whiteY = (rows - 1) * CellHeight;
        Cv2.Rectangle(atlas, new Rect(0, whiteY, 4, 4), Scalar.All(255), -1);
        // The middle of the 4x4 block: bilinear sampling there reads white only.
        White = (2f / atlas.Width, (whiteY + 2f) / atlas.Height);
        (Width, Height) = (atlas.Width, atlas.Height);
        Coverage = new byte[Width * Height];
        Marshal.Copy(atlas.Data, Coverage, 0, Coverage.Length);
    }

    /// <summary>Height of a line of text at <paramref name="scale"/>.</summary>
    public float LineHeight(float scale) => CellHeight * scale;

    /// <summary>Width of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public float TextWidth(string text, float scale)
    {
        ArgumentNullException.ThrowIfNull(text);
        float width = 0;
        foreach (char c in text) width += Advance(c);
        return width * scale;
    }

    int Advance(char c) => c is >= (char)FirstChar and <= (char)LastChar ? _glyphs[c - FirstChar].Advance : _cellWidth;

    /// <summary>Adds <paramref name="text"/> with its top-left corner at (x, y) as one quad per glyph.</summary>
    internal void AddText(List<Quad> quads, string text, float x, float y, float scale, Rgba colour)
    {
        foreach (char c in text)
        {
            if (c is >= (char)(FirstChar + 1) and <= (char)LastChar)
            {
                var g = _glyphs[c - FirstChar];
                quads.Add(new Quad(x, y, x + _cellWidth * scale, y + CellHeight * scale,
                    g.U0, g.V0, g.U1, g.V1, colour));
            }
            x += Advance(c) * scale;
        }
    }
}
