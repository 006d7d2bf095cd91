using System.Globalization;
using System.Text.RegularExpressions;
using OpenCvSharp;

namespace LiveCam.App.Tests;

public sealed partial class CompareCliTests : IDisposable
{
    const int Gap = 4;
    static readonly Vec3b s_background = new(26, 20, 18);
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-compare-").FullName;

    string Image(string name, int width, int height, int squareX)
    {
        var path = Path.Combine(_dir, name);
        using var image = new Mat(height, width, MatType.CV_8UC3, new Scalar(128, 128, 128));
        Cv2.Rectangle(image, new Rect(squareX * width / 320, height / 4, width / 5, height / 4),
            new Scalar(30, 30, 220), -1);
        Cv2.Circle(image, new Point(width / 2, height * 3 / 4), height / 8, new Scalar(200, 160, 40), -1);
        Cv2.ImWrite(path, image);
        return path;
    }

    /// <summary>The layout the command prints: rows, columns, cell size, label bands.</summary>
    static (int Rows, int Columns, int CellWidth, int CellHeight, int Left, int Top) Layout(string stdout)
    {
        var m = LayoutLine().Match(stdout);
        Assert.True(m.Success, stdout);
        int G(int i) => int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture);
        return (G(1), G(2), G(3), G(4), G(5), G(6));
    }

    [GeneratedRegex(@"(\d+) rows \([^)]*\) x (\d+) columns \([^)]*\) of (\d+)x(\d+) cells; "
        + @"label bands left (\d+) px, top (\d+) px")]
    private static partial Regex LayoutLine();

    static Rect Cell(
        (int Rows, int Columns, int CellWidth, int CellHeight, int Left, int Top) g, int row, int column) =>
        new(g.Left + Gap + column * (g.CellWidth + Gap), g.Top + Gap + row * (g.CellHeight + Gap),
            g.CellWidth, g.CellHeight);

    /// <summary>How many columns of <paramref name="band"/> have a pixel that is not the grid's background: how wide
    /// its text is.</summary>
    static int InkWidth(Mat grid, Rect band)
    {
        int n = 0;
        for (int x = band.X; x < band.Right; x++)
            for (int y = band.Y; y < band.Bottom; y++)
                if (grid.At<Vec3b>(y, x) != s_background) { n++; break; }
        return n;
    }

    [Fact]
    public void Each_cell_is_what_explain_draws_for_its_image_and_method_under_its_own_labels()
    {
        // Two images, one as large as a cell and one twice as large (scaled to fit, as the test scales it for explain);
        // names and methods of different lengths, so swapped labels show as swapped text widths.
        var small = Image("a.png", 320, 240, 40);
        var large = Image("a-much-longer-name.png", 640, 480, 200);
        string[] methods = ["saliency", "guided-backprop"];
        var grid = Path.Combine(_dir, "grid.png");
        var (code, stdout, stderr) = CliRunner.Invoke("compare", "--images", $"{small},{large}", "--models", "robot",
            "--methods", string.Join(',', methods), "--cell", "320x240", "--renderer", "cpu", "--out", grid);
        Assert.True(code == 0, stderr);
        var g = Layout(stdout);
        Assert.Equal((2, 2, 320, 240), (g.Rows, g.Columns, g.CellWidth, g.CellHeight));
        Assert.Contains("2 rows (image) x 2 columns (method)", stdout, StringComparison.Ordinal);
        using var written = Cv2.ImRead(grid);
        Assert.Equal((g.Left + Gap + 2 * (320 + Gap), g.Top + Gap + 2 * (240 + Gap)), (written.Width, written.Height));

        var fitted = Path.Combine(_dir, "fitted.png");
        using (var source = Cv2.ImRead(large))
        using (var resized = new Mat())
        {
            Cv2.Resize(source, resized, new Size(320, 240), interpolation: InterpolationFlags.Area);
            Cv2.ImWrite(fitted, resized);
        }
        string[] explained = [small, fitted];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            {
                var png = Path.Combine(_dir, $"explain-{r}-{c}.png");
                var (ec, _, eerr) = CliRunner.Invoke("explain", "--image", explained[r], "--model", "robot",
                    "--method", methods[c], "--renderer", "cpu", "--out", png);
                Assert.True(ec == 0, eerr);
                using var expected = Cv2.ImRead(png);
                using var cell = new Mat(written, Cell(g, r, c));
                using var difference = new Mat();
                Cv2.Absdiff(cell, expected, difference);
                Assert.True(Cv2.CountNonZero(difference.Reshape(1)) == 0,
                    $"cell ({r}, {c}) differs from explain's {methods[c]} of {Path.GetFileName(explained[r])}");
            }

        // Row labels (image names) in the left band beside their rows; column labels (methods) above theirs.
        var row0 = InkWidth(written, new Rect(0, Cell(g, 0, 0).Y, g.Left, 240));
        var row1 = InkWidth(written, new Rect(0, Cell(g, 1, 0).Y, g.Left, 240));
        Assert.True(row0 > 10 && row1 > 2 * row0, $"row label widths {row0}, {row1}");
        // The top band's lower half: under the title line (which names the model), the column labels.
        var column0 = InkWidth(written, new Rect(Cell(g, 0, 0).X, g.Top / 2, 320, g.Top - g.Top / 2));
        var column1 = InkWidth(written, new Rect(Cell(g, 0, 1).X, g.Top / 2, 320, g.Top - g.Top / 2));
        Assert.True(column0 > 10 && column1 > 1.5 * column0, $"column label widths {column0}, {column1}");
    }

    [Theory]
    [InlineData(false, 1, 2)]
    [InlineData(true, 2, 1)]
    public void A_layer_one_model_lacks_leaves_that_cell_saying_so(bool transpose, int rows, int columns)
    {
        var image = Image("scene.png", 160, 120, 200);
        var grid = Path.Combine(_dir, "models.png");
        string[] args = ["compare", "--images", image, "--models", "robot,resnet18", "--methods", "gradcam",
            "--layers", "encoder.6", "--cell", "160x120", "--renderer", "cpu", "--out", grid];
        var (code, stdout, stderr) = CliRunner.Invoke(transpose ? [.. args, "--transpose"] : args);
        Assert.True(code == 0, stderr);
        Assert.Contains("resnet18 on scene.png, gradcam: encoder.6: not in this model", stdout,
            StringComparison.Ordinal);
        var g = Layout(stdout);
        Assert.Equal((rows, columns), (g.Rows, g.Columns));
        using var written = Cv2.ImRead(grid);
        Assert.Equal((g.Left + Gap + columns * (160 + Gap), g.Top + Gap + rows * (120 + Gap)),
            (written.Width, written.Height));
        // The title names the single image, method and layer.
        Assert.True(InkWidth(written, new Rect(0, 0, written.Width, g.Top)) > 100);
        // The robot's cell has its heatmap; resnet18's is the dimmed image with the reason, darker on average.
        using var robot = new Mat(written, Cell(g, 0, 0));
        using var resnet = new Mat(written, transpose ? Cell(g, 1, 0) : Cell(g, 0, 1));
        Assert.True(Cv2.Mean(resnet).Val1 < Cv2.Mean(robot).Val1 * 0.7, "the missing layer's cell is not dimmed");
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--images", "IMAGE", "--models", "robot", "--methods", "saliency,magic"], "unknown method 'magic'" },
        { ["--images", "IMAGE,/nonexistent.png", "--models", "robot"], "cannot read '/nonexistent.png': no such file" },
        { ["--images", "IMAGE", "--models", "robot,lenet5"], "unknown model 'lenet5'" },
        { ["--images", "IMAGE", "--models", "robot,robot=GARBAGE"], "cannot load weights" },
        { ["--images", "IMAGE", "--models", "robot", "--targets", "all,topk:3"], "a cell shows one explanation" },
        { ["--images", "IMAGE", "--models", "robot", "--layers", "encoder.6,,index:x"], "expected index:N" },
        { ["--images", "IMAGE", "--models", "robot", "--cell", "10x10"], "--cell '10x10'" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_ends_in_one_line_exit_code_2_and_no_file(string[] args, string expected)
    {
        var garbage = Path.Combine(_dir, "garbage.dat");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 999).Select(i => (byte)(i * 13)).ToArray());
        var image = Image("scene.png", 160, 120, 40);
        var grid = Path.Combine(_dir, "bad.png");
        args = ["compare",
            .. args.Select(a => a.Replace("IMAGE", image, StringComparison.Ordinal)
                .Replace("GARBAGE", garbage, StringComparison.Ordinal)),
            "--renderer", "cpu", "--out", grid];
        var (code, _, stderr) = CliRunner.Invoke(args);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.False(File.Exists(grid));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
