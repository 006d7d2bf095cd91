using System.CommandLine;
using LiveCam.Capture;

namespace LiveCam.App.Commands.Shared;

/// <summary>The options every command that reads a source shares.</summary>
internal sealed class SourceOptions
{
    public Option<string> Source { get; } = SharedOptions.Source("what to play: auto (a webcam if present, else "
        + "synthetic), webcam, webcam:N, /dev/videoN, a video file, a folder or glob of images, rtsp:// or http(s):// "
        + "URL, synthetic[:WIDTHxHEIGHT][@FPS]", "auto");

    public Option<double?> Fps { get; } = new("--fps")
    {
        Description = "pace of files, image folders and the synthetic scene in frames per second (0: as fast as "
            + "possible); default: the source's own rate, 10 for images. For a webcam: the rate to ask the camera for",
    };

    public Option<bool> Loop { get; } = new("--loop") { Description = "start a file or image folder again at its end" };

    public Option<int> Seed { get; } = SharedOptions.Seed("seed of the synthetic scene", 0);

    public Option<string?> Size { get; } = SharedOptions.Size("for a webcam: the frame size to ask for, WIDTHxHEIGHT");

    public Option<string?> Region { get; } = new("--roi")
    {
        Description = "use only this part of every frame, X,Y,W,H in pixels (the model and the display see it alone), "
            + "e.g. 0,220,400,300 for the camera part of the seed's Thymio clips",
    };

    public void AddTo(Command command, Option? except = null)
    {
        command.Add(Region);
        if (!ReferenceEquals(except, Source)) command.Add(Source);
        command.Add(Fps);
        command.Add(Loop);
        command.Add(Seed);
        command.Add(Size);
    }

    /// <summary>The source the user named; "auto" is a webcam when one is present, otherwise the synthetic
    /// scene.</summary>
    public static SourceSpec Resolve(string text, TextWriter log)
    {
        if (!text.Equals("auto", StringComparison.OrdinalIgnoreCase)) return SourceSpec.Parse(text);
        if (SourceFactory.CameraPresent()) return SourceSpec.Parse("webcam");
        log.WriteLine("livecam: no camera found; playing the built-in synthetic scene");
        return SourceSpec.Parse("synthetic");
    }

    /// <summary>The reader cut to <c>--roi</c> when one is given (it owns the reader from then on).</summary>
    IFrameReader WithRegion(ParseResult parsed, IFrameReader reader)
    {
        if (parsed.GetValue(Region) is not { } region) return reader;
        try { return new RegionReader(reader, RegionReader.Parse(region)); }
        catch (ArgumentException e)
        {
            reader.Dispose();
            throw new UsageException(e.Message, e);
        }
    }

    /// <summary>The kind of the source <see cref="Open"/> opened last (after "auto" fell back, what it fell back
    /// to).</summary>
    public SourceKind? OpenedKind { get; private set; }

    /// <param name="sourceText">The source named another way (render's argument); null: <c>--source</c>.</param>
    public CaptureSource Open(ParseResult parsed, TextWriter log, long maxFrames = 0, bool unpaced = false,
        string? sourceText = null)
    {
        var text = sourceText ?? parsed.GetValue(Source) ?? "auto";
        var spec = Resolve(text, log);
        double? fps = parsed.GetValue(Fps);
        if (fps is not null && !(fps is >= 0 and <= 1000))
            throw new UsageException("--fps must be 0 (as fast as possible) to 1000");
        int width = 0, height = 0;
        if (parsed.GetValue(Size) is { } size)
        {
            var parts = size.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], out width) || !int.TryParse(parts[1], out height)
                || width <= 0 || height <= 0)
                throw new UsageException($"--size '{size}': expected WIDTHxHEIGHT, e.g. 1280x720");
        }
        var options = new CaptureOptions
        {
            PaceFps = unpaced ? 0 : fps,
            Loop = parsed.GetValue(Loop),
            MaxFrames = maxFrames,
            Log = log.WriteLine,
        };
        int seed = parsed.GetValue(Seed);
        var reader = WithRegion(parsed, SourceFactory.CreateReader(
            spec, seed, fps is > 0 ? fps.Value : CaptureOptions.DefaultImageFps, width, height, fps ?? 0));
        var source = new CaptureSource(reader, options);
        bool automatic = text.Equals("auto", StringComparison.OrdinalIgnoreCase);
        try
        {
            var info = source.Open();
            if (spec.Kind == SourceKind.Webcam && (width > 0 || fps is > 0))
                log.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"livecam: asked the camera for {(width > 0 ? $"{width}x{height}" : "its default size")}")
                    + string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"{(fps is > 0 ? $" @ {fps:0.##} fps" : "")}; it gives {info.Width}x{info.Height} ")
                    + string.Create(System.Globalization.CultureInfo.InvariantCulture, $"@ {info.Fps:0.##} fps"));
            OpenedKind = spec.Kind;
            return source;
        }
        catch (SourceOpenException) when (automatic && spec.Kind == SourceKind.Webcam)
        {
            source.Dispose();
            log.WriteLine("livecam: the camera could not be opened; playing the built-in synthetic scene");
            var synthetic = new CaptureSource(
                WithRegion(parsed, SourceFactory.CreateReader(SourceSpec.Parse("synthetic"), seed)), options);
            synthetic.Open();
            OpenedKind = SourceKind.Synthetic;
            return synthetic;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }
}
