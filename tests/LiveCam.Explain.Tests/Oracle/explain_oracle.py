#!/usr/bin/python3
"""Reference explanations, written from the papers' formulas on PyTorch, independently of LiveCam.

explain_oracle.py ARCH DIR [slow]: builds ARCH (robot, resnet18, vgg16) with random weights (batch-norm statistics too),
writes DIR/weights.pt (torch.save(state_dict)), DIR/input.f32, DIR/meta.json and one DIR/<method>.f32 per method:
the raw map (before any ReLU or normalisation) at the layer's resolution, or at the input's for input-gradient
methods. Everything is computed in float64 from the float32 weights and input LiveCam reads.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

arch, out = sys.argv[1], sys.argv[2]
slow = len(sys.argv) > 3 and sys.argv[3] == "slow"  # also the methods of hundreds of passes on big networks
torch.manual_seed(0)


def robot():
    # ../shared/reference/long-range-perception.md
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                nn.Conv2d(3, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(10, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.decoder = nn.Sequential(nn.Dropout(0.2), nn.Linear(640, 256), nn.ReLU(), nn.Linear(256, 325), nn.Sigmoid())

        def forward(self, x):
            return self.decoder(self.encoder(x).flatten(1))
    return Net(), (64, 80), "encoder.6", False


def classifier(build, size, layer):
    net = build()
    # Untrained batch norms are identities in evaluation; random statistics make them count.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return net, (size, size), layer, True


net, (h, w), layer_name, is_classifier = {
    "robot": robot,
    "resnet18": lambda: classifier(torchvision.models.resnet18, 112, "layer4"),
    "vgg16": lambda: classifier(torchvision.models.vgg16, 112, "features.29"),
}[arch]()
net.eval()
torch.save(net.state_dict(), f"{out}/weights.pt")
x32 = torch.randn(1, 3, h, w)
x32.numpy().tofile(f"{out}/input.f32")

import copy
net32 = copy.deepcopy(net)  # Score-CAM's hundreds of masked passes run in float32, in batches
for p in net32.parameters():
    p.requires_grad_(False)
net = net.double()
for p in net.parameters():
    p.requires_grad_(False)
for m in list(net.modules()) + list(net32.modules()):
    if isinstance(m, nn.ReLU):
        m.inplace = False  # backward hooks refuse in-place modules; the values are the same
x = x32.double()
layer = dict(net.named_modules())[layer_name]

with torch.no_grad():
    logits = net(x)
target = int(logits[0].argmax()) if is_classifier else None


def score(output):
    """The explained score: the top class's logit, or (robot) all outputs summed."""
    return output[:, target] if is_classifier else output.sum(1)


def confidence(output):
    """Score-CAM's weight: the class's softmax probability (the authors' code), the score as it is otherwise."""
    return F.softmax(output, 1)[:, target] if is_classifier else score(output)


def activations_and_gradients():
    saved = {}
    handle = layer.register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
    try:
        output = net(x.clone().requires_grad_(True))  # frozen weights: the input's gradient makes the graph
    finally:
        handle.remove()
    a = saved["a"]
    g, = torch.autograd.grad(score(output).sum(), a)
    return a.detach(), g.detach()


def weighted(a, weights):
    return (weights[:, :, None, None] * a).sum(1)[0]


def input_gradient(guided=False, inputs=None, model=None):
    model = model or net
    handles = []
    if guided:
        # Springenberg et al. 2014: at every ReLU, only positive gradients pass back.
        for m in model.modules():
            if isinstance(m, nn.ReLU):
                handles.append(m.register_full_backward_hook(lambda m, gi, go: (gi[0].clamp(min=0),)))
    try:
        xi = (x if inputs is None else inputs).clone().requires_grad_(True)
        g, = torch.autograd.grad(score(model(xi)).sum(), xi)
    finally:
        for hd in handles:
            hd.remove()
    return g


