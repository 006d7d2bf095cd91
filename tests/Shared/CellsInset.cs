using LiveCam.Drawing;

namespace LiveCam.Tests;

/// <summary>An inset for the drawing tests that knows no model: a grid of cells shaded by a function, on a white
/// border, a third of the picture's height (as the robot's bars are).</summary>
internal sealed record CellsInset(int Columns, int Rows, Func<int, int, float> Shade) : IInset
{
    public (float Width, float Height) Size(GlyphAtlas font, float scale, int targetWidth, int targetHeight)
    {
        float height = Math.Clamp(targetHeight * 0.34f, 40, 480);
        return (Math.Min(height * 0.5f, targetWidth * 0.25f), height);
    }

    public void Add(QuadList quads, float x, float y, float width, float height, float scale)
    {
        quads.Rectangle(x, y, width, height, new Rgba(1, 1, 1, 0.85f));
        float w = (width - 6) / Columns, h = (height - 6) / Rows;
        for (int c = 0; c < Columns; c++)
            for (int r = 0; r < Rows; r++)
            {
                float k = Shade(r, c);
                quads.Rectangle(x + 3 + c * w, y + 3 + (Rows - 1 - r) * h, w - 1, h - 1,
                    new Rgba(1 - 0.4f * k, 1 - 0.9f * k, 1 - 0.9f * k));
            }
    }
}
