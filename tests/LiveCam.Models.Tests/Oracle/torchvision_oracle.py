"""Writes what real PyTorch makes of a TorchVision network, for LiveCam's tests to compare against.

usage: torchvision_oracle.py ARCH OUT_DIR [state_dict|module|with_aux]
writes OUT_DIR/weights.pt (torch.save of the state dict, or of the whole module; with_aux: a state dict with the
auxiliary training heads, as TorchVision's downloaded GoogLeNet and Inception checkpoints have them), OUT_DIR/input.f32 (1x3xSxS),
OUT_DIR/output.f32 (the network's output in eval mode) and OUT_DIR/meta.txt (input size, output count).
Weights and BatchNorm statistics are random but seeded, so the comparison exercises every tensor.
"""
import sys

import torch
import torchvision

arch, out, kind = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "state_dict")
torch.manual_seed(7)
kwargs = {}
if arch in ("googlenet", "inception_v3"):
    kwargs = dict(aux_logits=kind == "with_aux", init_weights=True)
model = getattr(torchvision.models, arch)(**kwargs)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.6, 1.4)
            m.weight.uniform_(0.7, 1.3)
            m.bias.uniform_(-0.2, 0.2)
model.eval()
size = 299 if arch == "inception_v3" else 224
x = torch.randn(1, 3, size, size)
with torch.no_grad():
    y = model(x)
torch.save(model.state_dict() if kind == "state_dict" else model, f"{out}/weights.pt")
x.numpy().tofile(f"{out}/input.f32")
y.numpy().tofile(f"{out}/output.f32")
with open(f"{out}/meta.txt", "w") as f:
    f.write(f"{size} {y.numel()}\n")
