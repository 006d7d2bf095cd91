using System.Reactive.Subjects;
using LiveCam.Core;
using LiveCam.Pipeline.Operators;
using OpenCvSharp;

namespace LiveCam.Pipeline.Tests;

public class FreezeGateTests
{
    static Frame Solid(byte value, long sequence) =>
        new(new Mat(4, 4, MatType.CV_8UC3, new Scalar(value, value, value)), sequence, TimeSpan.FromSeconds(sequence),
            "test");

    [Fact]
    public void
    A_frozen_gate_replaces_every_frame_with_the_frozen_picture_under_the_new_number_and_releases_it_on_thaw()
    {
        long baseline = Frame.LivePixelBuffers;
        using var gate = new FreezeGate();
        using var source = new Subject<Frame>();
        var seen = new List<(long Sequence, byte Value, TimeSpan Time)>();
        using var subscription = gate.Apply(source)
            .Subscribe(f => seen.Add((f.Sequence, f.Pixels.At<Vec3b>(0, 0).Item0, f.CaptureTime)));
        void Emit(byte value, long sequence)
        {
            using var frame = Solid(value, sequence);
            source.OnNext(frame);
        }

        Emit(10, 0);
        using (var onScreen = Solid(20, 1))
        {
            source.OnNext(onScreen);
            gate.Freeze(onScreen);
        }
        Emit(30, 2);
        Emit(40, 3);
        Assert.Equal(baseline + 1, Frame.LivePixelBuffers);  // only the frozen picture is kept
        gate.Thaw();
        Emit(50, 4);

        Assert.Equal([(0L, (byte)10), (1, 20), (2, 20), (3, 20), (4, 50)], seen.Select(s => (s.Sequence, s.Value)));
        Assert.Equal(TimeSpan.FromSeconds(3), seen[3].Time);
        Assert.False(gate.IsFrozen);
        Assert.Equal(baseline, Frame.LivePixelBuffers);
    }
}
