using LiveCam.Core;
using LiveCam.Models.Robot;
using LiveCam.Rendering;
using LiveCam.Rendering.Contexts;
using LiveCam.Rendering.Gl;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace LiveCam.Pipeline.Sinks;

/// <summary>What is drawn over the video besides the heatmap.</summary>
/// <param name="HudLines">The HUD's text, top-left; null hides it.</param>
/// <param name="Overlay">Whether the heatmap is drawn.</param>
/// <param name="Predictions">Whether the model's predictions are drawn (distance bars, top labels).</param>
/// <param name="Centred">A text block in the middle (the help); null for none.</param>
public sealed record FrameDecorations(IReadOnlyList<string>? HudLines, bool Overlay = true, bool Predictions = true, IReadOnlyList<string>? Centred = null);

/// <summary>
/// Draws a shown frame with OpenGL: the video with its heatmap (<see cref="OverlayCompositor"/>), the HUD text,
/// the robot's distance bars or a classifier's top labels. The window, recordings, snapshots and <c>explain</c>
/// all draw through this, so each shows the same picture. Use on the thread that owns the GL context.
/// </summary>
public sealed class GlFrameRenderer : IDisposable
{
    readonly GL _gl;
    readonly OverlayCompositor _compositor;
    readonly QuadBatch _batch;
    GlFramebuffer? _offscreen;
    readonly Mat _readback = new();
    bool _disposed;

    /// <param name="context">A window or headless context, current on this thread.</param>
    public GlFrameRenderer(IGlContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _gl = context.Gl;
        _compositor = new OverlayCompositor(_gl);
        try { _batch = new QuadBatch(_gl); }
        catch
        {
            _compositor.Dispose();
            throw;
        }
    }

    public OverlayOptions Options
    {
        get => _compositor.Options;
        set => _compositor.Options = value;
    }

    /// <summary>Draws into the bound framebuffer, <paramref name="width"/> x <paramref name="height"/>
    /// (<paramref name="flipY"/> for a window's bottom-up framebuffer).</summary>
    public void Draw(Mat pixels, Analysis? analysis, FrameDecorations decorations, int width, int height, bool flipY)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(decorations);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _compositor.Draw(pixels, decorations.Overlay ? analysis : null, width, height, flipY);
        float scale = Math.Clamp(width / 900f, 0.8f, 2f);
        if (decorations.HudLines is { Count: > 0 } lines) TextBlock(lines, 6, 6, scale);
        if (decorations.Predictions && analysis is not null) AddPredictions(analysis, width, height, scale);
        if (decorations.Centred is { Count: > 0 } centred)
        {
            float w = BlockWidth(centred, scale), h = _batch.LineHeight(scale) * centred.Count + 6;
            TextBlock(centred, Math.Max(0, (width - w) / 2), Math.Max(0, (height - h) / 2), scale);
        }
        _batch.Flush(width, height, flipY);
    }

    void AddPredictions(Analysis analysis, int width, int height, float scale)
    {
        if (analysis is { Kind: PredictionKind.RobotProximity, Outputs.Count: LongRangePerceptionNet.Outputs })
        {
            // An inset in the bottom-right corner, clear of the centre of the image.
            var prediction = new RobotPrediction(analysis.Outputs);
            float barW = Math.Min(150, width * 0.18f), barH = Math.Min(height * 0.5f, 300);
            ProximityBars.Add(_batch, (width - barW - 12, height - barH - 12, barW, barH), prediction.Probability, prediction.FreeDistances());
        }
        else if (analysis.Kind == PredictionKind.Classifier)
        {
            var rows = PredictionSummary.TopClasses(analysis, 5).Select(t => new LabelRow(t.Label, t.Probability, t.Explained)).ToList();
            if (rows.Count == 0) return;
            var size = TopLabels.Size(_batch, rows, scale);
            TopLabels.Add(_batch, (width - size.Width - 12, height - size.Height - 12), rows, scale);
        }
    }

    float BlockWidth(IReadOnlyList<string> lines, float scale) => KeyColumn(lines, scale) + lines.Max(l => _batch.TextWidth(l[(l.IndexOf('\t', StringComparison.Ordinal) + 1)..], scale)) + 12;

    /// <summary>Lines with a tab are two columns (the help's keys and what they do): the second starts where the widest first part ends.</summary>
    float KeyColumn(IReadOnlyList<string> lines, float scale)
    {
        float widest = 0;
        foreach (var line in lines)
        {
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab >= 0) widest = Math.Max(widest, _batch.TextWidth(line[..tab], scale));
        }
        return widest == 0 ? 0 : widest + 16 * scale;
    }

    void TextBlock(IReadOnlyList<string> lines, float x, float y, float scale)
    {
        float lineHeight = _batch.LineHeight(scale);
        float column = KeyColumn(lines, scale);
        _batch.Rectangle(x, y, BlockWidth(lines, scale), lineHeight * lines.Count + 6, (0, 0, 0, 0.55f));
        for (int i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            float rowY = y + 3 + i * lineHeight;
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0) _batch.Text(line, x + 6, rowY, scale, (1, 1, 1, 1));
            else
            {
                _batch.Text(line[..tab], x + 6, rowY, scale, (1, 0.85f, 0.4f, 1));
                _batch.Text(line[(tab + 1)..], x + 6 + column, rowY, scale, (1, 1, 1, 1));
            }
        }
    }

    /// <summary>Draws offscreen at the image's own size and reads the picture back (BGR, top row first).
    /// The Mat is this renderer's and is reused: valid until the next call.</summary>
    public Mat Render(Mat pixels, Analysis? analysis, FrameDecorations decorations)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_offscreen is null || _offscreen.Width != pixels.Width || _offscreen.Height != pixels.Height)
        {
            _offscreen?.Dispose();
            _offscreen = new GlFramebuffer(_gl, pixels.Width, pixels.Height);
        }
        _offscreen.Bind();
        Draw(pixels, analysis, decorations, pixels.Width, pixels.Height, flipY: false);
        _offscreen.ReadBgr(_readback);
        return _readback;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _readback.Dispose();
        _offscreen?.Dispose();
        _batch.Dispose();
        _compositor.Dispose();
    }
}
