using System.Text.Json;
using LiveCam.Models.Tests;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary><c>summary</c> over <c>render --manifest</c> runs: one report per recording, and two runs compared, checked
/// against the item logs read here on their own.</summary>
public sealed class SummaryCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-summary-").FullName;

    /// <summary>Every item of <paramref name="manifest"/> analysed into <paramref name="run"/>.</summary>
    string Analyse(string manifest, string run, params string[] options)
    {
        var outDir = Path.Combine(_dir, run);
        var (code, output, error) = CliRunner.Invoke("render", "--manifest", manifest, "--list");
        Assert.True(code == 0, error);
        for (int i = 0; i < int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            (code, _, error) = CliRunner.Invoke(["render", "--manifest", manifest, "--index", $"{i}", "--out-dir",
                outDir, "--threads", "1", .. options]);
            Assert.True(code == 0, error);
        }
        return outDir;
    }

    /// <summary>Per recording and frame, each quantity's reading as the logs hold it.</summary>
    static Dictionary<(string Recording, long Frame), Dictionary<string, JsonElement>> Readings(string outDir) =>
        Directory.GetFiles(outDir, "*.jsonl", SearchOption.AllDirectories)
            .SelectMany(File.ReadLines)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .ToDictionary(l => (l.GetProperty("recording").GetString()!, l.GetProperty("frame").GetInt64()),
                l => l.GetProperty("readings").EnumerateArray()
                    .ToDictionary(r => r.GetProperty("quantity").GetString()!, r => r));

    /// <summary>The disagreements the documented rule gives: free against a distance, or distances more than the
    /// tolerance apart; counted here from the logs, apart from the app's code.</summary>
    static int Disagreements(string a, string b)
    {
        var theirs = Readings(b);
        int count = 0;
        foreach (var (key, mine) in Readings(a))
        {
            if (!theirs.TryGetValue(key, out var other)) continue;
            foreach (var (quantity, reading) in mine)
            {
                var x = reading.GetProperty("number");
                var y = other[quantity].GetProperty("number");
                bool agree = x.ValueKind == JsonValueKind.Number && y.ValueKind == JsonValueKind.Number
                    ? Math.Abs(x.GetDouble() - y.GetDouble()) <= reading.GetProperty("tolerance").GetDouble()
                    : reading.GetProperty("value").GetString() == other[quantity].GetProperty("value").GetString();
                if (!agree) count++;
            }
        }
        return count;
    }

    [Fact]
    public void A_run_is_one_report_per_recording_and_two_runs_list_where_they_disagree()
    {
        var (code, _, error) = CliRunner.Invoke("run", "--source", "synthetic:64x48@10", "--headless", "--timing",
            "exact", "--record", Path.Combine(_dir, "rec"), "--segment-seconds", "1", "--frames", "25",
            "--model", "none");
        Assert.True(code == 0, error);
        var manifest = Path.Combine(_dir, "manifest.txt");
        File.WriteAllLines(manifest, ["rec"]);
        var paper = Analyse(manifest, "paper");
        var ours = Analyse(manifest, "ours", "--weights", "synthetic");

        var csv = Path.Combine(_dir, "readings.csv");
        (code, var output, error) = CliRunner.Invoke("summary", paper, "--csv", csv);
        Assert.True(code == 0, error);
        Assert.Contains("3 item(s), 25 frames analysed, 0 s to 2.5 s; robot with long_range_perception_original.pt",
            output, StringComparison.Ordinal);
        Assert.Contains("| time (s) | frames | lx | cl | cx | cr | rx |", output, StringComparison.Ordinal);
        Assert.Contains("| 2 | 5 |", output, StringComparison.Ordinal);
        Assert.Equal(1 + 25 * 5, File.ReadAllLines(csv).Length);

        var differences = Path.Combine(_dir, "differences.csv");
        var markdown = Path.Combine(_dir, "differences.md");
        (code, output, error) = CliRunner.Invoke(
            "summary", paper, "--against", ours, "--csv", differences, "--markdown", markdown);
        Assert.True(code == 0, error);
        Assert.Equal(output, File.ReadAllText(markdown));
        int expected = Disagreements(paper, ours);
        var rows = File.ReadAllLines(differences);
        Assert.Equal("recording,frame,time_s,quantity,value,against_value", rows[0]);
        Assert.Equal(expected, rows.Length - 1);
        Assert.Contains("| rec | 25 |", output, StringComparison.Ordinal);
        Assert.Contains(expected == 0 ? "They agree on every frame compared." : $"of {expected} disagreements",
            output, StringComparison.Ordinal);
        // A run against itself agrees everywhere.
        (code, output, error) = CliRunner.Invoke("summary", paper, "--against", paper);
        Assert.True(code == 0, error);
        Assert.Contains("| rec | 25 | 0 (0 %) | 0 |", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resnet18", "top-1", "class ")]
    [InlineData("blazeface", "boxes", "")]
    public void A_classifier_is_followed_by_its_top_class_and_a_detector_by_its_boxes(string model, string quantity,
        string valuePrefix)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "shots"));
        for (int i = 0; i < 3; i++)
        {
            // A light disc moving right over a coloured ground.
            using var image = new Mat(96, 128, MatType.CV_8UC3, new Scalar(60 * i, 120, 90));
            Cv2.Circle(image, new Point(40 + 20 * i, 48), 20, new Scalar(200, 180, 160), -1);
            Cv2.ImWrite(Path.Combine(_dir, "shots", $"shot-{i}.png"), image);
        }
        var manifest = Path.Combine(_dir, "manifest.txt");
        File.WriteAllLines(manifest, ["shots"]);
        var run = Analyse(manifest, "run", "--model", model);
        var (code, output, error) = CliRunner.Invoke("summary", run);
        Assert.True(code == 0, error);
        Assert.Contains($"| time (s) | frames | {quantity} |", output, StringComparison.Ordinal);
        var values = Readings(run).Values.Select(r => r[quantity].GetProperty("value").GetString()!).ToList();
        Assert.Equal(3, values.Count);
        Assert.All(values, v => Assert.StartsWith(valuePrefix, v, StringComparison.Ordinal));
        // Time per value: each value's share of the three frames.
        foreach (var group in values.GroupBy(v => v))
            Assert.Contains($"| {quantity} | {group.Key} | {group.Count() * 0.1:0.#} |", output,
                StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_papers_weights_against_ours_on_the_seeds_robot_clips()
    {
        var clips = SharedData.Find("seed/robot_videos");
        var weights = SharedData.Find("seed/models/long_range_perception.pt");
        Skip.If(clips is null || weights is null, "../shared/seed (robot clips and the paper's weights) is absent");
        var manifest = Path.Combine(_dir, "seed.txt");
        File.WriteAllLines(manifest, Directory.GetFiles(clips!, "*.avi").Order(StringComparer.Ordinal));
        // The camera part of the composite clips; 30 frames (3 s) of each keep the test short.
        string[] camera = ["--roi", "0,220,400,300", "--frames", "30"];
        var paper = Analyse(manifest, "paper", [.. camera, "--weights", weights!]);
        var ours = Analyse(manifest, "ours", [.. camera, "--weights", "synthetic"]);
        var differences = Path.Combine(_dir, "seed.csv");
        var (code, output, error) = CliRunner.Invoke("summary", paper, "--against", ours, "--csv", differences);
        Assert.True(code == 0, error);
        Assert.Contains("(robot with long_range_perception.pt, gradcam) against", output, StringComparison.Ordinal);
        Assert.Contains("(robot with long_range_perception.dat, gradcam)", output, StringComparison.Ordinal);
        Assert.Equal(Disagreements(paper, ours), File.ReadAllLines(differences).Length - 1);
        foreach (var clip in Directory.GetFiles(clips!, "*.avi"))
            Assert.Contains($"{Pipeline.Batch.WorkManifest.RecordingName(clip)} | 30 |", output,
                StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
