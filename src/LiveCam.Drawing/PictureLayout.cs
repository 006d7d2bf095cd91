namespace LiveCam.Drawing;

/// <summary>
/// Where the HUD, the inset and the help go in a target of a given size, as quads. Everything scales with the
/// target, so a 320x240 frame and a 4K one show the same layout: the HUD keeps to the top-left quarter of the height,
/// its lines abbreviated to the width; the inset sits in its corner, clear of the HUD.
/// </summary>
public static class PictureLayout
{
    /// <summary>The most of the target's height the HUD may cover.</summary>
    public const float HudHeightShare = 0.26f;

    public static readonly Rgba HudBand = new(0, 0, 0, 0.55f), HelpPanel = new(0.07f, 0.08f, 0.1f, 1f),
        HelpKey = new(1, 0.85f, 0.4f);

    /// <summary>Text scale (1 = the atlas's own size, about 20 px a line) for a target of this size: grows
    /// more slowly than the target, so small frames keep readable text and big ones do not shout.</summary>
    public static float TextScale(int targetWidth, int targetHeight)
    {
        double size = Math.Min(targetHeight / 480.0, targetWidth / 640.0);
        return (float)Math.Clamp(0.9 * Math.Pow(Math.Max(size, 1e-3), 0.6), 0.5, 2.6);
    }

    public static readonly Rgba ModelRegionOutline = new(1, 1, 1, 0.7f);

    /// <summary>Where a frame of this size lands in a target of that size, keeping its aspect ratio (x, y from the
    /// top-left).</summary>
    public static (float X, float Y, float Width, float Height) Letterbox(
        int frameWidth, int frameHeight, int targetWidth, int targetHeight)
    {
        float scale = Math.Min(targetWidth / (float)frameWidth, targetHeight / (float)frameHeight);
        float w = frameWidth * scale, h = frameHeight * scale;
        return ((targetWidth - w) / 2, (targetHeight - h) / 2, w, h);
    }

    /// <summary>Where the frame is drawn: once, letterboxed to the target; side by side, twice, each letterboxed to its
    /// half, the right one with the side's heatmap.</summary>
    public static IReadOnlyList<Panel> Panels(Picture picture, int targetWidth, int targetHeight)
    {
        ArgumentNullException.ThrowIfNull(picture);
        int fw = picture.Video.Width, fh = picture.Video.Height;
        if (picture.Side is not { } side)
        {
            var (x, y, w, h) = Letterbox(fw, fh, targetWidth, targetHeight);
            return [new Panel(x, y, w, h, picture.Heatmap, picture.HeatmapRegion)];
        }
        int half = targetWidth / 2;
        var (lx, ly, lw, lh) = Letterbox(fw, fh, half, targetHeight);
        var (rx, ry, rw, rh) = Letterbox(fw, fh, targetWidth - half, targetHeight);
        return [new Panel(MathF.Round(lx), MathF.Round(ly), MathF.Round(lw), MathF.Round(lh),
                picture.Heatmap, picture.HeatmapRegion),
            new Panel(half + MathF.Round(rx), MathF.Round(ry), MathF.Round(rw), MathF.Round(rh),
                side.Heatmap, side.HeatmapRegion)];
    }

    /// <summary>The text scale a picture is drawn with in a target of this size.</summary>
    public static float TextScale(Picture picture, int targetWidth, int targetHeight)
    {
        ArgumentNullException.ThrowIfNull(picture);
        return TextScale(targetWidth, targetHeight) * Math.Clamp(picture.TextScale, 0.25f, 4f);
    }

    /// <summary>Margin from the target's edges, in pixels.</summary>
    public static float Margin(float scale) => MathF.Round(Math.Max(3, 6 * scale));

    /// <summary>Adds the picture's HUD, inset and help for a target of <paramref name="width"/> x
    /// <paramref name="height"/>.</summary>
    public static void Build(Picture picture, int width, int height, QuadList quads)
    {
        ArgumentNullException.ThrowIfNull(picture);
        ArgumentNullException.ThrowIfNull(quads);
        float scale = TextScale(picture, width, height), margin = Margin(scale);
        var panels = Panels(picture, width, height);
        // Where the HUD will be, so a box's label is not hidden under it.
        var hudArea = picture.Hud is { Count: > 0 } shownHud
            ? HudBandEdges(shownHud, width, height, scale, margin, quads.Font)
            : (Right: 0f, Bottom: 0f);
        foreach (var panel in panels)
        {
            AddModelRegion(picture, panel, scale, quads);
            if (picture.Marks is { } marks) AddMarks(marks, picture, panel, scale, hudArea, quads);
        }
        float captionTop = picture.Caption is { Length: > 0 } caption
            ? AddCaption(caption, width, height, scale, quads)
            : height;
        if (picture.Side is { } side)
        {
            AddPanelLabel(side.LeftLabel, panels[0], scale, quads);
            AddPanelLabel(side.RightLabel, panels[1], scale, quads);
        }
        var hudBand = (Right: 0f, Bottom: 0f);
        if (picture.Hud is { Count: > 0 } hud) hudBand = AddHud(hud, width, height, scale, margin, quads);
        // Above the caption's band, when there is one.
        if (picture.Inset is { } inset)
            AddInset(inset, picture.InsetCorner, width, (int)captionTop, margin, scale, hudBand, quads);
        if (picture.Help is { Count: > 0 } help)
            AddHelp(help, width, height, Math.Min(scale, TextScale(width, height)), quads);
    }

