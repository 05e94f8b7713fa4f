"""The model audit through the Python API: the credit example's ONNX model (scikit-learn logistic
regression on Adult, exported by skl2onnx) on DataFrames and files, checked against
onnxruntime's decisions kept in the example's reference.json."""

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

import lunli

from conftest import evidence

ROWS = 400
QUICK = dict(label="income", sensitive=["sex", "race"], max_rows=ROWS, repeats=2, samples=8, noise=[0.25])


def example() -> Path:
    return Path(os.environ["LUNLI_EXAMPLES"]) / "credit-scoring" / "model"


def test_accuracy_by_group_is_onnxruntimes():
    folder = example()
    frame = pd.read_csv(folder / "test.csv")
    reference = json.loads((folder / "reference.json").read_text())
    result = lunli.audit_model(folder / "model.onnx", frame, **QUICK)
    assert isinstance(result, lunli.ModelResult) and result.kind == "model"
    assert result.rows == ROWS
    # onnxruntime's decisions on the same rows give the same accuracy, overall and by group.
    head = frame.head(ROWS).assign(decision=reference["onnxruntime"]["label"][:ROWS])
    correct = head["decision"] == head["income"]
    assert result.overall["accuracy"] == pytest.approx(correct.mean(), abs=1e-12)
    by_sex = result.to_pandas("sex")
    for group, rows in head.groupby("sex"):
        assert by_sex.loc[group, "count"] == len(rows)
        assert by_sex.loc[group, "accuracy"] == pytest.approx(correct[rows.index].mean(), abs=1e-12)


def test_a_dataframe_and_its_file_give_the_same_audit(tmp_path):
    folder = example()
    frame = pd.read_csv(folder / "test.csv").head(ROWS)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    from_frame = lunli.audit_model(folder / "model.onnx", frame, **QUICK, explain_rows=[0, 3])
    from_file = lunli.audit_model(folder / "model.onnx", str(path), **QUICK, explain_rows=[0, 3])
    assert from_frame.overall == from_file.overall
    pd.testing.assert_frame_equal(from_frame.robustness(), from_file.robustness())
    pd.testing.assert_frame_equal(from_frame.importance(), from_file.importance())
    pd.testing.assert_frame_equal(from_frame.counterfactual(), from_file.counterfactual())
    attributions = from_frame.to_dict()["attributions"]
    assert [r["row"] for r in attributions["rows"]] == [0, 3]

    robustness = from_frame.robustness()
    assert list(robustness.index) == ["noise_0.25", "category_swap", "missing_values", "out_of_range"]
    assert ((robustness["flip_rate"] >= 0) & (robustness["flip_rate"] <= 1)).all()
    importance = from_frame.importance()
    assert list(importance["mean"]) == sorted(importance["mean"], reverse=True)
    assert (importance["low"] <= importance["mean"]).all() and (importance["mean"] <= importance["high"]).all()
    flips = from_frame.counterfactual()
    sex = flips[flips["attribute"] == "sex"]
    assert set(sex["group"]) == {"Male", "Female"} and sex["rows"].sum() == ROWS
    assert (sex["flip_rate"] == sex["changed"] / sex["rows"]).all()
    assert "<html" in from_frame._repr_html_()


def test_a_recorded_model_audit_pins_the_model_and_the_data(store):
    folder = example()
    frame = pd.read_csv(folder / "test.csv").head(ROWS)
    result = lunli.audit_model(
        folder / "model.onnx", frame, **QUICK, store=store, system="credit-scoring", actor="li-wei"
    )
    recorded = [r["control"] for r in result.recorded]
    assert "C-12-03" in recorded and "C-13-03" in recorded
    [item] = evidence(store, "C-12-03")
    assert item["note"] == "lunli.audit_model(pandas.DataFrame)"
    inputs = {i["format"]: i for i in item["item"]["summary"]["inputs"]}
    assert inputs["onnx"]["sha256"] == hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    assert inputs["arrow"]["sha256"] == lunli.sha256(frame)


def test_bad_requests_name_what_is_wrong(tmp_path):
    folder = example()
    frame = pd.read_csv(folder / "test.csv").head(50)
    with pytest.raises(lunli.InputError, match="no input `postcode`"):
        lunli.audit_model(folder / "model.onnx", frame, label="income", sensitive=["sex"], proxies=["postcode"])
    with pytest.raises(lunli.InputError, match="occupation"):
        lunli.audit_model(folder / "model.onnx", frame.drop(columns=["occupation"]), label="income", sensitive=["sex"])
    with pytest.raises(lunli.InputError, match="nothing.onnx"):
        lunli.audit_model(tmp_path / "nothing.onnx", frame, label="income", sensitive=["sex"])
