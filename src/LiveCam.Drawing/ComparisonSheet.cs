using OpenCvSharp;

namespace LiveCam.Drawing;

/// <summary>One list of a comparison (models, images, methods, layers, targets): each entry's label, a line or
/// more.</summary>
/// <param name="Given">The user named it: a single entry then goes into the title (a default is left to the cells'
/// HUD).</param>
public sealed record ComparisonAxis(string Name, IReadOnlyList<IReadOnlyList<string>> Labels, bool Given = true)
{
    public int Count => Labels.Count;
}

/// <summary>
/// A comparison sheet (<c>livecam compare</c>): where its cells and labels go, and the sheet drawn. Of the axes (in
/// their order), those with more than one entry vary: the last of them runs along the columns, the others, crossed in
/// order, down the rows (one row when only one varies); <c>transpose</c> swaps the two. A band on the left labels the
/// rows, one on top the columns (under a title line that names the single-entry axes). Cells are all one size,
/// <see cref="Gap"/> pixels apart and from the bands. The cells are pictures the composer described and a back end
/// drew; the labels are quads in the pictures' own font, rasterised as the CPU back end rasterises the HUD.
/// </summary>
public sealed class ComparisonSheet
{
    public const int Gap = 4;
    static readonly Scalar s_background = new(26, 20, 18);
    static readonly Rgba s_title = PictureLayout.HelpKey;

    readonly IReadOnlyList<ComparisonAxis> _axes;
    readonly List<IReadOnlyList<string>> _rowLabels = [], _columnLabels = [];
    readonly string _title;
    readonly float _scale, _pad, _titleGap;
    readonly GlyphAtlas _font = GlyphAtlas.Shared;

    public ComparisonSheet(IReadOnlyList<ComparisonAxis> axes, int cellWidth, int cellHeight, bool transpose)
    {
        _axes = axes ?? throw new ArgumentNullException(nameof(axes));
        (CellWidth, CellHeight) = (cellWidth, cellHeight);
        var varying = Enumerable.Range(0, axes.Count).Where(a => axes[a].Count > 1).ToList();
        IReadOnlyList<int> rows = varying.Take(Math.Max(0, varying.Count - 1)).ToList(),
            columns = varying.Count > 0 ? [varying[^1]] : [];
        (RowAxes, ColumnAxes) = transpose ? (columns, rows) : (rows, columns);
        Rows = RowAxes.Aggregate(1, (n, a) => n * axes[a].Count);
        Columns = ColumnAxes.Aggregate(1, (n, a) => n * axes[a].Count);
        for (int r = 0; r < Rows; r++) _rowLabels.Add(LabelOf(RowAxes, r));
        for (int c = 0; c < Columns; c++) _columnLabels.Add(LabelOf(ColumnAxes, c));
        _title = string.Join(HudLine.Separator + HudLine.Separator, Enumerable.Range(0, axes.Count)
            .Where(a => axes[a].Count == 1 && axes[a].Given)
            .Select(a => $"{axes[a].Name}: {string.Join(HudLine.Separator, axes[a].Labels[0])}"));

        // Labels a little larger than the cells' HUD, which scales the same way.
        _scale = Math.Max(0.6f, PictureLayout.TextScale(cellWidth, cellHeight) * 1.1f);
        _pad = PictureLayout.Margin(_scale);
        float lineHeight = _font.LineHeight(_scale);
        float widest = _rowLabels.SelectMany(l => l).Select(t => _font.TextWidth(t, _scale)).DefaultIfEmpty(0).Max();
        Left = RowAxes.Count == 0 ? 0 : (int)MathF.Ceiling(Math.Min(widest, cellWidth) + 2 * _pad);
        int titleLines = _title.Length > 0 ? 1 : 0,
            columnLines = _columnLabels.Select(l => l.Count).DefaultIfEmpty(0).Max();
        _titleGap = titleLines > 0 && columnLines > 0 ? MathF.Round(0.4f * lineHeight) : 0;
        Top = titleLines + columnLines == 0
            ? 0
            : (int)MathF.Ceiling((titleLines + columnLines) * lineHeight + _titleGap + 2 * _pad);
        Width = Left + Gap + Columns * (CellWidth + Gap);
        Height = Top + Gap + Rows * (CellHeight + Gap);
    }

