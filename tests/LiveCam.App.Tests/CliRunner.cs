using OpenCvSharp;

namespace LiveCam.App.Tests;

/// <summary>Runs the command line in process and captures what it prints.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Cli.Invoke(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A 320x240 grey scene with a red square right of centre, written to
    /// <paramref name="dir"/>/scene.png.</summary>
    public static string SceneImage(string dir)
    {
        var path = Path.Combine(dir, "scene.png");
        using var image = new Mat(240, 320, MatType.CV_8UC3, new Scalar(128, 128, 128));
        Cv2.Rectangle(image, new Rect(200, 60, 60, 60), new Scalar(30, 30, 220), -1);
        Cv2.ImWrite(path, image);
        return path;
    }
}
