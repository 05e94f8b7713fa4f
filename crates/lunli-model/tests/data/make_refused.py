"""Tiny ONNX models that lunli must refuse, each with a clear error naming the input or output.

    python crates/lunli-model/tests/data/make_refused.py   (needs the onnx package; see
    examples/credit-scoring/model/SOURCE.md for the version)
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = Path(__file__).resolve().parent


def save(name, inputs, nodes, outputs, inits=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    (here / name).write_bytes(model.SerializeToString())


w = numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "w")
# A whole feature matrix in one tensor: lunli feeds one column per input.
save("matrix-input.onnx", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
     [helper.make_node("MatMul", ["features", "w"], ["logits"]), helper.make_node("Softmax", ["logits"], ["probabilities"])],
     [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])], [w])
# A fixed batch size.
save("fixed-batch.onnx", [helper.make_tensor_value_info("age", TensorProto.FLOAT, [8, 1])],
     [helper.make_node("Sigmoid", ["age"], ["probability"])],
     [helper.make_tensor_value_info("probability", TensorProto.FLOAT, [8, 1])])
# An input of a type lunli does not feed (bool).
save("bool-input.onnx", [helper.make_tensor_value_info("flag", TensorProto.BOOL, ["N", 1])],
     [helper.make_node("Cast", ["flag"], ["probability"], to=TensorProto.FLOAT)],
     [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])])
# No probability output.
save("no-probability.onnx", [helper.make_tensor_value_info("age", TensorProto.FLOAT, ["N", 1])],
     [helper.make_node("Cast", ["age"], ["label"], to=TensorProto.INT64)],
     [helper.make_tensor_value_info("label", TensorProto.INT64, ["N", 1])])
