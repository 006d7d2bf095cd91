#!/usr/bin/python3
"""A taught head, judged by PyTorch: teach_oracle.py DIR.

Builds torchvision's resnet18 with random weights (its 1000 outputs stand in for a network's features), a linear head
of 3 classes on the unit-length features (LiveCam's head format, written as DIR/head.json), and a random input; writes
DIR/weights.pt, DIR/input.f32, DIR/logits.f32 and DIR/gradcam.f32 (Grad-CAM of class 2 at layer4 through the head,
raw: sum over channels of the mean gradient times the activation).
"""
import json
import sys

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(3)
net = torchvision.models.resnet18()
for m in net.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.uniform_(-0.2, 0.2)
        m.running_var.uniform_(0.5, 1.5)
net.eval()
torch.save(net.state_dict(), f"{out}/weights.pt")
weight = torch.randn(3, 1000) * 4
bias = torch.randn(3)
json.dump({"format": "livecam-taught-head/1", "model": "resnet18", "features": 1000, "classes": ["a", "b", "c"],
           "examples": [6, 6, 6], "normalise": "l2", "weight": weight.flatten().tolist(), "bias": bias.tolist()},
          open(f"{out}/head.json", "w"))
x = torch.randn(1, 3, 224, 224)
x.numpy().astype("float32").tofile(f"{out}/input.f32")

seen = {}
handle = net.layer4.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o))
try:
    features = net(x)
finally:
    handle.remove()
unit = features / features.norm(dim=1, keepdim=True)
logits = unit @ weight.T + bias
logits.detach().numpy().astype("float32").tofile(f"{out}/logits.f32")
a = seen["a"]
g, = torch.autograd.grad(logits[0, 2], a)
cam = (g.mean((2, 3))[:, :, None, None] * a).sum(1)[0]
cam.detach().numpy().astype("float32").tofile(f"{out}/gradcam.f32")
