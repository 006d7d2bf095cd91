using System.Text.Json;
using LiveCam.Tests;
using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary><c>explain</c> with a detector and a segmenter, as a user runs it: the JSON in the image's pixels, the
/// explained box, D-RISE, the mask PNG.</summary>
public sealed class DetectExplainCliTests : IDisposable
{
    /// <summary>scikit-image's astronaut (public domain; Debian's python3-skimage), 512x512, a face near the top.
    /// </summary>
    const string Astronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

    readonly string _dir = Directory.CreateTempSubdirectory("livecam-detect-").FullName;

    static (int Code, string Out, string Err) Invoke(params string[] args) => CliRunner.Invoke(args);

    static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [SkippableFact]
    public void A_face_is_given_in_the_images_pixels_and_the_explained_box_is_the_first_and_D_RISE_looks_at_it()
    {
        Skip.IfNot(File.Exists(Astronaut), "scikit-image's astronaut.png is missing (apt-get install python3-skimage)");
        var png = Path.Combine(_dir, "face.png");
        var json = Path.Combine(_dir, "face.json");
        var (code, _, stderr) = Invoke("explain", "--model", "blazeface", "--image", Astronaut, "--method", "d-rise",
            "--out", png, "--json", json);
        Assert.True(code == 0, stderr);
        using (var written = Cv2.ImRead(png)) Assert.Equal((512, 512), (written.Width, written.Height));
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var detections = root.GetProperty("detections").EnumerateArray().ToList();
        Assert.NotEmpty(detections);
        var scores = detections.Select(d => d.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        var box = Floats(detections[0].GetProperty("box"));
        // In the image's 512 pixels, not the model's 128: a face of this photograph is some 90 pixels wide.
        Assert.InRange(box[2] - box[0], 60, 160);
        Assert.All(box, v => Assert.InRange(v, 0, 512));
        Assert.Equal(6, detections[0].GetProperty("keypoints").GetArrayLength());
        var target = root.GetProperty("target");
        Assert.Equal(1, target.GetProperty("box_number").GetInt32());
        Assert.Equal(box, Floats(target.GetProperty("box")));
        // D-RISE's map is at the input's 128x128, which the padded fit lays over the whole square image.
        var heatmap = root.GetProperty("heatmap");
        int width = heatmap.GetProperty("width").GetInt32();
        var values = Floats(heatmap.GetProperty("values"));
        int peak = Array.IndexOf(values, values.Max());
        double px = (peak % width + 0.5) * 512.0 / width, py = (peak / width + 0.5) * 512.0 / width;
        Assert.True(px >= box[0] && px <= box[2] && py >= box[1] && py <= box[3],
            $"D-RISE's peak ({px:0}, {py:0}) lies outside the face [{string.Join(", ", box)}]");
    }

    [Fact]
    public void A_detectors_targets_and_tasks_that_do_not_exist_end_in_one_line()
    {
        var png = Path.Combine(_dir, "x.png");
        var image = CliRunner.SceneImage(_dir);
        foreach (var args in new[]
        {
            new[] { "--model", "blazeface", "--target", "top" },
            ["--model", "blazeface", "--target", "box:0"],
            ["--model", "blazeface", "--mask-out", Path.Combine(_dir, "m.png")],
            ["--model", "blazeface", "--task", "detect"],
        })
        {
            var (code, _, stderr) = Invoke(["explain", "--image", image, "--out", png, .. args]);
            Assert.Equal(2, code);
            Assert.Single(stderr.Trim().Split('\n'));
        }
    }

    [SkippableFact]
    public void A_segmenter_writes_its_classes_areas_and_a_mask_of_the_images_size()
    {
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        PyTorchOracle.Script("segment_oracle.py", _dir);
        var image = CliRunner.SceneImage(_dir);
        var json = Path.Combine(_dir, "seg.json");
        var mask = Path.Combine(_dir, "mask.png");
        var (code, _, stderr) = Invoke("explain", "--model", Path.Combine(_dir, "model.onnx"), "--task", "segment",
            "--image", image, "--out", Path.Combine(_dir, "seg.png"), "--json", json, "--mask-out", mask);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var segmentation = doc.RootElement.GetProperty("segmentation");
        Assert.Equal(4, segmentation.GetProperty("classes").GetArrayLength());
        var areas = segmentation.GetProperty("areas").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
        Assert.Equal(1, areas.Sum(), 3);
        using var written = Cv2.ImRead(mask, ImreadModes.Unchanged);
        int width = written.Width, height = written.Height;
        Assert.Equal((320, 240, 1), (width, height, written.Channels()));
        written.MinMaxLoc(out double min, out double max);
        Assert.InRange(min, 0, 3);
        Assert.InRange(max, 0, 3);
        // The classes the JSON finds are those the mask holds.
        var found = new HashSet<int>();
        for (int y = 0; y < height; y += 4)
            for (int x = 0; x < width; x += 4) found.Add(written.At<byte>(y, x));
        var named = segmentation.GetProperty("areas").EnumerateObject().Select(p => int.Parse(p.Name[6..],
            System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Subset(named, found);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}
