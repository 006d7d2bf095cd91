using LiveCam.Core;
using OpenCvSharp;

namespace LiveCam.Drawing;

/// <summary>
/// Describes what a shown frame looks like: the frame with its analysis's heatmap, the HUD (the run's numbers and
/// the analyser's choice), the model's predictions as its head shows them, as the view options say. Every output
/// (window, recordings, snapshots, PNGs, comparison sheets) draws what this describes, with either back end.
/// </summary>
/// <param name="numbers">The pipeline's rates and counts, read once for each picture.</param>
/// <param name="head">How the model's outputs are shown; null when nothing is predicted.</param>
public sealed class PictureComposer(
    IHudNumbersSource numbers, Func<string> describeAnalyser, IPredictionDrawing? head = null)
{
    readonly IHudNumbersSource _numbers = numbers ?? throw new ArgumentNullException(nameof(numbers));
    readonly Func<string> _describe = describeAnalyser ?? throw new ArgumentNullException(nameof(describeAnalyser));

    /// <param name="extraHud">Lines the caller adds to the HUD (the window's state, a notice).</param>
    /// <param name="help">The help panel, when shown.</param>
    public Picture Compose(Frame frame, Analysis? analysis, ViewOptions view, IEnumerable<HudLine>? extraHud = null,
        IReadOnlyList<HelpRow>? help = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(view);
        List<HudLine>? hud = null;
        if (view.ShowHud)
        {
            hud = HudText.Lines(frame, analysis, _numbers.ReadHudNumbers(), _describe(), head);
            if (extraHud is not null) hud.AddRange(extraHud);
        }
        var outputs = analysis?.Outputs is { Count: > 0 } o ? o : null;
        var inset = outputs is null ? null : head?.Inset(outputs, analysis!.ExplainedOutput);
        return Still(frame.Pixels, analysis, view, hud, inset, help) with
        {
            Marks = outputs is null ? null : head?.Marks(outputs, analysis!.ExplainedOutput),
            Caption = view.Legend ? Legend(analysis, view) : null
        };
    }

    /// <summary>One plain sentence saying what the colours mean, naming the class the map explains when it is
    /// one.</summary>
    string? Legend(Analysis? analysis, ViewOptions view)
    {
        if (analysis is { Dream: not null } && view.ShowOverlay)
            return "Dreaming: the network paints into the picture what this layer looks for.";
        if (analysis?.Heatmap is null || !view.ShowOverlay) return null;
        var (high, low) = Colormaps.Words(view.Overlay.Colormap);
        if (analysis.Side is not null)
            return $"One picture, two explanations. {Capital(high)}: what counts most; {low}: what is ignored.";
        var label = analysis.ExplainedOutput is { } k ? head?.Label(k) : null;
        return label is null
            ? $"{Capital(high)} shows where the network looks most; {low}, what it ignores."
            : $"{Capital(high)} shows what made the network say \"{label}\"; {low}, what it ignores.";
    }

    static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>A picture of <paramref name="image"/> with this analysis's heatmap, the given HUD lines and inset
    /// (stills: <c>explain</c>, PNG sheets).</summary>
    public static Picture Still(Mat image, Analysis? analysis, ViewOptions view, IReadOnlyList<HudLine>? hud,
        IInset? inset = null, IReadOnlyList<HelpRow>? help = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(view);
        return new Picture
        {
            Video = image,
            Heatmap = view.ShowOverlay && analysis?.Dream is null ? analysis?.Heatmap : null,
            Dream = view.ShowOverlay ? analysis?.Dream : null,
            HeatmapRegion = analysis?.HeatmapRegion,
            Overlay = view.Overlay,
            Hud = view.ShowHud ? hud : null,
            Inset = view.ShowHud ? inset : null,
            InsetCorner = view.InsetCorner,
            Help = help,
            TextScale = view.TextScale,
            Side = analysis?.Side is { } side
                ? new SidePanel(view.ShowOverlay ? side.Heatmap : null, side.Region, side.LeftLabel, side.RightLabel)
                : null,
        };
    }
}

/// <summary>Draws a shown frame as a recording or a PNG folder stores it.</summary>
public interface IFramePainter
{
    /// <summary>Draws the frame with its analysis into <paramref name="into"/>, the caller's picture (reallocated only
    /// when its size differs); the frame is borrowed.</summary>
    void Paint(Frame frame, Analysis? analysis, Mat into);
}

/// <summary>The frame as the source gave it, nothing drawn over it: a recording that can be analysed again (by other
/// weights, <c>render --manifest</c>) without the network seeing the overlay of the first analysis.</summary>
public sealed class PlainFramePainter : IFramePainter
{
    public void Paint(Frame frame, Analysis? analysis, Mat into)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(into);
        frame.Pixels.CopyTo(into);
    }
}

/// <summary>The live view's picture through a back end: the composer's description, the view options of the
/// moment.</summary>
/// <param name="renderer">Borrowed: its owner disposes it.</param>
public sealed class FramePainter(IPictureRenderer renderer, PictureComposer composer, Func<ViewOptions> view)
    : IFramePainter
{
    public FramePainter(IPictureRenderer renderer, PictureComposer composer)
        : this(renderer, composer, static () => s_default) { }

    static readonly ViewOptions s_default = new();

    public void Paint(Frame frame, Analysis? analysis, Mat into)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(into);
        renderer.Render(composer.Compose(frame, analysis, view()), into);
    }
}
