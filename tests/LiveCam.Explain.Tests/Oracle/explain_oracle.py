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

from oracle_nets import RobotNet, randomise_batch_norms

arch, out = sys.argv[1], sys.argv[2]
slow = len(sys.argv) > 3 and sys.argv[3] == "slow"
# Methods of hundreds of passes on the big networks run only in the slow run (ReferenceParityTests.Heavy says the same).
heavy = {"vgg16": {"scorecam", "ablationcam", "reciprocam", "occlusion", "rise", "d-rise"},
         "resnet18": {"rise", "d-rise"}}.get(arch, set())


def wanted(method):
    return slow or method not in heavy
torch.manual_seed(0)


def robot():
    return RobotNet(), (64, 80), "encoder.6", False


def classifier(build, size, layer):
    net = build()
    randomise_batch_norms(net)
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
# The methods of many passes run in float32 on the big networks (minutes in float64); on the robot everything runs in
# float64, and LiveCam runs it in float64 too: scores there differ by 1e-4 of themselves, below float32's resolution.
fast_net, fast_x = (net, x) if arch == "robot" else (net32, x32)

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


def principal(t, project):
    """Muhammad & Yeasin 2020: each position's channel vector projected on the first component of the centred
    [positions, channels] matrix; a component has no sign: oriented to grow with the mean over channels."""
    m = t[0].reshape(c, hh * ww).T
    centred = m - m.mean(0, keepdim=True)
    projection = project(centred)
    mean = m.mean(1)
    if (projection * (mean - mean.mean())).sum() < 0:
        projection = -projection
    return projection.reshape(hh, ww)


def pca(centred):
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return centred @ vh[0]


def kernel_pca(centred):
    # Karmani et al. 2024 with pytorch-grad-cam's kernel: sigmoid tanh(x.y / C + 1), centred in feature space; the
    # first component's scores are its eigenvector times the root of its eigenvalue.
    k = torch.tanh(centred @ centred.T / c + 1)
    k = k - k.mean(0, keepdim=True) - k.mean(1, keepdim=True) + k.mean()
    values, vectors = torch.linalg.eigh(k)
    return vectors[:, -1] * values[-1].clamp(min=0).sqrt()


maps["eigencam"] = principal(a, pca)
maps["eigengradcam"] = principal(g * a, pca)
maps["kpcacam"] = principal(a, kernel_pca)
maps["hirescam"] = (g * a).sum(1)[0]  # Draelos & Carin 2020
maps["gradcam-elementwise"] = (g * a).clamp(min=0).sum(1)[0]

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
        weights[ks] = confidence(fast_net(fast_x * masks.to(fast_x.dtype))).double()
    return weighted(a, weights[None])


if wanted("scorecam"):
    maps["scorecam"] = score_cam()


@torch.no_grad()
def ablation_cam():
    # Desai & Ramaswamy 2020: weight_k = (y - y_k) / y, y_k the score with channel k of the layer zeroed (float32 passes).
    y = float(score(net(x))[0])
    weights = torch.zeros(c, dtype=torch.float64)
    layer32 = dict(fast_net.named_modules())[layer_name]
    for start in range(0, c, 32):
        ks = list(range(start, min(c, start + 32)))

        def zero_channels(m, i, o):  # copy j of the batch has channel ks[j] zeroed
            o = o.clone()
            for j, k in enumerate(ks):
                o[j, k] = 0
            return o
        hd = layer32.register_forward_hook(zero_channels)
        try:
            weights[ks] = (y - score(fast_net(fast_x.expand(len(ks), -1, -1, -1))).double()) / y
        finally:
            hd.remove()
    return weighted(a, weights[None])


if wanted("ablationcam"):
    maps["ablationcam"] = ablation_cam()

