"""Exports a small network with torch.onnx.export and writes what real PyTorch makes of it, for LiveCam's tests.

usage: onnx_oracle.py NET OUT_DIR
NET: resnet18 (residual sums), mobilenet_v3_small (depthwise convolutions, squeeze-excite, hard-swish),
     googlenet (concatenation, asymmetric pooling), tiny (a small CNN with a softmax head),
     zoo (the rest of the operators: resize, pad, slice, split, transpose, reshape from shapes, gather, squeeze,
     reduce-mean, matmul, transposed convolution, PReLU, clip, sigmoid, tanh, sub, div, global max pooling),
     shared (residual sums whose residual is the graph input, is read again after the sum, or is the sum's own
     convolution's input: none of them may be overwritten by a sum written in place).
writes OUT_DIR/model.onnx, OUT_DIR/input.f32, OUT_DIR/output.f32 and OUT_DIR/meta.txt ("SIZE OUTPUTS").
"""
import sys

import torch
import torchvision

net, out = sys.argv[1], sys.argv[2]
torch.manual_seed(11)
class Zoo(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.prelu = torch.nn.PReLU(8)
        self.up = torch.nn.ConvTranspose2d(8, 8, 2, stride=2)
        self.mix = torch.nn.Parameter(torch.randn(8, 8) * 0.3)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, x):
        y = self.prelu(self.conv(x))                                  # Conv, PRelu
        y = torch.nn.functional.interpolate(y, scale_factor=2.0, mode="nearest")  # Resize
        y = torch.nn.functional.pad(y, (1, 2, 0, 1))                  # Pad
        y = y[:, :, 1:-1, 2:]                                         # Slice
        a, b = torch.split(y, 4, dim=1)                               # Split
        y = torch.cat([torch.sigmoid(a) - 0.5, torch.tanh(b) / 2], 1)  # Sigmoid, Tanh, Sub, Div, Concat
        y = self.up(torch.clamp(y, -0.3, 0.4))                        # Clip, ConvTranspose
        n, c, h, w = y.shape
        t = y.permute(0, 2, 3, 1).reshape(n, h * w, c)                # Transpose, Reshape
        t = torch.matmul(t, self.mix)                                 # MatMul
        y = t.reshape(n, h, w, c).permute(0, 3, 1, 2)
        pooled = torch.nn.functional.adaptive_max_pool2d(y, 1).squeeze(-1).squeeze(-1)   # GlobalMaxPool, Squeeze
        mean = y.mean(dim=(2, 3))                                     # ReduceMean
        z = torch.cat([pooled, mean], 1)
        z = z.view(z.size(0), -1)                                     # Shape, Gather, Unsqueeze, Concat, Reshape
        return self.head(z)


class Shared(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = torch.nn.Conv2d(3, 3, 3, padding=1)
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = torch.nn.Conv2d(8, 8, 1)
        self.c4 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.c5 = torch.nn.Conv2d(8, 8, 3, padding=1)

    def forward(self, x):
        r = torch.relu(self.c0(x) + x)        # the residual is the graph input
        a = torch.relu(self.c1(r))
        b = torch.relu(self.c2(a) + a)        # a is read again below, after this sum
        c = self.c3(a)
        d = torch.relu(self.c4(b) + b)        # b is read by nothing after: may be overwritten
        e = torch.relu(self.c5(d) + d)        # d is the convolution's own input until it has run
        return torch.cat([e, c], 1).mean(dim=(2, 3))


if net == "shared":
    model = Shared()
    size = 24
elif net == "zoo":
    model = Zoo()
    size = 32
elif net == "tiny":
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.BatchNorm2d(8), torch.nn.LeakyReLU(0.1),
        torch.nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4), torch.nn.Hardswish(),
        torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), torch.nn.Conv2d(8, 16, 1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 5), torch.nn.Softmax(dim=1))
    size = 64
else:
    kwargs = dict(aux_logits=False, init_weights=True) if net == "googlenet" else {}
    model = getattr(torchvision.models, net)(**kwargs)
    size = 224
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.3, 0.3)
            m.running_var.uniform_(0.6, 1.4)
model.eval()
x = torch.randn(1, 3, size, size)
with torch.no_grad():
    y = model(x)
torch.onnx.export(model, x, f"{out}/model.onnx", opset_version=13, input_names=["image"], output_names=["scores"])
torch.save(model.state_dict(), f"{out}/weights.pt")
x.numpy().tofile(f"{out}/input.f32")
y.numpy().tofile(f"{out}/output.f32")
with open(f"{out}/meta.txt", "w") as f:
    f.write(f"{size} {y.numel()}\n")
