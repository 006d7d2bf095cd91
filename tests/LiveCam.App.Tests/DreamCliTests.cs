using OpenCvSharp;

namespace LiveCam.App.Tests;

public sealed class DreamCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-dream-").FullName;

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    string Image() => CliRunner.SceneImage(_dir);

    [Theory]
    [InlineData("resnet18", "layer2", 224, 224)]
    [InlineData("robot", "encoder.3", 80, 64)]
    public void Dream_writes_a_png_of_the_models_input_size_that_differs_from_the_fitted_image(
        string model, string layer, int width, int height)
    {
        var png = Path.Combine(_dir, "dream.png");
        var (code, stdout, stderr) = Invoke("dream", "--model", model, "--image", Image(), "--layer", layer,
            "--steps", "3", "--octaves", "2", "--out", png);
        Assert.True(code == 0, stderr);
        Assert.Contains("objective", stdout, StringComparison.Ordinal);
        using var written = Cv2.ImRead(png);
        Assert.Equal((width, height), (written.Width, written.Height));
        // The grey background is no longer flat.
        Cv2.MeanStdDev(written[new Rect(0, 0, width / 4, height / 4)], out _, out var std);
        Assert.True(std.Val0 + std.Val1 + std.Val2 > 1, $"the dream left the background flat (std {std.Val0})");
    }

    [Theory]
    [InlineData("resnet18", "5", 224, 224)]
    [InlineData("robot", "100", 80, 64)]
    public void A_class_model_starts_from_the_mean_image_without_an_image(
        string model, string output, int width, int height)
    {
        var png = Path.Combine(_dir, "class.png");
        var (code, _, stderr) = Invoke("dream", "--model", model, "--class", output, "--steps", "3", "--out", png);
        Assert.True(code == 0, stderr);
        using var written = Cv2.ImRead(png);
        Assert.Equal((width, height), (written.Width, written.Height));
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--model", "robot", "--layer", "encoder.3"], "give --image" },
        { ["--model", "robot", "--image", "/nonexistent/x.png", "--layer", "encoder.3"], "no such file" },
        { ["--model", "robot", "--image", "SCENE", "--layer", "nowhere"], "no layer named 'nowhere'" },
        { ["--model", "robot", "--class", "325"], "output 325 does not exist" },
        { ["--model", "robot", "--class", "-1"], "does not exist" },
        { ["--model", "robot", "--image", "SCENE"], "--layer L" },
        { ["--model", "robot", "--image", "SCENE", "--layer", "encoder.3", "--class", "1"], "one of them" },
        { ["--model", "robot", "--class", "1", "--octaves", "2", "--steps", "1"], "use one octave" },
        { ["--model", "robot", "--class", "1", "--steps", "0"], "--steps" },
        { ["--model", "robot", "--image", "SCENE", "--layer", "encoder.3", "--l2", "0.1"],
            "--l2 is for a class model" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_one_line_and_exit_code_2(string[] args, string expected)
    {
        var png = Path.Combine(_dir, "bad.png");
        var (code, _, stderr) = Invoke(["dream", .. args.Select(a => a == "SCENE" ? Image() : a), "--out", png]);
        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(png));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
