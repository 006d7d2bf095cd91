using OpenCvSharp;

namespace LiveCam.Drawing;

/// <summary>Quads drawn on the CPU exactly as the GPU rasterises them: the CPU back end's text and insets, and the
/// pictures made without any back end (the paper-style grid panel).</summary>
public static class QuadRasteriser
{
    /// <summary>Draws the quads in order over <paramref name="canvas"/> (BGR, 8-bit), as the GPU rasterises them: a
    /// pixel is covered when its centre is inside the quad; the glyph atlas is sampled bilinearly; colour blended by
    /// its alpha.</summary>
    public static unsafe void Draw(QuadList quads, Mat canvas)
    {
        ArgumentNullException.ThrowIfNull(quads);
        ArgumentNullException.ThrowIfNull(canvas);
        if (canvas.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"expected BGR 8-bit, got {canvas.Type()}", nameof(canvas));
        var font = quads.Font;
        int width = canvas.Width, height = canvas.Height, atlasWidth = font.Width, atlasHeight = font.Height;
        long step = canvas.Step();
        byte* data = (byte*)canvas.Data;
        // Per pixel column of a glyph: the atlas column left of its sample and the weight of the one right of it.
        Span<int> left = width <= 4096 ? stackalloc int[width] : new int[width];
        Span<float> across = width <= 4096 ? stackalloc float[width] : new float[width];
        fixed (byte* coverage = font.Coverage)
        {
            foreach (var q in quads.Items)
            {
                int x0 = Math.Max(0, (int)MathF.Ceiling(q.X0 - 0.5f)),
                    x1 = Math.Min(width, (int)MathF.Ceiling(q.X1 - 0.5f));
                int y0 = Math.Max(0, (int)MathF.Ceiling(q.Y0 - 0.5f)),
                    y1 = Math.Min(height, (int)MathF.Ceiling(q.Y1 - 0.5f));
                if (x0 >= x1 || y0 >= y1) continue;
                float r = q.Colour.R * 255, g = q.Colour.G * 255, b = q.Colour.B * 255, alpha = q.Colour.A;
                if (q.U0 == q.U1 && q.V0 == q.V1)
                {
                    // Solid: the white block, coverage 1 everywhere.
                    for (int y = y0; y < y1; y++)
                        for (byte* p = data + y * step + x0 * 3, end = p + (x1 - x0) * 3; p < end; p += 3)
                            Blend(p, b, g, r, alpha);
                    continue;
                }
                // A glyph: the texel columns each pixel column samples are the same on every row, so they are found
                // once.
                int columns = x1 - x0;
                float du = (q.U1 - q.U0) / (q.X1 - q.X0), dv = (q.V1 - q.V0) / (q.Y1 - q.Y0);
                for (int i = 0; i < columns; i++)
                {
                    float tx = (q.U0 + (x0 + i + 0.5f - q.X0) * du) * atlasWidth - 0.5f;
                    int t = (int)MathF.Floor(tx);
                    left[i] = t;
                    across[i] = tx - t;
                }
                for (int y = y0; y < y1; y++)
                {
                    float ty = (q.V0 + (y + 0.5f - q.Y0) * dv) * atlasHeight - 0.5f;
                    int t = (int)MathF.Floor(ty);
                    float fy = ty - t;
                    byte* top = coverage + Math.Clamp(t, 0, atlasHeight - 1) * atlasWidth,
                        bottom = coverage + Math.Clamp(t + 1, 0, atlasHeight - 1) * atlasWidth;
                    byte* p = data + y * step + x0 * 3;
                    for (int i = 0; i < columns; i++, p += 3)
                    {
                        int xa = Math.Clamp(left[i], 0, atlasWidth - 1),
                            xb = Math.Clamp(left[i] + 1, 0, atlasWidth - 1);
                        int c00 = top[xa], c01 = top[xb], c10 = bottom[xa], c11 = bottom[xb];
                        if ((c00 | c01 | c10 | c11) == 0) continue;  // most of a glyph's cell is empty
                        float fx = across[i];
                        float c = ((c00 * (1 - fx) + c01 * fx) * (1 - fy) + (c10 * (1 - fx) + c11 * fx) * fy) / 255f;
                        Blend(p, b, g, r, alpha * c);
                    }
                }
            }
        }
    }

    /// <summary>One BGR pixel blended towards (b, g, r) by <paramref name="a"/>, rounded as an 8-bit framebuffer stores
    /// it.</summary>
    static unsafe void Blend(byte* p, float b, float g, float r, float a)
    {
        p[0] = (byte)(b * a + p[0] * (1 - a) + 0.5f);
        p[1] = (byte)(g * a + p[1] * (1 - a) + 0.5f);
        p[2] = (byte)(r * a + p[2] * (1 - a) + 0.5f);
    }
}
