using OpenCvSharp;

namespace LiveCam.Core.Tests;

public class FrameTests
{
    [Fact]
    public void Pixels_are_released_when_the_last_handle_is_disposed()
    {
        long before = Frame.LivePixelBuffers;
        var mat = new Mat(4, 4, MatType.CV_8UC3, Scalar.All(7));
        var first = new Frame(mat, 3, TimeSpan.FromSeconds(1), "test");
        var second = first.Share();
        Assert.Equal(before + 1, Frame.LivePixelBuffers);

        first.Dispose();
        first.Dispose();  // a second dispose of the same handle must not release the other handle's pixels
        Assert.Equal(before + 1, Frame.LivePixelBuffers);
        Assert.False(mat.IsDisposed);
        Assert.Equal(7, second.Pixels.At<Vec3b>(0, 0).Item0);
        Assert.Equal(3, second.Sequence);
        Assert.Equal(TimeSpan.FromSeconds(1), second.CaptureTime);

        second.Dispose();
        Assert.True(mat.IsDisposed);
        Assert.Equal(before, Frame.LivePixelBuffers);
    }

    [Fact]
    public void A_disposed_handle_refuses_to_share_or_show_pixels()
    {
        var frame = new Frame(new Mat(2, 2, MatType.CV_8UC3), 0, TimeSpan.Zero, "test");
        frame.Dispose();
        Assert.Throws<ObjectDisposedException>(() => frame.Share());
        Assert.Throws<ObjectDisposedException>(() => frame.Pixels);
    }
}
