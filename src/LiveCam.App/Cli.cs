using System.CommandLine;
using System.Globalization;
using LiveCam.App.Commands.Bench;
using LiveCam.App.Commands.Doctor;
using LiveCam.App.Commands.Explain;
using LiveCam.App.Commands.Replay;
using LiveCam.App.Commands.Robot;
using LiveCam.App.Commands.Run;
using LiveCam.App.Commands.Teach;
using LiveCam.Capture;
using LiveCam.Pipeline.Sinks;

namespace LiveCam.App;

/// <summary>The command line: parsing, and turning failures into one line on stderr and an exit code.</summary>
public static class Cli
{
    /// <summary>Exit codes. <see cref="PermanentInput"/> is <c>render --manifest</c>'s alone: its item's input (or the
    /// manifest, or the options) is bad and a retry cannot help, so a cluster engine should not retry it.</summary>
    public const int Ok = 0, Failure = 1, BadInput = 2, PermanentInput = 3;

    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var parsed = CreateRoot(output, error).Parse(args);
        // Ctrl+C is handled by the run itself (it finalises its output); no forced exit after a timeout.
        var config = new InvocationConfiguration
        {
            Output = output, Error = error, ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false
        };
        try
        {
            int code = parsed.Invoke(config);
            // A batch worker's command line that does not parse fails the same way on every retry.
            bool worker = parsed.CommandResult.Command.Name == "render"
                && args.Any(a => a == "--manifest" || a.StartsWith("--manifest=", StringComparison.Ordinal));
            return parsed.Errors.Count > 0 && worker ? PermanentInput : code;
        }
        catch (Exception e)
        {
            return Report(e, error);
        }
    }

    /// <summary>Every command, writing to <paramref name="output"/> and <paramref name="error"/>. An action that fails
    /// throws: <see cref="Invoke"/> turns what it throws into one line and an exit code, for every command
    /// alike.</summary>
    internal static RootCommand CreateRoot(TextWriter output, TextWriter error)
    {
        return new RootCommand("LiveCam: see what a convolutional network sees, live. Exit codes: 0 done; 1 an "
            + "unexpected failure, or a batch worker's output could not be written; 2 bad input; 3 (render --manifest "
            + "only) bad input that a retry cannot fix.")
        {
            RunCommand.Create(output, error),
            RunCommand.CreateRender(output, error),
            ProbeCommand.Create(output, error),
            ExplainCommand.Create(output, error),
            CompareCommand.Create(output, error),
            DreamCommand.Create(output, error),
            LayersCommand.Create(output, error),
            ModelsCommand.Create(output, error),
            RobotCommands.Train(output, error),
            RobotCommands.Eval(output, error),
            RobustnessCommand.Create(output, error),
            MetricsCommand.Create(output, error),
            BenchCommand.Create(output, error),
            ReplayCommand.Create(output, error),
            SummaryCommand.Create(output, error),
            TeachCommand.Create(output, error),
            DoctorCommand.Create(output, error),
        };
    }

    /// <summary>One line for the user; the stack trace only with LIVECAM_DEBUG=1.</summary>
    public static int Report(Exception e, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(error);
        while (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerException!;
        bool debug = Environment.GetEnvironmentVariable("LIVECAM_DEBUG") == "1";
        int code;
        if (e is Commands.Run.PermanentInputException)
        {
            error.WriteLine($"livecam: {e.Message}");
            code = PermanentInput;
        }
        else if (IsBadInput(e))
        {
            error.WriteLine($"livecam: {e.Message}");
            code = BadInput;
        }
        else if (e is Pipeline.Batch.ItemOutputException)
        {
            // The output could not be written (a full disk, a lost mount): another try may succeed.
            error.WriteLine($"livecam: {e.Message}");
            code = Failure;
        }
        else
        {
            error.WriteLine($"livecam: unexpected error: {e.GetType().Name}: {e.Message}");
            code = Failure;
        }
        if (debug) error.WriteLine(e);
        return code;
    }

    /// <summary>Whether <paramref name="e"/> says the input or the options are bad (exit code 2; 3 in worker mode).
    /// </summary>
    internal static bool IsBadInput(Exception e) => e is SourceOpenException or SinkException or FormatException
        or UsageException or Models.ModelLoadException
        // A model file that loads but fails in a pass is bad input too.
        or Models.Onnx.OnnxFormatException
        or Pipeline.Analysers.ExplanationUnavailableException or Core.NotFiniteException
        // A file that cannot be read or written (a folder, /proc, no permission, a full disk): its message names it.
        or IOException or UnauthorizedAccessException;

    internal static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Fails before any work when <paramref name="path"/> cannot take an image: its folder is missing, it is a
    /// folder itself, or OpenCV has no writer for its extension.</summary>
    internal static void RequireImageFile(string path)
    {
        RequireFolderOf(path);
        if (Directory.Exists(path))
            throw new UsageException($"cannot write '{path}': it is a folder; name an image file in it");
        if (!OpenCvSharp.Cv2.HaveImageWriter(path))
            throw new UsageException($"cannot write '{path}': no image format has the extension "
                + $"'{Path.GetExtension(path)}' (use .png or .jpg)");
    }

    /// <summary>Fails before any work when the folder a file is to be written in does not exist.</summary>
    internal static void RequireFolderOf(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
            throw new UsageException($"cannot write '{path}': folder '{folder}' does not exist");
    }
}

/// <summary>Options that do not make sense together, or values out of range.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message) : base(message) { }
    public UsageException(string message, Exception inner) : base(message, inner) { }
    public UsageException() { }
}
