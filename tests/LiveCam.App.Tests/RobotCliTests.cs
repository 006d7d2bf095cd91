using System.Text.Json;
using OpenCvSharp;

namespace LiveCam.App.Tests;

public sealed class RobotCliTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-robot-").FullName;

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    [Fact]
    public void Train_then_evaluate_then_test_robustness_then_explain_with_the_result()
    {
        var weights = Path.Combine(_dir, "tiny.dat");
        var preview = Path.Combine(_dir, "preview.png");
        var train = Invoke("train-robot", "--samples", "192", "--epochs", "1", "--seed", "4", "--out", weights,
            "--preview", preview);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("epoch 1/1", train.Err, StringComparison.Ordinal);
        Assert.True(File.Exists(weights));
        using (var p = Cv2.ImRead(preview)) Assert.False(p.Empty());

        var json = Path.Combine(_dir, "auc.json");
        var png = Path.Combine(_dir, "auc.png");
        var eval = Invoke("eval-robot", "--weights", weights, "--samples", "300", "--json", json, "--out", png);
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Contains("mean AUC, distances 0..10 cm", eval.Out, StringComparison.Ordinal);
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var auc = doc.RootElement.GetProperty("auc");
            Assert.Equal(31, auc.GetArrayLength());
            Assert.All(auc.EnumerateArray(), row => Assert.Equal(5, row.GetArrayLength()));
            Assert.All(auc.EnumerateArray().SelectMany(r => r.EnumerateArray()),
                v => Assert.True(v.ValueKind == JsonValueKind.Null || v.GetDouble() is >= 0 and <= 1));
        }
        using (var p = Cv2.ImRead(png)) Assert.False(p.Empty());

        var robustness = Invoke("robustness", "--weights", weights, "--out", _dir);
        Assert.True(robustness.Code == 0, robustness.Err);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "robustness.json"))))
        {
            var cases = doc.RootElement.GetProperty("cases");
            Assert.Equal(8, cases.GetArrayLength());
            Assert.Contains(cases.EnumerateArray(),
                c => c.GetProperty("name").GetString() == "red cube, strong back light, big shadow towards the camera");
            Assert.All(cases.EnumerateArray(), c => Assert.Equal(325, c.GetProperty("outputs").GetArrayLength()));
        }
        using (var sheet = Cv2.ImRead(Path.Combine(_dir, "robustness.png"))) Assert.True(sheet.Width > 1000);

        var image = Path.Combine(_dir, "frame.png");
        using (var frame = new Mat(480, 640, MatType.CV_8UC3, new Scalar(150, 150, 150))) Cv2.ImWrite(image, frame);
        var explained = Path.Combine(_dir, "explained.png");
        var explain = Invoke("explain", "--model", "robot", "--weights", weights, "--image", image, "--out", explained);
        Assert.True(explain.Code == 0, explain.Err);
        var onCpu = Path.Combine(_dir, "explained-cpu.png");
        var cpu = Invoke("explain", "--model", "robot", "--weights", weights, "--image", image, "--out", onCpu,
            "--renderer", "cpu");
        Assert.True(cpu.Code == 0, cpu.Err);
        // Either back end draws the same picture: the image with the heatmap, caption and distance-bar inset.
        using var a = Cv2.ImRead(explained);
        using var b = Cv2.ImRead(onCpu);
        Assert.Equal((640, 480), (a.Width, a.Height));
        Assert.Equal((640, 480), (b.Width, b.Height));
        using var difference = new Mat();
        Cv2.Absdiff(a, b, difference);
        Assert.True(Cv2.Mean(difference).Val0 < 1.0,
            $"OpenGL and CPU pictures differ by {Cv2.Mean(difference).Val0:0.00} on average");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
