using System.Runtime.InteropServices;
using LiveCam.Rendering.Gl;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering;

/// <summary>
/// Text and rectangles for HUD, labels and distance bars, drawn in one call per frame: a glyph atlas rasterised
/// once (OpenCV's Hershey font, ASCII 32..126) and a vertex buffer refilled each frame.
/// </summary>
public sealed class QuadBatch : IDisposable
{
    const int FirstChar = 32, LastChar = 126, Columns = 16;
    const float PixelScale = 0.5f;  // font scale the atlas is rasterised at

    readonly GL _gl;
    readonly GlShaderProgram _program;
    readonly GlTexture _atlas;
    readonly GlVertexArray _vertices;
    readonly List<float> _data = [];
    readonly (float U0, float V0, float U1, float V1, int Advance)[] _glyphs = new (float, float, float, float, int)[LastChar - FirstChar + 1];
    readonly int _cellWidth, _cellHeight, _baseline;
    readonly (float U, float V) _white;

    public QuadBatch(GL gl, string? shaderDirectory = null)
    {
        _gl = gl ?? throw new ArgumentNullException(nameof(gl));
        var dir = shaderDirectory ?? Path.Combine(AppContext.BaseDirectory, "shaders");
        _program = new GlShaderProgram(gl, Path.Combine(dir, "quads.vert"), Path.Combine(dir, "quads.frag"));
        _vertices = new GlVertexArray(gl);

        var size = Cv2.GetTextSize("Mg", HersheyFonts.HersheySimplex, PixelScale, 1, out _baseline);
        _cellWidth = size.Width;
        _cellHeight = size.Height + _baseline + 4;
        int rows = (LastChar - FirstChar + 1 + Columns - 1) / Columns + 1;  // + a row for the white block
        using var atlas = new Mat(rows * _cellHeight, Columns * _cellWidth, MatType.CV_8UC1, Scalar.All(0));
        for (int c = FirstChar; c <= LastChar; c++)
        {
            int i = c - FirstChar, x = i % Columns * _cellWidth, y = i / Columns * _cellHeight;
            var text = ((char)c).ToString();
            int advance = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, PixelScale, 1, out _).Width;
            Cv2.PutText(atlas, text, new Point(x, y + size.Height + 2), HersheyFonts.HersheySimplex, PixelScale, Scalar.All(255), 1, LineTypes.AntiAlias);
            _glyphs[i] = (x / (float)atlas.Width, y / (float)atlas.Height, (x + _cellWidth) / (float)atlas.Width, (y + _cellHeight) / (float)atlas.Height, advance);
        }
        int whiteY = (rows - 1) * _cellHeight;
        Cv2.Rectangle(atlas, new Rect(0, whiteY, 4, 4), Scalar.All(255), -1);
        _white = (2f / atlas.Width, (whiteY + 2f) / atlas.Height);
        _atlas = new GlTexture(gl, TextureMinFilter.Linear);
        _atlas.UploadGrey(atlas);
    }

    /// <summary>Height of a line of text at <paramref name="scale"/> (1 = the atlas's own size).</summary>
    public float LineHeight(float scale) => _cellHeight * scale;

    /// <summary>Width of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public float TextWidth(string text, float scale) =>
        text.Sum(c => c is >= (char)FirstChar and <= (char)LastChar ? _glyphs[c - FirstChar].Advance : _cellWidth) * scale;

    /// <summary>A filled rectangle, target pixels from the top-left; colour RGBA in [0, 1].</summary>
    public void Rectangle(float x, float y, float width, float height, (float R, float G, float B, float A) colour)
    {
        Quad(x, y, x + width, y + height, _white.U, _white.V, _white.U, _white.V, colour);
    }

    /// <summary>A line of text whose top-left corner is at (x, y).</summary>
    public void Text(string text, float x, float y, float scale, (float R, float G, float B, float A) colour)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (char c in text)
        {
            if (c is < (char)FirstChar or > (char)LastChar)
            {
                x += _cellWidth * scale;
                continue;
            }
            var g = _glyphs[c - FirstChar];
            Quad(x, y, x + _cellWidth * scale, y + _cellHeight * scale, g.U0, g.V0, g.U1, g.V1, colour);
            x += g.Advance * scale;
        }
    }

    void Quad(float x0, float y0, float x1, float y1, float u0, float v0, float u1, float v1, (float R, float G, float B, float A) c)
    {
        void Vertex(float x, float y, float u, float v) => _data.AddRange([x, y, u, v, c.R, c.G, c.B, c.A]);
        Vertex(x0, y0, u0, v0);
        Vertex(x1, y0, u1, v0);
        Vertex(x1, y1, u1, v1);
        Vertex(x0, y0, u0, v0);
        Vertex(x1, y1, u1, v1);
        Vertex(x0, y1, u0, v1);
    }

    /// <summary>Draws everything added since the last flush into the bound target, blended over it.</summary>
    public void Flush(int targetWidth, int targetHeight, bool flipY)
    {
        if (_data.Count == 0) return;
        _program.Use();
        _program.Set("targetSize", targetWidth, targetHeight);
        _program.Set("flipY", flipY ? 1 : 0);
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, _atlas.Handle);
        _program.Set("atlas", 0);
        _gl.Enable(EnableCap.Blend);
        _gl.BlendFunc(BlendingFactor.SrcAlpha, BlendingFactor.OneMinusSrcAlpha);
        _vertices.Draw(CollectionsMarshal.AsSpan(_data), floatsPerVertex: 8, [2, 2, 4]);
        _gl.Disable(EnableCap.Blend);
        _data.Clear();
    }

    public void Dispose()
    {
        _atlas.Dispose();
        _vertices.Dispose();
        _program.Dispose();
    }
}
