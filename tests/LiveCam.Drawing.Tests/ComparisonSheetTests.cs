using OpenCvSharp;

namespace LiveCam.Drawing.Tests;

public sealed class ComparisonSheetTests
{
    static ComparisonAxis Axis(string name, params string[] entries) =>
        new(name, entries.Select(e => (IReadOnlyList<string>)[e]).ToList());

    /// <summary>Two images by three methods, one model named (the title), a layer left to its default.</summary>
    static List<ComparisonAxis> Axes() =>
    [
        Axis("model", "robot"),
        Axis("image", "cat.jpg", "dog.jpg"),
        Axis("method", "gradcam", "saliency", "rise"),
        new("layer", [["layer: each model's default"]], Given: false),
    ];

    [Fact]
    public void The_last_varying_axis_runs_along_the_columns_the_others_down_the_rows_and_transpose_swaps_them()
    {
        var sheet = new ComparisonSheet(Axes(), 200, 150, transpose: false);
        Assert.Equal([1], sheet.RowAxes);
        Assert.Equal([2], sheet.ColumnAxes);
        Assert.Equal((2, 3), (sheet.Rows, sheet.Columns));
        Assert.Equal([0, 1, 2, 0], sheet.EntriesAt(1, 2));
        var transposed = new ComparisonSheet(Axes(), 200, 150, transpose: true);
        Assert.Equal((3, 2), (transposed.Rows, transposed.Columns));
        Assert.Equal([0, 1, 2, 0], transposed.EntriesAt(2, 1));
    }

    [Fact]
    public void Its_size_is_the_bands_and_the_cells_each_gap_pixels_apart()
    {
        var sheet = new ComparisonSheet(Axes(), 200, 150, transpose: false);
        Assert.True(sheet.Left > 0 && sheet.Top > 0);
        Assert.Equal(sheet.Left + ComparisonSheet.Gap + 3 * (200 + ComparisonSheet.Gap), sheet.Width);
        Assert.Equal(sheet.Top + ComparisonSheet.Gap + 2 * (150 + ComparisonSheet.Gap), sheet.Height);
        Assert.Equal(
            new Rect(sheet.Left + ComparisonSheet.Gap + 204, sheet.Top + ComparisonSheet.Gap + 154, 200, 150),
            sheet.CellRect(1, 1));
        // One cell, nothing named: no bands at all.
        var single = new ComparisonSheet([Axis("image", "cat.jpg") with { Given = false }], 200, 150, transpose: false);
        Assert.Equal(
            (0, 0, 204 + ComparisonSheet.Gap, 154 + ComparisonSheet.Gap),
            (single.Left, single.Top, single.Width, single.Height));
    }

    [Fact]
    public void Each_cell_is_copied_to_its_place_and_the_labels_are_drawn_in_the_bands()
    {
        var sheet = new ComparisonSheet(Axes(), 100, 80, transpose: false);
        var cells = new Dictionary<(int, int), Mat>();
        try
        {
            using var picture = sheet.Draw(e =>
                cells[(e[1], e[2])] = new Mat(80, 100, MatType.CV_8UC3, Scalar.All(40 + 30 * e[1] + 60 * e[2])));
            Assert.Equal((sheet.Width, sheet.Height), (picture.Width, picture.Height));
            for (int r = 0; r < sheet.Rows; r++)
                for (int c = 0; c < sheet.Columns; c++)
                {
                    using var placed = new Mat(picture, sheet.CellRect(r, c));
                    Assert.Equal(0, Cv2.Norm(placed, cells[(r, c)], NormTypes.INF));
                }
            // The bands have text in them: pixels brighter than their dark background.
            using (var top = new Mat(picture, new Rect(0, 0, picture.Width, sheet.Top)))
            using (var grey = top.CvtColor(ColorConversionCodes.BGR2GRAY))
            {
                Cv2.MinMaxLoc(grey, out _, out double brightest);
                Assert.True(brightest > 150, "no labels in the top band");
            }
            using (var left = new Mat(picture, new Rect(0, sheet.Top, sheet.Left, picture.Height - sheet.Top)))
            using (var grey = left.CvtColor(ColorConversionCodes.BGR2GRAY))
            {
                Cv2.MinMaxLoc(grey, out _, out double brightest);
                Assert.True(brightest > 150, "no labels in the left band");
            }
        }
        finally
        {
            foreach (var cell in cells.Values) cell.Dispose();
        }
    }

    [Fact]
    public void A_cell_that_could_not_be_explained_shows_its_image_dimmed_and_the_reason_over_it()
    {
        using var cell = new Mat(120, 160, MatType.CV_8UC3, Scalar.Black);
        using var image = new Mat(90, 160, MatType.CV_8UC3, Scalar.All(200));
        ComparisonSheet.Unavailable(cell, image, "layer4: not in this model");
        var place = ComparisonSheet.Centred(cell, image.Size());
        Assert.Equal(new Rect(0, 15, 160, 90), place);
        Assert.Equal(new Vec3b(70, 70, 70), cell.At<Vec3b>(place.Y + 2, 2));  // 200 x 0.35
        Assert.Equal(new Vec3b(0, 0, 0), cell.At<Vec3b>(5, 80));  // the bars above and below stay as they were
    }
}
