#!/usr/bin/python3
"""PyTorch's own convolutions, in float64, on the problems and tensors the property test wrote.

usage: convolution_oracle.py CASES.json INPUTS.bin OUTPUTS.bin
Each case's input, weight and bias are read from INPUTS.bin (float32, in that order, case after case); asymmetric
pads are applied with F.pad first. The outputs, float64, are written case after case."""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

cases = json.load(open(sys.argv[1]))
blob = np.fromfile(sys.argv[2], dtype=np.float32)
at = 0
outputs = []


def take(shape):
    global at
    n = int(np.prod(shape))
    t = torch.from_numpy(blob[at:at + n].astype(np.float64).reshape(shape))
    at += n
    return t


with torch.no_grad():
    for c in cases:
        x = take([c["batch"], c["in"], c["height"], c["width"]])
        w = take([c["out"], c["in"] // c["groups"], c["kernel"], c["kernel"]])
        b = take([c["out"]])
        x = F.pad(x, [c["left"], c["right"], c["top"], c["bottom"]])
        y = F.conv2d(x, w, b, stride=c["stride"], dilation=c["dilation"], groups=c["groups"])
        outputs.append(y.numpy().ravel())
assert at == blob.size, f"read {at} of {blob.size} values"
np.concatenate(outputs).astype(np.float64).tofile(sys.argv[3])