    public static readonly Rgba CaptionBand = new(0, 0, 0, 0.7f), PanelLabelBand = new(0, 0, 0, 0.6f);

    /// <summary>The caption: one sentence centred in a band along the bottom, its text shrunk to fit the
    /// width.</summary>
    /// <returns>The top of the band.</returns>
    static float AddCaption(string caption, int width, int height, float scale, QuadList quads)
    {
        var font = quads.Font;
        float pad = HudPad(scale) * 2;
        float s = Math.Min(scale, (width - 2 * pad) / Math.Max(1, font.TextWidth(caption, 1)));
        float line = font.LineHeight(s), top = height - line - 2 * pad;
        quads.Rectangle(0, top, width, line + 2 * pad, CaptionBand);
        quads.Text(caption, MathF.Round((width - font.TextWidth(caption, s)) / 2), top + pad, s, Rgba.White);
        return top;
    }

    /// <summary>What a side-by-side half shows, centred at its top (clear of the caption and the inset at the
    /// bottom).</summary>
    static void AddPanelLabel(string label, Panel panel, float scale, QuadList quads)
    {
        if (label.Length == 0) return;
        var font = quads.Font;
        float pad = HudPad(scale);
        float s = Math.Min(scale, (panel.Width - 2 * pad) / Math.Max(1, font.TextWidth(label, 1)));
        float textWidth = font.TextWidth(label, s), line = font.LineHeight(s);
        float y = panel.Y + Margin(scale);
        float x = MathF.Round(panel.X + (panel.Width - textWidth) / 2 - pad);
        quads.Rectangle(x, y, textWidth + 2 * pad, line + 2 * pad, PanelLabelBand);
        quads.Text(label, x + pad, y + pad, s, Rgba.White);
    }

    /// <summary>An outline around the part of the frame the model sees, when that is less than the whole frame (a
    /// centre crop): what is outside it is not explained.</summary>
    static void AddModelRegion(Picture picture, Panel panel, float scale, QuadList quads)
    {
        if (panel.HeatmapRegion is not { } r) return;
        int fw = picture.Video.Width, fh = picture.Video.Height;
        if (r.X <= 0 && r.Y <= 0 && r.X + r.Width >= fw && r.Y + r.Height >= fh)
            return;  // all of the frame (or more: padded)
        var (x, y, w, h) = (panel.X, panel.Y, panel.Width, panel.Height);
        float sx = w / fw, sy = h / fh;
        float x0 = x + Math.Max(0, r.X) * sx, y0 = y + Math.Max(0, r.Y) * sy;
        float x1 = x + Math.Min(fw, r.X + r.Width) * sx, y1 = y + Math.Min(fh, r.Y + r.Height) * sy;
        quads.Outline(x0, y0, x1 - x0, y1 - y0, Math.Max(1, MathF.Round(scale * 1.5f)), ModelRegionOutline);
    }

    /// <summary>Translucent enough that the heatmap and the picture show through a mask.</summary>
    public const float MaskOpacity = 0.45f;

    public static readonly Rgba ExplainedBox = new(1f, 0.85f, 0.1f), BoxLabelBand = new(0, 0, 0, 0.65f);

