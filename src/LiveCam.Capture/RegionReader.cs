using System.Globalization;
using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>A part of every frame of another source (<c>--roi X,Y,W,H</c>): what the model and the display see, e.g.
/// the camera image of a clip that puts it above a strip of other content.</summary>
public sealed class RegionReader : IFrameReader
{
    readonly IFrameReader _inner;
    readonly Rect _region;

    /// <param name="inner">Owned: disposed with this reader.</param>
    public RegionReader(IFrameReader inner, Rect region)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (region.X < 0 || region.Y < 0 || region.Width <= 0 || region.Height <= 0)
            throw new ArgumentException($"--roi {Describe(region)}: X and Y must be 0 or more, W and H more than 0");
        _region = region;
    }

    /// <summary>Parses <c>X,Y,W,H</c> in pixels.</summary>
    public static Rect Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',');
        var values = new int[4];
        if (parts.Length != 4 || parts.Where((p, i) =>
                !int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i])).Any())
            throw new ArgumentException($"--roi '{text}': expected X,Y,W,H in pixels, e.g. 0,220,400,300");
        return new Rect(values[0], values[1], values[2], values[3]);
    }

    static string Describe(Rect r) => string.Create(CultureInfo.InvariantCulture, $"{r.X},{r.Y},{r.Width},{r.Height}");

    public SourceInfo Open()
    {
        var info = _inner.Open();
        if (_region.Right > info.Width || _region.Bottom > info.Height)
            throw new SourceOpenException(
                $"--roi {Describe(_region)} reaches past the {info.Width}x{info.Height} frames of {info.Name}");
        return info with { Width = _region.Width, Height = _region.Height };
    }

    public ReadStatus Read(out Mat? image)
    {
        var status = _inner.Read(out var full);
        image = null;
        if (full is null) return status;
        using (full)
        {
            // A source may change size on reconnection; a region that no longer fits is a frame that cannot be used.
            if (_region.Right > full.Width || _region.Bottom > full.Height) return ReadStatus.Corrupt;
            using var view = new Mat(full, _region);
            image = view.Clone();
        }
        return status;
    }

    public bool Rewind() => _inner.Rewind();

    public void Dispose() => _inner.Dispose();
}
