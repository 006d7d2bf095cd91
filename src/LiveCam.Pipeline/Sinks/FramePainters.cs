using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Gl;
using OpenCvSharp;

namespace LiveCam.Pipeline.Sinks;

/// <summary>Turns a frame and its analysis into the picture a recording or a PNG folder stores.</summary>
public interface IFramePainter : IDisposable
{
    /// <summary>The picture, in a Mat the painter owns and reuses: valid until the next call.</summary>
    Mat Paint(Frame frame, Analysis? analysis);
}

/// <summary>CPU painting with OpenCV (heatmap blend, HUD text): for machines without OpenGL. The HUD painter stays its owner's.</summary>
public sealed class CpuFramePainter(HudPainter hud) : IFramePainter
{
    readonly Mat _canvas = new();

    public Mat Paint(Frame frame, Analysis? analysis)
    {
        hud.Paint(frame, analysis, _canvas);
        return _canvas;
    }

    public void Dispose() => _canvas.Dispose();
}

/// <summary>
/// The OpenGL compositor drawing offscreen at the frame's size and read back: recordings and PNGs show
/// exactly what the window shows (heatmap, HUD, distance bars). Create, use and dispose on one thread.
/// </summary>
public sealed class GlFramePainter : IFramePainter
{
    readonly EglHeadlessContext _context;
    readonly OverlayCompositor _compositor;
    readonly QuadBatch _batch;
    readonly PipelineMetrics _metrics;
    readonly Func<string> _describe;
    GlFramebuffer? _target;
    Mat? _last;

    /// <exception cref="RenderingUnavailableException">No headless OpenGL here.</exception>
    public GlFramePainter(PipelineMetrics metrics, Func<string> describe)
    {
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _describe = describe ?? throw new ArgumentNullException(nameof(describe));
        _context = new EglHeadlessContext();
        try
        {
            _compositor = new OverlayCompositor(_context.Gl);
            _batch = new QuadBatch(_context.Gl);
        }
        catch
        {
            _compositor?.Dispose();
            _context.Dispose();
            throw;
        }
    }

    public string Renderer => _context.Renderer;
    public bool IsSoftware => _context.IsSoftware;

    public Mat Paint(Frame frame, Analysis? analysis)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (_target is null || _target.Width != frame.Width || _target.Height != frame.Height)
        {
            _target?.Dispose();
            _target = new GlFramebuffer(_context.Gl, frame.Width, frame.Height);
        }
        _target.Bind();
        HudOverlay.Draw(_compositor, _batch, frame, analysis, _metrics, _describe(), frame.Width, frame.Height, flipY: false);
        _last?.Dispose();
        _last = _target.ReadBgr();
        return _last;
    }

    public void Dispose()
    {
        _last?.Dispose();
        _target?.Dispose();
        _batch.Dispose();
        _compositor.Dispose();
        _context.Dispose();
    }
}

/// <summary>What the GPU draws for a frame: video and heatmap, the HUD's lines, the robot's distance bars.
/// The window and the offscreen painter share it, so a recording shows what the window shows.</summary>
public static class HudOverlay
{
    public static void Draw(OverlayCompositor compositor, QuadBatch batch, Frame frame, Analysis? analysis, PipelineMetrics metrics, string analyser,
        int width, int height, bool flipY, bool overlay = true, bool hud = true, IReadOnlyList<string>? extraLines = null)
    {
        ArgumentNullException.ThrowIfNull(compositor);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(frame);
        compositor.Draw(frame.Pixels, overlay ? analysis : null, width, height, flipY);
        float scale = Math.Clamp(width / 900f, 0.8f, 2f);
        if (hud)
        {
            var lines = HudPainter.Lines(frame, analysis, metrics, analyser);
            if (extraLines is not null) lines.AddRange(extraLines);
            TextBlock(batch, lines, 6, 6, scale);
            if (analysis is { Kind: PredictionKind.RobotProximity, Outputs.Count: 325 })
            {
                var prediction = new RobotPrediction(analysis.Outputs);
                float barW = Math.Min(150, width * 0.18f), barH = Math.Min(height * 0.5f, 300);
                ProximityBars.Add(batch, (width - barW - 12, height - barH - 12, barW, barH), prediction.Probability, prediction.FreeDistances());
            }
        }
        batch.Flush(width, height, flipY);
    }

    public static void TextBlock(QuadBatch batch, IReadOnlyList<string> lines, float x, float y, float scale)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(lines);
        float lineHeight = batch.LineHeight(scale);
        float width = lines.Max(l => batch.TextWidth(l, scale)) + 12;
        batch.Rectangle(x, y, width, lineHeight * lines.Count + 6, (0, 0, 0, 0.55f));
        for (int i = 0; i < lines.Count; i++)
            batch.Text(lines[i], x + 6, y + 3 + i * lineHeight, scale, (1, 1, 1, 1));
    }
}