@torch.no_grad()
def recipro_cam():
    # Byun & Lee 2022 with their Gaussian mask: copy (i, j) of the layer's features is weighted by the 3x3 kernel
    # [1 2 1; 2 4 2; 1 2 1] / 16 centred on cell (i, j), cut at the borders, and zero elsewhere; the rest of the network
    # gives the confidence (softmax probability of the class) of each copy (float32 passes); the map is those, less
    # their minimum (the paper's min-max normalisation, whose scaling the comparison does).
    kernel = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float64) / 16
    layer32 = dict(fast_net.named_modules())[layer_name]
    saved = {}
    hd = layer32.register_forward_hook(lambda m, i, o: saved.__setitem__("a", o))
    try:
        fast_net(fast_x)
    finally:
        hd.remove()
    features = saved["a"]  # [1, C, hh, ww], in the passes' precision
    cells = [(i, j) for i in range(hh) for j in range(ww)]
    scores = torch.zeros(hh * ww, dtype=torch.float64)
    for start in range(0, len(cells), 32):
        batch = cells[start:start + 32]
        masks = torch.zeros(len(batch), 1, hh, ww, dtype=features.dtype)
        for b, (i, j) in enumerate(batch):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if 0 <= i + dy < hh and 0 <= j + dx < ww:
                        masks[b, 0, i + dy, j + dx] = kernel[dy + 1, dx + 1]
        hd = layer32.register_forward_hook(lambda m, i, o: features * masks)  # replaces the layer's output
        try:
            scores[start:start + len(batch)] = confidence(fast_net(fast_x.expand(len(batch), -1, -1, -1))).double()
        finally:
            hd.remove()
    scores = scores.reshape(hh, ww)
    return scores - scores.min()


if wanted("reciprocam"):
    maps["reciprocam"] = recipro_cam()

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
        total += input_gradient(guided, fast_x + noise.to(fast_x.dtype), fast_net).double().sum(0, keepdim=True)
    return (total / 16).abs().amax(1)[0]


maps["smoothgrad"] = smooth(False)
maps["smoothgrad:guided-backprop"] = smooth(True)

# Sundararajan et al. 2017: (x - 0) times the mean gradient at k/32 x, k = 1..32 (float32 passes, summed in float64).
alphas = torch.arange(1, 33, dtype=torch.float32)[:, None, None, None] / 32
path_gradients = input_gradient(inputs=alphas.to(fast_x.dtype) * fast_x, model=fast_net).double().sum(0, keepdim=True)
maps["integrated-gradients"] = (x * path_gradients / 32).abs().amax(1)[0]


