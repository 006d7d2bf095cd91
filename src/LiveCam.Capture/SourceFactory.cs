using LiveCam.Capture.Synthetic;

namespace LiveCam.Capture;

/// <summary>Builds the reader for a <see cref="SourceSpec"/>.</summary>
public static class SourceFactory
{
    /// <param name="seed">Seed of the synthetic scene.</param>
    /// <param name="imageFps">Pace of image lists; other sources use their own rate.</param>
    public static IFrameReader CreateReader(SourceSpec spec, int seed = 0,
        double imageFps = CaptureOptions.DefaultImageFps,
        int webcamWidth = 0, int webcamHeight = 0, double webcamFps = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            SourceKind.Synthetic => new SyntheticSceneReader(spec.Width, spec.Height, spec.Fps, seed, spec.Text),
            SourceKind.Images => new ImageSequenceReader(spec, imageFps),
            SourceKind.Webcam => new VideoCaptureReader(spec, webcamWidth, webcamHeight, webcamFps),
            SourceKind.Stream => new NetworkStreamReader(spec),
            _ => new VideoCaptureReader(spec),
        };
    }

    /// <summary>Whether a camera seems present, without opening it (Linux: a /dev/video* node; elsewhere: unknown, so
    /// false).</summary>
    public static bool CameraPresent() =>
        OperatingSystem.IsLinux() && Directory.Exists("/dev") && Directory.EnumerateFiles("/dev", "video*").Any();
}