maps = {}
a, g = activations_and_gradients()
maps["gradcam"] = weighted(a, g.mean((2, 3)))
g2, g3 = g ** 2, g ** 3
denominator = 2 * g2 + a.sum((2, 3), keepdim=True) * g3
alpha = torch.where(g != 0, g2 / torch.where(denominator != 0, denominator, torch.ones_like(denominator)), torch.zeros_like(g))
maps["gradcam++"] = weighted(a, (alpha * g.clamp(min=0)).sum((2, 3)))
maps["xgradcam"] = weighted(a, (g * a).sum((2, 3)) / (a.sum((2, 3)) + 1e-7))
maps["layercam"] = (g.clamp(min=0) * a).sum(1)[0]

c, hh, ww = a.shape[1:]
m = a[0].reshape(c, hh * ww).T
centred = m - m.mean(0, keepdim=True)
_, _, vh = torch.linalg.svd(centred, full_matrices=False)
projection = centred @ vh[0]
mean = m.mean(1)
if (projection * (mean - mean.mean())).sum() < 0:  # a component has no sign: orient it with the mean activation
    projection = -projection
maps["eigencam"] = projection.reshape(hh, ww)

# Wang et al. 2020 (their code): channel k upsampled to the input, min-max scaled, skipped when constant; weight =
# confidence of input * mask. Upsampling is linear, so the sum of weighted upsampled channels is the upsampled sum:
# the map is compared at the layer's resolution.
@torch.no_grad()
def score_cam():
    up = F.interpolate(a, size=(h, w), mode="bilinear", align_corners=False)[0]
    weights = torch.zeros(c, dtype=torch.float64)
    varying = [k for k in range(c) if up[k].max() != up[k].min()]
    for start in range(0, len(varying), 32):
        ks = varying[start:start + 32]
        masks = torch.stack([(up[k] - up[k].min()) / (up[k].max() - up[k].min()) for k in ks])[:, None]
        weights[ks] = confidence(net32(x32 * masks.float())).double()
    return weighted(a, weights[None])


if arch != "vgg16" or slow:
    maps["scorecam"] = score_cam()

if arch == "resnet18":
    # Zhou et al. 2016: the classifier's row of the class over the globally pooled layer.
    maps["cam"] = weighted(a, net.fc.weight[target][None])

saliency = input_gradient()
maps["saliency"] = saliency.abs().amax(1)[0]
guided = input_gradient(guided=True)
maps["guided-backprop"] = guided.abs().amax(1)[0]
cam = maps["gradcam"].clamp(min=0)
maps["guided-gradcam"] = (guided[0] * F.interpolate(cam[None, None], size=(h, w), mode="bilinear", align_corners=False)[0]).abs().amax(0)

# Smilkov et al. 2017: the mean input gradient over 16 noisy copies, noise sigma 0.15 * (max - min), drawn in float32
# from a generator seeded 0, 15 then 1 at a time (LiveCam's batches); the 16 passes run in float32.
def smooth(guided):
    generator = torch.Generator().manual_seed(0)
    sigma = 0.15 * float(x32.max() - x32.min())
    total = torch.zeros_like(x)  # float64
    for n in (15, 1):
        noise = torch.randn((n, 3, h, w), generator=generator, dtype=torch.float32) * sigma
        total += input_gradient(guided, x32 + noise, net32).double().sum(0, keepdim=True)
    return (total / 16).abs().amax(1)[0]


maps["smoothgrad"] = smooth(False)
maps["smoothgrad:guided-backprop"] = smooth(True)

meta = {"height": h, "width": w, "layer": layer_name, "target": target, "maps": {}}
for name, value in maps.items():
    value.float().numpy().tofile(f"{out}/{name.replace(':', '_')}.f32")
    meta["maps"][name] = list(value.shape)
with open(f"{out}/meta.json", "w") as f:
    json.dump(meta, f)
