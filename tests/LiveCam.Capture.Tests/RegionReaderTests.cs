using OpenCvSharp;

namespace LiveCam.Capture.Tests;

public sealed class RegionReaderTests
{
    /// <summary>Frames whose pixel at (x, y) encodes x and y, so a crop's origin can be read back.</summary>
    sealed class Gradient(int width, int height, int frames) : IFrameReader
    {
        int _read;
        public bool Disposed { get; private set; }
        public SourceInfo Open() => new("gradient", width, height, 10, frames, IsLive: false);

        public ReadStatus Read(out Mat? image)
        {
            image = null;
            if (_read == frames) return ReadStatus.End;
            _read++;
            image = new Mat(height, width, MatType.CV_8UC3);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    image.Set(y, x, new Vec3b((byte)x, (byte)y, (byte)_read));
            return ReadStatus.Frame;
        }

        public bool Rewind() => false;
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void Every_frame_is_cut_to_the_region_and_the_source_reports_its_size()
    {
        var inner = new Gradient(40, 60, 3);
        using (var reader = new RegionReader(inner, RegionReader.Parse("5, 20,30,25")))
        {
            var info = reader.Open();
            Assert.Equal((30, 25), (info.Width, info.Height));
            for (int i = 1; i <= 3; i++)
            {
                Assert.Equal(ReadStatus.Frame, reader.Read(out var image));
                using (image)
                {
                    Assert.Equal((30, 25), (image!.Width, image.Height));
                    Assert.Equal(new Vec3b(5, 20, (byte)i), image.At<Vec3b>(0, 0));
                    Assert.Equal(new Vec3b(34, 44, (byte)i), image.At<Vec3b>(24, 29));
                }
            }
            Assert.Equal(ReadStatus.End, reader.Read(out var none));
            Assert.Null(none);
        }
        Assert.True(inner.Disposed);
    }

    [Fact]
    public void A_region_past_the_frame_is_refused_when_the_source_opens()
    {
        using var reader = new RegionReader(new Gradient(40, 60, 1), new Rect(20, 0, 30, 10));
        var e = Assert.Throws<SourceOpenException>(() => reader.Open());
        Assert.Contains("reaches past the 40x60", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,2,3")]
    [InlineData("a,2,3,4")]
    [InlineData("1,2,3,4,5")]
    public void A_malformed_region_is_one_clear_error(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => RegionReader.Parse(text));
        Assert.Contains("expected X,Y,W,H", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_or_negative_region_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new RegionReader(new Gradient(4, 4, 1), new Rect(0, 0, 0, 4)));
        Assert.Throws<ArgumentException>(() => new RegionReader(new Gradient(4, 4, 1), new Rect(-1, 0, 2, 2)));
    }
}
