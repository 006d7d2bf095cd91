"""Writes OUT.onnx: one ReLU whose declared input is 1x3x200000x200000 (a 480 GB image), built with onnx.helper.

usage: onnx_huge_input.py OUT.onnx"""
import sys

from onnx import TensorProto, helper, save

graph = helper.make_graph([helper.make_node("Relu", ["image"], ["out"], name="relu")], "huge",
                          [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 200000, 200000])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 200000, 200000])])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
