using LiveCam.Drawing;
using LiveCam.Rendering.Gl;
using Silk.NET.OpenGL;

namespace LiveCam.Rendering;

/// <summary>
/// Draws a <see cref="QuadList"/> (HUD text, insets, help) in one call: the shared glyph atlas as a texture, uploaded
/// once, and a vertex buffer refilled each frame, blended over the target.
/// </summary>
public sealed class QuadBatch : IDisposable
{
    const int FloatsPerVertex = 8;

    readonly GL _gl;
    readonly GlShaderProgram _program;
    readonly GlTexture _atlas;
    readonly GlVertexArray _vertices;
    float[] _data = new float[6 * FloatsPerVertex * 256];

    public QuadBatch(GL gl, GlyphAtlas font, string? shaderDirectory = null)
    {
        _gl = gl ?? throw new ArgumentNullException(nameof(gl));
        ArgumentNullException.ThrowIfNull(font);
        var dir = shaderDirectory ?? Path.Combine(AppContext.BaseDirectory, "shaders");
        _program = new GlShaderProgram(gl, Path.Combine(dir, "quads.vert"), Path.Combine(dir, "quads.frag"));
        try
        {
            _vertices = new GlVertexArray(gl);
            _atlas = new GlTexture(gl, TextureMinFilter.Linear);
            _atlas.UploadGrey(font.Coverage, font.Width, font.Height);
        }
        catch
        {
            _vertices?.Dispose();
            _program.Dispose();
            throw;
        }
    }

    /// <summary>Draws <paramref name="quads"/> into the bound target, blended over it.</summary>
    public void Draw(IReadOnlyList<Quad> quads, int targetWidth, int targetHeight, bool flipY)
    {
        ArgumentNullException.ThrowIfNull(quads);
        if (quads.Count == 0) return;
        int needed = quads.Count * 6 * FloatsPerVertex;
        if (_data.Length < needed) _data = new float[needed * 2];
        int o = 0;
        foreach (var q in quads)
        {
            void Vertex(float x, float y, float u, float v)
            {
                _data[o++] = x; _data[o++] = y; _data[o++] = u; _data[o++] = v;
                _data[o++] = q.Colour.R; _data[o++] = q.Colour.G; _data[o++] = q.Colour.B; _data[o++] = q.Colour.A;
            }
            Vertex(q.X0, q.Y0, q.U0, q.V0);
            Vertex(q.X1, q.Y0, q.U1, q.V0);
            Vertex(q.X1, q.Y1, q.U1, q.V1);
            Vertex(q.X0, q.Y0, q.U0, q.V0);
            Vertex(q.X1, q.Y1, q.U1, q.V1);
            Vertex(q.X0, q.Y1, q.U0, q.V1);
        }
        _program.Use();
        _program.Set("targetSize", targetWidth, targetHeight);
        _program.Set("flipY", flipY ? 1 : 0);
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, _atlas.Handle);
        _program.Set("atlas", 0);
        _gl.Enable(EnableCap.Blend);
        _gl.BlendFunc(BlendingFactor.SrcAlpha, BlendingFactor.OneMinusSrcAlpha);
        _vertices.Draw(_data.AsSpan(0, needed), FloatsPerVertex, [2, 2, 4]);
        _gl.Disable(EnableCap.Blend);
    }

    public void Dispose()
    {
        _atlas.Dispose();
        _vertices.Dispose();
        _program.Dispose();
    }
}
