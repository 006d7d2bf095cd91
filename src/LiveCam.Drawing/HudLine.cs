namespace LiveCam.Drawing;

/// <summary>A part of a HUD line; <paramref name="Drop"/> 0 is always kept, higher ones go first when the line is too
/// wide.</summary>
public readonly record struct HudSegment(string Text, int Drop = 0);

/// <summary>
/// One line of the HUD: its segments one after the other (each carries its own spacing). A line wider than the picture
/// is abbreviated, not cut: the least important segments go first, then the line is shortened with "..".
/// <paramref name="Rank"/> orders lines by importance (0 first) when the picture is too small for all of them.
/// </summary>
public sealed record HudLine(IReadOnlyList<HudSegment> Segments, int Rank = 0)
{
    /// <summary>What usually stands between two segments.</summary>
    public const string Separator = "  ";

    public HudLine(string text, int rank = 0) : this([new HudSegment(text)], rank) { }

    public string Text => string.Concat(Segments.Select(s => s.Text));

    /// <summary>The text to draw in at most <paramref name="width"/> pixels at <paramref name="scale"/>.</summary>
    public string Fit(GlyphAtlas font, float scale, float width)
    {
        ArgumentNullException.ThrowIfNull(font);
        var kept = Segments.Where(s => s.Text.Length > 0).ToList();
        string text = Join(kept);
        while (font.TextWidth(text, scale) > width && kept.Any(s => s.Drop > 0))
        {
            int drop = kept.Max(s => s.Drop);
            kept.RemoveAt(kept.FindLastIndex(s => s.Drop == drop));
            text = Join(kept);
        }
        return Shorten(font, text, scale, width);
    }

    static string Join(List<HudSegment> segments) => string.Concat(segments.Select(s => s.Text)).Trim();

    /// <summary><paramref name="text"/>, or as much of it as fits followed by "..".</summary>
    public static string Shorten(GlyphAtlas font, string text, float scale, float width)
    {
        ArgumentNullException.ThrowIfNull(font);
        ArgumentNullException.ThrowIfNull(text);
        if (font.TextWidth(text, scale) <= width) return text;
        int lo = 0, hi = text.Length;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (font.TextWidth(text[..mid].TrimEnd() + "..", scale) <= width) lo = mid;
            else hi = mid - 1;
        }
        return lo == 0 ? "" : text[..lo].TrimEnd() + "..";
    }
}
