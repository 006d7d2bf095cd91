using System.Globalization;
using LiveCam.Explain.Targets;
using static TorchSharp.torch;

namespace LiveCam.Models.Detection;

/// <summary>
/// A box to explain, found anew in each frame: the detection numbered <see cref="Rank"/> at first, then, when it is
/// followed, whichever detection overlaps the box explained last the most (so it stays on the same face as the face
/// moves). It resolves, on the clean pass, into the <see cref="MatchedBoxTarget"/> of that frame.
/// </summary>
public sealed class TrackedBoxTarget : Target
{
    /// <summary>How much a box must overlap the last one to be the same object a frame later.</summary>
    public const float FollowIou = 0.3f;

    readonly DetectionHead _head;
    readonly bool _follow;
    Detection? _last;   // the analysis thread's: the box explained last

    /// <param name="start">The box to follow from the first frame on (the one a key chose among those shown), instead
    /// of whichever box ranks <paramref name="rank"/> then: close scores swap ranks from frame to frame.</param>
    internal TrackedBoxTarget(DetectionHead head, int rank, bool follow, Detection? start = null)
    {
        _head = head;
        Rank = rank;
        _follow = follow;
        _last = follow ? start : null;
    }

    /// <summary>The box's number at first, from 0 by descending score.</summary>
    public int Rank { get; }

    /// <summary>The box explained last (read by the thread that steps the target).</summary>
    internal Detection? Last => Volatile.Read(ref _last);

    public override string Description => _follow
        ? string.Create(CultureInfo.InvariantCulture, $"box {Rank + 1}")
        : "best box";

    protected override Tensor Score(Tensor output) =>
        throw new InvalidOperationException("a box target is resolved on the clean pass first");

    public override IReadOnlyList<Target> Resolve(Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.shape[0] != 1)
            throw new ArgumentException("a box target explains one image at a time");
        var found = _head.Detect(output.reshape(1, -1), 0);
        int index = -1;
        if (_follow && Last is { } last && found.Count > 0)
        {
            int best = Enumerable.Range(0, found.Count).MaxBy(i => found[i].Iou(last));
            if (found[best].Iou(last) >= FollowIou) index = best;
        }
        if (index < 0 && Rank < found.Count) index = Rank;
        if (index < 0)
        {
            Volatile.Write(ref _last, null);
            return [new MatchedBoxTarget(_head, null, -1, Description)];
        }
        Volatile.Write(ref _last, found[index]);
        return [new MatchedBoxTarget(_head, found[index], index,
            string.Create(CultureInfo.InvariantCulture, $"box {index + 1}"))];
    }
}

/// <summary>
/// One box's score in any output: among that output's detections, the one overlapping the box most, when by more than
/// 0.5 and of the same class, gives its IoU with the box plus its score (pytorch-grad-cam's FasterRCNNBoxScoreTarget),
/// so the gradient reaches both where the box lies and how sure the detector is; otherwise 0.
/// <see cref="Explain.Targets.Target.ClassIndex"/> is the box's number in its frame (from 0), which the head
/// highlights.
/// </summary>
public sealed class MatchedBoxTarget : Target, IBoxTarget
{
    public const float MatchIou = 0.5f;
    readonly DetectionHead _head;
    readonly string _description;

    internal MatchedBoxTarget(DetectionHead head, Detection? box, int rank, string description)
    {
        _head = head;
        Box = box;
        _rank = rank;
        _description = box is null ? $"{description} (none found)" : description;
    }

    readonly int _rank;

    /// <summary>The box explained; null when the frame has none (the score is then 0).</summary>
    public Detection? Box { get; }

    public override string Description => _description;
    public override int? ClassIndex => Box is null ? null : _rank;

