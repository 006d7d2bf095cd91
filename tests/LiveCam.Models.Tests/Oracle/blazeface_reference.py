#!/usr/bin/python3
"""MediaPipe's decoding of BlazeFace short-range (front, 128x128), on numpy, written from its calculators' semantics
independently of LiveCam.

usage: blazeface_reference.py RAW_DIR OUT_JSON
reads RAW_DIR/scores512.f32 [512], scores384.f32 [384], regressors512.f32 [512 * 16], regressors384.f32 [384 * 16]
(raw float32 little-endian: the model's four outputs, Identity:0, Identity_1:0, Identity_2:0, Identity_3:0, for an
input of pixel / 127.5 - 1, RGB, NHWC); box i of the 896 is 512 then 384, in anchor order.
writes OUT_JSON: [{"box": [x0, y0, x1, y1], "score": s, "keypoints": [[x, y] x 6]}], coordinates relative to the
128x128 input (0..1), by descending score.

The options are those of mediapipe/modules/face_detection/face_detection_short_range.pbtxt and face_detection.pbtxt:
  SsdAnchorsCalculator: num_layers 4, strides 8, 16, 16, 16, input 128x128, anchor_offset 0.5, aspect_ratios [1.0],
    interpolated_scale_aspect_ratio 1.0, fixed_anchor_size true (min_scale 0.1484375 and max_scale 0.75 then only
    count anchors). Consecutive layers of one stride share a grid: per cell, 2 anchors per layer (the aspect ratio and
    the interpolated one). Stride 8: 16x16 cells x 2 = 512; stride 16: 8x8 cells x 6 = 384. Order: row, column,
    anchor; centre ((x + 0.5) / 16 or 8, (y + 0.5) / 16 or 8), width = height = 1.
  TensorsToDetectionsCalculator: num_boxes 896, num_coords 16, box_coord_offset 0, keypoint_coord_offset 4,
    num_keypoints 6 with 2 values each, x/y/w/h_scale 128, reverse_output_order true (x before y: cx, cy, w, h, then
    x, y per keypoint), sigmoid_score true after clipping the raw score to [-100, 100], min_score_thresh 0.5
    (a score below it drops the box). cx = raw / 128 * anchor_w + anchor_cx (y likewise), w = raw / 128 * anchor_w,
    box = centre -+ size / 2; keypoints like the centre. Boxes of negative or NaN width or height are dropped.
  NonMaxSuppressionCalculator: algorithm WEIGHTED, overlap INTERSECTION_OVER_UNION, min_suppression_threshold 0.3,
    no score threshold, no limit. The detections are sorted by descending score (ties: lower index first here;
    MediaPipe's std::sort leaves them unspecified). While some remain: the first (best) one, and every remaining one
    (itself included) whose IoU with it is above 0.3, are its candidates; the rest remain for the next round. The
    output detection keeps the best one's score; its box corners (x0, y0, x1, y1) and keypoints are the averages of
    the candidates' weighted by their scores. IoU is 0 for boxes that do not touch or whose union is not positive.
    If no candidate was found (the best box does not overlap itself: zero area), it is output as it is and the loop
    stops, as MediaPipe's does.
Arithmetic in float32, in MediaPipe's order.
"""
import json
import math
import sys

import numpy as np

raw_dir, out_json = sys.argv[1], sys.argv[2]
np.seterr(over="ignore")  # exp(100) is inf in float32, and the sigmoid 0, as in MediaPipe
f32 = np.float32
SIZE, NUM_COORDS, NUM_KEYPOINTS, MIN_SCORE, CLIP, NMS_IOU = 128, 16, 6, f32(0.5), f32(100), f32(0.3)
STRIDES, ASPECT_RATIOS, INTERPOLATED = (8, 16, 16, 16), (1.0,), 1.0


def anchors():
    """SsdAnchorsCalculator with fixed anchor sizes: [n, 4] of cx, cy, w, h."""
    result, layer = [], 0
    while layer < len(STRIDES):
        per_cell = 0
        last = layer
        while last < len(STRIDES) and STRIDES[last] == STRIDES[layer]:
            per_cell += len(ASPECT_RATIOS) + (1 if INTERPOLATED > 0 else 0)
            last += 1
        rows = cols = math.ceil(SIZE / STRIDES[layer])
        for y in range(rows):
            for x in range(cols):
                for _ in range(per_cell):
                    result.append((f32(x + 0.5) / f32(cols), f32(y + 0.5) / f32(rows), 1.0, 1.0))
        layer = last
    return np.array(result, dtype=f32)


