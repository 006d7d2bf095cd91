using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary>The shipped face detector in a real run: two faces sliding past each other, the explained box following
/// one of them from frame to frame (read back from the recording's log).</summary>
public sealed class FaceTrackingTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    /// <summary>A photograph with a frontal face, from Debian's python3-skimage (absent: the test is
    /// skipped).</summary>
    const string Astronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

    const int Width = 320, Height = 240, Tile = 120, Frames = 60;

    readonly string _dir = Directory.CreateTempSubdirectory("livecam-faces-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Where each face's tile is in frame <paramref name="i"/>: the astronaut along the top from left to
    /// right, her mirror image along the bottom from right to left; they pass each other half way.</summary>
    static (int X, int Y) TileA(int i) => (5 + 190 * i / (Frames - 1), 0);

    static (int X, int Y) TileB(int i) => (195 - 190 * i / (Frames - 1), Height - Tile);

    /// <summary>The face's centre in its tile (the astronaut's face sits a little right of the crop's middle; the
    /// mirror image's a little left).</summary>
    static (double X, double Y) FaceA(int i) => (TileA(i).X + 0.53 * Tile, TileA(i).Y + 0.53 * Tile);

    static (double X, double Y) FaceB(int i) => (TileB(i).X + 0.47 * Tile, TileB(i).Y + 0.53 * Tile);

    string WriteClip()
    {
        using var photo = Cv2.ImRead(Astronaut);
        using var crop = new Mat(photo, new Rect(110, 5, 220, 220));
        using var a = crop.Resize(new Size(Tile, Tile), 0, 0, InterpolationFlags.Area);
        using var b = a.Flip(FlipMode.Y);
        var path = Path.Combine(_dir, "faces.avi");
        using var writer = new VideoWriter(path, VideoWriter.FourCC('M', 'J', 'P', 'G'), 15, new Size(Width, Height));
        Skip.IfNot(writer.IsOpened(), "OpenCV cannot write an MJPG video here");
        for (int i = 0; i < Frames; i++)
        {
            using var frame = new Mat(Height, Width, MatType.CV_8UC3, new Scalar(80, 64, 48));
            foreach (var (tile, at) in new[] { (a, TileA(i)), (b, TileB(i)) })
            {
                using var place = new Mat(frame, new Rect(at.X, at.Y, Tile, Tile));
                tile.CopyTo(place);
            }
            writer.Write(frame);
        }
        return path;
    }

    static double Distance((double X, double Y) p, (double X, double Y) q) =>
        Math.Sqrt((p.X - q.X) * (p.X - q.X) + (p.Y - q.Y) * (p.Y - q.Y));

    static (double X, double Y) Centre(JsonElement box)
    {
        var v = box.GetProperty("box").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        return ((v[0] + v[2]) / 2, (v[1] + v[3]) / 2);
    }

    [SkippableFact]
    public void Blazeface_finds_both_moving_faces_and_the_explained_box_stays_on_one_face_as_they_pass()
    {
        Skip.IfNot(File.Exists(Astronaut), $"needs {Astronaut} (Debian's python3-skimage)");
        var clip = WriteClip();
        var record = Path.Combine(_dir, "rec");
        // Exact timing: every frame is analysed, so the test does not depend on how fast this machine is.
        var info = new ProcessStartInfo("dotnet",
            $"\"{Path.Combine(AppContext.BaseDirectory, "livecam.dll")}\" run --source \"{clip}\" --model blazeface "
            + $"--method gradcam --headless --timing exact --renderer cpu --record \"{record}\"")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4))) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {stderr.Result} {stdout.Result}");

        var lines = File.ReadAllLines(Path.Combine(record, "log.jsonl")).Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count >= Frames - 2, $"{lines.Count} of {Frames} frames logged");
        int both = 0, followed = 0;
        bool? onA = null;
        foreach (var line in lines)
        {
            int i = checked((int)line.GetProperty("frame").GetInt64());
            Assert.InRange(i, 0, Frames - 1);
            var predictions = line.GetProperty("predictions");
            var found = predictions.GetProperty("detections").EnumerateArray().Select(Centre).ToList();
            // Each detection is on one of the two faces.
            foreach (var c in found)
                Assert.True(Math.Min(Distance(c, FaceA(i)), Distance(c, FaceB(i))) < 0.2 * Tile,
                    $"frame {i}: a box at {c} on neither face ({FaceA(i)}, {FaceB(i)})");
            if (found.Count(c => Distance(c, FaceA(i)) < 0.2 * Tile) == 1
                && found.Count(c => Distance(c, FaceB(i)) < 0.2 * Tile) == 1)
                both++;
            if (!predictions.TryGetProperty("target", out var target)) continue;
            var explained = Centre(target);
            bool nearA = Distance(explained, FaceA(i)) < 0.2 * Tile, nearB = Distance(explained, FaceB(i)) < 0.2 * Tile;
            Assert.True(nearA ^ nearB, $"frame {i}: the explained box at {explained} is on neither face");
            // The first explained face is the one followed: never the other one later, however the scores rank.
            onA ??= nearA;
            Assert.True(nearA == onA, $"frame {i}: the explained box jumped to the other face ({explained})");
            followed++;
        }
        output.WriteLine($"{lines.Count} frames logged; both faces found in {both}; a box explained in {followed}, "
            + $"always the {(onA == true ? "astronaut's" : "mirror image's")}");
        Assert.True(both >= lines.Count * 0.8, $"both faces found in only {both} of {lines.Count} frames");
        Assert.True(followed >= lines.Count * 0.8, $"a box explained in only {followed} of {lines.Count} frames");
    }
}
