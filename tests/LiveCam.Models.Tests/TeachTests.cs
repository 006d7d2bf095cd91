using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Explain.Targets;
using LiveCam.Models.Teach;
using LiveCam.Tests;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>A head taught on a network's features: what it computes (PyTorch judges), how it is taught, saved and
/// attached, and how a live head changes between analyses.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class TeachTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-teach-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void A_taught_head_computes_what_PyTorch_computes_and_Grad_CAM_explains_a_taught_class_through_it()
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("teach_oracle.py", _dir);
        using var model = TaughtModel.Attach(
            ModelCatalog.Load("resnet18", Path.Combine(_dir, "weights.pt"), CPU),
            TaughtHead.Load(Path.Combine(_dir, "head.json")));
        using var scope = NewDisposeScope();
        var input = tensor(PyTorchOracle.Floats(Path.Combine(_dir, "input.f32")), [1, 3, 224, 224]);
        var set = model.CreateExplainer().Explain(
            input, MethodCatalog.Create("gradcam"), Target.Class(2), LayerSelector.Parse("layer4"));

        var logits = PyTorchOracle.Floats(Path.Combine(_dir, "logits.f32"));
        Assert.Equal(3, set.Outputs.Length);
        Assert.True(PyTorchOracle.RelativeDifference(logits, set.Outputs) < 1e-4,
            $"logits {string.Join(", ", set.Outputs)}; PyTorch {string.Join(", ", logits)}");
        var expected = PyTorchOracle.Floats(Path.Combine(_dir, "gradcam.f32")).Select(v => Math.Max(0, v)).ToArray();
        Assert.True(expected.Max() > 0, "the reference map is all zero: the comparison would prove nothing");
        var normalised = expected.Select(v => v / expected.Max()).ToArray();
        var map = set.Items[0].Map;
        Assert.Equal((7, 7), (map.Height, map.Width));
        double worst = normalised.Zip(map.Normalised, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-4, $"Grad-CAM of a taught class differs from PyTorch's by {worst:G3}");
        Assert.Equal("layer4", set.Items[0].Layer!.Name);
    }

    [Fact]
    public void Softmax_regression_tells_apart_the_classes_it_was_taught_a_rare_one_too()
    {
        // Three overlapping clusters of positive features (as pooled ReLU features are), one with 2% of the examples.
        var random = new Random(1);
        float[] Sample(int k) => Enumerable.Range(0, 64)
            .Select(i => (float)Math.Max(0, (i % 3 == k ? 1.0 : 0.6) + 0.45 * Gaussian(random))).ToArray();
        var counts = new[] { 200, 200, 4 };
        var features = new List<float[]>();
        var labels = new List<int>();
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < counts[k]; i++) { features.Add(Sample(k)); labels.Add(k); }
        var (weight, bias) = SoftmaxRegression.Fit(features, labels, 3);
        var head = new TaughtHead("test", 64, ["a", "b", "rare"], counts, weight, bias);

        int right = 0, rareRight = 0;
        for (int i = 0; i < 300; i++)
        {
            int k = i % 3;
            var logits = head.Logits(Sample(k));
            if (Array.IndexOf(logits, logits.Max()) == k) { right++; if (k == 2) rareRight++; }
        }
        Assert.True(right >= 270, $"{right}/300 unseen samples classified right");
        Assert.True(rareRight >= 85, $"{rareRight}/100 of the rare class: the classes must weigh the same");
    }

    static double Gaussian(Random r) =>
        Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    [Fact]
    public void A_head_file_keeps_everything_and_a_bad_one_gives_one_line()
    {
        var head = new TaughtHead(
            "resnet18-imagenet", 4, ["cup", "phone"], [6, 12], [1, 2, 3, 4, -1, -2, -3, -4.5f], [0.5f, -0.25f])
        {
            Memory = [new TaughtExample(0, [1, 0, 0, 0.125f]), new TaughtExample(1, [0, 1, 0, 1e-7f])],
        };
        var path = Path.Combine(_dir, "head.json");
        head.Save(path);
        var read = TaughtHead.Load(path);
        Assert.Equal(("resnet18-imagenet", 4), (read.Model, read.FeatureCount));
        Assert.Equal(["cup", "phone"], read.Classes);
        Assert.Equal([6, 12], read.Examples);
        Assert.Equal(head.Weight, read.Weight);
        Assert.Equal(head.Bias, read.Bias);
        Assert.Equal(2, read.Memory.Count);
        Assert.Equal([0, 1, 0, 1e-7f], read.Memory[1].Features);
        Assert.Equal(head.Logits([1, 2, 3, 4]), read.Logits([1, 2, 3, 4]));
        Assert.False(File.Exists(path + ".partial"));

        var text = File.ReadAllText(path);
        foreach (var (name, content) in new[]
        {
            ("truncated", text[..(text.Length / 2)]),
            ("not ours", "{\"format\": \"something else\"}"),
            ("short weights", text.Replace("\"weight\":[1,2,3,4,", "\"weight\":[2,3,4,", StringComparison.Ordinal)),
            ("one class",
                text.Replace("\"classes\":[\"cup\",\"phone\"]", "\"classes\":[\"cup\"]", StringComparison.Ordinal)),
            ("not finite", text.Replace("\"bias\":[0.5", "\"bias\":[1e999", StringComparison.Ordinal)),
            ("memory of a class it lacks", text.Replace("\"class\":1", "\"class\":5", StringComparison.Ordinal)),
        })
        {
            Assert.NotEqual(text, content);
            var bad = Path.Combine(_dir, name + ".json");
            File.WriteAllText(bad, content);
            var e = Assert.Throws<ModelLoadException>(() => TaughtHead.Load(bad));
            Assert.StartsWith($"cannot read head '{bad}':", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
        Assert.Contains("no such file",
            Assert.Throws<ModelLoadException>(() => TaughtHead.Load(Path.Combine(_dir, "missing.json"))).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_head_taught_on_another_network_or_other_features_is_refused()
    {
        var head = new TaughtHead("resnet18-imagenet", 512, ["a", "b"], [1, 1], new float[1024], new float[2]);
        var robot = ModelCatalog.Load("robot", "synthetic", CPU);
        var e = Assert.Throws<ModelLoadException>(() => TaughtModel.Attach(robot, head));
        Assert.Contains("taught on resnet18-imagenet, not robot", e.Message, StringComparison.Ordinal);
        robot.Dispose();
        using var robot2 = ModelCatalog.Load("robot", "synthetic", CPU);
        var wrongSize = head with { Model = "robot" };
        Assert.Contains("takes 512 features; robot makes 325",
            Assert.Throws<ModelLoadException>(() => TaughtModel.Attach(robot2, wrongSize)).Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_head_changes_only_when_an_analysis_begins_and_keeps_the_backbone_layer_names()
    {
        using var model = TaughtModel.Attach(ModelCatalog.Load("robot", "synthetic", CPU), null);
        var network = Assert.IsType<TaughtNetwork>(model.Network);
        using var image = new Mat(60, 80, MatType.CV_8UC3, new Scalar(90, 120, 150));
        long Outputs(Tensor input)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            return network.call(input).shape[^1];
        }
        using var input = model.Preprocess(image);
        Assert.Equal(325, Outputs(input));   // untaught: the features pass through
        var line = model.Head.Line(new float[325], null)!.Text;
        Assert.Contains("press 1", line, StringComparison.Ordinal);

        var random = new Random(2);
        var head = new TaughtHead("robot", 325, ["near", "far", "side"], [6, 6, 6],
            Enumerable.Range(0, 3 * 325).Select(_ => (float)random.NextDouble()).ToArray(), [0, 0, 0]);
        network.Offer(head);
        Assert.Equal(325, Outputs(input));   // offered, not taken: an analysis under way keeps its head
        using (var next = model.Preprocess(image)) Assert.Equal(3, Outputs(next));
        Assert.True(model.Traits.OutputsAreClassLogits);
        Assert.Equal("far", model.Head.Label(1));
        Assert.Contains("far", model.Head.Line([0.1f, 2f, 0.3f], 1)!.Text, StringComparison.Ordinal);

        var layers = model.CreateExplainer().Layers(model.ExampleInput()).Select(l => l.Name).ToList();
        Assert.Contains("encoder.0", layers);
        Assert.Equal("head", layers[^1]);
        Assert.DoesNotContain(layers, l => l.StartsWith("backbone.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_teacher_learns_two_things_from_a_few_frames_and_recognises_new_views_of_them()
    {
        // Two "objects" on a grey table: a red square and a blue disc, taught from 3 frames each, tested at other
        // places and sizes.
        static Mat Scene(int kind, int x, int y, int size)
        {
            var m = new Mat(240, 320, MatType.CV_8UC3, new Scalar(120, 128, 130));
            if (kind == 0) Cv2.Rectangle(m, new Rect(x, y, size, size), new Scalar(40, 40, 210), -1);
            else Cv2.Circle(m, new Point(x + size / 2, y + size / 2), size / 2, new Scalar(200, 90, 30), -1);
            return m;
        }
        using var teacher = new HeadTeacher(ModelCatalog.Load("resnet18-imagenet", null, CPU), ["square", "disc"])
        {
            Views = 3
        };
        var first = teacher.Train();
        Assert.False(first.IsTrained);
        foreach (var (x, y, s) in new[] { (60, 50, 90), (150, 80, 110), (100, 40, 70) })
        {
            using (var a = Scene(0, x, y, s)) teacher.Add(0, a);
            if (teacher.Counts[1] == 0)
            {
                Assert.False(teacher.Train().IsTrained);  // one class is not yet a classifier
            }
            using var b = Scene(1, x, y, s);
            teacher.Add(1, b);
        }
        Assert.Equal([9, 9], teacher.Counts);
        var head = teacher.Train();
        Assert.True(head.IsTrained);
        Assert.Equal(18, head.Memory.Count);
        foreach (var (x, y, s) in new[] { (30, 30, 80), (180, 100, 100), (120, 60, 120) })
            for (int kind = 0; kind < 2; kind++)
            {
                using var scene = Scene(kind, x, y, s);
                var logits = head.Logits(teacher.Features(scene));
                Assert.True(Array.IndexOf(logits, logits.Max()) == kind,
                    $"{head.Classes[kind]} at ({x}, {y}) size {s} read as {string.Join(", ", logits)}");
            }

        // A saved head's memory lets teaching go on: another teacher takes it up and trains the same head.
        using var again = new HeadTeacher(ModelCatalog.Load("resnet18-imagenet", null, CPU), ["disc", "square", "cup"]);
        again.Remember(head);
        Assert.Equal([9, 9, 0], again.Counts);
        var retrained = again.Train();
        Assert.Equal(["disc", "square"], retrained.Classes);
        teacher.Clear();
        Assert.Equal([0, 0], teacher.Counts);
    }
}
