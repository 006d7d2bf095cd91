using LiveCam.Models.Onnx;
using OpenCvSharp;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>How a frame becomes a model's input: crop, stretch or pad, and where that input lies in the
/// frame.</summary>
public sealed class FrameFitTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-fit-").FullName;

    [Fact]
    public void Crop_takes_TorchVisions_centre_stretch_the_whole_frame_pad_reaches_past_it_by_the_bars()
    {
        // A 640x480 frame into a 224x224 ImageNet input: shorter side to 256, centre 224 = 420 px of the frame.
        Assert.Equal(new Rect(110, 30, 420, 420), FrameFitting.Region(640, 480, 224, 224, FrameFit.Crop, 224 / 256.0));
        Assert.Equal(new Rect(0, 0, 640, 480), FrameFitting.Region(640, 480, 224, 224, FrameFit.Stretch, 224 / 256.0));
        Assert.Equal(new Rect(0, -80, 640, 640), FrameFitting.Region(640, 480, 224, 224, FrameFit.Pad, 224 / 256.0));
        // A wide input (80x64, the robot's) of a square frame: crop keeps the full width's band, pad adds bars at the
        // sides.
        Assert.Equal(new Rect(0, 50, 500, 400), FrameFitting.Region(500, 500, 80, 64, FrameFit.Crop, 1));
        // 62.5 px each side
        Assert.Equal(new Rect(-62, 0, 625, 500), FrameFitting.Region(500, 500, 80, 64, FrameFit.Pad, 1));
    }

    [Fact]
    public void A_padded_frame_sits_undistorted_in_the_middle_of_the_input_with_bars_of_the_pad_colour()
    {
        using var frame = new Mat(100, 200, MatType.CV_8UC3, new Scalar(0, 0, 255));
        using var fitted = FrameFitting.Fit(
            frame, 64, 64, FrameFit.Pad, 1, new Scalar(10, 20, 30), InterpolationFlags.Area);
        Assert.Equal((64, 64), (fitted.Width, fitted.Height));
        Assert.Equal(new Vec3b(10, 20, 30), fitted.At<Vec3b>(2, 32));    // bar above
        Assert.Equal(new Vec3b(0, 0, 255), fitted.At<Vec3b>(32, 32));    // the frame
        Assert.Equal(new Vec3b(10, 20, 30), fitted.At<Vec3b>(61, 32));   // bar below
        using var stretched = FrameFitting.Fit(
            frame, 64, 64, FrameFit.Stretch, 1, Scalar.Black, InterpolationFlags.Area);
        Assert.Equal(new Vec3b(0, 0, 255), stretched.At<Vec3b>(2, 32));
    }

    [Fact]
    public void A_model_explains_the_part_it_is_fitted_to()
    {
        using var model = ModelCatalog.Load("mobilenet_v3_small", null, CPU);
        Assert.Equal(FrameFit.Crop, model.Fit);
        Assert.Equal(new Rect(110, 30, 420, 420), model.InputRegion(640, 480));
        model.Fit = FrameFit.Pad;
        Assert.Equal(new Rect(0, -80, 640, 640), model.InputRegion(640, 480));
        using var frame = new Mat(480, 640, MatType.CV_8UC3, Scalar.Gray);
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 1, 3, 224, 224 }, model.Preprocess(frame).shape);
    }

    [Fact]
    public void An_ONNX_models_input_comes_from_the_graph_else_the_sidecar_else_the_options()
    {
        // A graph with a symbolic input size: Identity from 'image' to 'out', nothing else.
        var path = Path.Combine(_dir, "identity.onnx");
        File.WriteAllBytes(path, IdentityModel());
        using (var plain = ModelCatalog.Load(path, null, CPU))
            Assert.Equal((224, 224), (plain.InputWidth, plain.InputHeight));
        File.WriteAllText(
            path + ".json", """{"input_size": [96, 64], "mean": [0, 0, 0], "std": [1, 1, 1], "bgr": true}""");
        using (var sidecar = ModelCatalog.Load(path, null, CPU))
        {
            Assert.Equal((96, 64), (sidecar.InputWidth, sidecar.InputHeight));
            using var frame = new Mat(64, 96, MatType.CV_8UC3, new Scalar(51, 102, 204));  // B, G, R
            using var scope = NewDisposeScope();
            var x = sidecar.Preprocess(frame);
            // BGR order, scaled to [0, 1], mean 0 and std 1: the pixel itself.
            Assert.Equal(
                new[] { 0.2f, 0.4f, 0.8f },
                new[] { x[0, 0, 5, 5].item<float>(), x[0, 1, 5, 5].item<float>(), x[0, 2, 5, 5].item<float>() });
        }
        using (var options = ModelCatalog.Load(path, null, CPU, new OnnxModelOptions(Width: 48, Height: 48)))
            Assert.Equal((48, 48), (options.InputWidth, options.InputHeight));
        Assert.Throws<ModelLoadException>(() =>
            ModelCatalog.Load("resnet18", null, CPU, new OnnxModelOptions(Width: 48, Height: 48)));
    }

    /// <summary>ModelProto { graph { node { Identity image -> out } input { image: float [1, 3, h, w] }
    /// output { out } } opset 13 }, by hand.</summary>
    static byte[] IdentityModel()
    {
        static byte[] Field(int number, byte[] body) => [(byte)(number << 3 | 2), (byte)body.Length, .. body];
        static byte[] Text(int number, string s) => Field(number, System.Text.Encoding.UTF8.GetBytes(s));
        static byte[] Number(int number, int value) => [(byte)(number << 3), (byte)value];
        byte[] node = [.. Text(1, "image"), .. Text(2, "out"), .. Text(4, "Identity")];
        byte[] Dim(int value) => Field(1, Number(1, value));
        byte[] symbolic = Field(1, Text(2, "h"));
        byte[] shape = [.. Dim(1), .. Dim(3), .. symbolic, .. Field(1, Text(2, "w"))];
        byte[] tensorType = [.. Number(1, 1), .. Field(2, shape)];
        byte[] input = [.. Text(1, "image"), .. Field(2, Field(1, tensorType))];
        byte[] output = [.. Text(1, "out")];
        byte[] graph = [.. Field(1, node), .. Field(11, input), .. Field(12, output)];
        return [.. Number(1, 7), .. Field(7, graph), .. Field(8, Number(2, 13))];
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
