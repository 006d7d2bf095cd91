using System.Globalization;
using System.Text.RegularExpressions;

namespace LiveCam.Capture;

public enum SourceKind { Webcam, VideoFile, Images, Stream, Synthetic }

/// <summary>
/// A source named by one string, as on the command line:
/// <c>webcam</c>, <c>webcam:1</c>, <c>/dev/video2</c>, a video file, a folder or glob of images (or one image),
/// <c>rtsp://</c> / <c>http(s)://</c> URLs, <c>synthetic[:WIDTHxHEIGHT][@FPS]</c>.
/// </summary>
public sealed partial record SourceSpec(SourceKind Kind, string Text)
{
    public const int DefaultSyntheticWidth = 640, DefaultSyntheticHeight = 480;
    public const double DefaultSyntheticFps = 30;

    /// <summary>Camera index (webcam:N), or -1 when the camera is named by a device path.</summary>
    public int CameraIndex { get; init; } = -1;
    /// <summary>Device path, file, folder, glob or URL.</summary>
    public string Path { get; init; } = "";
    public int Width { get; init; }
    public int Height { get; init; }
    public double Fps { get; init; }

    static readonly string[] s_streamSchemes =
        ["rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://"];
    static readonly string[] s_imageExtensions =
        [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"];

    public static bool IsImageFile(string path) =>
        s_imageExtensions.Contains(System.IO.Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Parses a source string; throws <see cref="FormatException"/> with a message fit for the user.</summary>
    public static SourceSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Length == 0)
            throw new FormatException("empty source; try 'webcam', 'synthetic', a video file or a folder of images");

        if (t.Equals("webcam", StringComparison.OrdinalIgnoreCase))
            return new SourceSpec(SourceKind.Webcam, t) { CameraIndex = 0 };
        if (t.StartsWith("webcam:", StringComparison.OrdinalIgnoreCase))
        {
            if (!int.TryParse(t["webcam:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw new FormatException($"'{t}': expected webcam:N with N a camera number, e.g. webcam:1");
            return new SourceSpec(SourceKind.Webcam, t) { CameraIndex = index };
        }
        if (t.StartsWith("/dev/video", StringComparison.Ordinal))
            return new SourceSpec(SourceKind.Webcam, t) { Path = t };

        if (t.Equals("synthetic", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("synthetic:", StringComparison.OrdinalIgnoreCase)
            || t.StartsWith("synthetic@", StringComparison.OrdinalIgnoreCase))
            return ParseSynthetic(t);

        if (s_streamSchemes.Any(s => t.StartsWith(s, StringComparison.OrdinalIgnoreCase)))
            return new SourceSpec(SourceKind.Stream, t) { Path = t };

        if (t.Contains('*') || t.Contains('?') || Directory.Exists(t) || IsImageFile(t))
            return new SourceSpec(SourceKind.Images, t) { Path = t };

        return new SourceSpec(SourceKind.VideoFile, t) { Path = t };
    }

    static SourceSpec ParseSynthetic(string t)
    {
        var m = SyntheticPattern().Match(t);
        if (!m.Success)
            throw new FormatException($"'{t}': expected synthetic[:WIDTHxHEIGHT][@FPS], e.g. synthetic:640x480@30");
        // Digits beyond int's range read as too large, not as an overflow.
        static int Dimension(Group g, int fallback) =>
            !g.Success ? fallback
            : int.TryParse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : int.MaxValue;
        int w = Dimension(m.Groups["w"], DefaultSyntheticWidth), h = Dimension(m.Groups["h"], DefaultSyntheticHeight);
        double fps = m.Groups["fps"].Success
            ? double.Parse(m.Groups["fps"].Value, CultureInfo.InvariantCulture)
            : DefaultSyntheticFps;
        if (w < 16 || h < 16 || w > 7680 || h > 4320)
            throw new FormatException($"'{t}': size must be between 16x16 and 7680x4320");
        if (fps <= 0 || fps > 1000) throw new FormatException($"'{t}': fps must be in (0, 1000]");
        return new SourceSpec(SourceKind.Synthetic, t) { Width = w, Height = h, Fps = fps };
    }

    [GeneratedRegex(@"^synthetic(:((?<w>\d+)x(?<h>\d+))?)?(@(?<fps>\d+(\.\d+)?))?$", RegexOptions.IgnoreCase)]
    private static partial Regex SyntheticPattern();

    public override string ToString() => Text;
}
