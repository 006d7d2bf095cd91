using System.CommandLine;
using LiveCam.App.Commands.Shared;
using LiveCam.Pipeline;

namespace LiveCam.App.Commands.Run;

/// <summary><c>livecam run</c> and <c>livecam render</c>: their options, checked before anything opens; the run itself
/// is a <see cref="LiveSession"/>.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var options = new RunOptions();
        var outFile = SharedOptions.Out("record the shown video to this file (.mp4, .avi, .mkv), or to a folder of "
            + "PNGs (a path ending in /); headless runs without --serve record even without it, in crash-safe segments "
            + "in ./livecam-<time>/ (as --record does)");
        var headless = new Option<bool>("--headless") { Description = "no window, even when a display is present" };
        var serve = new Option<string?>("--serve")
        {
            Description = "also show the live view in a browser at [ADDRESS:]PORT (loopback unless an address is "
                + "given; any other address needs a token)"
        };
        var token = new Option<string?>("--token")
        {
            Description = "the token --serve asks for on a non-loopback address (default: one is generated and printed)"
        };
        var maxViewers = new Option<int>("--max-viewers")
        {
            Description = "browsers watching at once (more get 503)", DefaultValueFactory = _ => 8
        };
        var allowHost = new Option<string[]>("--allow-host")
        {
            Description = "with --serve: a host name the live view may be opened by, besides loopback's and the bound "
                + "address (repeat, or separate with commas; * allows any, e.g. behind a proxy of your own). Other "
                + "names get 403: a page elsewhere pointing its name at this address",
        };
        var booth = new Option<bool>("--booth")
        {
            Description = "a demo booth: fullscreen, big text, a sentence saying what the colours mean, and a tour of "
                + "methods and side-by-side views when nobody touches a key"
        };
        var attractAfter = new Option<double>("--attract-after")
        {
            Description = "with --booth: seconds without a key press before the tour starts",
            DefaultValueFactory = _ => 30
        };
        var timing = new Option<TimingMode>("--timing")
        {
            Description = "live: video at the source's rate, overlay as analyses arrive; exact: every frame waits for "
                + "its own analysis",
            DefaultValueFactory = _ => TimingMode.Live,
        };
        var command = new Command("run", "Play a source live with the analysis overlay: in a window when a display "
            + "exists, otherwise headless to a video file.");
        options.AddTo(command, withSourceOption: true);
        command.Add(outFile);
        command.Add(headless);
        command.Add(timing);
        command.Add(serve);
        command.Add(token);
        command.Add(maxViewers);
        command.Add(allowHost);
        command.Add(booth);
        command.Add(attractAfter);
        command.SetAction(parsed =>
        {
            var served = parsed.GetValue(serve) is { } address
                ? Serve.ServeOptions.Parse(
                    address, parsed.GetValue(token), parsed.GetValue(maxViewers), parsed.GetValue(allowHost))
                : null;
            if (parsed.GetValue(attractAfter) <= 0)
                throw new UsageException("--attract-after must be more than 0 seconds");
            if (parsed.GetValue(booth) && (parsed.GetValue(headless) || !Display.Available()))
                throw new UsageException("--booth needs a window (no display here, or --headless)");
            var settings = options.Settings(parsed, parsed.GetValue(outFile), parsed.GetValue(headless),
                parsed.GetValue(timing), render: false, null) with
            {
                Serve = served,
                BoothAttractAfter = parsed.GetValue(booth) ? TimeSpan.FromSeconds(parsed.GetValue(attractAfter)) : null,
            };
            return LiveSession.Run(parsed, options.Source, options.Model, settings, output, error);
        });
        return command;
    }

    /// <summary><c>livecam render SOURCE --out FILE</c>: every frame analysed and drawn, as fast as the machine goes,
    /// with a progress bar; Ctrl+C leaves a valid, shorter output. <c>render --manifest FILE</c> is the batch worker
    /// (<see cref="RenderWorker"/>).</summary>
    public static Command CreateRender(TextWriter output, TextWriter error)
    {
        var options = new RunOptions();
        var source = new Argument<string?>("SOURCE")
        {
            Description = "a video file, a folder or glob of images, a stream URL, synthetic[:WxH][@FPS]",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var outFile = SharedOptions.Out(
            "the rendered video (.mp4, .avi, .mkv) or a folder of PNGs (a path ending in /)");
        var manifest = new Option<string?>("--manifest")
        {
            Description = "batch worker: a file listing one video, image folder or --record folder per line (each "
                + "segment of a recording is an item); analyses one item into --out-dir. Exit codes: 0 done or "
                + "skipped (already done), 3 the input is bad for good (missing or corrupt file, bad manifest, "
                + "index or options: do not retry), anything else may be retried"
        };
        var index = new Option<int?>("--index")
        {
            Description = "with --manifest: the item to analyse, from 0 (default: "
                + string.Join(", ", RenderWorker.IndexVariables) + ", the first one set)"
        };
        var list = new Option<bool>("--list") { Description = "with --manifest: print how many items it has" };
        var outDir = new Option<string?>("--out-dir")
        {
            Description = "with --manifest: where each item's log goes, as RECORDING/ITEM.jsonl (written under a "
                + ".partial name and renamed once complete; a complete one is skipped on a rerun)"
        };
        var command = new Command("render", "Render a source offline: every frame analysed and drawn into a video "
            + "(or --record), with a progress bar; or, with --manifest, analyse one item of many as a cluster's "
            + "worker.");
        command.Add(source);
        options.AddTo(command, withSourceOption: false, live: false);
        command.Add(outFile);
        command.Add(manifest);
        command.Add(index);
        command.Add(list);
        command.Add(outDir);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(manifest) is { } manifestPath)
            {
                if (parsed.GetValue(source) is not null || parsed.GetValue(outFile) is not null
                    || parsed.GetValue(options.Record) is not null)
                    throw new PermanentInputException(
                        "render --manifest takes its sources from the manifest and writes to --out-dir: "
                        + "no SOURCE, --out or --record");
                return RenderWorker.Run(parsed, options, new RenderWorker.Request(manifestPath,
                    parsed.GetValue(index), parsed.GetValue(list), parsed.GetValue(outDir)), output, error);
            }
            if (parsed.GetValue(index) is not null || parsed.GetValue(list) || parsed.GetValue(outDir) is not null)
                throw new UsageException("--index, --list and --out-dir are for render --manifest");
            if (parsed.GetValue(source) is not { } sourceText)
                throw new UsageException("render needs a SOURCE (or --manifest FILE)");
            if (parsed.GetValue(outFile) is null && parsed.GetValue(options.Record) is null)
                throw new UsageException("render needs --out FILE or --record DIR");
            var settings = options.Settings(parsed, parsed.GetValue(outFile), headless: true, TimingMode.Exact,
                render: true, sourceText);
            return LiveSession.Run(parsed, options.Source, options.Model, settings, output, error);
        });
        return command;
    }
}
