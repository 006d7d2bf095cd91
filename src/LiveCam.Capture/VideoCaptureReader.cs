using OpenCvSharp;

namespace LiveCam.Capture;

/// <summary>Webcams, video files and network streams through OpenCV's <see cref="VideoCapture"/>.</summary>
public sealed class VideoCaptureReader : IFrameReader
{
    readonly SourceSpec _spec;
    readonly int _requestedWidth, _requestedHeight;
    readonly double _requestedFps;
    VideoCapture? _capture;
    SourceInfo? _info;

    /// <param name="requestedWidth">For webcams: the size and rate to ask the driver for (0: its default).</param>
    public VideoCaptureReader(SourceSpec spec, int requestedWidth = 0, int requestedHeight = 0, double requestedFps = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind is not (SourceKind.Webcam or SourceKind.VideoFile or SourceKind.Stream))
            throw new ArgumentException($"{spec.Kind} is not read through VideoCapture", nameof(spec));
        _spec = spec;
        _requestedWidth = requestedWidth;
        _requestedHeight = requestedHeight;
        _requestedFps = requestedFps;
    }

    public SourceInfo Open()
    {
        _capture?.Dispose();
        _capture = null;
        if (_spec.Kind == SourceKind.VideoFile && !File.Exists(_spec.Path))
            throw new SourceOpenException($"cannot open '{_spec.Path}': no such file");

        var capture = _spec.Kind switch
        {
            SourceKind.Webcam when _spec.CameraIndex >= 0 => new VideoCapture(_spec.CameraIndex),
            SourceKind.Webcam => new VideoCapture(_spec.Path, VideoCaptureAPIs.V4L2),
            _ => new VideoCapture(_spec.Path, VideoCaptureAPIs.FFMPEG),
        };
        try
        {
            if (!capture.IsOpened())
                throw new SourceOpenException(_spec.Kind switch
                {
                    SourceKind.Webcam => $"cannot open camera '{_spec.Text}': no such camera, or it is busy",
                    SourceKind.Stream => $"cannot open stream '{_spec.Path}': unreachable, or not a video stream",
                    _ => $"cannot open '{_spec.Path}': not a video this OpenCV build can decode",
                });
            if (_spec.Kind == SourceKind.Webcam)
            {
                if (_requestedWidth > 0) capture.Set(VideoCaptureProperties.FrameWidth, _requestedWidth);
                if (_requestedHeight > 0) capture.Set(VideoCaptureProperties.FrameHeight, _requestedHeight);
                if (_requestedFps > 0) capture.Set(VideoCaptureProperties.Fps, _requestedFps);
            }
            int width = (int)capture.Get(VideoCaptureProperties.FrameWidth);
            int height = (int)capture.Get(VideoCaptureProperties.FrameHeight);
            double fps = capture.Get(VideoCaptureProperties.Fps);
            if (double.IsNaN(fps) || fps <= 0 || fps > 1000) fps = 0;
            bool live = _spec.Kind != SourceKind.VideoFile;
            long count = live ? -1 : (long)capture.Get(VideoCaptureProperties.FrameCount);
            if (!live && (width <= 0 || height <= 0))
                throw new SourceOpenException($"cannot open '{_spec.Path}': no video stream in it");
            _capture = capture;
            _info = new SourceInfo(_spec.Text, width, height, fps, count, live);
            return _info;
        }
        catch
        {
            capture.Dispose();
            throw;
        }
    }

    public ReadStatus Read(out Mat? image)
    {
        image = null;
        if (_capture is null) return _info?.IsLive == true ? ReadStatus.Lost : ReadStatus.End;
        var mat = new Mat();
        try
        {
            if (!_capture.Read(mat) || mat.Empty())
            {
                mat.Dispose();
                return _info!.IsLive ? ReadStatus.Lost : ReadStatus.End;
            }
            image = ToBgr(mat);
            return ReadStatus.Frame;
        }
        catch (OpenCVException)
        {
            mat.Dispose();
            return ReadStatus.Corrupt;
        }
    }

    /// <summary>Converts grey or BGRA images to BGR, disposing the input when it converts.</summary>
    internal static Mat ToBgr(Mat mat)
    {
        if (mat.Type() == MatType.CV_8UC3) return mat;
        using (mat)
        {
            var bgr = new Mat();
            try
            {
                using var eight = new Mat();
                var source = mat;
                if (mat.Depth() != MatType.CV_8U)
                {
                    mat.ConvertTo(eight, MatType.CV_8U, mat.Depth() == MatType.CV_16U ? 1.0 / 256 : 1);
                    source = eight;
                }
                switch (source.Channels())
                {
                    case 1: Cv2.CvtColor(source, bgr, ColorConversionCodes.GRAY2BGR); break;
                    case 4: Cv2.CvtColor(source, bgr, ColorConversionCodes.BGRA2BGR); break;
                    case 3: source.CopyTo(bgr); break;
                    default: throw new OpenCVException(0, "ToBgr", $"{source.Channels()} channels", "", 0);
                }
                return bgr;
            }
            catch
            {
                bgr.Dispose();
                throw;
            }
        }
    }

    public bool Rewind() =>
        _capture is not null && _info is { IsLive: false } && _capture.Set(VideoCaptureProperties.PosFrames, 0);

    public void Dispose()
    {
        _capture?.Dispose();
        _capture = null;
    }
}
