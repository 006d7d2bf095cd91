using LiveCam.Core;
using LiveCam.Tests;
using OpenCvSharp;

namespace LiveCam.Drawing.Tests;

public sealed class PictureComposerTests
{
    /// <summary>The pipeline's side, as the composer sees it: numbers read, counted.</summary>
    sealed class CountingNumbers(HudNumbers numbers) : IHudNumbersSource
    {
        public int Reads { get; private set; }

        public HudNumbers ReadHudNumbers()
        {
            Reads++;
            return numbers;
        }
    }

    /// <summary>A head that knows no model: one line, a grid inset, every class called "tabby".</summary>
    sealed class FakeHead : IPredictionDrawing
    {
        public HudLine? Line(IReadOnlyList<float> outputs, int? explained) => new($"fake: {outputs.Count} outputs");
        public IInset? Inset(IReadOnlyList<float> outputs, int? explained) => new CellsInset(2, 2, (_, _) => 0.5f);
        public string? Label(int index) => "tabby";
    }

    static readonly HudNumbers Running = new(29.94, 14.8, 41.6, 3);

    static Analysis Explained() => new(5, TimeSpan.Zero, TimeSpan.FromMilliseconds(40), "test")
    {
        Heatmap = new HeatmapImage(2, 2, [0, 0.5f, 0.5f, 1]),
        Outputs = [0.1f, 0.9f],
        ExplainedOutput = 1,
        Description = "gradcam @ layer4 (512x7x7), target class 1",
    };

    [Fact]
    public void The_HUD_shows_the_numbers_of_the_snapshot_it_is_given()
    {
        using var frame = new Frame(new Mat(480, 640, MatType.CV_8UC3), 7, TimeSpan.FromMilliseconds(60), "synthetic");
        var text = HudText.Lines(frame, Explained(), Running, "test", null).Select(l => l.Text).ToList();
        Assert.Contains(text, t =>
            t.Contains("display 29.9 fps", StringComparison.Ordinal)
            && t.Contains("analysis 14.8 fps", StringComparison.Ordinal));
        Assert.Contains(text, t =>
            t.Contains("shown 42 ms after capture", StringComparison.Ordinal)
            && t.EndsWith("dropped 3", StringComparison.Ordinal));
        // Before the first frame is on screen there is no capture-to-screen time to show.
        var first = HudText.Lines(frame, null, HudNumbers.None, "test", null).Select(l => l.Text).ToList();
        Assert.DoesNotContain(first, t => t.Contains("after capture", StringComparison.Ordinal));
        Assert.Contains(first, t => t.Contains("display 0.0 fps", StringComparison.Ordinal));
        Assert.Contains(first, t => t == "test: waiting");
    }

    [Fact]
    public void A_picture_reads_the_numbers_once_and_shows_the_heads_line_inset_and_class()
    {
        var numbers = new CountingNumbers(Running);
        var composer = new PictureComposer(numbers, () => "test", new FakeHead());
        using var frame = new Frame(new Mat(480, 640, MatType.CV_8UC3), 7, TimeSpan.FromMilliseconds(60), "synthetic");
        var picture = composer.Compose(
            frame, Explained(), new ViewOptions { Legend = true }, [new HudLine("FROZEN", HudText.State)]);
        Assert.Equal(1, numbers.Reads);
        Assert.Contains(picture.Hud!, l => l.Text == "fake: 2 outputs" && l.Rank == HudText.Predictions);
        Assert.Equal("FROZEN", picture.Hud![^1].Text);
        Assert.IsType<CellsInset>(picture.Inset);
        Assert.Same(frame.Pixels, picture.Video);
        Assert.Equal("Red shows what made the network say \"tabby\"; blue, what it ignores.", picture.Caption);

        // Without the HUD neither the numbers nor the head's inset are drawn.
        var bare = composer.Compose(frame, Explained(), new ViewOptions { ShowHud = false, ShowOverlay = false });
        Assert.Equal(1, numbers.Reads);
        Assert.Null(bare.Hud);
        Assert.Null(bare.Inset);
        Assert.Null(bare.Heatmap);
        Assert.Null(bare.Caption);
    }

    [Fact]
    public void Drawing_knows_no_pipeline_model_or_back_end()
    {
        var references = typeof(PictureComposer).Assembly.GetReferencedAssemblies()
            .Select(a => a.Name!)
            .Where(n => n.StartsWith("LiveCam.", StringComparison.Ordinal));
        Assert.Equal(["LiveCam.Core"], references);
    }
}