    /// <summary>A detector's boxes (label and score above each, keypoints as dots, the explained one thicker and
    /// yellow) and a segmenter's mask (a quad per run of one class along a row), over the part of the frame the model
    /// sees, clipped to the panel.</summary>
    /// <param name="hudArea">The HUD band's right and bottom edges (from the top-left): a label that would lie under
    /// it goes below its box instead.</param>
    static void AddMarks(SceneMarks marks, Picture picture, Panel panel, float scale,
        (float Right, float Bottom) hudArea, QuadList quads)
    {
        int fw = picture.Video.Width, fh = picture.Video.Height;
        var r = picture.HeatmapRegion ?? new Core.PixelRect(0, 0, fw, fh);
        float sx = panel.Width / fw, sy = panel.Height / fh;
        // Fractions of the model's view to target pixels.
        float X(float f) => panel.X + (r.X + f * r.Width) * sx;
        float Y(float f) => panel.Y + (r.Y + f * r.Height) * sy;
        float left = panel.X, top = panel.Y, right = panel.X + panel.Width, bottom = panel.Y + panel.Height;
        void Clipped(float x0, float y0, float x1, float y1, Rgba colour)
        {
            x0 = Math.Max(x0, left); y0 = Math.Max(y0, top); x1 = Math.Min(x1, right); y1 = Math.Min(y1, bottom);
            if (x1 > x0 && y1 > y0) quads.Rectangle(x0, y0, x1 - x0, y1 - y0, colour);
        }
        if (marks.Mask is { } mask)
        {
            for (int row = 0; row < mask.Height; row++)
            {
                float y0 = Y(row / (float)mask.Height), y1 = Y((row + 1) / (float)mask.Height);
                for (int start = 0; start < mask.Width;)
                {
                    byte c = mask.Classes[row * mask.Width + start];
                    int end = start + 1;
                    while (end < mask.Width && mask.Classes[row * mask.Width + end] == c) end++;
                    var colour = c < mask.Palette.Count ? mask.Palette[c] : default;
                    if (colour.A > 0)
                        Clipped(X(start / (float)mask.Width), y0, X(end / (float)mask.Width), y1,
                            colour with { A = colour.A * MaskOpacity });
                    start = end;
                }
            }
        }
        var font = quads.Font;
        float thin = Math.Max(1, MathF.Round(2 * scale)), thick = Math.Max(2, MathF.Round(4 * scale));
        float dot = Math.Max(2, MathF.Round(4 * scale)), textScale = scale * 0.8f, pad = HudPad(textScale);
        // The explained box last, so it is drawn over the others.
        foreach (var box in marks.Boxes.OrderBy(b => b.Explained))
        {
            float x0 = X(box.X0), y0 = Y(box.Y0), x1 = X(box.X1), y1 = Y(box.Y1);
            var colour = box.Explained ? ExplainedBox : box.Colour;
            float t = box.Explained ? thick : thin;
            Clipped(x0, y0, x1, y0 + t, colour);
            Clipped(x0, y1 - t, x1, y1, colour);
            Clipped(x0, y0, x0 + t, y1, colour);
            Clipped(x1 - t, y0, x1, y1, colour);
            for (int k = 0; k + 1 < box.Keypoints.Count; k += 2)
            {
                float kx = X(box.Keypoints[k]), ky = Y(box.Keypoints[k + 1]);
                Clipped(kx - dot / 2, ky - dot / 2, kx + dot / 2, ky + dot / 2, colour);
            }
            if (box.Text.Length == 0) continue;
            // The label sits on the box's top edge, inside the panel.
            float w = font.TextWidth(box.Text, textScale) + 2 * pad, h = font.LineHeight(textScale) + pad;
            float lx = Math.Clamp(x0, left, Math.Max(left, right - w));
            float ly = Math.Clamp(y0 - h, top, Math.Max(top, bottom - h));
            if (lx < hudArea.Right && ly < hudArea.Bottom) ly = Math.Max(ly, Math.Min(y1, bottom - h));
            if (lx + w > right || ly + h > bottom) continue;
            quads.Rectangle(lx, ly, w, h, BoxLabelBand);
            quads.Text(box.Text, lx + pad, ly + pad / 2, textScale, colour with { A = 1 });
        }
    }

