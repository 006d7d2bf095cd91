using System.Text.Json;
using OpenCvSharp;

namespace LiveCam.App.Tests;

public sealed class ExplainCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-explain-").FullName;

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    string Image() => CliRunner.SceneImage(_dir);

    [Fact]
    public void Explain_writes_the_overlay_png_and_a_json_with_layer_target_raw_heatmap_and_outputs()
    {
        var png = Path.Combine(_dir, "out.png");
        var json = Path.Combine(_dir, "out.json");
        var (code, stdout, stderr) = Invoke("explain", "--model", "resnet18", "--image", Image(), "--method", "gradcam",
            "--layer", "layer4", "--target", "7", "--out", png, "--json", json);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout, StringComparison.Ordinal);
        using (var written = Cv2.ImRead(png)) Assert.Equal((320, 240), (written.Width, written.Height));

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal("resnet18", root.GetProperty("model").GetString());
        Assert.Equal("gradcam", root.GetProperty("method").GetString());
        Assert.Equal("output 7", root.GetProperty("target").GetString());
        Assert.Equal("layer4", root.GetProperty("layer").GetProperty("name").GetString());
        Assert.Equal(new[] { 1, 512, 7, 7 },
            root.GetProperty("layer").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        var heatmap = root.GetProperty("heatmap");
        Assert.Equal((7, 7), (heatmap.GetProperty("height").GetInt32(), heatmap.GetProperty("width").GetInt32()));
        var values = heatmap.GetProperty("values").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(49, values.Length);
        Assert.All(values, v => Assert.True(v >= 0));
        Assert.Equal(1000, root.GetProperty("outputs").GetArrayLength());
        // The predictions as the model's head reads the outputs: the five most probable classes, by softmax.
        var top = root.GetProperty("predictions").GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(5, top.Count);
        var outputs = root.GetProperty("outputs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int argmax = Array.IndexOf(outputs, outputs.Max());
        Assert.Equal(argmax, top[0].GetProperty("class").GetInt32());
        double softmax = 1 / outputs.Sum(o => Math.Exp(o - outputs[argmax]));
        Assert.Equal(softmax, top[0].GetProperty("probability").GetDouble(), 5);
    }

    [Fact]
    public void Top_k_gives_one_panel_and_one_json_entry_per_class()
    {
        var png = Path.Combine(_dir, "top.png");
        var json = Path.Combine(_dir, "top.json");
        var (code, _, stderr) = Invoke("explain", "--model", "resnet18", "--image", Image(), "--target", "topk:3",
            "--out", png, "--json", json);
        Assert.True(code == 0, stderr);
        using (var written = Cv2.ImRead(png)) Assert.Equal(3 * 320, written.Width);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(3, doc.RootElement.GetProperty("explanations").GetArrayLength());
    }

    [Theory]
    [InlineData("filters", "conv1")]
    [InlineData("activations", "layer1")]
    public void Layer_views_write_a_grid(string method, string layer)
    {
        var png = Path.Combine(_dir, $"{method}.png");
        var (code, stdout, stderr) = Invoke("explain", "--model", "resnet18", "--image", Image(), "--method", method,
            "--layer", layer, "--out", png);
        Assert.True(code == 0, stderr);
        Assert.Contains($"64 {method} of {layer}", stdout, StringComparison.Ordinal);
        using var written = Cv2.ImRead(png);
        Assert.False(written.Empty());
    }

    [Fact]
    public void Layers_lists_every_leaf_with_its_shape()
    {
        var (code, stdout, _) = Invoke("layers", "--model", "resnet18");
        Assert.Equal(0, code);
        Assert.Contains("layer4.1.conv2", stdout, StringComparison.Ordinal);
        Assert.Contains("1x512x7x7", stdout, StringComparison.Ordinal);
        Assert.Contains(" 52  fc", stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["explain", "--model", "resnet18", "--image", "/nonexistent.png", "--out", "OUT"], "no such file" },
        { ["explain", "--model", "resnet18", "--image", "IMAGE", "--method", "magic", "--out", "OUT"],
            "unknown method" },
        { ["explain", "--model", "resnet18", "--image", "IMAGE", "--layer", "layer9", "--out", "OUT"],
            "no layer named 'layer9'" },
        { ["explain", "--model", "resnet18", "--image", "IMAGE", "--target", "5000", "--out", "OUT"],
            "does not exist" },
        { ["explain", "--model", "resnet18", "--image", "IMAGE", "--method", "cam", "--layer", "layer3",
            "--out", "OUT"], "global average pooling" },
        { ["explain", "--model", "lenet5", "--image", "IMAGE", "--out", "OUT"], "unknown model" },
        { ["explain", "--model", "robot", "--weights", "/nonexistent.dat", "--image", "IMAGE", "--out", "OUT"],
            "no such file" },
        { ["explain", "--model", "robot", "--weights", "GARBAGE", "--image", "IMAGE", "--out", "OUT"],
            "cannot load weights" },
        { ["layers", "--model", "resnet18", "--device", "tpu"], "device 'tpu'" },
        { ["explain", "--model", "resnet18", "--labels", "LABELS3", "--image", "IMAGE", "--out", "OUT"],
            "has 3 lines but resnet18 has 1000 outputs" },
        { ["explain", "--model", "resnet18", "--labels", "/nonexistent.txt", "--image", "IMAGE", "--out", "OUT"],
            "cannot read labels" },
        { ["explain", "--model", "robot", "--labels", "LABELS3", "--image", "IMAGE", "--out", "OUT"],
            "--labels is for classifiers" },
        { ["run", "--source", "synthetic:160x120@30", "--frames", "3", "--headless", "--method", "cam",
            "--out", "OUTVIDEO"], "--method cam: CAM needs 'encoder.6' to be followed by global average pooling" },
    };

    [SkippableFact]
    public void Explain_draws_through_the_live_views_renderer_with_the_labels_and_the_explained_class_outlined()
    {
        var labels = Path.Combine(_dir, "labels.txt");
        File.WriteAllLines(labels, Enumerable.Range(0, 1000).Select(i => $"thing {i}"));
        var png = Path.Combine(_dir, "labelled.png");
        var (code, stdout, stderr) = Invoke("explain", "--model", "resnet18", "--labels", labels, "--image", Image(),
            "--target", "3", "--out", png);
        Assert.True(code == 0, stderr);
        Skip.If(stdout.Contains("drawn on the CPU", StringComparison.Ordinal), "no headless OpenGL here");
        Assert.Contains("drawn by OpenGL", stdout, StringComparison.Ordinal);
        using var written = Cv2.ImRead(png);
        // The top-labels inset sits bottom-right; class 3 is not among an untrained net's top five, so nothing is
        // outlined...
        Assert.Equal(0, CountOutline(written));
        // ...but the top class is, when it is the one explained.
        var (code2, _, stderr2) = Invoke("explain", "--model", "resnet18", "--labels", labels, "--image", Image(),
            "--target", "top", "--out", png);
        Assert.True(code2 == 0, stderr2);
        using var top = Cv2.ImRead(png);
        Assert.True(CountOutline(top) > 50, "no outlined row in the labels inset");
    }

    /// <summary>Pixels of the explained row's yellow outline (BGR 26, 217, 255) in the bottom-right quarter.</summary>
    static int CountOutline(Mat image)
    {
        int n = 0, width = image.Width, height = image.Height;
        for (int y = height / 2; y < height; y++)
            for (int x = width / 2; x < width; x++)
            {
                var p = image.At<Vec3b>(y, x);
                if (p.Item2 > 235 && p.Item1 is > 195 and < 235 && p.Item0 < 60) n++;
            }
        return n;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_ends_in_one_line_and_exit_code_2(string[] args, string expected)
    {
        var garbage = Path.Combine(_dir, "garbage.dat");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 999).Select(i => (byte)(i * 13)).ToArray());
        var image = Image();
        var labels = Path.Combine(_dir, "labels3.txt");
        File.WriteAllLines(labels, ["cat", "dog", "car"]);
        args = args.Select(a => a switch
        {
            "IMAGE" => image,
            "OUT" => Path.Combine(_dir, "x.png"),
            "GARBAGE" => garbage,
            "LABELS3" => labels,
            "OUTVIDEO" => Path.Combine(_dir, "x.mp4"),
            _ => a
        }).ToArray();
        var (code, _, stderr) = Invoke(args);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_a_model_analyses_frames_and_draws_the_heatmap()
    {
        var video = Path.Combine(_dir, "explained.avi");
        var (code, stdout, stderr) = Invoke("run", "--source", "synthetic:160x120@30", "--frames", "6", "--headless",
            "--timing", "exact", "--model", "resnet18", "--method", "gradcam", "--out", video);
        Assert.True(code == 0, stderr);
        Assert.Contains("analysis: resnet18: gradcam @ layer4 (1x512x7x7), target top", stdout,
            StringComparison.Ordinal);
        Assert.Contains("6 captured, 6 shown, 6 analysed", stdout, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
