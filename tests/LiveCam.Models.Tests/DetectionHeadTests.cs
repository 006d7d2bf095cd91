using LiveCam.Models.Detection;
using static TorchSharp.torch;

namespace LiveCam.Models.Tests;

/// <summary>The detection head's parts on hand-made candidates: the two suppressions, YOLO v5's scores and a box
/// target that follows its object when the boxes change places in the score order.</summary>
public sealed class DetectionHeadTests
{
    [Fact]
    public void Class_wise_suppression_keeps_the_better_of_two_overlapping_boxes_of_a_class_and_other_classes_boxes()
    {
        // In the candidates' order: class 1 over the pair, the pair's weaker box, the pair's better box, a lone box.
        float[] boxes = [1, 1, 11, 11, 1, 1, 11, 11, 0, 0, 10, 10, 50, 50, 60, 60];
        float[] scores = [0.7f, 0.8f, 0.9f, 0.2f];
        long[] classes = [1, 0, 0, 0];
        var kept = BoxSuppression.Run(boxes, scores, classes, [], 0.25f, 0.45f, Suppression.ClassWise);
        // IoU 81 / 119 = 0.68 between the pair: the weaker is dropped; the lone box scores under the threshold.
        Assert.Equal([2, 0], kept.Select(d => d.Anchor));
        Assert.Equal([0.9f, 0.7f], kept.Select(d => d.Score));
        Assert.Equal([0, 1], kept.Select(d => d.Class));
        Assert.Equal((0f, 0f, 10f, 10f), (kept[0].X0, kept[0].Y0, kept[0].X1, kept[0].Y1));
    }

    [Fact]
    public void Weighted_suppression_merges_overlapping_boxes_and_keypoints_into_their_score_weighted_mean()
    {
        float[] boxes = [0, 0, 10, 10, 50, 50, 60, 60, 1, 1, 11, 11];
        float[] scores = [0.9f, 0.8f, 0.6f];
        float[] keypoints = [5, 5, 55, 55, 6, 7];  // one keypoint a box
        var kept = BoxSuppression.Run(boxes, scores, [0, 0, 0], keypoints, 0.5f, 0.3f, Suppression.Weighted);
        Assert.Equal(2, kept.Count);
        var merged = kept[0];
        Assert.Equal(0.9f, merged.Score);  // the best one's
        Assert.Equal(0, merged.Anchor);
        float Mean(float a, float b) => (a * 0.9f + b * 0.6f) / 1.5f;
        Assert.Equal(Mean(0, 1), merged.X0, 1e-5f);
        Assert.Equal(Mean(0, 1), merged.Y0, 1e-5f);
        Assert.Equal(Mean(10, 11), merged.X1, 1e-5f);
        Assert.Equal(Mean(10, 11), merged.Y1, 1e-5f);
        Assert.Equal(Mean(5, 6), merged.Keypoints[0], 1e-5f);
        Assert.Equal(Mean(5, 7), merged.Keypoints[1], 1e-5f);
        // The far box overlaps nothing: kept as it is.
        Assert.Equal((50f, 50f, 60f, 60f, 0.8f), (kept[1].X0, kept[1].Y0, kept[1].X1, kept[1].Y1, kept[1].Score));
        Assert.Equal([55f, 55f], kept[1].Keypoints);
    }

    [Fact]
    public void YOLO_v5_scores_are_objectness_times_the_best_class_score()
    {
        // [1, A = 2, 5 + C = 7]: cx, cy, w, h, objectness, three class scores.
        float[] rows = [20, 30, 10, 20, 0.5f, 0.2f, 0.9f, 0.1f, 60, 60, 8, 8, 0.9f, 0.2f, 0.1f, 0.25f];
        var head = new DetectionHead(new YoloV5Decoder([2, 8]), 100, 100, 0.25f, 0.45f);
        var found = head.Detect(rows);
        // The second candidate's best is 0.9 * 0.25 = 0.225: under the threshold.
        var d = Assert.Single(found);
        Assert.Equal((15f, 20f, 25f, 40f), (d.X0, d.Y0, d.X1, d.Y1));
        Assert.Equal(0.45f, d.Score, 1e-6f);
        Assert.Equal(1, d.Class);
    }

    /// <summary>YOLO v8's output [1, 4 + 1, 3] for three boxes of one class (cx, cy, size, score each).</summary>
    static Tensor V8Output(params (float X, float Y, float Size, float Score)[] boxes)
    {
        var channels = new float[5 * boxes.Length];
        for (int i = 0; i < boxes.Length; i++)
        {
            var (x, y, size, score) = boxes[i];
            float[] values = [x, y, size, size, score];
            for (int c = 0; c < 5; c++) channels[c * boxes.Length + i] = values[c];
        }
        return tensor(channels, [1, 5, boxes.Length]);
    }

    [Fact]
    public void A_box_target_follows_its_object_when_the_boxes_change_places_in_the_score_order()
    {
        var head = new DetectionHead(new YoloV8Decoder([5, 3]), 100, 100, 0.25f, 0.45f);
        var target = head.ParseTarget("box:2");
        using var scope = NewDisposeScope();
        // The second best is the box at (60, 60).
        var first = Assert.IsType<MatchedBoxTarget>(Assert.Single(target.Resolve(
            V8Output((20, 20, 10, 0.9f), (60, 60, 10, 0.8f), (30, 80, 10, 0.7f)))));
        Assert.Equal(1, first.ClassIndex);
        Assert.Equal((55f, 55f), (first.Box!.X0, first.Box.Y0));
        // A frame later it has moved 2 px and scores best: still that box, now number 1.
        var second = Assert.IsType<MatchedBoxTarget>(Assert.Single(target.Resolve(
            V8Output((20, 20, 10, 0.8f), (62, 61, 10, 0.95f), (30, 80, 10, 0.7f)))));
        Assert.Equal(0, second.ClassIndex);
        Assert.True(second.Box!.Iou(first.Box) > 0.5f, $"box {second.Box} is not the box {first.Box} followed");
        Assert.Equal((57f, 56f), (second.Box.X0, second.Box.Y0));
        // A new target takes the second best again.
        var fresh = Assert.IsType<MatchedBoxTarget>(Assert.Single(head.ParseTarget("box:2").Resolve(
            V8Output((20, 20, 10, 0.8f), (62, 61, 10, 0.95f), (30, 80, 10, 0.7f)))));
        Assert.Equal((15f, 15f), (fresh.Box!.X0, fresh.Box.Y0));
    }
}
