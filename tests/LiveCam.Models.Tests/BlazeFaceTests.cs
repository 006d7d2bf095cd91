using LiveCam.Models.Onnx;
using System.Runtime.InteropServices;
using System.Text.Json;
using LiveCam.Core;
using LiveCam.Explain.Layers;
using LiveCam.Explain.Methods;
using LiveCam.Models.Detection;
using LiveCam.Tests;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>The shipped BlazeFace on scikit-image's astronaut: its graph against ONNX Runtime, its decoding against
/// MediaPipe's (Oracle/blazeface_reference.py), and the face it finds and explains against one marked by eye.</summary>
// Numbers that depend on the kernels: run again by test.sh under other oneDNN settings.
[Trait("Category", "Numeric")]
public sealed class BlazeFaceTests : IDisposable
{
    /// <summary>scikit-image's test picture (Debian's python3-skimage, installed by the test setup with the oracle).
    /// </summary>
    const string Astronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";

    /// <summary>The astronaut's face in the 512x512 picture, marked by eye (cheek to cheek, from the forehead below
    /// the hair to the chin): x0, y0, x1, y1 in image pixels.</summary>
    static readonly float[] Face = [178, 80, 272, 182];

    /// <summary>The graph's outputs, in its order: scores [512, 1] and [384, 1], regressors [512, 16] and [384, 16].
    /// </summary>
    static readonly (string File, int Count)[] Outputs =
        [("scores512.f32", 512), ("scores384.f32", 384), ("regressors512.f32", 512 * 16),
            ("regressors384.f32", 384 * 16)];

    readonly string _dir = Directory.CreateTempSubdirectory("livecam-blazeface-").FullName;

    static string? MissingPicture => File.Exists(Astronaut)
        ? null
        : $"{Astronaut} is missing (apt-get install python3-skimage)";

    /// <summary>The model, and the astronaut as it sees it (letterboxed: the whole picture).</summary>
    static (VisionModel Model, Tensor Input, Rect Region) Astronaut128()
    {
        var model = ModelCatalog.Load("blazeface", null, CPU);
        using var bgr = Cv2.ImRead(Astronaut);
        Assert.Equal((512, 512), (bgr.Width, bgr.Height));
        var input = model.Preprocess(bgr).DetachFromDisposeScope();
        return (model, input, model.InputRegion(bgr.Width, bgr.Height));
    }

    static float[] Run(VisionModel model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.Network.eval();
        return model.Network.call(input).flatten().data<float>().ToArray();
    }

    [SkippableFact]
    public void The_imported_graph_computes_what_ONNX_Runtime_computes_on_the_astronaut()
    {
        Skip.If(MissingPicture is not null, MissingPicture);
        var (model, input, _) = Astronaut128();
        using var disposeModel = model;
        using var disposeInput = input;
        // LiveCam's own import is judged here, not ONNX Runtime against itself.
        ((OnnxNetwork)model.Network).UsesOnnxRuntime = false;
        var actual = Run(model, input);
        // ONNX Runtime takes the graph's own layout, [1, 128, 128, 3].
        using var nhwc = input.permute(0, 2, 3, 1).contiguous();
        using var session = new InferenceSession(ModelCatalog.ShippedWeights($"{BlazeFace.Folder}/{BlazeFace.File}")!);
        var value = new DenseTensor(nhwc.data<float>().ToArray(), [1, 128, 128, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(session.InputMetadata.Keys.Single(), value)]);
        Assert.Equal(Outputs.Select(o => o.Count), results.Select(r => r.AsEnumerable<float>().Count()));
        var expected = results.SelectMany(r => r.AsEnumerable<float>()).ToArray();
        double worst = PyTorchOracle.RelativeDifference(expected, actual);
        Assert.True(worst <= 1e-4, $"differs from ONNX Runtime by {worst:G3} of the outputs' scale");
    }

