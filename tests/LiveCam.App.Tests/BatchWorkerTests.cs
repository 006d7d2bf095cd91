using System.Text.Json;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary><c>render --manifest</c> as a cluster engine runs it: one item per call, finished items skipped, exit code
/// 3 for input a retry cannot fix, the same bytes for the same item.</summary>
public sealed class BatchWorkerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-batch-").FullName;

    /// <summary>A 3-segment recording (25 frames at 10 fps), a 12-frame video and 3 images, listed in a manifest with
    /// relative paths: 5 items.</summary>
    string Manifest()
    {
        var (code, _, error) = CliRunner.Invoke("run", "--source", "synthetic:64x48@10", "--headless", "--timing",
            "exact", "--record", Path.Combine(_dir, "rec"), "--record-plain", "--segment-seconds", "1", "--frames",
            "25");
        Assert.True(code == 0, error);
        (code, _, error) = CliRunner.Invoke("render", "synthetic:64x48@10", "--seed", "3", "--frames", "12",
            "--out", Path.Combine(_dir, "clip.mp4"), "--model", "none");
        Assert.True(code == 0, error);
        Directory.CreateDirectory(Path.Combine(_dir, "shots"));
        for (int i = 0; i < 3; i++)
        {
            using var image = new Mat(48, 64, MatType.CV_8UC3, new Scalar(40 * i, 90, 200 - 50 * i));
            Cv2.ImWrite(Path.Combine(_dir, "shots", $"shot-{i}.png"), image);
        }
        var manifest = Path.Combine(_dir, "manifest.txt");
        File.WriteAllLines(manifest, ["# field test, day 1", "rec", "", "clip.mp4", "shots/"]);
        return manifest;
    }

    static (int Code, string Out, string Err) Work(string manifest, int index, string outDir, params string[] more) =>
        CliRunner.Invoke(["render", "--manifest", manifest, "--index", $"{index}", "--out-dir", outDir, "--threads",
            "1", .. more]);

    static List<JsonElement> Lines(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public void Each_segment_of_a_recording_is_an_item_and_keeps_the_recordings_frame_numbers_and_time()
    {
        var manifest = Manifest();
        var (code, output, error) = CliRunner.Invoke("render", "--manifest", manifest, "--list");
        Assert.True(code == 0, error);
        Assert.Equal("5", output.Trim());
        var outDir = Path.Combine(_dir, "out");
        for (int i = 0; i < 5; i++)
        {
            (code, output, error) = Work(manifest, i, outDir);
            Assert.True(code == 0, error);
            Assert.Contains("frames analysed", output, StringComparison.Ordinal);
        }
        string[] expected =
            ["clip.mp4/all", "rec/segment-00000", "rec/segment-00001", "rec/segment-00002", "shots/all"];
        Assert.Equal(expected.SelectMany(e => new[] { e + ".jsonl", e + ".timings.csv" }).Order(),
            Directory.GetFiles(outDir, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(outDir, f).Replace('\\', '/')).Order());
        var second = Lines(Path.Combine(outDir, "rec", "segment-00001.jsonl"));
        Assert.Equal(10, second.Count);
        Assert.Equal(Enumerable.Range(10, 10).Select(f => (long)f),
            second.Select(l => l.GetProperty("frame").GetInt64()));
        Assert.Equal(1.0, second[0].GetProperty("time_s").GetDouble());
        Assert.Equal(5, second[0].GetProperty("readings").GetArrayLength());
        Assert.Equal(5, Lines(Path.Combine(outDir, "rec", "segment-00002.jsonl")).Count);
        Assert.Equal(12, Lines(Path.Combine(outDir, "clip.mp4", "all.jsonl")).Count);
        Assert.Equal(3, Lines(Path.Combine(outDir, "shots", "all.jsonl")).Count);
        // Timings are kept apart from the log, one per frame.
        Assert.Equal(11, File.ReadAllLines(Path.Combine(outDir, "rec", "segment-00001.timings.csv")).Length);
    }

    [Fact]
    public void A_rerun_skips_finished_items_and_starts_an_unfinished_one_again()
    {
        var manifest = Manifest();
        var outDir = Path.Combine(_dir, "out");
        var (code, _, error) = Work(manifest, 0, outDir);
        Assert.True(code == 0, error);
        var done = Path.Combine(outDir, "rec", "segment-00000.jsonl");
        var doneBytes = File.ReadAllBytes(done);
        var doneTime = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(done, doneTime);
        // What a worker killed mid-item leaves.
        var partial = Path.Combine(outDir, "rec", "segment-00001.jsonl.partial");
        File.WriteAllText(partial, "{\"frame\":10,\"cut sho");

        (code, var output, error) = Work(manifest, 0, outDir);
        Assert.True(code == 0, error);
        Assert.Contains("item 0 (rec/segment-00000): skipped, already done", output, StringComparison.Ordinal);
        Assert.Equal(doneTime, File.GetLastWriteTimeUtc(done));
        Assert.Equal(doneBytes, File.ReadAllBytes(done));

        (code, output, error) = Work(manifest, 1, outDir);
        Assert.True(code == 0, error);
        Assert.Contains("10 frames analysed", output, StringComparison.Ordinal);
        Assert.False(File.Exists(partial));
        Assert.Equal(10, Lines(Path.Combine(outDir, "rec", "segment-00001.jsonl")).Count);
    }

    [Fact]
    public void The_same_item_gives_the_same_bytes_and_other_thread_counts_the_same_readings()
    {
        var manifest = Manifest();
        string Log(string run, string threads)
        {
            var outDir = Path.Combine(_dir, run);
            var (code, _, error) = CliRunner.Invoke(
                "render", "--manifest", manifest, "--index", "3", "--out-dir", outDir, "--threads", threads);
            Assert.True(code == 0, error);
            return Path.Combine(outDir, "clip.mp4", "all.jsonl");
        }
        var first = Log("a", "1");
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(Log("b", "1")));
        if (Environment.ProcessorCount < 2) return;
        // Two threads sum in another order: the outputs move in their last digits, what the head reads does not.
        var other = Lines(Log("c", "2"));
        foreach (var (one, two) in Lines(first).Zip(other))
        {
            Assert.Equal(one.GetProperty("readings").GetRawText(), two.GetProperty("readings").GetRawText());
            foreach (var (x, y) in one.GetProperty("outputs").EnumerateArray()
                .Zip(two.GetProperty("outputs").EnumerateArray()))
                Assert.True(Math.Abs(x.GetDouble() - y.GetDouble()) <= 1e-3 * Math.Max(1e-3, Math.Abs(x.GetDouble())),
                    $"{x} against {y}");
        }
    }

    [Theory]
    [InlineData("SLURM_ARRAY_TASK_ID")]
    [InlineData("JOB_COMPLETION_INDEX")]
    [InlineData("AWS_BATCH_JOB_ARRAY_INDEX")]
    public void The_item_comes_from_the_cluster_engines_index(string variable)
    {
        var manifest = Manifest();
        var outDir = Path.Combine(_dir, "out");
        Environment.SetEnvironmentVariable(variable, "2");
        try
        {
            var (code, output, error) = CliRunner.Invoke(
                "render", "--manifest", manifest, "--out-dir", outDir, "--threads", "1");
            Assert.True(code == 0, error);
            Assert.Contains("item 2 (rec/segment-00002)", output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(outDir, "rec", "segment-00002.jsonl")));
        }
        finally { Environment.SetEnvironmentVariable(variable, null); }
    }

    [Theory]
    [InlineData("missing file", "cannot open")]
    [InlineData("corrupt file", "cannot open")]
    [InlineData("index past the end", "has items 0 to 5")]
    [InlineData("no index", "which item?")]
    [InlineData("no manifest", "cannot read the manifest")]
    [InlineData("other weights in the out-dir", "give another --out-dir")]
    [InlineData("a source besides the manifest", "no SOURCE, --out or --record")]
    [InlineData("no model", "needs a model (--model), not none")]
    public void Input_a_retry_cannot_fix_ends_in_one_line_and_exit_code_3(string what, string message)
    {
        var manifest = Manifest();
        File.WriteAllBytes(Path.Combine(_dir, "corrupt.mp4"),
            [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);
        File.AppendAllLines(manifest, [what == "corrupt file" ? "corrupt.mp4" : "missing.mp4"]);
        var outDir = Path.Combine(_dir, "out");
        if (what == "other weights in the out-dir") Assert.Equal(0, Work(manifest, 0, outDir).Code);
        var (code, _, error) = what switch
        {
            "missing file" or "corrupt file" => Work(manifest, 5, outDir),
            "index past the end" => Work(manifest, 6, outDir),
            "no index" => CliRunner.Invoke("render", "--manifest", manifest, "--out-dir", outDir),
            "no manifest" => Work(Path.Combine(_dir, "none.txt"), 0, outDir),
            "other weights in the out-dir" => Work(manifest, 0, outDir, "--weights", "synthetic"),
            "no model" => Work(manifest, 0, outDir, "--model", "none"),
            _ => CliRunner.Invoke("render", "clip.mp4", "--manifest", manifest, "--index", "0", "--out-dir", outDir),
        };
        Assert.Equal(3, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
        if (what != "other weights in the out-dir")
            Assert.Empty(Directory.Exists(outDir)
                ? Directory.GetFiles(outDir, "*.jsonl", SearchOption.AllDirectories)
                : []);
    }

    [Fact]
    public void A_plain_recording_holds_the_sources_frames_and_a_shown_one_the_overlay()
    {
        foreach (var (folder, plain) in new[] { ("plain", true), ("shown", false) })
        {
            string[] args = ["run", "--source", "synthetic:64x48@10", "--headless", "--timing", "exact", "--record",
                Path.Combine(_dir, folder), "--frames", "5", "--renderer", "cpu"];
            var (code, _, error) = CliRunner.Invoke(plain ? [.. args, "--record-plain"] : args);
            Assert.True(code == 0, error);
        }
        using var reader = Capture.SourceFactory.CreateReader(Capture.SourceSpec.Parse("synthetic:64x48@10"));
        reader.Open();
        Assert.Equal(Capture.ReadStatus.Frame, reader.Read(out var source));
        using var original = source!;
        double Difference(string folder)
        {
            using var capture = new VideoCapture(Path.Combine(_dir, folder, "segment-00000.mp4"));
            using var recorded = new Mat();
            Assert.True(capture.Read(recorded));
            using var difference = new Mat();
            Cv2.Absdiff(recorded, original, difference);
            return Cv2.Mean(difference).Val0;
        }
        // The video codec moves a few levels; the HUD and heatmap move far more.
        Assert.True(Difference("plain") < 4, $"plain: {Difference("plain")}");
        Assert.True(Difference("shown") > 3 * Difference("plain") + 4, $"shown: {Difference("shown")}");
        var (bad, _, badError) = CliRunner.Invoke("run", "--source", "synthetic:64x48@10", "--headless",
            "--record-plain", "--frames", "1");
        Assert.Equal(2, bad);
        Assert.Contains("--record-plain is for --record DIR", badError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worker_command_line_that_does_not_parse_is_not_retried_either()
    {
        var (code, _, error) = CliRunner.Invoke("render", "--manifest", Path.Combine(_dir, "m.txt"), "--index", "abc");
        Assert.Equal(3, code);
        Assert.Contains("'abc'", error, StringComparison.Ordinal);
        // Elsewhere a parse error keeps its usual code.
        Assert.Equal(1, CliRunner.Invoke("render", "clip.mp4", "--out", "x.mp4", "--threads", "abc").Code);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
