using System.Globalization;
using System.Text;
using LiveCam.Pipeline.Recording;

namespace LiveCam.Pipeline.Batch;

/// <summary>One unit of work of a batch run: a whole video or image folder, or one segment of a recording.</summary>
/// <param name="Index">Its number in the manifest's list, from 0.</param>
/// <param name="Recording">Which recording it belongs to: the manifest's line made into a file name, unique in the
/// manifest, so the outputs of two robots' <c>day1</c> folders do not meet.</param>
/// <param name="Name">The item within its recording: the segment's file name without extension, or <c>all</c>.
/// </param>
/// <param name="Source">What to read: a video file, an image folder or glob.</param>
/// <param name="Frames">The recording's own frame numbers of the segment's frames, in order; null: numbered from 0.
/// </param>
/// <param name="FramesBefore">How many frames of the recording come before this item's first (its place in time).
/// </param>
/// <param name="Fps">The recording's frame rate; 0: the source's own.</param>
public sealed record WorkItem(
    int Index, string Recording, string Name, string Source, long[]? Frames, long FramesBefore, double Fps)
{
    /// <summary>How the item is named in messages: recording/item.</summary>
    public string Label => $"{Recording}/{Name}";
}

/// <summary>
/// <c>--manifest FILE</c>: one video, image folder or <c>--record</c> folder per line (relative paths are taken from
/// the manifest's folder; blank lines and lines starting with # are skipped). Each segment of a recording is an item
/// of its own, so one long recording spreads over many workers. Every worker reads the same list in the same order;
/// a segment whose file is lost keeps its number (and fails alone).
/// </summary>
public static class WorkManifest
{
    /// <exception cref="ManifestException">The manifest cannot be read, or names something twice.</exception>
    public static IReadOnlyList<WorkItem> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException($"cannot read the manifest '{path}': {e.Message}", e);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var items = new List<WorkItem>();
        var recordings = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int n = 0; n < lines.Length; n++)
        {
            var entry = lines[n].Trim();
            if (entry.Length == 0 || entry.StartsWith('#')) continue;
            var recording = RecordingName(entry);
            if (recordings.TryGetValue(recording, out var earlier))
                throw new ManifestException(Format($"manifest '{path}' line {n + 1}: '{entry}' ")
                    + $"and '{earlier}' would share the output folder '{recording}'; name each once");
            recordings[recording] = entry;
            var full = Path.GetFullPath(Path.Combine(folder, entry));
            if (File.Exists(Path.Combine(full, "segments.jsonl")))
            {
                List<RecordedSegment> segments;
                try { segments = RecordingIndex.ReadSegments(full, keepMissing: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new ManifestException(Format($"manifest '{path}' line {n + 1}: {e.Message}"), e);
                }
                long before = 0;
                foreach (var segment in segments)
                {
                    items.Add(new WorkItem(items.Count, recording,
                        Path.GetFileNameWithoutExtension(segment.Path), segment.Path, segment.Frames, before,
                        segment.Fps));
                    before += segment.Frames.Length;
                }
            }
            else
            {
                // A video, an image folder or glob; one that is missing is still an item, which fails on its own.
                items.Add(new WorkItem(items.Count, recording, "all", full, null, 0, 0));
            }
        }
        return items;
    }

    /// <summary>A manifest line as a folder name: letters, digits, '.', '-' and '_' kept, anything else '_'.</summary>
    public static string RecordingName(string entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var trimmed = entry.Trim().TrimEnd('/', '\\');
        var name = new StringBuilder(trimmed.Length);
        foreach (char c in trimmed)
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        var text = name.ToString().Trim('_', '.');
        return text.Length == 0 ? "recording" : text;
    }

    static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A manifest that cannot be read or used; the message is one line for the user.</summary>
public sealed class ManifestException : Exception
{
    public ManifestException(string message) : base(message) { }
    public ManifestException(string message, Exception inner) : base(message, inner) { }
    public ManifestException() { }
}
