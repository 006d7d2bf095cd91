namespace LiveCam.Pipeline.Tests;

/// <summary>The floor under the analysis rate, on a fake clock: a 30 fps display and analyses whose rate depends on
/// how many frames the display gives way (the CPU it leaves them).</summary>
public sealed class AnalysisFloorTests
{
    /// <summary>Frames at 30 a second and analyses at <c>analysisRate(framesPerShown)</c> a second, on a clock of the
    /// test's own.</summary>
    /// <param name="firstAnalysis">When the model's first pass ends.</param>
    sealed class FakeRun(AnalysisFloor floor, Func<int, double> analysisRate, double firstAnalysis = 0.5)
    {
        /// <summary>Seconds added once to the wait before the next analysis (a pause, a burst of other work).</summary>
        public double Stall { get; set; }

        static readonly TimeSpan FramePeriod = TimeSpan.FromSeconds(1 / 30.0);
        TimeSpan _now, _nextAnalysis = TimeSpan.FromSeconds(firstAnalysis);

        public int Frames { get; private set; }
        public int Shown { get; private set; }
        /// <summary>Each <see cref="AnalysisFloor.FramesPerShown"/> the floor went through, in order.</summary>
        public List<int> Steps { get; } = [1];

        /// <summary>Plays <paramref name="seconds"/>; the share of its frames shown.</summary>
        public double For(double seconds)
        {
            int frames = Frames, shown = Shown;
            var end = _now + TimeSpan.FromSeconds(seconds);
            while (_now < end)
            {
                _now += FramePeriod;
                while (_nextAnalysis <= _now)
                {
                    floor.OnAnalysed(_nextAnalysis);
                    _nextAnalysis += TimeSpan.FromSeconds(1 / analysisRate(floor.FramesPerShown) + Stall);
                    Stall = 0;
                }
                Frames++;
                if (floor.Shows(_now)) Shown++;
                if (floor.FramesPerShown != Steps[^1]) Steps.Add(floor.FramesPerShown);
            }
            return (Shown - shown) / (double)(Frames - frames);
        }
    }

    [Fact]
    public void Analyses_under_the_floor_make_the_display_give_way_until_they_reach_it()
    {
        var floor = new AnalysisFloor(5);
        // Starved by something else on the CPU: 2 a second with every frame shown, 6 with one in two.
        var run = new FakeRun(floor, framesPerShown => framesPerShown == 1 ? 2 : 6);
        Assert.Equal(1, run.For(1));
        run.For(2);
        Assert.Equal(2, floor.FramesPerShown);
        // 6 a second is over the floor but not clear of it: the display stays at one frame in two.
        Assert.Equal(0.5, run.For(10), 2);
        Assert.Equal([1, 2], run.Steps);
    }

    [Fact]
    public void The_display_gives_way_step_by_step_to_one_frame_in_four_at_most()
    {
        var floor = new AnalysisFloor(5);
        var run = new FakeRun(floor, framesPerShown => 1.2 * framesPerShown);  // 1.2, 2.4, 3.6, 4.8 a second
        run.For(10);
        Assert.Equal([1, 2, 3, 4], run.Steps);
        Assert.Equal(0.25, run.For(10), 2);
        Assert.Equal(AnalysisFloor.MostFramesPerShown, floor.FramesPerShown);
    }

    [Fact]
    public void Once_the_analysis_is_clear_of_the_floor_the_display_takes_its_frames_back_a_step_a_window()
    {
        var floor = new AnalysisFloor(5);
        bool busy = true;
        var run = new FakeRun(floor, framesPerShown => busy ? 1.5 * framesPerShown : 16);
        run.For(10);
        Assert.Equal(4, floor.FramesPerShown);  // 6 a second: over the floor, not clear of it
        busy = false;  // the other program ended
        run.For(0.9);
        Assert.InRange(floor.FramesPerShown, 3, 4);
        run.For(4);
        Assert.Equal([1, 2, 3, 4, 3, 2, 1], run.Steps);
        Assert.Equal(1, run.For(10));
    }

    [Fact]
    public void Giving_way_that_does_not_raise_the_rate_is_taken_back_and_held_off()
    {
        // A slow method on an idle machine: 2 a second whatever the display does.
        var floor = new AnalysisFloor(5);
        var run = new FakeRun(floor, _ => 2);
        run.For(3.1);
        Assert.Equal(2, floor.FramesPerShown);
        run.For(1);
        Assert.Equal(1, floor.FramesPerShown);
        Assert.Equal(1, run.For(AnalysisFloor.HoldOff.TotalSeconds - 2));
        // After the hold-off it tries once more, and takes it back again.
        run.For(4);
        Assert.Equal([1, 2, 1, 2, 1], run.Steps);
        Assert.InRange(run.Shown, run.Frames - 32, run.Frames - 20);
    }

    [Fact]
    public void One_slow_analysis_does_not_make_the_display_give_way()
    {
        // 10 a second, but every 3 s one analysis waits 0.5 s more (another program's burst, a collection), inside a
        // window: that window measures 4.4 a second, under the floor; the next is over it again.
        var floor = new AnalysisFloor(5);
        var run = new FakeRun(floor, _ => 10);
        run.For(2.7);
        for (int i = 0; i < 5; i++)
        {
            run.Stall = 0.5;
            run.For(3);
        }
        Assert.Equal(1, run.For(3));
        Assert.Equal([1], run.Steps);
    }

    [Fact]
    public void A_floor_of_0_shows_every_frame()
    {
        var floor = new AnalysisFloor(0);
        var run = new FakeRun(floor, _ => 0.5);
        Assert.Equal(1, run.For(20));
    }

    [Fact]
    public void Nothing_is_judged_before_the_first_analysis()
    {
        // A model's first pass may take seconds; the display keeps every frame meanwhile.
        var floor = new AnalysisFloor(5);
        var run = new FakeRun(floor, _ => 16, firstAnalysis: 10);
        Assert.Equal(1, run.For(20));
    }

    [Fact]
    public void A_capped_analysis_has_its_floor_under_the_cap()
    {
        Assert.Equal(5, AnalysisFloor.Under(5, 0).MinFps);
        Assert.Equal(5, AnalysisFloor.Under(5, 10).MinFps);
        Assert.Equal(1.6, AnalysisFloor.Under(5, 2).MinFps, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AnalysisFloor(double.NaN));
    }
}
