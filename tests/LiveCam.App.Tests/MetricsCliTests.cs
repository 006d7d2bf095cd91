using System.Text.Json;

namespace LiveCam.App.Tests;

public sealed class MetricsCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-metrics-").FullName;

    [Fact]
    public void Metrics_on_synthetic_frames_print_a_table_against_random_and_write_every_score_as_json()
    {
        var json = Path.Combine(_dir, "m.json");
        var (code, stdout, stderr) = CliRunner.Invoke("metrics", "--model", "robot", "--images", "synthetic",
            "--frames", "2", "--steps", "4", "--methods", "gradcam,cam,saliency", "--json", json);
        Assert.True(code == 0, stderr);
        // the progress, not drawn in place when redirected
        Assert.Contains("livecam metrics: ", stderr, StringComparison.Ordinal);
        var lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.TrimStart().StartsWith("gradcam ", StringComparison.Ordinal)
            && l.Contains(" of 6", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("cam ", StringComparison.Ordinal)
            && l.Contains("n/a: CAM needs", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.TrimStart().StartsWith("random ", StringComparison.Ordinal));

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal(2, root.GetProperty("images").GetArrayLength());
        Assert.Equal("synthetic#0", root.GetProperty("images")[0].GetString());
        var methods = root.GetProperty("methods").EnumerateArray()
            .ToDictionary(m => m.GetProperty("method").GetString()!);
        Assert.Equal(["gradcam", "cam", "saliency", "random"], methods.Keys);
        var gradcam = methods["gradcam"];
        Assert.Equal(2, gradcam.GetProperty("per_image").GetArrayLength());
        double deletion = gradcam.GetProperty("deletion").GetDouble();
        double mean = gradcam.GetProperty("per_image").EnumerateArray()
            .Average(s => s.GetProperty("Deletion").GetDouble());
        Assert.Equal(mean, deletion, 9);
        Assert.Equal(JsonValueKind.Null, methods["cam"].GetProperty("deletion").ValueKind);
        Assert.InRange(methods["random"].GetProperty("average_drop_percent").GetDouble(), 0, 100);
    }

    [Theory]
    [InlineData("--images", "/nonexistent/folder")]
    [InlineData("--methods", "gradcam,nosuchmethod")]
    [InlineData("--steps", "1")]
    public void Bad_input_ends_in_one_line_and_a_non_zero_code(string option, string value)
    {
        string[] args = ["metrics", "--model", "robot", "--images", "synthetic", "--frames", "1"];
        int at = Array.IndexOf(args, option);
        args = at >= 0 ? [.. args[..(at + 1)], value, .. args[(at + 2)..]] : [.. args, option, value];
        var (code, _, stderr) = CliRunner.Invoke(args);
        Assert.NotEqual(0, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("livecam: ", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
