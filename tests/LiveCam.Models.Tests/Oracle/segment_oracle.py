#!/usr/bin/python3
"""A semantic segmenter exported to ONNX, and what PyTorch makes of it, for LiveCam's tests.

usage: segment_oracle.py DIR
Builds torchvision's lraspp_mobilenet_v3_large (no weights, 4 classes) with seeded random weights, batch-norm
statistics measured on a random batch and perturbed, in evaluation mode, wrapped to return only out["out"]; the
input is 1x3x128x128 standard normal (already normalised values). writes
  DIR/model.onnx          torch.onnx.export, opset 13 (hard-swish as HardSigmoid times x), input "image", output
                          "logits", constants folded.
  DIR/input.f32           the input [1, 3, 128, 128] (raw float32 little-endian, as all .f32 below).
  DIR/logits.f32          PyTorch's output [1, C, 128, 128].
  DIR/mask.u8             argmax over classes per pixel, uint8 [128 * 128], row by row.
  DIR/gradcam.f32         raw Grad-CAM at "layer" (mean gradient per channel times the activation, summed over channels;
                          before ReLU and normalisation), [h * w], for pytorch-grad-cam's SemanticSegmentationTarget:
                          (logits[0, category] * (mask == category)).sum().
  DIR/gradcam_region.f32  the same for the category's logits summed over the rectangle x 16..79, y 32..95.
  DIR/meta.json           {"classes", "input_size", "layer" (the ONNX tensor of backbone block 16's output, the high
                          branch of LR-ASPP), "layer_shape", "category" (the class of the largest predicted area that is
                          not the whole image), "areas" ({class: pixels}), "region": [x0, y0, w, h]}.
Grad-CAM is computed in float64 from the float32 weights and input; its mask is the float32 one written above.
"""
import json
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402

out = sys.argv[1]
torch.set_num_threads(1)
torch.manual_seed(0)
SIZE, CLASSES, REGION = 128, 4, (16, 32, 64, 64)  # region: x0, y0, w, h


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=CLASSES)

    def forward(self, x):
        return self.net(x)["out"]


model = Segmenter()
model.eval()  # the batch norms normalise with the statistics the hooks below set


def measure(bn, inputs):
    """Sets a batch norm's statistics from what reaches it, perturbed: merely random ones would let the signal fade
    or blow up over the seventeen blocks, and one class would cover the whole image."""
    x, = inputs
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
    bn.running_mean.copy_(mean + 0.2 * var.sqrt() * (torch.rand_like(mean) * 2 - 1))
    bn.running_var.copy_(var * (torch.rand_like(var) + 0.5))
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.2, 0.2)


# One pass over a random batch, in order: each batch norm measures its input after the ones before it are set.
hooks = [m.register_forward_pre_hook(measure) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
with torch.no_grad():
    model(torch.randn(4, 3, SIZE, SIZE))
for hook in hooks:
    hook.remove()
# The backbone block feeding LR-ASPP's high branch ("16").
block = next(k for k, v in model.net.backbone.return_layers.items() if v == "high")

x32 = torch.randn(1, 3, SIZE, SIZE)
with torch.no_grad():
    logits32 = model(x32)
torch.onnx.export(model, x32, f"{out}/model.onnx", opset_version=13, input_names=["image"], output_names=["logits"],
                  do_constant_folding=True)
x32.numpy().tofile(f"{out}/input.f32")
logits32.numpy().tofile(f"{out}/logits.f32")
mask = logits32[0].argmax(0)
mask.to(torch.uint8).numpy().tofile(f"{out}/mask.u8")
areas = {c: int((mask == c).sum()) for c in range(CLASSES)}
category = max((c for c in range(CLASSES) if areas[c] < SIZE * SIZE), key=lambda c: areas[c])
assert areas[category] > 0, areas

# The explained layer in the graph: the last node under the block's scope.
graph = onnx.load(f"{out}/model.onnx").graph
scope = f"/net/backbone/backbone.{block}/"
layer = [n.output[0] for n in graph.node if n.name.startswith(scope)][-1]
assert any(layer in n.input for n in graph.node), layer

model = model.double()
for p in model.parameters():
    p.requires_grad_(False)
saved = {}
handle = model.net.backbone[block].register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
try:
    logits = model(x32.double().requires_grad_(True))  # frozen weights: the input's gradient makes the graph
finally:
    handle.remove()
a = saved["a"]
assert torch.equal(logits[0].argmax(0), mask), "float32 and float64 masks differ"


def gradcam(score):
    g, = torch.autograd.grad(score, a, retain_graph=True)
    return (g.mean((2, 3))[:, :, None, None] * a.detach()).sum(1)[0]


x0, y0, w, h = REGION
gradcam((logits[0, category] * (mask == category)).sum()).float().numpy().tofile(f"{out}/gradcam.f32")
gradcam(logits[0, category, y0:y0 + h, x0:x0 + w].sum()).float().numpy().tofile(f"{out}/gradcam_region.f32")
with open(f"{out}/meta.json", "w") as f:
    json.dump({"classes": CLASSES, "input_size": [SIZE, SIZE], "layer": layer, "layer_shape": list(a.shape),
               "category": category, "areas": areas, "region": list(REGION)}, f)
