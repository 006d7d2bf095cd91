"""Writes OUT_DIR/NAME.onnx: a small convolution and max pool (built with onnx.helper) whose window attributes a hostile
or broken file could set to anything.

usage: onnx_hostile.py OUT_DIR NAME OP ATTRIBUTE VALUE...
OP: Conv or MaxPool; ATTRIBUTE: strides, dilations, pads, kernel_shape (a list) or group (one int).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, name, op, attribute = sys.argv[1:5]
values = [int(v) for v in sys.argv[5:]]
conv = dict(strides=[1, 1], pads=[1, 1, 1, 1], dilations=[1, 1], group=1)
pool = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
target = conv if op == "Conv" else pool
target[attribute] = values[0] if attribute == "group" else values
weights = numpy_helper.from_array(np.random.default_rng(3).standard_normal((8, 3, 3, 3)).astype(np.float32), "w")
nodes = [helper.make_node("Conv", ["image", "w"], ["c"], name="conv", **conv),
         helper.make_node("MaxPool", ["c"], ["p"], name="pool", **pool)]
graph = helper.make_graph(nodes, "hostile", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
                          [helper.make_tensor_value_info("p", TensorProto.FLOAT, None)], [weights])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{out}/{name}.onnx")
