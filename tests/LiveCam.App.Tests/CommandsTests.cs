using System.CommandLine;

namespace LiveCam.App.Tests;

/// <summary>Every command fails the same way: what its action throws reaches <see cref="Cli.Invoke"/>, which makes it
/// one line on stderr and exit code 2 for bad input. The commands are found from the root, so a new one without an
/// entry in <see cref="BadInputs"/> fails this test until it has one.</summary>
public sealed class CommandsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-commands-").FullName;

    /// <summary>For each command (as typed after <c>livecam</c>), arguments that are bad input and fail before any
    /// model is trained or frame played; null for a command that takes no input at all.</summary>
    Dictionary<string, string[]?> BadInputs()
    {
        var missing = Path.Combine(_dir, "missing");
        string Missing(string name) => Path.Combine(missing, name);
        string Here(string name) => Path.Combine(_dir, name);
        return new()
        {
            ["run"] = ["--source", Missing("clip.mp4"), "--headless"],
            ["render"] = [Missing("clip.mp4"), "--out", Here("render.mp4")],
            ["probe"] = ["--source", Missing("clip.mp4")],
            ["explain"] = ["--image", Missing("image.png"), "--out", Here("explain.png")],
            ["compare"] = ["--images", Missing("image.png"), "--out", Here("compare.png")],
            ["dream"] = ["--image", Missing("image.png"), "--layer", "layer3", "--out", Here("dream.png")],
            ["layers"] = ["--model", "no-such-model"],
            ["models"] = null,
            ["train-robot"] = ["--out", Missing("weights.bin")],
            ["eval-robot"] = ["--weights", Missing("weights.pt")],
            ["robustness"] = ["--model", "no-such-model", "--out", Here("robustness")],
            ["metrics"] = ["--images", Missing("image.png")],
            ["bench pipeline"] = ["--frames", "1"],
            ["bench explain"] = ["--runs", "1"],
            ["bench render"] = ["--frames", "1"],
            ["bench live"] = ["--frames", "1"],
            ["bench onnx"] = ["--model", Missing("model.onnx")],
            ["bench cpu"] = ["--frames", "1"],
            ["bench teach"] = ["--objects", Missing("objects"), "--backgrounds", Missing("backgrounds")],
            ["replay"] = [Missing("recording")],
            ["summary"] = [Missing("run")],
            ["teach"] = ["--from", Missing("classes"), "--out", Here("head.json")],
            ["doctor"] = null,
        };
    }

    [Fact]
    public void Every_command_ends_bad_input_in_one_line_and_exit_code_2()
    {
        var bad = BadInputs();
        var commands = Runnable(Cli.CreateRoot(TextWriter.Null, TextWriter.Null), []).ToList();
        Assert.True(commands.Count > 20, $"only {commands.Count} commands found");
        foreach (var (path, command) in commands)
        {
            var name = string.Join(' ', path);
            Assert.True(bad.TryGetValue(name, out var args),
                $"livecam {name}: no bad input in CommandsTests.BadInputs; add one");
            if (args is null)
            {
                Assert.True(command.Options.Count == 0 && command.Arguments.Count == 0,
                    $"livecam {name} takes input now; give it a bad input in CommandsTests.BadInputs");
                continue;
            }
            var (code, _, error) = CliRunner.Invoke([.. path, .. args]);
            var what = $"livecam {name} {string.Join(' ', args)}: exit {code}: {error}";
            Assert.True(code == Cli.BadInput, what);
            var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1 && lines[0].StartsWith("livecam: ", StringComparison.Ordinal), what);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        }
        Assert.Empty(bad.Keys.Except(commands.Select(c => string.Join(' ', c.Path))));
    }

    /// <summary>The commands that do something (a group such as <c>bench</c> only holds others), with their
    /// path.</summary>
    static IEnumerable<(string[] Path, Command Command)> Runnable(Command parent, string[] path)
    {
        foreach (var command in parent.Subcommands)
        {
            string[] at = [.. path, command.Name];
            if (command.Action is not null) yield return (at, command);
            else
                Assert.True(command.Subcommands.Count > 0,
                    $"livecam {string.Join(' ', at)} has neither an action nor subcommands");
            foreach (var sub in Runnable(command, at)) yield return sub;
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