def read(name, count):
    values = np.fromfile(f"{raw_dir}/{name}", dtype="<f4")
    assert values.size == count, (name, values.size, count)
    return values


scores = np.concatenate([read("scores512.f32", 512), read("scores384.f32", 384)])
raw = np.concatenate([read("regressors512.f32", 512 * NUM_COORDS).reshape(512, NUM_COORDS),
                      read("regressors384.f32", 384 * NUM_COORDS).reshape(384, NUM_COORDS)])
table = anchors()
assert len(table) == 896

detections = []  # (score, xmin, ymin, width, height, keypoints [[x, y]])
scale = f32(SIZE)
for i in range(896):
    ax, ay, aw, ah = table[i]
    r = raw[i]
    cx = r[0] / scale * aw + ax
    cy = r[1] / scale * ah + ay
    w = r[2] / scale * aw
    h = r[3] / scale * ah
    ymin, xmin = cy - h / f32(2), cx - w / f32(2)
    ymax, xmax = cy + h / f32(2), cx + w / f32(2)
    s = min(max(scores[i], -CLIP), CLIP)
    s = f32(1) / (f32(1) + np.exp(-s))
    if s < MIN_SCORE:
        continue
    width, height = xmax - xmin, ymax - ymin
    if width < 0 or height < 0 or np.isnan(width) or np.isnan(height):
        continue
    keypoints = [[r[4 + 2 * k] / scale * aw + ax, r[4 + 2 * k + 1] / scale * ah + ay] for k in range(NUM_KEYPOINTS)]
    detections.append((s, xmin, ymin, width, height, keypoints))


def iou(a, b):
    """MediaPipe's OverlapSimilarity, INTERSECTION_OVER_UNION, on (xmin, ymin, width, height)."""
    ax0, ay0, ax1, ay1 = a[1], a[2], a[1] + a[3], a[2] + a[4]
    bx0, by0, bx1, by1 = b[1], b[2], b[1] + b[3], b[2] + b[4]
    empty = ax0 > ax1 or ay0 > ay1 or bx0 > bx1 or by0 > by1
    if empty or bx1 < ax0 or ax1 < bx0 or by1 < ay0 or ay1 < by0:
        return f32(0)
    ix0, iy0, ix1, iy1 = max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1)
    inter = (ix1 - ix0) * (iy1 - iy0) if ix0 <= ix1 and iy0 <= iy1 else f32(0)
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else f32(0)


order = sorted(range(len(detections)), key=lambda i: -detections[i][0])  # stable: ties by index
results = []
while order:
    best = detections[order[0]]
    candidates = [i for i in order if iou(detections[i], best) > NMS_IOU]
    rest = [i for i in order if iou(detections[i], best) <= NMS_IOU]
    x0, y0, x1, y1 = best[1], best[2], best[1] + best[3], best[2] + best[4]
    keypoints = best[5]
    if candidates:
        total = f32(0)
        wx0 = wy0 = wx1 = wy1 = f32(0)
        sums = np.zeros((NUM_KEYPOINTS, 2), dtype=f32)
        for i in candidates:
            s, xmin, ymin, width, height, kps = detections[i]
            total += s
            wx0 += xmin * s
            wy0 += ymin * s
            wx1 += (xmin + width) * s
            wy1 += (ymin + height) * s
            for k in range(NUM_KEYPOINTS):
                sums[k, 0] += kps[k][0] * s
                sums[k, 1] += kps[k][1] * s
        x0, y0 = wx0 / total, wy0 / total
        x1, y1 = x0 + (wx1 / total - x0), y0 + (wy1 / total - y0)  # MediaPipe stores the width and height
        keypoints = [[sums[k, 0] / total, sums[k, 1] / total] for k in range(NUM_KEYPOINTS)]
    results.append({"box": [float(x0), float(y0), float(x1), float(y1)], "score": float(best[0]),
                    "keypoints": [[float(x), float(y)] for x, y in keypoints]})
    if len(rest) == len(order):
        break
    order = rest

with open(out_json, "w") as f:
    json.dump(results, f)
