"""Train the credit example's model on UCI Adult and export it to ONNX for `lunli audit model`.

Run from the repository root (see SOURCE.md for versions):

    python examples/credit-scoring/model/train.py ../shared/data/adult

Writes, beside this script:
  model.onnx      scikit-learn Pipeline(ColumnTransformer(StandardScaler, OneHotEncoder), LogisticRegression)
                  exported by skl2onnx, then with the two ai.onnx.ml operators tract lacks (Scaler and
                  OneHotEncoder) rewritten into standard ones with the same values (CategoryMapper + Equal + Cast,
                  Sub + Mul); onnxruntime's probabilities are checked against scikit-learn's below
  test.csv        a 2,000-row sample of adult.test (seed 0), the label as income = 1 (>50K) or 0
  reference.json  onnxruntime's probabilities and labels on test.csv, scikit-learn's predict_proba,
                  and sklearn.inspection.permutation_importance (accuracy, n_repeats=5, random_state=0)
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd
import sklearn
import skl2onnx
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SEED = 0
SAMPLE = 2000
REPEATS = 5
NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = ["workclass", "education", "marital_status", "occupation", "relationship", "race", "sex", "native_country"]
FEATURES = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
            "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country"]


def read(path):
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str)
    # ONNX input names are the columns' names with "-" as "_" (skl2onnx's rule); the data follows them.
    frame.columns = [c.strip().replace("-", "_") for c in frame.columns]
    frame["income"] = frame.pop("Y").str.rstrip(".").eq(">50K").astype(int)
    for column in NUMERIC:
        frame[column] = frame[column].astype(np.float32)
    return frame


def rewrite(model):
    """Replace Scaler and OneHotEncoder (ai.onnx.ml, not in tract) by standard operators with the same values."""
    graph = model.graph
    nodes = []
    consts = []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Scaler":
            offset = np.array(attrs["offset"], dtype=np.float32)
            scale = np.array(attrs["scale"], dtype=np.float32)
            o, s = node.name + "_offset", node.name + "_scale"
            consts += [numpy_helper.from_array(offset, o), numpy_helper.from_array(scale, s)]
            mid = node.output[0] + "_centred"
            nodes.append(helper.make_node("Sub", [node.input[0], o], [mid], name=node.name + "_sub"))
            nodes.append(helper.make_node("Mul", [mid, s], [node.output[0]], name=node.name + "_mul"))
        elif node.op_type == "OneHotEncoder":
            cats = [c.decode() if isinstance(c, bytes) else c for c in attrs["cats_strings"]]
            k = len(cats)
            idx = node.output[0] + "_index"
            nodes.append(helper.make_node(
                "CategoryMapper", [node.input[0]], [idx], name=node.name + "_map", domain="ai.onnx.ml",
                cats_strings=cats, cats_int64s=list(range(k)), default_int64=-1))
            rng = node.name + "_range"
            consts.append(numpy_helper.from_array(np.arange(k, dtype=np.int64), rng))
            eq = node.output[0] + "_eq"
            # [N, 1] == [k] -> [N, k]; an unknown category (-1) matches nothing: handle_unknown="ignore".
            nodes.append(helper.make_node("Equal", [idx, rng], [eq], name=node.name + "_eq"))
            flat = node.output[0] + "_flat"
            nodes.append(helper.make_node("Cast", [eq], [flat], name=node.name + "_cast", to=TensorProto.FLOAT))
            # skl2onnx's OneHotEncoder gives [N, 1, k]; keep that shape for the Reshape after it.
            nodes.append(helper.make_node("Unsqueeze", [flat], [node.output[0]], name=node.name + "_unsq", axes=[1]))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(consts)
    return model


def main():
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/adult")
    out = Path(__file__).resolve().parent
    train = read(data / "adult.data.csv")
    test = read(data / "adult.test.csv")
    pipe = Pipeline([
        ("prep", ColumnTransformer([
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
        ])),
        ("clf", LogisticRegression(max_iter=2000, random_state=SEED)),
    ])
    pipe.fit(train[FEATURES], train["income"])

    types = [(c, FloatTensorType([None, 1]) if c in NUMERIC else StringTensorType([None, 1])) for c in FEATURES]
    onx = convert_sklearn(pipe, initial_types=types, target_opset=17,
                          options={id(pipe.steps[-1][1]): {"zipmap": False}})
    onx = rewrite(onx)
    onx.doc_string = "lunli credit example: logistic regression on UCI Adult (examples/credit-scoring/model/SOURCE.md)"
    onnx.checker.check_model(onx)
    (out / "model.onnx").write_bytes(onx.SerializeToString())
    ops = sorted({(n.domain or "ai.onnx", n.op_type) for n in onx.graph.node})
    print("operators:", ops)

    sample = test.sample(n=SAMPLE, random_state=SEED).reset_index(drop=True)
    csv = sample[FEATURES + ["income"]].copy()
    for column in NUMERIC:
        csv[column] = csv[column].astype(np.int64)
    csv.to_csv(out / "test.csv", index=False)

    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {c: (sample[[c]].to_numpy(np.float32) if c in NUMERIC else sample[[c]].to_numpy(str).astype(object))
             for c in FEATURES}
    label, proba = session.run(None, feeds)
    sk_proba = pipe.predict_proba(sample[FEATURES])
    gap = float(np.abs(sk_proba - proba).max())
    print("onnxruntime vs scikit-learn, largest probability gap:", gap)
    assert gap < 1e-5, gap
    assert (label == pipe.predict(sample[FEATURES])).mean() > 0.999

    pi = permutation_importance(pipe, sample[FEATURES], sample["income"], scoring="accuracy",
                                n_repeats=REPEATS, random_state=SEED)
    reference = {
        "model": "model.onnx",
        "data": "test.csv",
        "label": "income",
        "versions": {"scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__,
                     "onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__},
        "onnxruntime": {"label": label.astype(int).tolist(), "probability": proba[:, 1].astype(float).tolist()},
        "sklearn_predict_proba": sk_proba[:, 1].astype(float).tolist(),
        "accuracy": float((label == sample["income"].to_numpy()).mean()),
        "permutation_importance": {
            "scoring": "accuracy", "n_repeats": REPEATS, "random_state": SEED,
            "features": {c: {"mean": float(pi.importances_mean[i]), "std": float(pi.importances_std[i]),
                             "repeats": pi.importances[i].astype(float).tolist()}
                         for i, c in enumerate(FEATURES)},
        },
    }
    (out / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")

    # The same model without sex and race ("fairness through unawareness"): its ONNX still takes
    # every column as an input but never reads sex or race, so lunli's tests can check that
    # changing an input the model ignores changes nothing.
    unaware_cat = [c for c in CATEGORICAL if c not in ("sex", "race")]
    unaware = Pipeline([
        ("prep", ColumnTransformer([
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), unaware_cat),
        ])),
        ("clf", LogisticRegression(max_iter=2000, random_state=SEED)),
    ])
    unaware.fit(train[FEATURES], train["income"])
    onx = convert_sklearn(unaware, initial_types=types, target_opset=17,
                          options={id(unaware.steps[-1][1]): {"zipmap": False}})
    onx = rewrite(onx)
    onnx.checker.check_model(onx)
    (out / "model-unaware.onnx").write_bytes(onx.SerializeToString())
    print("accuracy on the sample:", reference["accuracy"])


if __name__ == "__main__":
    main()
