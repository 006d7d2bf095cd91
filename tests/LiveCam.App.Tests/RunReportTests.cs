using System.Text.RegularExpressions;
using LiveCam.App.Commands.Replay;
using LiveCam.Models;
using LiveCam.Pipeline.Batch;

namespace LiveCam.App.Tests;

/// <summary>A class label is the model's text: a '|' or a line break in it must not split or end a Markdown table
/// row of <c>summary</c>.</summary>
public sealed partial class RunReportTests
{
    const string Label = "pipe|label\nsecond line";

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex UnescapedBar();

    /// <summary>Per table (consecutive lines starting with '|'), the number of cells of each row, split where
    /// Markdown splits them.</summary>
    static List<List<int>> Tables(string markdown)
    {
        var tables = new List<List<int>>();
        List<int>? table = null;
        foreach (var line in markdown.Split('\n'))
        {
            if (!line.StartsWith('|'))
            {
                table = null;
                continue;
            }
            if (table is null) tables.Add(table = []);
            table.Add(UnescapedBar().Split(line.TrimEnd()).Length - 2);
        }
        return tables;
    }

    static void EveryRowAsWideAsItsHeader(string markdown, int tables)
    {
        var found = Tables(markdown);
        Assert.Equal(tables, found.Count);
        foreach (var rows in found)
        {
            Assert.True(rows.Count >= 3, markdown);
            Assert.All(rows, n => Assert.Equal(rows[0], n));
        }
    }

    [Fact]
    public void Labels_with_bars_and_line_breaks_stay_in_their_cells()
    {
        var frames = Enumerable.Range(0, 4).Select(i => new AnalysedFrame("all", i, i, i / 10.0, "m", "w", "gradcam",
            [new PredictionReading("top-1", i % 2 == 0 ? Label : "plain")], null)).ToList();
        var summary = RunReport.Summary("runs", [new AnalysedRecording("clip", frames, 1, 0)], every: 0);
        EveryRowAsWideAsItsHeader(summary, tables: 2);
        Assert.Contains(@"| pipe\|label second line |", summary, StringComparison.Ordinal);

        var disagreement = new Disagreement("clip", 2, 0.2, "top-1", Label, @"back\slash");
        var comparison = new RecordingComparison("clip", 4, 0, 1, new Dictionary<string, int> { ["top-1"] = 1 },
            [disagreement]);
        var markdown = RunReport.ComparisonMarkdown("new", "old", "a", "b", [comparison]);
        EveryRowAsWideAsItsHeader(markdown, tables: 2);
        Assert.Contains(@"| pipe\|label second line | back\\slash |", markdown, StringComparison.Ordinal);
    }
}