    public int CellWidth { get; }
    public int CellHeight { get; }
    public IReadOnlyList<int> RowAxes { get; }
    public IReadOnlyList<int> ColumnAxes { get; }
    public int Rows { get; }
    public int Columns { get; }
    /// <summary>The row labels' band, 0 when there are none.</summary>
    public int Left { get; }
    /// <summary>The title's and the column labels' band, 0 when there are none.</summary>
    public int Top { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>The entry of each axis that cell (row, column) shows.</summary>
    public int[] EntriesAt(int row, int column)
    {
        var entries = new int[_axes.Count];
        Spread(RowAxes, row, entries);
        Spread(ColumnAxes, column, entries);
        return entries;
    }

    public Rect CellRect(int row, int column) =>
        new(Left + Gap + column * (CellWidth + Gap), Top + Gap + row * (CellHeight + Gap), CellWidth, CellHeight);

    /// <summary>The sheet, a new picture owned by the caller: each cell's picture from <paramref name="cellAt"/> (given
    /// each axis's entry; borrowed, cell-sized), the labels drawn with the pictures' own font.</summary>
    public Mat Draw(Func<int[], Mat> cellAt)
    {
        ArgumentNullException.ThrowIfNull(cellAt);
        var grid = new Mat(Height, Width, MatType.CV_8UC3, s_background);
        try
        {
            for (int r = 0; r < Rows; r++)
                for (int c = 0; c < Columns; c++)
                {
                    using var roi = new Mat(grid, CellRect(r, c));
                    cellAt(EntriesAt(r, c)).CopyTo(roi);
                }
            var quads = new QuadList(_font);
            float lineHeight = _font.LineHeight(_scale), y0 = _pad;
            if (_title.Length > 0)
            {
                quads.Text(HudLine.Shorten(_font, _title, _scale, Width - 2 * _pad), _pad, y0, _scale, s_title);
                y0 += lineHeight + _titleGap;
            }
            for (int c = 0; c < Columns; c++)
            {
                var cell = CellRect(0, c);
                for (int i = 0; i < _columnLabels[c].Count; i++)
                {
                    var text = HudLine.Shorten(_font, _columnLabels[c][i], _scale, CellWidth - 2 * _pad);
                    quads.Text(text, cell.X + (CellWidth - _font.TextWidth(text, _scale)) / 2, y0 + i * lineHeight,
                        _scale, Rgba.White);
                }
            }
            for (int r = 0; r < Rows; r++)
            {
                var cell = CellRect(r, 0);
                var lines = _rowLabels[r];
                float y = cell.Y + (CellHeight - lines.Count * lineHeight) / 2;
                for (int i = 0; i < lines.Count; i++)
                    quads.Text(HudLine.Shorten(_font, lines[i], _scale, Left - 2 * _pad), _pad, y + i * lineHeight,
                        _scale, Rgba.White);
            }
            QuadRasteriser.Draw(quads, grid);
            return grid;
        }
        catch
        {
            grid.Dispose();
            throw;
        }
    }

    /// <summary>Where a picture of <paramref name="size"/> goes in <paramref name="cell"/>: centred (an image fitted to
    /// the cell keeps its shape, so it may leave bars).</summary>
    public static Rect Centred(Mat cell, Size size)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return new Rect((cell.Width - size.Width) / 2, (cell.Height - size.Height) / 2, size.Width, size.Height);
    }

    /// <summary>A cell whose explanation could not be made: <paramref name="image"/> (borrowed) dimmed in its place,
    /// the reason over the middle.</summary>
    public static void Unavailable(Mat cell, Mat image, string reason)
    {
        ArgumentNullException.ThrowIfNull(cell);
        ArgumentNullException.ThrowIfNull(image);
        using (var place = new Mat(cell, Centred(cell, image.Size()))) image.ConvertTo(place, -1, 0.35);
        Caption(cell, reason);
    }

    /// <summary>A short text over the middle of <paramref name="canvas"/>, in the pictures' font.</summary>
    static void Caption(Mat canvas, string text)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(text);
        var font = GlyphAtlas.Shared;
        float scale = PictureLayout.TextScale(canvas.Width, canvas.Height), pad = PictureLayout.Margin(scale);
        var fitted = HudLine.Shorten(font, text, scale, canvas.Width - 4 * pad);
        float width = font.TextWidth(fitted, scale), height = font.LineHeight(scale);
        float x = (canvas.Width - width) / 2, y = (canvas.Height - height) / 2;
        var quads = new QuadList(font);
        quads.Rectangle(x - pad, y - pad / 2, width + 2 * pad, height + pad, PictureLayout.HudBand);
        quads.Text(fitted, x, y, scale, Rgba.White);
        QuadRasteriser.Draw(quads, canvas);
    }

    List<string> LabelOf(IReadOnlyList<int> axes, int index)
    {
        var entries = new int[_axes.Count];
        Spread(axes, index, entries);
        return axes.SelectMany(a => _axes[a].Labels[entries[a]]).ToList();
    }

    /// <summary>A row's (or column's) number as one entry per axis, the first axis changing slowest.</summary>
    void Spread(IReadOnlyList<int> axes, int index, int[] entries)
    {
        for (int k = axes.Count - 1; k >= 0; k--)
        {
            int n = _axes[axes[k]].Count;
            entries[axes[k]] = index % n;
            index /= n;
        }
    }
}
