using OpenCvSharp;

namespace LiveCam.Drawing.Tests;

public class ColormapTests
{
    [Theory]
    [InlineData(Colormap.Jet)]
    [InlineData(Colormap.Turbo)]
    [InlineData(Colormap.Viridis)]
    [InlineData(Colormap.Inferno)]
    public void Each_colormap_is_OpenCVs_table_at_its_entries(Colormap map)
    {
        using var ramp = new Mat(1, 256, MatType.CV_8UC1);
        for (int i = 0; i < 256; i++) ramp.Set(0, i, (byte)i);
        using var table = new Mat();
        Cv2.ApplyColorMap(ramp, table, Colormaps.OpenCvType(map));
        foreach (var i in new[] { 0, 17, 128, 200, 255 })
        {
            var bgr = table.At<Vec3b>(0, i);
            var (r, g, b) = Colormaps.Evaluate(map, i / 255.0);
            Assert.Equal(
                (bgr.Item2, bgr.Item1, bgr.Item0),
                ((int)Math.Round(r * 255), (int)Math.Round(g * 255), (int)Math.Round(b * 255)));
        }
    }

    [Fact]
    public void Between_entries_colours_are_interpolated_and_the_ends_clamp()
    {
        var (r0, _, _) = Colormaps.Evaluate(Colormap.Inferno, 100 / 255.0);
        var (r1, _, _) = Colormaps.Evaluate(Colormap.Inferno, 101 / 255.0);
        var (rm, _, _) = Colormaps.Evaluate(Colormap.Inferno, 100.5 / 255.0);
        Assert.Equal((r0 + r1) / 2, rm, 6);
        Assert.Equal(Colormaps.Evaluate(Colormap.Jet, 1), Colormaps.Evaluate(Colormap.Jet, 7));
        Assert.Equal(Colormaps.Evaluate(Colormap.Jet, 0), Colormaps.Evaluate(Colormap.Jet, -1));
    }
}
