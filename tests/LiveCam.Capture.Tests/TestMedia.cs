using OpenCvSharp;

namespace LiveCam.Capture.Tests;

/// <summary>Files the tests make themselves: videos written with OpenCV, folders of images.</summary>
internal sealed class TestMedia : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("livecam-capture-").FullName;

    /// <summary>An image whose blue channel is <paramref name="index"/> * 10 everywhere: the index can be read
    /// back.</summary>
    public static Mat Numbered(int index, int width = 64, int height = 48) =>
        new(height, width, MatType.CV_8UC3, new Scalar(index * 10 % 256, 80, 160));

    public static int ReadNumber(Mat image) => (int)Math.Round(image.Mean().Val0 / 10.0);

    public string WriteVideo(string name, int frames, int width = 64, int height = 48, double fps = 25)
    {
        var path = Path.Combine(Folder, name);
        using var writer = new VideoWriter(path, VideoWriter.FourCC('M', 'J', 'P', 'G'), fps, new Size(width, height));
        if (!writer.IsOpened()) throw new InvalidOperationException("the test video could not be written");
        for (int i = 0; i < frames; i++)
        {
            using var image = Numbered(i, width, height);
            writer.Write(image);
        }
        return path;
    }

    public string WriteImages(string sub, params int[] numbers)
    {
        var dir = Path.Combine(Folder, sub);
        Directory.CreateDirectory(dir);
        foreach (var n in numbers)
        {
            using var image = Numbered(n);
            Cv2.ImWrite(Path.Combine(dir, $"img{n}.png"), image);
        }
        return dir;
    }

    public string WriteGarbage(string name, int bytes = 5000)
    {
        var path = Path.Combine(Folder, name);
        var random = new Random(1);
        var data = new byte[bytes];
        random.NextBytes(data);
        File.WriteAllBytes(path, data);
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
