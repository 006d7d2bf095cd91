using OpenCvSharp;

namespace LiveCam.Models;

/// <summary>How a frame of any size becomes the model's input.</summary>
public enum FrameFit
{
    /// <summary>The centre of the frame at the input's aspect ratio (TorchVision's evaluation transform takes 224 of
    /// 256): what ImageNet models were trained on, but a wide frame is seen only in its middle.</summary>
    Crop,
    /// <summary>The whole frame resized to the input, distorted if the aspects differ.</summary>
    Stretch,
    /// <summary>The whole frame, undistorted, with grey bars to the input's aspect.</summary>
    Pad,
}

/// <summary>The geometry of fitting a frame to an input: where the input lies in the frame, and the fitted image.
/// </summary>
public static class FrameFitting
{
    public static FrameFit Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "crop" => FrameFit.Crop,
        "stretch" => FrameFit.Stretch,
        "pad" => FrameFit.Pad,
        _ => throw new ArgumentException($"--fit '{text}': expected crop, stretch or pad"),
    };

    /// <summary>The part of a <paramref name="width"/> x <paramref name="height"/> frame the input shows, in frame
    /// pixels. With <see cref="FrameFit.Pad"/> it reaches past the frame by the bars.</summary>
    /// <param name="cropFraction">For crop: how much of the largest centred rectangle of the input's aspect is kept
    /// (224/256 for ImageNet).</param>
    public static Rect Region(int width, int height, int inputWidth, int inputHeight, FrameFit fit, double cropFraction)
    {
        double aspect = inputWidth / (double)inputHeight;
        switch (fit)
        {
            case FrameFit.Stretch:
                return new Rect(0, 0, width, height);
            case FrameFit.Pad:
            {
                // The input covers more than the frame: the frame's longer side fills it.
                double w = Math.Max(width, height * aspect), h = w / aspect;
                return new Rect((int)Math.Round((width - w) / 2), (int)Math.Round((height - h) / 2),
                    (int)Math.Round(w), (int)Math.Round(h));
            }
            default:
            {
                double w = Math.Min(width, height * aspect) * cropFraction, h = w / aspect;
                int rw = Math.Max(1, (int)Math.Round(w)), rh = Math.Max(1, (int)Math.Round(h));
                return new Rect((width - rw) / 2, (height - rh) / 2, rw, rh);
            }
        }
    }

    /// <summary>The frame fitted to the input's size: a new BGR Mat, the caller's.</summary>
    /// <param name="padColour">The bars' colour for <see cref="FrameFit.Pad"/>.</param>
    public static Mat Fit(Mat frame, int inputWidth, int inputHeight, FrameFit fit, double cropFraction,
        Scalar padColour, InterpolationFlags interpolation)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var region = Region(frame.Width, frame.Height, inputWidth, inputHeight, fit, cropFraction);
        var fitted = new Mat();
        try
        {
            if (fit != FrameFit.Pad)
            {
                using var part = new Mat(frame, region & new Rect(0, 0, frame.Width, frame.Height));
                Cv2.Resize(part, fitted, new Size(inputWidth, inputHeight), interpolation: interpolation);
                return fitted;
            }
            // The frame scaled into the input, centred, the rest filled.
            double scale = inputWidth / (double)region.Width;
            int w = Math.Clamp((int)Math.Round(frame.Width * scale), 1, inputWidth),
                h = Math.Clamp((int)Math.Round(frame.Height * scale), 1, inputHeight);
            fitted.Create(inputHeight, inputWidth, MatType.CV_8UC3);
            fitted.SetTo(padColour);
            using var inner = new Mat(fitted, new Rect((inputWidth - w) / 2, (inputHeight - h) / 2, w, h));
            Cv2.Resize(frame, inner, new Size(w, h), interpolation: interpolation);
            return fitted;
        }
        catch
        {
            fitted.Dispose();
            throw;
        }
    }
}
