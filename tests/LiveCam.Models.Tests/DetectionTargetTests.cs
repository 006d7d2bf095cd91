using LiveCam.Explain.Targets;
using LiveCam.Models.Detection;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>A detector's box targets: followed from frame to frame by overlap, and stepped by key to another box,
/// whatever number the scores give each box in the next frame.</summary>
public sealed class DetectionTargetTests
{
    /// <summary>Outputs that are the candidates themselves: x0, y0, x1, y1, score per candidate.</summary>
    sealed class PlainDecoder : IDetectionDecoder
    {
        public string Name => "plain";
        public int ClassCount => 1;
        public Suppression Suppression => Suppression.ClassWise;

        public Candidates Decode(Tensor flat)
        {
            var c = flat.reshape(flat.shape[0], -1, 5);
            var scores = c[.., .., 4];
            return new Candidates(c[.., .., ..4], scores, zeros_like(scores, dtype: ScalarType.Int64),
                scores.unsqueeze(-1), ones_like(scores), null);
        }
    }

    static readonly DetectionHead Head = new(new PlainDecoder(), 100, 100, 0.5f, 0.3f, ["face"]);

    /// <summary>Two faces, left and right, with these scores.</summary>
    static float[] Frame(float left, float right, float dx = 0) =>
        [10 + dx, 10, 30 + dx, 30, left, 60 - dx, 10, 80 - dx, 30, right];

    /// <summary>The box a target explains in a frame (as the analysis resolves it), after the HUD has shown the
    /// frame's detections.</summary>
    static (float X0, int Rank) Explain(Target target, float[] outputs)
    {
        using var scope = NewDisposeScope();
        var resolved = (MatchedBoxTarget)target.Resolve(tensor(outputs).unsqueeze(0)).Single();
        _ = Head.Detect(outputs);
        return (resolved.Box!.X0, resolved.ClassIndex!.Value);
    }

    [Fact]
    public void A_followed_box_stays_on_its_face_when_the_scores_swap()
    {
        var target = Head.ParseTarget("box:1");
        Assert.Equal(10, Explain(target, Frame(0.9f, 0.8f)).X0);
        // The right face now scores higher: box 1 is still the left face, now numbered 2.
        Assert.Equal((12f, 1), Explain(target, Frame(0.8f, 0.9f, dx: 2)));
        Assert.Equal((14f, 0), Explain(target, Frame(0.9f, 0.8f, dx: 4)));
    }

    [Fact]
    public void Stepping_the_target_moves_to_the_other_face_even_when_the_scores_swap_in_the_next_frame()
    {
        var target = Head.ParseTarget("box:1");
        var first = Frame(0.9f, 0.8f);
        Assert.Equal(10, Explain(target, first).X0);
        // The key: the next box among those shown, the right face. In the next frame it ranks first.
        var stepped = Head.StepTarget(target, +1, first.Length, lastExplained: 0)!;
        Assert.Equal(60, Explain(stepped, Frame(0.8f, 0.9f)).X0);
        Assert.Equal(60, Explain(stepped, Frame(0.9f, 0.8f)).X0);
        // And back: from the right face (numbered 2 in the frame shown last) to the left one.
        var back = Head.StepTarget(stepped, +1, first.Length, lastExplained: 1)!;
        Assert.Equal(10, Explain(back, Frame(0.8f, 0.9f)).X0);
        Assert.Equal(10, Explain(back, Frame(0.9f, 0.8f)).X0);
    }

    [Fact]
    public void Stepping_with_no_boxes_shown_changes_nothing()
    {
        var head = new DetectionHead(new PlainDecoder(), 100, 100, 0.5f, 0.3f, ["face"]);
        Assert.Null(head.StepTarget(head.ParseTarget("box:1"), +1, 10, null));
        _ = head.Detect(Frame(0.1f, 0.2f));  // nothing above the threshold
        Assert.Null(head.StepTarget(head.ParseTarget("box:1"), +1, 10, null));
    }
}
