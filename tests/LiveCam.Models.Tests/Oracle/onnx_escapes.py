"""Writes OUT.onnx: a ReLU named, and an operator typed, with terminal escape sequences and a newline that fakes a
second livecam line, built with onnx.helper.

usage: onnx_escapes.py OUT.onnx"""
import sys

from onnx import TensorProto, helper, save

evil = "Relu\x1b[2J\x1b[31m\nlivecam: all checks passed"
nodes = [helper.make_node("Relu", ["image"], [evil], name=evil), helper.make_node(evil, [evil], ["out"], name="x")]
graph = helper.make_graph(nodes, "escapes", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
