#!/usr/bin/python3
"""A small YOLO-shaped detector exported as Ultralytics exports it, and what PyTorch makes of it, for LiveCam's tests.

usage: detect_oracle.py KIND DIR, KIND yolov5 or yolov8.
Builds a seeded net (random weights and batch-norm statistics): a backbone of Conv+BatchNorm+SiLU blocks, stride-2
downsampling, input 1x3x96x96 in [0, 1], a neck joining strides 8 and 16, C = 3 classes, and the head of KIND in export
mode (all decoding inside the graph):
  yolov5: per scale a 1x1 convolution to A*(5+C) channels (A = 3 anchors), reshaped to [1, A*h*w, 5+C] (anchor, row,
          column), sigmoid, xy = (2s - 0.5 + cell) * stride, wh = (2s)^2 * anchor (a Pow); output [1, N, 5+C]:
          cx, cy, w, h in input pixels, objectness, class scores.
  yolov8: anchor-free, per scale 4*16 distance bins and C class logits; DFL (softmax over the 16 bins, then their
          expected value by a 1x1 convolution of fixed weights 0..15), distances to cx, cy, w, h around the cell
          centre, times the stride; class sigmoid; output [1, 4+C, N] (channels first).
writes
  DIR/model.onnx      torch.onnx.export, opset 13, batch 1, input "images", output "output0", constants folded.
  DIR/input.f32       the input [1, 3, 96, 96] (raw float32 little-endian, as everything below).
  DIR/outputs.f32     PyTorch's output for it (float32).
  DIR/detections.json Ultralytics' non_max_suppression on that output: yolov5, candidates of objectness > 0.25, score
                      = objectness * class score, best class, kept when score > 0.25; yolov8, score = best class
                      score > 0.25; boxes x0, y0, x1, y1; torchvision's batched_nms per class at IoU 0.45; by
                      descending score: [{"box": [x0, y0, x1, y1], "score": s, "class": c}] in input pixels.
  DIR/gradcam.f32     raw Grad-CAM at "layer" (mean gradient per channel times the activation, summed over channels;
                      before ReLU and normalisation), [h*w], for pytorch-grad-cam's FasterRCNNBoxScoreTarget on
                      detection 0: among the post-NMS detections (decoded as above, differentiably; NMS indices on
                      detached values) the one of largest IoU with the target box, if IoU > 0.5 and its class is the
                      label, scores IoU + its score.
  DIR/gradcam_target.json {"box", "label", "iou_threshold", "value"}: the target (box as the float64 pass decodes it).
  DIR/eigencam.f32    Eigen-CAM at "layer" [h*w]: projection on the first principal component, sign as
                      explain_oracle.py orients it (growing with the mean over channels).
  DIR/meta.json       {"kind", "input_size", "classes", "score_threshold", "iou_threshold", "layer" (the ONNX tensor
                      of the last backbone block's output), "layer_shape", "count" (detections), "output_shape"}.
Grad-CAM and Eigen-CAM are computed in float64 from the float32 weights and input.
"""
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

kind, out = sys.argv[1], sys.argv[2]
assert kind in ("yolov5", "yolov8"), kind
torch.set_num_threads(1)
torch.manual_seed(0)
SIZE, CLASSES, SCORE, IOU, STRIDES = 96, 3, 0.25, 0.45, (8, 16)
# YOLOv5-like pixel anchors (w, h) scaled to a 96-pixel input, three per scale.
ANCHORS = ((8, 10), (14, 20), (24, 16)), ((24, 40), (40, 30), (48, 64))