    [SkippableFact]
    public void The_head_decodes_the_outputs_as_MediaPipe_does()
    {
        Skip.If(MissingPicture is not null, MissingPicture);
        Skip.If(PyTorchOracle.Missing is not null, PyTorchOracle.Missing);
        var (model, input, _) = Astronaut128();
        using var disposeModel = model;
        using var disposeInput = input;
        var outputs = Run(model, input);
        int at = 0;
        foreach (var (file, count) in Outputs)
        {
            File.WriteAllBytes(Path.Combine(_dir, file), MemoryMarshal.AsBytes(outputs.AsSpan(at, count)).ToArray());
            at += count;
        }
        Assert.Equal(outputs.Length, at);
        var json = Path.Combine(_dir, "reference.json");
        PyTorchOracle.Script("blazeface_reference.py", _dir, json);
        using var reference = JsonDocument.Parse(File.ReadAllText(json));
        var expected = reference.RootElement.EnumerateArray().ToList();
        var found = Assert.IsType<DetectionHead>(model.Head).Detect(outputs);
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, found.Count);
        for (int i = 0; i < found.Count; i++)
        {
            var d = found[i];
            // LiveCam's are in the input's pixels, MediaPipe's relative to its size.
            float[] box = [d.X0 / 128, d.Y0 / 128, d.X1 / 128, d.Y1 / 128];
            var keypoints = d.Keypoints.Select(v => v / 128).ToArray();
            var e = expected[i];
            var eBox = e.GetProperty("box").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var eKeypoints = e.GetProperty("keypoints").EnumerateArray()
                .SelectMany(p => p.EnumerateArray().Select(v => v.GetSingle())).ToArray();
            Assert.Equal(e.GetProperty("score").GetSingle(), d.Score, 1e-5f);
            Assert.Equal(6 * 2, keypoints.Length);
            Assert.Equal(eKeypoints.Length, keypoints.Length);
            double far = eBox.Concat(eKeypoints).Zip(box.Concat(keypoints), (x, y) => Math.Abs(x - y)).Max();
            Assert.True(far <= 1e-4, $"face {i}: box and keypoints differ from MediaPipe's by up to {far:G3}");
        }
    }

    [SkippableFact]
    public void It_finds_the_astronauts_face_and_explains_it_there()
    {
        Skip.If(MissingPicture is not null, MissingPicture);
        var (model, input, rect) = Astronaut128();
        using var disposeModel = model;
        using var disposeInput = input;
        var region = new PixelRect(rect.X, rect.Y, rect.Width, rect.Height);
        var outputs = Run(model, input);
        var json = model.Head.Json(outputs, null, region);
        var faces = Assert.IsType<List<Dictionary<string, object?>>>(json["detections"]);
        Assert.NotEmpty(faces);
        var best = Assert.IsType<float[]>(faces[0]["box"]);
        float score = Assert.IsType<float>(faces[0]["score"]);
        float iou = Boxes.Iou(best[0], best[1], best[2], best[3], Face[0], Face[1], Face[2], Face[3]);
        Assert.True(score >= 0.7f && iou >= 0.5f, $"the best face [{string.Join(", ", best)}] scores {score:0.000} "
            + $"and overlaps the one marked by eye by IoU {iou:0.000}");

        using var scope = NewDisposeScope();
        foreach (var method in new[] { "gradcam", "eigencam" })
        {
            var set = model.CreateExplainer().Explain(input, MethodCatalog.Create(method),
                model.Head.ParseTarget("box:1"), new LayerSelector.ByName(model.DefaultLayer));
            var map = Assert.Single(set.Items).Map;
            var (y, x) = map.ArgMax();
            // The peak cell's centre, from the map to the input's pixels, then through the region to the picture's.
            double px = region.X + (x + 0.5) / map.Width * region.Width;
            double py = region.Y + (y + 0.5) / map.Height * region.Height;
            Assert.True(px >= Face[0] && px <= Face[2] && py >= Face[1] && py <= Face[3],
                $"{method}'s peak (cell {x}, {y} of {map.Width}x{map.Height}) lies at ({px:0}, {py:0}) in the "
                + "picture, outside the face marked by eye");
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
