using System.CommandLine;
using System.Reactive.Concurrency;
using System.Reactive.Linq;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Run;

/// <summary><c>livecam probe</c>: what a source delivers (size, rate, length); with --count, reads it
/// through.</summary>
internal static class ProbeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var source = new SourceOptions();
        var count = new Option<bool>("--count")
        {
            Description = "read every frame (as fast as possible) and report how many could be decoded"
        };
        var command = new Command("probe", "Open a source and print what it delivers.");
        source.AddTo(command);
        command.Add(count);
        command.SetAction(parsed =>
        {
            using var frameSource = source.Open(parsed, error, unpaced: true);
            var info = frameSource.Info;
            output.WriteLine(Cli.Format($"source: {info.Name}"));
            output.WriteLine(Cli.Format($"size: {info.Width}x{info.Height}"));
            output.WriteLine(Cli.Format($"fps: {info.Fps:0.###}"));
            output.WriteLine(info.IsLive ? "frames: live" : Cli.Format($"frames: {info.FrameCount}"));
            if (parsed.GetValue(count))
            {
                if (info.IsLive || info.FrameCount < 0)
                    throw new UsageException("--count needs a file or an image folder");
                long read = 0;
                int width = 0, height = 0;
                frameSource.Frames(NewThreadScheduler.Default).Do(f =>
                {
                    read++;
                    (width, height) = (f.Width, f.Height);
                }).LastOrDefaultAsync().Wait();
                output.WriteLine(Cli.Format($"decoded: {read} frames, last {width}x{height}, ")
                    + Cli.Format($"{frameSource.Stats.Corrupt} unreadable"));
            }
            return Cli.Ok;
        });
        return command;
    }
}