class Conv(nn.Module):
    """Ultralytics' Conv: convolution without bias, batch norm, SiLU."""

    def __init__(self, c1, c2, k, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


def cells(h, w, offset):
    """(x, y) of every cell of an h x w grid, row by row, plus offset: [h*w, 2]."""
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    return torch.stack((x, y), -1).reshape(h * w, 2) + offset


class V5Head(nn.Module):
    def __init__(self, channels, sizes):
        super().__init__()
        self.na, self.no = len(ANCHORS[0]), 5 + CLASSES
        self.m = nn.ModuleList(nn.Conv2d(c, self.na * self.no, 1) for c in channels)
        for i, ((h, w), anchors) in enumerate(zip(sizes, ANCHORS)):
            # Constants of the exported graph, as Ultralytics builds them: the cell offset already minus 0.5.
            grid = cells(h, w, -0.5).reshape(1, 1, h, w, 2).expand(1, self.na, h, w, 2)
            anchor = torch.tensor(anchors, dtype=torch.float32).view(1, self.na, 1, 1, 2).expand(1, self.na, h, w, 2)
            self.register_buffer(f"grid{i}", grid.contiguous())
            self.register_buffer(f"anchor{i}", anchor.contiguous())

    def forward(self, xs):
        z = []
        for i, x in enumerate(xs):
            x = self.m[i](x)
            _, _, h, w = x.shape
            x = x.view(1, self.na, self.no, h, w).permute(0, 1, 3, 4, 2).contiguous()
            xy, wh, conf = x.sigmoid().split((2, 2, self.no - 4), 4)
            xy = (xy * 2 + getattr(self, f"grid{i}")) * STRIDES[i]
            wh = (wh * 2) ** 2 * getattr(self, f"anchor{i}")
            z.append(torch.cat((xy, wh, conf), 4).view(1, self.na * h * w, self.no))
        return torch.cat(z, 1)


class V8Head(nn.Module):
    def __init__(self, channels, sizes, reg_max=16, hidden=32):
        super().__init__()
        self.reg_max, self.no = reg_max, 4 * reg_max + CLASSES
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(c, hidden, 3), Conv(hidden, hidden, 3),
                                               nn.Conv2d(hidden, 4 * reg_max, 1)) for c in channels)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(c, hidden, 3), Conv(hidden, hidden, 3),
                                               nn.Conv2d(hidden, CLASSES, 1)) for c in channels)
        # DFL: the expected bin as a fixed 1x1 convolution of weights 0..reg_max-1.
        self.dfl = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(reg_max, dtype=torch.float32).view(1, reg_max, 1, 1)
        self.register_buffer("anchors", torch.cat([cells(h, w, 0.5) for h, w in sizes]).T[None].contiguous())
        strides = [torch.full((h * w,), float(s)) for (h, w), s in zip(sizes, STRIDES)]
        self.register_buffer("strides", torch.cat(strides)[None])

    def forward(self, xs):
        xs = [torch.cat((self.cv2[i](x), self.cv3[i](x)), 1) for i, x in enumerate(xs)]
        x = torch.cat([x.view(1, self.no, -1) for x in xs], 2)
        box, cls = x.split((4 * self.reg_max, CLASSES), 1)
        a = self.anchors.shape[2]  # a Python number: no Shape and Gather in the graph
        distance = self.dfl(box.view(1, 4, self.reg_max, a).transpose(2, 1).softmax(1)).view(1, 4, a)
        lt, rb = distance.chunk(2, 1)
        x0y0, x1y1 = self.anchors - lt, self.anchors + rb
        xywh = torch.cat(((x0y0 + x1y1) / 2, x1y1 - x0y0), 1) * self.strides
        return torch.cat((xywh, cls.sigmoid()), 1)


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(Conv(3, 8, 3, 2), Conv(8, 16, 3, 2), Conv(16, 16, 3), Conv(16, 32, 3, 2),
                                      Conv(32, 32, 3), Conv(32, 48, 3, 2), Conv(48, 48, 3))
        # The stride-8 branch also reads the last block (upsampled), as a YOLO neck does: every detection depends on it.
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.neck = Conv(32 + 48, 32, 1)
        sizes = [(SIZE // s, SIZE // s) for s in STRIDES]
        self.head = V5Head((32, 48), sizes) if kind == "yolov5" else V8Head((32, 48), sizes)

    def forward(self, x):
        for i, m in enumerate(self.backbone):
            x = m(x)
            if i == 4:
                p3 = x
        return self.head([self.neck(torch.cat((p3, self.up(x)), 1)), x])


net = Detector()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, nn.Conv2d) and m.weight.requires_grad:
            # He initialisation: PyTorch's default shrinks the signal at every layer, and the outputs would hardly
            # depend on the input.
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
    # Biases that put the scores around the threshold: some tens of candidates pass 0.25, NMS keeps several.
    if kind == "yolov5":
        for conv in net.head.m:
            bias = conv.bias.view(net.head.na, net.head.no)
            bias[:, 5:] -= 1.1
    else:
        for seq in net.head.cv2:
            # Short distances, boxes of a few cells; a little noise keeps the scales' biases apart (torch would share
            # equal initialisers through Identity nodes).
            seq[-1].bias[:] = -0.3 * torch.arange(16.0).repeat(4) + 0.05 * torch.randn(64)
        for seq in net.head.cv3:
            seq[-1].weight *= 3
            seq[-1].bias += torch.tensor((-2.7, -2.5, -1.5))  # every class among the detections
net.eval()

# Smooth blobs and some noise, in [0, 1]: neighbouring cells see alike, their boxes overlap, and NMS has work to do.
blobs = F.interpolate(torch.rand(1, 3, 4, 4), size=(SIZE, SIZE), mode="bilinear", align_corners=False)
x32 = 0.7 * blobs + 0.3 * torch.rand(1, 3, SIZE, SIZE)
with torch.no_grad():
    y32 = net(x32)
torch.onnx.export(net, x32, f"{out}/model.onnx", opset_version=13, input_names=["images"], output_names=["output0"],
                  do_constant_folding=True)
x32.numpy().tofile(f"{out}/input.f32")
y32.numpy().tofile(f"{out}/outputs.f32")


def detections(y):
    """Ultralytics' non_max_suppression for one image, differentiable in the boxes and scores it keeps."""
    p = y[0] if kind == "yolov5" else y[0].T  # [N, 4 + (1) + C]
    if kind == "yolov5":
        p = p[p[:, 4] > SCORE]
        score, label = (p[:, 5:] * p[:, 4:5]).max(1)
    else:
        score, label = p[:, 4:].max(1)
    xy, half = p[:, :2], p[:, 2:4] / 2
    box = torch.cat((xy - half, xy + half), 1)
    keep = score > SCORE
    box, score, label = box[keep], score[keep], label[keep]
    kept = torchvision.ops.batched_nms(box.detach(), score.detach(), label, IOU)  # by descending score
    return box[kept], score[kept], label[kept]


boxes, scores, labels = detections(y32)
with open(f"{out}/detections.json", "w") as f:
    json.dump([{"box": b.tolist(), "score": float(s), "class": int(c)} for b, s, c in zip(boxes, scores, labels)], f)

# The explained layer: the last backbone block, found in the graph by the scope torch gives its nodes.
model = onnx.load(f"{out}/model.onnx")
scope = f"/backbone.{len(net.backbone) - 1}/"
layer = [n.output[0] for n in model.graph.node if n.name.startswith(scope)][-1]
assert any(layer in n.input for n in model.graph.node), layer

net = net.double()
for p in net.parameters():
    p.requires_grad_(False)
saved = {}
handle = net.backbone[-1].register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
try:
    y = net(x32.double().requires_grad_(True))  # frozen weights: the input's gradient makes the graph
finally:
    handle.remove()
a = saved["a"]
boxes64, scores64, labels64 = detections(y)
assert labels64.tolist() == labels.tolist(), "float32 and float64 detections differ"
assert torch.allclose(boxes64.detach().float(), boxes, atol=1e-3), "float32 and float64 boxes differ"

# FasterRCNNBoxScoreTarget on detection 0, its box from this very pass (as pytorch-grad-cam re-runs the same model):
# its IoU with itself is exactly 1, where torch splits the gradients of max and min at ties in halves.
target_box, target_label = boxes64[0].detach(), int(labels64[0])
ious = torchvision.ops.box_iou(target_box[None], boxes64)
index = ious.argmax()
value = torch.zeros((), dtype=torch.float64)
if ious[0, index] > 0.5 and int(labels64[index]) == target_label:
    value = ious[0, index] + scores64[index]
g, = torch.autograd.grad(value, a)
a, g = a.detach(), g.detach()
gradcam = (g.mean((2, 3))[:, :, None, None] * a).sum(1)[0]

c, hh, ww = a.shape[1:]
m = a[0].reshape(c, hh * ww).T  # [positions, channels]
centred = m - m.mean(0, keepdim=True)
_, _, vh = torch.linalg.svd(centred, full_matrices=False)
eigencam = centred @ vh[0]
mean = m.mean(1)
if (eigencam * (mean - mean.mean())).sum() < 0:  # a component has no sign: oriented to grow with the channel mean
    eigencam = -eigencam

gradcam.float().numpy().tofile(f"{out}/gradcam.f32")
eigencam.float().numpy().tofile(f"{out}/eigencam.f32")
with open(f"{out}/gradcam_target.json", "w") as f:
    json.dump({"box": target_box.tolist(), "label": target_label, "iou_threshold": 0.5, "value": float(value)}, f)
with open(f"{out}/meta.json", "w") as f:
    json.dump({"kind": kind, "input_size": [SIZE, SIZE], "classes": CLASSES, "score_threshold": SCORE,
               "iou_threshold": IOU, "layer": layer, "layer_shape": list(a.shape), "count": len(boxes),
               "output_shape": list(y32.shape)}, f)
