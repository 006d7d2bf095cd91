using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Pipeline.Sinks;
using LiveCam.Rendering.Contexts;
using OpenCvSharp;

namespace LiveCam.App.Commands;

/// <summary>
/// Draws one picture with its explanation for the PNGs of <c>explain</c> and <c>robustness</c>: through the
/// live view's OpenGL renderer, headless (so a PNG shows what the window shows), or with OpenCV on the CPU
/// where there is no OpenGL or <c>--renderer cpu</c> asks for it.
/// </summary>
internal sealed class StillPainter : IDisposable
{
    /// <summary>What the next picture is drawn with; the GL painter reads it on its render thread while Paint waits.</summary>
    sealed class DecorationSlot
    {
        public FrameDecorations Value { get; set; } = new(null);
    }

    readonly GlFramePainter? _gl;
    readonly DecorationSlot _slot;
    readonly HeatmapOverlay _cpu = new();

    StillPainter(GlFramePainter? gl, DecorationSlot slot)
    {
        _gl = gl;
        _slot = slot;
    }

    /// <param name="renderer">auto (OpenGL when there is one), gl (OpenGL or fail), cpu.</param>
    public static StillPainter Create(string renderer, TextWriter output)
    {
        var slot = new DecorationSlot();
        if (renderer == "cpu") return new StillPainter(null, slot);
        try
        {
            var gl = new GlFramePainter((_, _) => slot.Value);
            output.WriteLine($"drawn by OpenGL: {gl.Renderer}");
            return new StillPainter(gl, slot);
        }
        catch (RenderingUnavailableException e) when (renderer == "auto")
        {
            output.WriteLine($"drawn on the CPU (no OpenGL: {e.Message})");
            return new StillPainter(null, slot);
        }
        catch (RenderingUnavailableException e)
        {
            throw new UsageException($"--renderer gl: {e.Message}", e);
        }
    }

    /// <summary>The image with the analysis's heatmap, the caption top-left and, with <paramref name="predictions"/>,
    /// the distance bars or top labels; a new Mat owned by the caller.</summary>
    public Mat Paint(Mat image, Analysis analysis, IReadOnlyList<string>? caption, bool predictions)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(analysis);
        if (_gl is not null)
        {
            _slot.Value = new FrameDecorations(caption, Overlay: true, Predictions: predictions);
            using var frame = new Frame(image.Clone(), analysis.FrameSequence, TimeSpan.Zero, "still");
            return _gl.Paint(frame, analysis).Clone();
        }
        var canvas = image.Clone();
        _cpu.Blend(canvas, analysis);
        if (caption is not null) Caption(canvas, caption);
        if (predictions && analysis is { Kind: PredictionKind.RobotProximity, Outputs: { } outputs })
        {
            // The paper's picture of the prediction, beside the image.
            using var grid = ProximityGridPainter.Panel(new RobotPrediction(outputs), canvas.Height);
            var both = new Mat();
            Cv2.HConcat([canvas, grid], both);
            canvas.Dispose();
            return both;
        }
        return canvas;
    }

    static void Caption(Mat image, IReadOnlyList<string> lines)
    {
        double scale = Math.Clamp(image.Width / 900.0, 0.35, 1.0);
        int lineHeight = (int)(22 * scale) + 4, y = lineHeight;
        foreach (var line in lines)
        {
            Cv2.PutText(image, line, new Point(6, y), HersheyFonts.HersheySimplex, scale, Scalar.Black, 3, LineTypes.AntiAlias);
            Cv2.PutText(image, line, new Point(6, y), HersheyFonts.HersheySimplex, scale, Scalar.White, 1, LineTypes.AntiAlias);
            y += lineHeight;
        }
    }

    public void Dispose()
    {
        _gl?.Dispose();
        _cpu.Dispose();
    }
}
