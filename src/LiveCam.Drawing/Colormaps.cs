using OpenCvSharp;

namespace LiveCam.Drawing;

public enum Colormap { Jet, Turbo, Viridis, Inferno }

/// <summary>
/// The heatmap colormaps: OpenCV's 256-entry tables (the CPU overlay uses the same ones), interpolated linearly
/// between entries. The GPU reads them from one texture, a row per map, with the same interpolation.
/// </summary>
public static class Colormaps
{
    public static readonly Colormap[] All = [Colormap.Jet, Colormap.Turbo, Colormap.Viridis, Colormap.Inferno];
    static readonly Lazy<float[]> s_table = new(Build);

    /// <summary>RGB floats in [0, 1]: <see cref="All"/>.Length rows of 256 entries, row-major.</summary>
    public static float[] Table => s_table.Value;

    /// <summary>The map's colours in words: the strongest values', the weakest's (for a legend).</summary>
    public static (string High, string Low) Words(Colormap map) => map switch
    {
        Colormap.Viridis => ("yellow", "purple"),
        Colormap.Inferno => ("bright yellow", "dark"),
        _ => ("red", "blue"),
    };

    public static ColormapTypes OpenCvType(Colormap map) => map switch
    {
        Colormap.Turbo => ColormapTypes.Turbo,
        Colormap.Viridis => ColormapTypes.Viridis,
        Colormap.Inferno => ColormapTypes.Inferno,
        _ => ColormapTypes.Jet,
    };

    static float[] Build()
    {
        var table = new float[All.Length * 256 * 3];
        using var ramp = new Mat(1, 256, MatType.CV_8UC1);
        for (int i = 0; i < 256; i++) ramp.Set(0, i, (byte)i);
        using var colours = new Mat();
        for (int row = 0; row < All.Length; row++)
        {
            Cv2.ApplyColorMap(ramp, colours, OpenCvType(All[row]));
            for (int i = 0; i < 256; i++)
            {
                var bgr = colours.At<Vec3b>(0, i);
                int o = (row * 256 + i) * 3;
                (table[o], table[o + 1], table[o + 2]) = (bgr.Item2 / 255f, bgr.Item1 / 255f, bgr.Item0 / 255f);
            }
        }
        return table;
    }

    /// <summary>The colour of <paramref name="t"/> in [0, 1] (RGB in [0, 1]), as the shader computes it.</summary>
    public static (double R, double G, double B) Evaluate(Colormap map, double t)
    {
        double x = Math.Clamp(t, 0, 1) * 255;
        int i = Math.Min(254, (int)Math.Floor(x));
        double f = x - i;
        var table = Table;
        int o = ((int)map * 256 + i) * 3;
        double Lerp(int c) => table[o + c] * (1 - f) + table[o + 3 + c] * f;
        return (Lerp(0), Lerp(1), Lerp(2));
    }
}
