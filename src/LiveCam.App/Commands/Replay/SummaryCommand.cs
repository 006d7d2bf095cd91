using System.CommandLine;
using LiveCam.Pipeline.Batch;

namespace LiveCam.App.Commands.Replay;

/// <summary><c>livecam summary DIR... [--against DIR]</c>: the item logs of <c>render --manifest</c> runs merged into
/// one report per recording, or two runs over the same recordings compared frame by frame.</summary>
internal static class SummaryCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var dirs = new Argument<string[]>("DIR")
        {
            Description = "--out-dir folders of render --manifest runs (several: their recordings together)",
            Arity = ArgumentArity.OneOrMore,
        };
        var against = new Option<string?>("--against")
        {
            Description = "another run's --out-dir over the same recordings: list the frames where the two disagree "
                + "(a sensor free in one and not the other, or free distances more than 2 cm apart; a classifier's "
                + "top class; a detector's number of boxes)"
        };
        var csv = new Option<string?>("--csv")
        {
            Description = "write a CSV: every frame's readings, or with --against the disagreements"
        };
        var markdown = new Option<string?>("--markdown") { Description = "also write the report to this file" };
        var every = new Option<double>("--every")
        {
            Description = "seconds per row of the table over time (0: about 40 rows a recording)"
        };
        var command = new Command("summary", "Merge the item logs of render --manifest runs into one report per "
            + "recording, or compare two runs (--against).");
        command.Add(dirs);
        command.Add(against);
        command.Add(csv);
        command.Add(markdown);
        command.Add(every);
        command.SetAction(parsed =>
        {
            if (!(parsed.GetValue(every) is >= 0 and <= 86400))
                throw new UsageException("--every must be 0 (automatic) to 86400 seconds");
            var folders = parsed.GetValue(dirs)!;
            foreach (var path in new[] { parsed.GetValue(csv), parsed.GetValue(markdown) })
                if (path is not null) Cli.RequireFolderOf(path);
            var run = Read(folders);
            string report, table;
            if (parsed.GetValue(against) is { } againstDir)
            {
                var other = Read([againstDir]);
                var comparisons = RunReport.Compare(run, other);
                report = RunReport.ComparisonMarkdown(string.Join(" ", folders), againstDir, Describe(run),
                    Describe(other), comparisons);
                table = RunReport.ComparisonCsv(comparisons);
            }
            else
            {
                report = RunReport.Summary(string.Join(" ", folders), run, parsed.GetValue(every));
                table = RunReport.ReadingsCsv(run);
            }
            output.Write(report);
            if (parsed.GetValue(markdown) is { } markdownPath) File.WriteAllText(markdownPath, report);
            if (parsed.GetValue(csv) is { } csvPath) File.WriteAllText(csvPath, table);
            return Cli.Ok;
        });
        return command;
    }

    /// <summary>The recordings of every folder; one name in two folders is one recording's items together.</summary>
    static List<AnalysedRecording> Read(IEnumerable<string> folders)
    {
        var recordings = new List<AnalysedRecording>();
        foreach (var folder in folders)
        {
            try { recordings.AddRange(AnalysedRun.Read(folder)); }
            catch (IOException e) { throw new UsageException(e.Message, e); }
        }
        return recordings.GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g => new AnalysedRecording(g.Key,
                g.SelectMany(r => r.Frames).OrderBy(f => f.Position).ThenBy(f => f.Frame).ToList(),
                g.Sum(r => r.Items), g.Sum(r => r.Unfinished)))
            .ToList();
    }

    /// <summary>The models and weights a run used, as "robot with long_range_perception.dat".</summary>
    static string Describe(IEnumerable<AnalysedRecording> run) => string.Join(", ", run
        .SelectMany(r => r.Frames).Select(f => $"{f.Model} with {f.Weights}, {f.Method}").Distinct());
}
