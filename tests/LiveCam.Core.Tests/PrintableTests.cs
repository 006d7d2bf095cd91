namespace LiveCam.Core.Tests;

public class PrintableTests
{
    [Fact]
    public void Control_characters_are_shown_not_obeyed_and_other_names_are_left_alone()
    {
        Assert.Equal(@"Relu\x1b[2J\x1b[31m\x0alivecam: all checks passed",
            Printable.Escape("Relu\u001b[2J\u001b[31m\nlivecam: all checks passed"));
        Assert.Equal(@"left\u202eright\x7f\x85", Printable.Escape("left\u202eright\u007f\u0085"));
        foreach (var name in new[] { "layer4.1.conv2", "/r/Relu_output_0", "tabby cat", "Nürburgring 東京" })
            Assert.Same(name, Printable.Escape(name));
    }
}
