"""Writes OUT_DIR/unsupported.onnx: a graph with operators LiveCam does not run (LSTM, Einsum), built with onnx.helper.

usage: onnx_unsupported.py OUT_DIR
"""
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
nodes = [
    helper.make_node("Relu", ["image"], ["a"]),
    helper.make_node("Einsum", ["a", "a"], ["b"], equation="nchw,nchw->nchw"),
    helper.make_node("LSTM", ["b"], ["c"], hidden_size=4),
]
graph = helper.make_graph(nodes, "unsupported", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("c", TensorProto.FLOAT, None)])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), f"{out}/unsupported.onnx")
