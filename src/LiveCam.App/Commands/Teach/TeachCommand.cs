using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reactive.Concurrency;
using LiveCam.Capture;
using LiveCam.Models.Teach;
using OpenCvSharp;
using LiveCam.App.Commands.Run;
using LiveCam.App.Commands.Shared;

namespace LiveCam.App.Commands.Teach;

/// <summary><c>livecam teach</c>: teach a head on a network's features, live (keys 1 to 9 add the frame on screen to a
/// class) or from a folder per class (<c>--from DIR --out HEAD</c>).</summary>
internal static class TeachCommand
{
    static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var options = new RunOptions("resnet18-imagenet");
        var classes = new Option<string?>("--classes")
        {
            Description = "the classes' names, in key order (cup,phone,hand); default: class 1, class 2, ..."
        };
        var head = SharedOptions.Head("live: the head to start from (when the file exists) and to save on quit");
        var from = new Option<string?>("--from")
        {
            Description = "teach from this folder instead of live: one subfolder of images per class "
                + "(their sorted names are the classes)"
        };
        var outHead = SharedOptions.Out("with --from: where to write the head");
        var test = new Option<string?>("--test")
        {
            Description = "with --from: a folder of the same class subfolders with other images, "
                + "to measure the head's accuracy on"
        };
        var views = SharedOptions.Views(
            "views of each example the head learns from: the image and lightly changed copies (crop, mirror, light)");
        var command = new Command("teach", "Teach the network your own classes: live, show it a thing and press 1, "
            + "another and press 2 (up to 9), and it learns them in seconds and explains which it sees; or from a "
            + "folder per class (--from DIR --out HEAD).");
        options.AddTo(command, withSourceOption: true, withHead: false);
        command.Add(classes);
        command.Add(head);
        command.Add(from);
        command.Add(outHead);
        command.Add(test);
        command.Add(views);
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(views) is < 1 or > 64) throw new UsageException("--views must be 1 to 64");
            if (parsed.GetValue(from) is { } folder)
            {
                var outPath = parsed.GetValue(outHead) ?? throw new UsageException("teach --from needs --out HEAD");
                return FromFolders(parsed, options.Model, folder, outPath, parsed.GetValue(test),
                    parsed.GetValue(views), output);
            }
            if (parsed.GetValue(outHead) is not null || parsed.GetValue(test) is not null)
                throw new UsageException("--out and --test are for teach --from DIR");
            return Live(parsed, options, Names(parsed.GetValue(classes)), parsed.GetValue(head),
                parsed.GetValue(views), output, error);
        });
        return command;
    }

    static IReadOnlyList<string>? Names(string? text)
    {
        if (text is null) return null;
        var names = text.Split(',').Select(n => n.Trim()).ToList();
        if (names.Count is < 1 or > TaughtHead.MaxClasses || names.Any(n => n.Length == 0)
            || names.Distinct().Count() != names.Count)
            throw new UsageException(
                $"--classes '{text}': 1 to {TaughtHead.MaxClasses} different names separated by commas");
        return names;
    }

    static int Live(ParseResult parsed, RunOptions options, IReadOnlyList<string>? names, string? headPath, int views,
        TextWriter output, TextWriter error)
    {
        if (!Display.Available())
            throw new UsageException(
                "teach needs a window (no display here); teach from folders with --from DIR --out HEAD");
        var start = headPath is not null && File.Exists(headPath) ? TaughtHead.Load(headPath) : null;
        if (headPath is not null) Cli.RequireFolderOf(headPath);
        var classNames = ClassNames(names, start);
        // The teacher's own thread, chosen here at the composition root.
        using var teacherThread = new EventLoopScheduler(s => new Thread(s) { Name = "teacher", IsBackground = true });
        using var mode = new TeachMode(
            () => options.Model.LoadModel(parsed, options.Source.OpenedKind == SourceKind.Synthetic),
            classNames, start, views, teacherThread, line =>
        {
            lock (output) output.WriteLine(line);
        });
        var settings = options.Settings(parsed, null, headless: false, Pipeline.TimingMode.Live, render: false, null)
            with { Mode = mode };
        int code = LiveSession.Run(parsed, options.Source, options.Model, settings, output, error);
        if (headPath is not null && mode.Finish() is { IsTrained: true } taught)
        {
            taught.Save(headPath);
            output.WriteLine($"saved the head ({string.Join(", ", taught.Classes)}) to {Path.GetFullPath(headPath)}");
        }
        return code;
    }

    /// <summary>The keys' classes: the saved head's, then the named ones it lacks; else "class 1" to "class
    /// 9".</summary>
    static IReadOnlyList<string> ClassNames(IReadOnlyList<string>? names, TaughtHead? start)
    {
        var list = start?.Classes.ToList() ?? [];
        foreach (var name in names ?? []) if (!list.Contains(name)) list.Add(name);
        if (names is null && start is null)
            list.AddRange(Enumerable.Range(1, TaughtHead.MaxClasses)
                .Select(i => string.Create(CultureInfo.InvariantCulture, $"class {i}")));
        if (list.Count > TaughtHead.MaxClasses)
            throw new UsageException($"{list.Count} classes with the head's; at most {TaughtHead.MaxClasses}");
        return list;
    }

    static int FromFolders(ParseResult parsed, ModelOptions modelOptions, string folder, string outPath,
        string? testFolder, int views, TextWriter output)
    {
        var classes = ClassFolders(folder);
        Cli.RequireFolderOf(outPath);
        var testSet = testFolder is null ? null : ClassFolders(testFolder);
        if (testSet is not null && !testSet.Select(c => c.Name).SequenceEqual(classes.Select(c => c.Name)))
            throw new UsageException(
                $"--test '{testFolder}' has classes {string.Join(", ", testSet.Select(c => c.Name))}; "
                + $"--from has {string.Join(", ", classes.Select(c => c.Name))}");
        using var teacher = new HeadTeacher(modelOptions.LoadModel(parsed), classes.Select(c => c.Name).ToList())
        {
            Views = views
        };
        var clock = Stopwatch.StartNew();
        for (int k = 0; k < classes.Count; k++)
            foreach (var file in classes[k].Images)
            {
                using var image = Read(file);
                teacher.Add(k, image);
            }
        var featuresTime = clock.Elapsed;
        var head = teacher.Train(out var trainTime);
        head.Save(outPath);
        output.WriteLine(Cli.Format($"taught {head.Classes.Count} classes (")
            + string.Join(", ", head.Classes.Zip(head.Examples, (c, n) => Cli.Format($"{c} {n / views}")))
            + Cli.Format($" images, {views} views each) in {featuresTime.TotalSeconds:0.0} s of features and ")
            + Cli.Format($"{trainTime.TotalMilliseconds:0} ms of training"));
        output.WriteLine($"wrote {Path.GetFullPath(outPath)}");
        if (testSet is null) return Cli.Ok;

        int right = 0, total = 0;
        var confusion = new int[classes.Count, classes.Count];
        for (int k = 0; k < testSet.Count; k++)
            foreach (var file in testSet[k].Images)
            {
                using var image = Read(file);
                var logits = head.Logits(teacher.Features(image));
                int predicted = Array.IndexOf(logits, logits.Max());
                confusion[k, predicted]++;
                right += predicted == k ? 1 : 0;
                total++;
            }
        output.WriteLine(Cli.Format(
            $"accuracy on --test: {right}/{total} = {100.0 * right / Math.Max(1, total):0.0}%"));
        for (int k = 0; k < testSet.Count; k++)
            output.WriteLine(Cli.Format($"  {testSet[k].Name,-16} seen as: ")
                + string.Join(", ", Enumerable.Range(0, classes.Count).Where(j => confusion[k, j] > 0)
                    .Select(j => Cli.Format($"{classes[j].Name} {confusion[k, j]}"))));
        return Cli.Ok;
    }

    sealed record ClassFolder(string Name, IReadOnlyList<string> Images);

    static List<ClassFolder> ClassFolders(string folder)
    {
        if (!Directory.Exists(folder)) throw new UsageException($"cannot read '{folder}': no such folder");
        var classes = Directory.GetDirectories(folder).OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .Select(d => new ClassFolder(Path.GetFileName(d), Directory.GetFiles(d)
                .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .OrderBy(f => f, StringComparer.Ordinal).ToList()))
            .ToList();
        if (classes.Count is < 2 or > TaughtHead.MaxClasses)
            throw new UsageException($"'{folder}' has {classes.Count} class folders; teaching needs 2 to "
                + $"{TaughtHead.MaxClasses} (one subfolder of images per class)");
        if (classes.FirstOrDefault(c => c.Images.Count == 0) is { } empty)
            throw new UsageException($"class folder '{Path.Combine(folder, empty.Name)}' has no images");
        return classes;
    }

    static Mat Read(string file)
    {
        var image = Cv2.ImRead(file, ImreadModes.Color);
        if (!image.Empty()) return image;
        image.Dispose();
        throw new UsageException($"cannot read '{file}': not an image OpenCV can decode");
    }
}
