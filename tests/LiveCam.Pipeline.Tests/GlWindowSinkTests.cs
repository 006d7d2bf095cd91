using LiveCam.Models.Robot;
using LiveCam.Core;
using LiveCam.Pipeline.Sinks;
using LiveCam.Rendering;
using LiveCam.Drawing;
using LiveCam.Tests.Shared;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

public sealed class GlWindowSinkTests : IDisposable
{
    readonly XvfbDisplay _display = new();
    readonly string _dir = Directory.CreateTempSubdirectory("livecam-glsink-").FullName;
    readonly RenderThread _thread = new("test-render", TimeSpan.FromMilliseconds(15));

    static PictureComposer Composer() => new(new PipelineMetrics(), () => "test", RobotHead.Instance);

    [SkippableFact]
    public void The_window_shows_frames_with_their_analysis_and_a_snapshot_is_the_same_picture_at_the_frames_size()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        bool stopped = false;
        using var sink = new GlWindowSink(
            new WindowOptions { Title = "LiveCam test", Width = 320, Height = 240, OutputFolder = _dir },
            _thread, Composer(), () => stopped = true);
        var outputs = new float[325];
        for (int d = 10; d < 65; d++) outputs[d * 5 + 2] = 0.95f;  // cx: an obstacle from 10 cm
        var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "test")
        {
            Heatmap = new HeatmapImage(2, 2, [0, 0, 0, 1]),
            Outputs = outputs,
        };
        for (int i = 0; i < 3; i++)
        {
            using var frame = new Frame(
                new Mat(240, 320, MatType.CV_8UC3, new Scalar(90, 90, 90)), i, TimeSpan.Zero, "test");
            if (i == 2) sink.RequestSnapshot();
            sink.Show(frame, analysis);
        }
        Assert.False(stopped);

        // A screenshot of the window itself: its framebuffer, the same picture, and no GL error along the way.
        var (screen, error) = sink.Screenshot();
        using (screen)
        {
            Assert.Equal(Silk.NET.OpenGL.GLEnum.NoError, error);
            Assert.Equal((320, 240), (screen.Width, screen.Height));
            // lower than in the snapshot: the HUD now has the snapshot's notice
            var coldOnScreen = screen.At<Vec3b>(180, 20);
            Assert.InRange(coldOnScreen.Item0, 104, 110);
            Assert.InRange(coldOnScreen.Item2, 47, 52);
            var hotOnScreen = screen.At<Vec3b>(235, 200);
            Assert.True(
                hotOnScreen.Item2 > hotOnScreen.Item0 + 40, $"expected a warm colour on screen, got {hotOnScreen}");
        }
        Assert.NotNull(sink.LastSnapshot);
        using var snapshot = Cv2.ImRead(sink.LastSnapshot!);
        Assert.Equal((320, 240), (snapshot.Width, snapshot.Height));
        // Left, below the HUD, the map is 0: grey blended 45% with jet's dark blue (OpenCV's table: BGR 128, 0, 0).
        var cold = snapshot.At<Vec3b>(120, 20);
        Assert.InRange(cold.Item0, 104, 110);
        Assert.InRange(cold.Item1, 47, 52);
        Assert.InRange(cold.Item2, 47, 52);
        // Bottom right of the picture (left of the bars) the map is high: warm colours.
        var hot = snapshot.At<Vec3b>(235, 200);
        Assert.True(hot.Item2 > hot.Item0 + 40, $"expected a warm colour, got {hot}");
        // The distance bars: the cx column is dark red from 10 cm, light below.
        float scale = PictureLayout.TextScale(320, 240);
        var (insetW, insetH) = new ProximityInset((_, _) => 0, new int?[5]).Size(GlyphAtlas.Shared, scale, 320, 240);
        var (x, y) = PictureLayout.InsetOrigin(
            Corner.BottomRight, insetW, insetH, 320, 240, PictureLayout.Margin(scale), (0, 0));
        var area = ProximityInset.Bars(x, y, insetW, insetH);
        var (r, g, b) = ProximityInset.CellColour(0.95);
        var near = ProximityInset.Cell(area, 20, 2);
        var cell = snapshot.At<Vec3b>((int)(near.Y + near.Height / 2 - 1), (int)(near.X + near.Width / 2));
        Assert.True(
            Math.Abs(cell.Item2 - r * 255) <= 3 && Math.Abs(cell.Item1 - g * 255) <= 3
            && Math.Abs(cell.Item0 - b * 255) <= 3,
            $"bar cell {cell}");
        var (r0, _, _) = ProximityInset.CellColour(0);
        var free = ProximityInset.Cell(area, 3, 2);
        Assert.True(Math.Abs(
            snapshot.At<Vec3b>((int)(free.Y + free.Height / 2 - 1), (int)(free.X + free.Width / 2)).Item2
            - r0 * 255) <= 3);
    }

    sealed class RecordingControls : Analysers.IExplanationControls
    {
        public List<string> Calls { get; } = [];
        public void StepMethod(int by) => Calls.Add($"method {by}");
        public void StepLayer(int by) => Calls.Add($"layer {by}");
        public void StepTarget(int by) => Calls.Add($"target {by}");
        public void ResetTarget() => Calls.Add("target reset");
        public void SetMethod(string name) => Calls.Add($"method {name}");
        public void SetSideBySide(Analysers.SideBySide side)
        {
            Calls.Add($"side {side}");
            SideBySide = side;
        }
        public Analysers.SideBySide SideBySide { get; private set; }
        public string Method => "gradcam";
        public bool Dreaming => false;
        public void SetDreaming(bool dreaming) => Calls.Add($"dream {dreaming}");
    }

    [SkippableFact]
    public void Keys_change_the_explanation_freeze_the_frame_on_screen_record_and_quit()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        var controls = new RecordingControls();
        using var freeze = new Operators.FreezeGate();
        var log = new List<string>();
        using var stopped = new ManualResetEventSlim();
        using var sink = new GlWindowSink(new WindowOptions
        {
            Width = 160, Height = 120, OutputFolder = _dir, RecordFps = 10, Explanation = controls, Freeze = freeze,
            Log = line => { lock (log) log.Add(line); }, Visible = false,
        }, _thread, Composer(), stopped.Set);

        void ShowFrames(int from, int count)
        {
            for (int i = from; i < from + count; i++)
            {
                using var frame = new Frame(
                    new Mat(120, 160, MatType.CV_8UC3, new Scalar(i, 2 * i, 3 * i)), i, TimeSpan.Zero, "test");
                sink.Show(frame, null);
            }
        }

        ShowFrames(0, 2);
        foreach (var key in new[] { 262, 263, 264, 265, '.', ',', 'T' }) sink.PressKey(key);
        Assert.Equal(
            ["method 1", "method -1", "layer 1", "layer -1", "target 1", "target -1", "target reset"], controls.Calls);

        // Space freezes on the frame on screen (number 1), whatever comes after.
        sink.PressKey(' ');
        Assert.True(freeze.IsFrozen);
        using (var newer = new Frame(new Mat(120, 160, MatType.CV_8UC3, Scalar.White), 7, TimeSpan.Zero, "test"))
        using (freeze.Apply(System.Reactive.Linq.Observable.Return(newer)).Subscribe(f =>
        {
            Assert.Equal(7, f.Sequence);
            Assert.Equal(new Vec3b(1, 2, 3), f.Pixels.At<Vec3b>(0, 0));
        })) { }
        sink.PressKey(' ');
        Assert.False(freeze.IsFrozen);

        // r starts a recording of what is shown, r again saves it.
        sink.PressKey('R');
        var recording = sink.Recording;
        Assert.NotNull(recording);
        ShowFrames(2, 12);
        sink.PressKey('R');
        Assert.Null(sink.Recording);
        using (var video = new VideoCapture(recording!))
            Assert.Equal(12, (int)video.Get(VideoCaptureProperties.FrameCount));
        lock (log)
            Assert.Contains(log, l =>
                l.StartsWith("saved ", StringComparison.Ordinal)
                && l.Contains("(12 frames)", StringComparison.Ordinal));

        sink.PressKey('/');  // help on: still draws
        ShowFrames(14, 1);
        sink.PressKey('Q');
        Assert.True(stopped.Wait(TimeSpan.FromSeconds(5)), "q did not ask the run to stop");
    }

    [SkippableFact]
    public void Between_frames_of_a_slow_source_the_window_redraws_with_the_analysis_that_arrived()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        using var sink = new GlWindowSink(
            new WindowOptions { Width = 160, Height = 120, OutputFolder = _dir, Visible = false },
            _thread, Composer(), () => { });
        using (var frame = new Frame(new Mat(120, 160, MatType.CV_8UC3, Scalar.Gray), 5, TimeSpan.Zero, "test"))
            sink.Show(frame, null);
        Assert.Null(sink.AnalysisOnScreen);
        sink.OnAnalysis(new Analysis(4, TimeSpan.Zero, TimeSpan.Zero, "test"));  // superseded at once by the next
        sink.OnAnalysis(
            new Analysis(5, TimeSpan.Zero, TimeSpan.Zero, "test") { Heatmap = new HeatmapImage(1, 1, [1]) });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (sink.AnalysisOnScreen is null && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(5, sink.AnalysisOnScreen);
    }

    [SkippableFact]
    public void The_help_lists_the_key_table_on_an_opaque_panel_that_nothing_shows_through()
    {
        Skip.If(_display.Display is null, "needs Xvfb (scripts/setup-linux.sh --with-window-tests)");
        using var sink = new GlWindowSink(
            new WindowOptions { Width = 400, Height = 300, OutputFolder = _dir, Visible = false },
            _thread, Composer(), () => { });
        var outputs = new float[325];
        for (int d = 10; d < 65; d++) outputs[d * 5 + 2] = 0.95f;
        var analysis = new Analysis(0, TimeSpan.Zero, TimeSpan.Zero, "test")
        {
            Heatmap = new HeatmapImage(2, 2, [0, 0.3f, 0.6f, 1]),
            Outputs = outputs,
            Description = "gradcam @ encoder.6 (1x64x8x10), target all outputs",
        };
        using (var frame = new Frame(new Mat(300, 400, MatType.CV_8UC3, new Scalar(40, 160, 220)), 1, TimeSpan.Zero,
            "/data/clips/thymio_clip_1.avi"))
            sink.Show(frame, analysis);
        Assert.Contains(sink.Help, row => row.Keys == "i" && row.Does == "inset corner");
        Assert.Equal(18, sink.Help.Count);
        sink.PressKey('/');
        var (withHud, error) = sink.Screenshot();
        sink.PressKey('H');
        var (bare, _) = sink.Screenshot();
        using (withHud)
        using (bare)
        {
            Assert.Equal(Silk.NET.OpenGL.GLEnum.NoError, error);
            if (Environment.GetEnvironmentVariable("LIVECAM_TEST_SHOTS") is { } shots)
                Cv2.ImWrite(Path.Combine(shots, "window-help-400x300.png"), withHud);
            var quads = new QuadList(GlyphAtlas.Shared);
            using var video = new Mat(300, 400, MatType.CV_8UC3);
            PictureLayout.Build(new Picture { Video = video, Help = sink.Help }, 400, 300, quads);
            var panel = quads.Items[0];
            var rect = new Rect((int)MathF.Ceiling(panel.X0), (int)MathF.Ceiling(panel.Y0),
                (int)(panel.X1 - panel.X0) - 1, (int)(panel.Y1 - panel.Y0) - 1);
            Assert.True(rect.Width > 100 && rect.Height > 100 && rect.Bottom <= 300, $"help panel {rect}");
            // With the HUD and inset under it or without: the same pixels inside the panel.
            using var a = new Mat(withHud, rect);
            using var b = new Mat(bare, rect);
            Assert.Equal(0, Cv2.Norm(a, b, NormTypes.INF));
        }
    }

    public void Dispose()
    {
        _thread.Dispose();
        _display.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
