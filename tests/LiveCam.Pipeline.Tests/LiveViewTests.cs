using LiveCam.Core;
using LiveCam.Pipeline.Sinks;
using LiveCam.Pipeline.Sinks.Window;
using LiveCam.Rendering;
using LiveCam.Drawing;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

/// <summary>The live view both windows share: keys, view state, snapshots and recordings, drawn here by the CPU back
/// end.</summary>
public sealed class LiveViewTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-view-").FullName;
    readonly CpuPictureRenderer _renderer = new();

    LiveView View(Action stop, Operators.FreezeGate? freeze = null, List<string>? log = null) =>
        new(new WindowOptions { OutputFolder = _dir, RecordFps = 10, Freeze = freeze, Log = line => log?.Add(line) },
            new PictureComposer(new PipelineMetrics(), () => "test"), _renderer.Render, stop, toggleFullscreen: null);

    /// <summary>Explanation controls that only remember what they were told.</summary>
    sealed class Controls : Analysers.IExplanationControls
    {
        public string Method { get; private set; } = "saliency";
        public Analysers.SideBySide SideBySide { get; private set; } = Analysers.SideBySide.Layers;
        public List<string> Steps { get; } = [];
        public void StepMethod(int by) => Steps.Add($"method {by}");
        public void StepLayer(int by) => Steps.Add($"layer {by}");
        public void StepTarget(int by) => Steps.Add($"target {by}");
        public void ResetTarget() => Steps.Add("reset");
        public void SetMethod(string name) => Method = name;
        public void SetSideBySide(Analysers.SideBySide side) => SideBySide = side;
        public bool Dreaming { get; private set; }
        public void SetDreaming(bool dreaming) => Dreaming = dreaming;
    }

    [Fact]
    public void A_booth_tours_methods_and_side_by_side_views_when_idle_and_the_first_key_puts_back_the_choice()
    {
        var now = TimeSpan.FromSeconds(100);
        var controls = new Controls();
        using var view = new LiveView(new WindowOptions
        {
            Explanation = controls, Clock = () => now,
            Attract = new AttractLoop(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(8)),
        }, new PictureComposer(new PipelineMetrics(), () => "test"), _renderer.Render, () => { },
            toggleFullscreen: null);
        using var frame = new Frame(new Mat(120, 160, MatType.CV_8UC3, Scalar.Gray), 3, TimeSpan.Zero, "test");
        Assert.False(view.Tick());
        now += TimeSpan.FromSeconds(29);
        Assert.False(view.Tick());
        Assert.Equal(("saliency", Analysers.SideBySide.Layers), (controls.Method, controls.SideBySide));

        // Idle long enough: the tour, a step every 8 s, each step what the tour lists.
        var seen = new List<(string, Analysers.SideBySide)>();
        now += TimeSpan.FromSeconds(2);
        for (int i = 0; i < AttractLoop.Tour.Count + 1; i++)
        {
            Assert.True(view.Tick());
            seen.Add((controls.Method, controls.SideBySide));
            now += TimeSpan.FromSeconds(3);
            Assert.False(view.Tick());
            now += TimeSpan.FromSeconds(5);
        }
        Assert.Equal([.. AttractLoop.Tour, AttractLoop.Tour[0]], seen);
        Assert.Contains(
            view.ScreenPicture(frame, null).Hud!, l => l.Text.Contains("press any key", StringComparison.Ordinal));

        // The first key ends the tour without acting, and what was chosen before comes back.
        Assert.True(view.Press('.'));
        Assert.Empty(controls.Steps);
        Assert.Equal(("saliency", Analysers.SideBySide.Layers), (controls.Method, controls.SideBySide));
        Assert.DoesNotContain(
            view.ScreenPicture(frame, null).Hud!, l => l.Text.Contains("press any key", StringComparison.Ordinal));
        Assert.True(view.Press('.'));
        Assert.Equal(["target 1"], controls.Steps);
        // b steps the side-by-side view.
        view.Press('B');
        Assert.Equal(Analysers.SideBySide.Targets, controls.SideBySide);
        view.Press('B');
        Assert.Equal(Analysers.SideBySide.Off, controls.SideBySide);
        now += TimeSpan.FromSeconds(29);
        Assert.False(view.Tick());  // idle counts again from the last key
    }

    [Fact]
    public void A_source_that_stops_sending_is_said_so_until_a_frame_comes_again()
    {
        var now = TimeSpan.FromSeconds(10);
        using var view = new LiveView(new WindowOptions { Clock = () => now, StallNotice = TimeSpan.FromSeconds(2) },
            new PictureComposer(new PipelineMetrics(), () => "test"), _renderer.Render, () => { },
            toggleFullscreen: null);
        Frame Next(int i) => new(new Mat(120, 160, MatType.CV_8UC3, Scalar.Gray), i, now, "test");
        using (var first = Next(1)) view.Shown(first, null);
        string Hud() => string.Join("\n", view.ScreenPicture(view.OnScreen!, null).Hud!.Select(l => l.Text));
        now += TimeSpan.FromSeconds(1.5);
        Assert.False(view.Tick());
        Assert.DoesNotContain("No picture", Hud(), StringComparison.Ordinal);
        now += TimeSpan.FromSeconds(1);
        Assert.True(view.Tick());   // the notice appears: the window draws again though no frame came
        Assert.Contains("No picture from the camera for 2 s", Hud(), StringComparison.Ordinal);
        Assert.False(view.Tick());
        now += TimeSpan.FromSeconds(1);
        Assert.True(view.Tick());   // and counts the seconds
        Assert.Contains("for 3 s", Hud(), StringComparison.Ordinal);
        using (var again = Next(2)) view.Shown(again, null);
        Assert.DoesNotContain("No picture", Hud(), StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_change_how_the_view_is_drawn_and_the_help_comes_from_the_same_table()
    {
        using var view = View(() => { });
        using var frame = new Frame(new Mat(120, 160, MatType.CV_8UC3, Scalar.Gray), 3, TimeSpan.Zero, "test");
        foreach (var key in new[] { '=', 'C', 'M', 'I', 'O' }) Assert.True(view.Keys.Press(key));
        Assert.Equal(new ViewOptions
        {
            Overlay = new OverlayOptions { Opacity = 0.55f, Colormap = Colormap.Turbo, Mode = OverlayMode.HeatmapOnly },
            ShowOverlay = false,
            InsetCorner = Corner.BottomLeft,
        }, view.View);
        Assert.Null(view.ScreenPicture(frame, null).Help);
        view.Keys.Press('/');
        Assert.Equal(view.Keys.Help, view.ScreenPicture(frame, null).Help);
        Assert.DoesNotContain(view.Keys.Help, row => row.Keys == "f");  // no fullscreen offered where the window cannot
        view.Keys.Press('H');
        Assert.Null(view.ScreenPicture(frame, null).Hud);
    }

    [Fact]
    public void Snapshots_and_recordings_draw_what_the_window_shows_at_the_frames_size_and_q_stops_once()
    {
        int stops = 0;
        var log = new List<string>();
        using var stopped = new ManualResetEventSlim();
        using (var view = View(() => { Interlocked.Increment(ref stops); stopped.Set(); }, log: log))
        {
            void Show(int i)
            {
                using var frame = new Frame(
                    new Mat(120, 160, MatType.CV_8UC3, new Scalar(i, 100, 200)), i, TimeSpan.Zero, "test");
                view.Shown(frame, null);
            }
            Show(0);
            view.Keys.Press('S');
            Show(1);
            Assert.NotNull(view.LastSnapshot);
            using (var snapshot = Cv2.ImRead(view.LastSnapshot!))
                Assert.Equal((160, 120), (snapshot.Width, snapshot.Height));
            view.Keys.Press('R');
            var recording = view.Recording;
            Assert.NotNull(recording);
            for (int i = 2; i < 9; i++) Show(i);
            view.Keys.Press('R');
            Assert.Null(view.Recording);
            using (var video = new VideoCapture(recording!))
                Assert.Equal(7, (int)video.Get(VideoCaptureProperties.FrameCount));
            Assert.Contains(log, l => l.Contains("(7 frames)", StringComparison.Ordinal));
            view.Keys.Press('Q');
            view.Keys.Press(LiveView.KeyEscape);
            Assert.True(stopped.Wait(TimeSpan.FromSeconds(5)));
        }
        Thread.Sleep(50);
        Assert.Equal(1, stops);
    }

    [Theory]
    [InlineData('q', 'Q')]
    [InlineData(27, LiveView.KeyEscape)]
    [InlineData(65363, LiveView.KeyRight)]
    [InlineData(65364, LiveView.KeyDown)]
    [InlineData('?', '/')]
    [InlineData('+', '=')]
    [InlineData('.', '.')]
    [InlineData(' ', ' ')]
    public void The_OpenCV_window_names_keys_as_the_table_does(int highGui, int table) =>
        Assert.Equal(table, WindowSink.KeyCode(highGui));

    [Fact]
    public void No_key_from_the_OpenCV_window_is_no_key() => Assert.Null(WindowSink.KeyCode(-1));

    public void Dispose()
    {
        _renderer.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
