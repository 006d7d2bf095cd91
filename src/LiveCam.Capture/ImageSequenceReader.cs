using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>A folder of images, a glob (<c>dir/*.png</c>) or one image, in natural sort order.</summary>
public sealed class ImageSequenceReader : IFrameReader
{
    readonly SourceSpec _spec;
    readonly double _fps;
    string[] _files = [];
    int _next;

    public ImageSequenceReader(SourceSpec spec, double fps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        _spec = spec;
        _fps = fps;
    }

    public IReadOnlyList<string> Files => _files;

    public SourceInfo Open()
    {
        _files = Expand(_spec.Path);
        if (_files.Length == 0)
            throw new SourceOpenException($"cannot open '{_spec.Path}': no images found " +
                $"(looked for {string.Join(' ', ".png .jpg .jpeg .bmp .tif .webp")})");
        _next = 0;
        // The size of the first readable image is what the source reports; later images may differ.
        int width = 0, height = 0;
        foreach (var file in _files)
        {
            using var probe = Cv2.ImRead(file, ImreadModes.Color);
            if (probe.Empty()) continue;
            (width, height) = (probe.Width, probe.Height);
            break;
        }
        if (width == 0)
            throw new SourceOpenException(
                $"cannot open '{_spec.Path}': none of its {_files.Length} image(s) can be decoded");
        return new SourceInfo(_spec.Text, width, height, _fps, _files.Length, IsLive: false);
    }

    public static string[] Expand(string path)
    {
        string dir, pattern;
        if (Directory.Exists(path)) (dir, pattern) = (path, "*");
        else if (path.Contains('*') || path.Contains('?'))
        {
            dir = Path.GetDirectoryName(path) is { Length: > 0 } d ? d : ".";
            pattern = Path.GetFileName(path);
            if (dir.Contains('*') || dir.Contains('?'))
                throw new SourceOpenException($"cannot open '{path}': wildcards are allowed in the file name only");
            if (!Directory.Exists(dir)) return [];
        }
        else return File.Exists(path) ? [path] : [];

        var files = Directory.EnumerateFiles(dir, pattern)
            .Where(SourceSpec.IsImageFile)
            .ToArray();
        Array.Sort(files, NaturalComparer.Instance);
        return files;
    }

    public ReadStatus Read(out Mat? image)
    {
        image = null;
        if (_next >= _files.Length) return ReadStatus.End;
        var file = _files[_next++];
        Mat mat;
        try
        {
            mat = Cv2.ImRead(file, ImreadModes.Color);
        }
        catch (OpenCVException)
        {
            return ReadStatus.Corrupt;
        }
        if (mat.Empty())
        {
            mat.Dispose();
            return ReadStatus.Corrupt;
        }
        image = mat;
        return ReadStatus.Frame;
    }

    public bool Rewind()
    {
        _next = 0;
        return _files.Length > 0;
    }

    public void Dispose() { }

    /// <summary>"frame2" before "frame10".</summary>
    sealed class NaturalComparer : IComparer<string>
    {
        public static readonly NaturalComparer Instance = new();

        public int Compare(string? a, string? b)
        {
            if (a is null || b is null) return string.CompareOrdinal(a, b);
            int i = 0, j = 0;
            while (i < a.Length && j < b.Length)
            {
                if (char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
                {
                    int si = i, sj = j;
                    while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                    while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                    var da = a.AsSpan(si, i - si).TrimStart('0');
                    var db = b.AsSpan(sj, j - sj).TrimStart('0');
                    if (da.Length != db.Length) return da.Length.CompareTo(db.Length);
                    int c = da.SequenceCompareTo(db);
                    if (c != 0) return c;
                }
                else
                {
                    if (a[i] != b[j]) return a[i].CompareTo(b[j]);
                    i++;
                    j++;
                }
            }
            return (a.Length - i).CompareTo(b.Length - j);
        }
    }
}