def full_grad():
    # Srinivas & Fleuret 2019, as their code post-processes: |.|, scaled to [0, 1] over the sample, resized with
    # corners aligned, summed over channels; biases of convolutions and of evaluation's batch norms.
    parts, outputs, handles = [], [], []
    for m in net.modules():
        if isinstance(m, nn.Conv2d) and m.bias is not None:
            parts.append(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            parts.append(m.bias - m.running_mean * m.weight / torch.sqrt(m.running_var + m.eps))
        else:
            continue
        handles.append(m.register_forward_hook(lambda m, i, o: outputs.append(o)))
    try:
        xi = x.clone().requires_grad_(True)
        grads = torch.autograd.grad(score(net(xi)).sum(), [xi] + outputs)
    finally:
        for hd in handles:
            hd.remove()

    def post(t):
        t = t.abs()
        t = t - t.flatten(1).min(1)[0][:, None, None, None]
        return t / (t.flatten(1).max(1)[0][:, None, None, None] + 1e-6)
    total = post(grads[0] * x).sum(1)
    for bias, grad in zip(parts, grads[1:]):
        total += F.interpolate(post(grad * bias[None, :, None, None]), size=(h, w), mode="bilinear", align_corners=True).sum(1)
    return total[0]


maps["fullgrad"] = full_grad()


@torch.no_grad()
def occlusion():
    # Zeiler & Fergus 2014: a zero square a seventh of the shorter side, stride half of it (and flush with the far
    # edges); a pixel's value is the mean score drop of the squares covering it (float32 passes).
    window = max(2, round(min(h, w) / 7))
    stride = max(1, window // 2)

    def starts(size):
        s = list(range(0, size - window + 1, stride))
        if not s or s[-1] + window < size:
            s.append(max(0, size - window))
        return s
    clean = float(score(fast_net(fast_x))[0])
    total = torch.zeros(h, w, dtype=torch.float64)
    count = torch.zeros(h, w, dtype=torch.float64)
    corners = [(y0, x0) for y0 in starts(h) for x0 in starts(w)]
    for start in range(0, len(corners), 32):
        batch = corners[start:start + 32]
        occluded = fast_x.repeat(len(batch), 1, 1, 1)
        for j, (y0, x0) in enumerate(batch):
            occluded[j, :, y0:y0 + window, x0:x0 + window] = 0
        drops = clean - score(fast_net(occluded)).double()
        for j, (y0, x0) in enumerate(batch):
            total[y0:y0 + window, x0:x0 + window] += drops[j]
            count[y0:y0 + window, x0:x0 + window] += 1
    return total / count.clamp(min=1)


if wanted("occlusion"):
    maps["occlusion"] = occlusion()


@torch.no_grad()
def weighted_masks(n, grid, p):
    # Petsiuk et al. 2018: n masks, a grid x grid of cells kept with p, upsampled bilinearly to (grid + 1) cells and
    # shifted by a random part of a cell; drawn from a generator seeded 0 as LiveCam draws them; float32 passes. The sum
    # of the masks weighted by the target's score on each masked input.
    generator = torch.Generator().manual_seed(0)
    cell_h, cell_w = -(-h // grid), -(-w // grid)
    cells = (torch.rand((n, 1, grid, grid), generator=generator) < p).float()
    shift_y = torch.randint(0, cell_h, (n,), generator=generator)
    shift_x = torch.randint(0, cell_w, (n,), generator=generator)
    up = F.interpolate(cells, size=((grid + 1) * cell_h, (grid + 1) * cell_w), mode="bilinear", align_corners=False)
    masks = torch.stack([up[i, :, shift_y[i]:shift_y[i] + h, shift_x[i]:shift_x[i] + w] for i in range(n)])
    total = torch.zeros(h, w, dtype=torch.float64)
    for start in range(0, n, 50):
        batch = masks[start:start + 50]
        total += (score(fast_net(fast_x * batch.to(fast_x.dtype))).double()[:, None, None, None] * batch.double()).sum((0, 1))
    return total


def rise(n=1000, grid=7, p=0.5):
    total = weighted_masks(n, grid, p) / (n * p)
    return total - total.min()  # shown from its minimum, as the authors show it


def d_rise(n=1000, grid=16, p=0.5):
    # Petsiuk et al. 2021 for a target that is not a detector's box: each mask weighs by the target's own score, as in
    # RISE, on D-RISE's 16x16 grid; the mean, from its minimum.
    total = weighted_masks(n, grid, p) / n
    return total - total.min()


if wanted("rise"):
    maps["rise"] = rise()
if wanted("d-rise"):
    maps["d-rise"] = d_rise()

# Several layers: each one's Grad-CAM cut at zero and scaled by its maximum, resized bilinearly to the finest layer's
# resolution, averaged.
several = {"robot": "encoder.3,encoder.6", "resnet18": "layer3,layer4", "vgg16": "features.22,features.29"}[arch]
parts = []
for name in several.split(","):
    layer = dict(net.named_modules())[name]
    a_l, g_l = activations_and_gradients()
    cam = weighted(a_l, g_l.mean((2, 3))).clamp(min=0)
    parts.append(cam / cam.max())
finest = max(parts, key=lambda p: p.numel()).shape
maps["gradcam@several"] = sum(F.interpolate(p[None, None], size=finest, mode="bilinear", align_corners=False)[0, 0] for p in parts) / len(parts)

meta = {"several": several, "height": h, "width": w, "layer": layer_name, "target": target, "maps": {}}
for name, value in maps.items():
    value.float().numpy().tofile(f"{out}/{name.replace(':', '_')}.f32")
    meta["maps"][name] = list(value.shape)
with open(f"{out}/meta.json", "w") as f:
    json.dump(meta, f)
