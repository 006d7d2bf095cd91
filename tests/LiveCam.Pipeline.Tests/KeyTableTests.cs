using LiveCam.Drawing;
using LiveCam.Pipeline.Sinks.Window;

namespace LiveCam.Pipeline.Tests;

public sealed class KeyTableTests
{
    [Fact]
    public void The_key_table_runs_each_keys_action_and_its_rows_are_the_help()
    {
        var pressed = new List<string>();
        var table = new KeyTable([
            KeyTable.Bind("right / left", "method next / previous",
                (262, () => pressed.Add("next")), (263, () => pressed.Add("previous"))),
            KeyTable.Bind("q", "quit", ('Q', () => pressed.Add("quit"))),
        ]);
        Assert.True(table.Press(263));
        Assert.True(table.Press('Q'));
        Assert.False(table.Press('Z'));
        Assert.Equal(["previous", "quit"], pressed);
        Assert.Equal([new HelpRow("right / left", "method next / previous"), new HelpRow("q", "quit")], table.Help);
        Assert.Throws<ArgumentException>(() =>
            new KeyTable([KeyTable.Bind("a", "x", ('A', () => { })), KeyTable.Bind("also a", "y", ('A', () => { }))]));
    }
}