    protected override Tensor Score(Tensor output)
    {
        var flat = output.reshape(output.shape[0], -1);
        // Zero, still joined to the graph, where nothing matches: the map is then empty, not an error.
        var none = flat.sum(1) * 0;
        if (Box is not { } box) return none;
        var c = _head.Decoder.Decode(flat);
        var scores = new List<Tensor>();
        for (long n = 0; n < flat.shape[0]; n++)
        {
            var found = n == 0 && flat.shape[0] == 1 ? _head.Suppress(c) : _head.Detect(flat, n);
            Detection? match = found.Count == 0 ? null : found.MaxBy(d => d.Iou(box));
            if (match is null || !(match.Iou(box) > MatchIou) || match.Class != box.Class)
            {
                scores.Add(none[n]);
                continue;
            }
            scores.Add(Iou(c.Boxes[n, match.Anchor], box) + c.Scores[n, match.Anchor]);
        }
        return stack(scores);
    }

    /// <summary>IoU of a box tensor [4] with a fixed box, differentiable in the tensor as torchvision's
    /// <c>box_iou</c> is: through elementwise minimum and maximum, whose gradient splits in half where the two are
    /// equal (so a box matched with itself adds no gradient of its IoU, as in pytorch-grad-cam).</summary>
    static Tensor Iou(Tensor b, Detection box)
    {
        var fixedBox = tensor(new[] { box.X0, box.Y0, box.X1, box.Y1 }, device: b.device).to_type(b.dtype);
        var lo = maximum(b[..2], fixedBox[..2]);
        var hi = minimum(b[2..], fixedBox[2..]);
        var wh = (hi - lo).clamp_min(0);
        var inter = wh[0] * wh[1];
        var area = (b[2] - b[0]) * (b[3] - b[1]);
        var fixedArea = (fixedBox[2] - fixedBox[0]) * (fixedBox[3] - fixedBox[1]);
        return inter / (area + fixedArea - inter);
    }

    public Target Similarity => Function($"{_description}, matched (D-RISE)", output =>
    {
        var flat = output.reshape(output.shape[0], -1);
        if (Box is not { } box) return zeros(flat.shape[0], device: flat.device, dtype: flat.dtype);
        using var _ = no_grad();
        var c = _head.Decoder.Decode(flat);
        var b = c.Boxes;  // [N, A, 4]
        var w = (b[.., .., 2].clamp_max(box.X1) - b[.., .., 0].clamp_min(box.X0)).clamp_min(0);
        var h = (b[.., .., 3].clamp_max(box.Y1) - b[.., .., 1].clamp_min(box.Y0)).clamp_min(0);
        var inter = w * h;
        var area = (b[.., .., 2] - b[.., .., 0]).clamp_min(0) * (b[.., .., 3] - b[.., .., 1]).clamp_min(0);
        var iou = inter / (area + box.Area - inter).clamp_min(1e-9);
        // The explained box's class vector is one-hot: its cosine with a candidate's is that class's share.
        var cosine = c.ClassScores[.., .., box.Class] / c.ClassScores.norm(-1, false).clamp_min(1e-9);
        return (iou * cosine * c.Objectness).amax([1]);
    });
}

/// <summary>All kept boxes, or a class's: the sum of their scores, each found anew in every output.</summary>
public sealed class AllBoxesTarget : Target
{
    readonly DetectionHead _head;
    readonly int? _class;

    internal AllBoxesTarget(DetectionHead head, int? @class)
    {
        _head = head;
        _class = @class;
    }

    public override string Description => _class is { } k
        ? $"class {_head.Label(k) ?? k.ToString(CultureInfo.InvariantCulture)} boxes"
        : "all boxes";

    protected override Tensor Score(Tensor output)
    {
        var flat = output.reshape(output.shape[0], -1);
        var c = _head.Decoder.Decode(flat);
        var scores = new List<Tensor>();
        for (long n = 0; n < flat.shape[0]; n++)
        {
            var sum = flat[n].sum() * 0;
            foreach (var d in _head.Detect(flat, n))
                if (_class is null || d.Class == _class) sum += c.Scores[n, d.Anchor];
            scores.Add(sum);
        }
        return stack(scores);
    }
}
