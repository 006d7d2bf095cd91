namespace LiveCam.Capture.Tests;

public class SourceSpecTests
{
    [Theory]
    [InlineData("webcam", SourceKind.Webcam)]
    [InlineData("webcam:1", SourceKind.Webcam)]
    [InlineData("/dev/video2", SourceKind.Webcam)]
    [InlineData("clip.mp4", SourceKind.VideoFile)]
    [InlineData("frames/*.png", SourceKind.Images)]
    [InlineData("photo.jpg", SourceKind.Images)]
    [InlineData("rtsp://10.0.0.2/stream", SourceKind.Stream)]
    [InlineData("https://example.org/live.m3u8", SourceKind.Stream)]
    [InlineData("synthetic", SourceKind.Synthetic)]
    [InlineData("synthetic:320x240@15", SourceKind.Synthetic)]
    public void Each_kind_is_recognised(string text, SourceKind kind) =>
        Assert.Equal(kind, SourceSpec.Parse(text).Kind);

    [Fact]
    public void A_folder_is_an_image_source()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        try { Assert.Equal(SourceKind.Images, SourceSpec.Parse(dir).Kind); }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void Webcam_numbers_and_device_paths_are_kept()
    {
        Assert.Equal(1, SourceSpec.Parse("webcam:1").CameraIndex);
        Assert.Equal(0, SourceSpec.Parse("webcam").CameraIndex);
        Assert.Equal("/dev/video2", SourceSpec.Parse("/dev/video2").Path);
    }

    [Fact]
    public void Synthetic_size_and_rate_have_defaults_and_can_be_given()
    {
        var d = SourceSpec.Parse("synthetic");
        Assert.Equal((640, 480, 30.0), (d.Width, d.Height, d.Fps));
        var s = SourceSpec.Parse("synthetic:320x240@12.5");
        Assert.Equal((320, 240, 12.5), (s.Width, s.Height, s.Fps));
        var r = SourceSpec.Parse("synthetic:@15");
        Assert.Equal((640, 480, 15.0), (r.Width, r.Height, r.Fps));
        // The form --help shows.
        var h = SourceSpec.Parse("synthetic@30");
        Assert.Equal((SourceKind.Synthetic, 640, 480, 30.0), (h.Kind, h.Width, h.Height, h.Fps));
    }

    [Theory]
    [InlineData("")]
    [InlineData("webcam:x")]
    [InlineData("synthetic:640by480")]
    [InlineData("synthetic:8x8")]
    [InlineData("synthetic:@0")]
    public void Malformed_sources_are_refused_with_a_message(string text)
    {
        var e = Assert.Throws<FormatException>(() => SourceSpec.Parse(text));
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        Assert.DoesNotContain('\n', e.Message);
    }
}
