#!/usr/bin/python3
"""Reference gradient ascent on the input, written from the papers' formulas on PyTorch, independently of LiveCam.

dream_oracle.py ARCH DIR: builds ARCH (resnet18 at 64x64, ImageNet's per-channel normalisation; robot at 80x64,
standardised images) with random weights, writes DIR/weights.pt (torch.save(state_dict)), DIR/input.f32, DIR/meta.json,
and after STEPS steps without jitter or octaves:
  DIR/dream.f32  DeepDream (Mordvintsev et al. 2015): x += step * extent * g / mean|g|, g the gradient of the mean of
                 the layer's squared activations; then x is brought back into the input's range.
  DIR/class.f32  class model (Simonyan et al. 2013) from zeros: the same step on S_c(x) - l2 * sum((x / extent)^2),
                 S_c the raw output c.
Input range: resnet18, each channel clamped to where pixels 0..1 land ((0 - mean) / std .. (1 - mean) / std), extent the
difference; robot, the image standardised as a whole ((x - mean) / std over all values), extent 4.
"""
import json
import sys

import torch
import torch.nn as nn
import torchvision

from oracle_nets import RobotNet, randomise_batch_norms

arch, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
STEPS, STEP_SIZE, L2 = 5, 0.01, 0.05

if arch == "resnet18":
    net = torchvision.models.resnet18()
    randomise_batch_norms(net)
    h, w, layer_name, target, dtype = 64, 64, "layer2", 3, torch.float32
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    low, high = (0 - mean) / std, (1 - mean) / std
    extent = (high - low).to(dtype)

    def project(x):
        return torch.max(torch.min(x, high.to(x.dtype)), low.to(x.dtype))
    x32 = project(torch.randn(1, 3, h, w))
else:
    net = RobotNet()
    h, w, layer_name, target, dtype = 64, 80, "encoder.3", 100, torch.float64
    extent = torch.tensor(4.0, dtype=dtype)

    def project(x):
        c = x - x.mean()
        return c / c.square().mean().sqrt().clamp(min=1e-6)
    x32 = project(torch.randn(1, 3, h, w))

net.eval()
torch.save(net.state_dict(), f"{out}/weights.pt")
x32.numpy().astype("float32").tofile(f"{out}/input.f32")
net = net.to(dtype)
for p in net.parameters():
    p.requires_grad_(False)
for m in net.modules():
    if isinstance(m, nn.ReLU):
        m.inplace = False
layer = dict(net.named_modules())[layer_name]


def dream_objective(x):
    saved = {}
    handle = layer.register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
    try:
        net(x)
    finally:
        handle.remove()
    return saved["a"].square().mean()


def class_objective(x):
    return net(x)[:, target].sum() - L2 * (x / extent).square().sum()


def ascend(x, objective):
    objectives = []
    for _ in range(STEPS):
        xi = x.detach().clone().requires_grad_(True)
        value = objective(xi)
        objectives.append(float(value))
        g, = torch.autograd.grad(value, xi)
        x = project(x + STEP_SIZE * extent * g / (g.abs().mean() + 1e-8))
    with torch.no_grad():
        objectives.append(float(objective(x)))
    return x.detach(), objectives


x = x32.to(dtype)
dreamed, dream_values = ascend(x, dream_objective)
modelled, class_values = ascend(torch.zeros_like(x), class_objective)
dreamed.float().numpy().tofile(f"{out}/dream.f32")
modelled.float().numpy().tofile(f"{out}/class.f32")
json.dump({"height": h, "width": w, "layer": layer_name, "target": target, "steps": STEPS, "step_size": STEP_SIZE, "l2": L2,
           "dream_objectives": dream_values, "class_objectives": class_values}, open(f"{out}/meta.json", "w"))
