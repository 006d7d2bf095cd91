using LiveCam.Capture.Synthetic;
using OpenCvSharp;

namespace LiveCam.Capture.Tests;

public class SyntheticSceneTests
{
    static double Difference(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        var mean = diff.Mean();
        return mean.Val0 + mean.Val1 + mean.Val2;
    }

    [Fact]
    public void Same_seed_gives_the_same_pixels()
    {
        using var a = new SyntheticScene(160, 120, 30, seed: 7);
        using var b = new SyntheticScene(160, 120, 30, seed: 7);
        foreach (var n in new long[] { 0, 1, 57, 400 })
        {
            using var fa = a.Render(n);
            using var fb = b.Render(n);
            Assert.Equal(0, Difference(fa, fb));
        }
    }

    [Fact]
    public void Other_seeds_give_other_scenes_and_the_scene_moves()
    {
        using var a = new SyntheticScene(160, 120, 30, seed: 1);
        using var b = new SyntheticScene(160, 120, 30, seed: 2);
        using var a0 = a.Render(0);
        using var b0 = b.Render(0);
        using var a60 = a.Render(60);
        Assert.True(Difference(a0, b0) > 1, "two seeds rendered the same scene");
        Assert.True(Difference(a0, a60) > 1, "the scene did not change in two seconds");
    }

    [Fact]
    public void Frames_are_bgr_of_the_requested_size_with_more_than_one_colour()
    {
        using var scene = new SyntheticScene(200, 150, 30, seed: 0);
        using var frame = scene.Render(10);
        Assert.Equal((200, 150, MatType.CV_8UC3), (frame.Width, frame.Height, frame.Type()));
        Cv2.MeanStdDev(frame, out _, out var std);
        Assert.True(std.Val0 + std.Val1 + std.Val2 > 10, "the frame is nearly flat");
    }

    [Fact]
    public void Obstacles_are_in_view()
    {
        // Over a few seconds, some pixels are strongly coloured (the floor and walls are near-grey).
        using var scene = new SyntheticScene(160, 120, 30, seed: 3);
        int colourful = 0;
        for (int n = 0; n < 150; n += 10)
        {
            using var frame = scene.Render(n);
            using var hsv = new Mat();
            Cv2.CvtColor(frame, hsv, ColorConversionCodes.BGR2HSV);
            using var saturated = new Mat();
            Cv2.InRange(hsv, new Scalar(0, 120, 60), new Scalar(180, 255, 255), saturated);
            colourful += Cv2.CountNonZero(saturated);
        }
        Assert.True(colourful > 200, $"only {colourful} coloured pixels in 15 frames");
    }
}