    /// <summary>The lines the HUD shows in this target: by rank while they fit its share of the height, in their own
    /// order.</summary>
    public static IReadOnlyList<string> HudText(IReadOnlyList<HudLine> lines, int width, int height, GlyphAtlas font)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(font);
        float scale = TextScale(width, height), margin = Margin(scale);
        return FitHud(lines, width, height, scale, margin, font);
    }

    static List<string> FitHud(
        IReadOnlyList<HudLine> lines, int width, int height, float scale, float margin, GlyphAtlas font)
    {
        float pad = HudPad(scale);
        int room = Math.Max(1, (int)((height * HudHeightShare - margin - 2 * pad) / font.LineHeight(scale)));
        var shown = lines.Select((line, i) => (line, i))
            .OrderBy(t => t.line.Rank).ThenBy(t => t.i)
            .Take(room)
            .OrderBy(t => t.i);
        float textWidth = width - 2 * margin - 2 * pad;
        return shown.Select(t => t.line.Fit(font, scale, textWidth)).Where(t => t.Length > 0).ToList();
    }

    static float HudPad(float scale) => MathF.Round(Math.Max(2, 4 * scale));

    /// <summary>The right and bottom edges of the band <see cref="AddHud"/> draws for these lines.</summary>
    static (float Right, float Bottom) HudBandEdges(
        IReadOnlyList<HudLine> lines, int width, int height, float scale, float margin, GlyphAtlas font)
    {
        var text = FitHud(lines, width, height, scale, margin, font);
        if (text.Count == 0) return (0, 0);
        float pad = HudPad(scale);
        return (margin + text.Max(t => font.TextWidth(t, scale)) + 2 * pad,
            margin + text.Count * font.LineHeight(scale) + 2 * pad);
    }

    /// <returns>The right and bottom edges of the HUD's band.</returns>
    static (float Right, float Bottom) AddHud(
        IReadOnlyList<HudLine> lines, int width, int height, float scale, float margin, QuadList quads)
    {
        var font = quads.Font;
        var text = FitHud(lines, width, height, scale, margin, font);
        if (text.Count == 0) return (0, 0);
        float pad = HudPad(scale), line = font.LineHeight(scale);
        float bandWidth = text.Max(t => font.TextWidth(t, scale)) + 2 * pad, bandHeight = text.Count * line + 2 * pad;
        quads.Rectangle(margin, margin, bandWidth, bandHeight, HudBand);
        for (int i = 0; i < text.Count; i++)
            quads.Text(text[i], margin + pad, margin + pad + i * line, scale, Rgba.White);
        return (margin + bandWidth, margin + bandHeight);
    }

    /// <summary>Where an inset of this size lands: its corner, inside the margin; in a top corner, below the HUD's band
    /// (right and bottom edges) when it would cover it.</summary>
    public static (float X, float Y) InsetOrigin(Corner corner, float insetWidth, float insetHeight, int width,
        int height, float margin, (float Right, float Bottom) hudBand)
    {
        float left = margin, right = width - insetWidth - margin, top = margin, bottom = height - insetHeight - margin;
        float belowHud = hudBand.Bottom + margin;
        return corner switch
        {
            Corner.BottomLeft => (left, bottom),
            Corner.TopLeft => (left, hudBand.Bottom > 0 ? belowHud : top),
            Corner.TopRight => (right, right < hudBand.Right ? belowHud : top),
            _ => (right, bottom),
        };
    }

    static void AddInset(IInset inset, Corner corner, int width, int height, float margin, float scale,
        (float Right, float Bottom) hudBand, QuadList quads)
    {
        var (w, h) = inset.Size(quads.Font, scale, width, height);
        if (w <= 0 || h <= 0) return;
        var (x, y) = InsetOrigin(corner, w, h, width, height, margin, hudBand);
        inset.Add(quads, x, y, w, h, scale);
    }

    /// <summary>The help: two columns (keys, what they do) on an opaque panel in the middle, so nothing under it shows
    /// through; its text shrinks to fit small targets.</summary>
    static void AddHelp(IReadOnlyList<HelpRow> rows, int width, int height, float scale, QuadList quads)
    {
        var font = quads.Font;
        const string title = "keys";
        float Widths(float s, out float keyColumn)
        {
            keyColumn = rows.Max(r => font.TextWidth(r.Keys, s)) + 16 * s;
            return keyColumn + rows.Max(r => font.TextWidth(r.Does, s));
        }
        float natural = Widths(1, out _), tall = (rows.Count + 1) * font.LineHeight(1);
        float fit = Math.Min((width * 0.94f - 24) / natural, (height * 0.94f - 24) / tall);
        float s = Math.Max(0.4f, Math.Min(scale, fit));
        float pad = MathF.Round(Math.Max(4, 12 * s)), line = font.LineHeight(s);
        float textWidth = Widths(s, out float column);
        float panelWidth = Math.Min(width, textWidth + 2 * pad),
            panelHeight = Math.Min(height, (rows.Count + 1) * line + 2 * pad);
        float x = MathF.Round((width - panelWidth) / 2), y = MathF.Round((height - panelHeight) / 2);
        quads.Rectangle(x, y, panelWidth, panelHeight, HelpPanel);
        quads.Text(title, x + pad, y + pad, s, HelpKey);
        for (int i = 0; i < rows.Count; i++)
        {
            float rowY = y + pad + (i + 1) * line;
            quads.Text(rows[i].Keys, x + pad, rowY, s, HelpKey);
            quads.Text(rows[i].Does, x + pad + column, rowY, s, Rgba.White);
        }
    }
}
