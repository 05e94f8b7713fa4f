"""The fairness audit through the Python API against Fairlearn's numbers, for every kind of input."""

import json

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import lunli
from conftest import reference

TOLERANCE = 1e-9


def numbers_in(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return 1
    if isinstance(value, dict):
        return sum(numbers_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(numbers_in(v) for v in value)
    return 0


def compare(result: lunli.FairnessResult, ref: dict) -> int:
    """Every per-group metric, the overall metrics, the disparities and AUCs; returns how many."""
    checked = 0
    assert result.rows == ref["rows"]
    for name, value in ref["overall"].items():
        assert result.overall[name] == pytest.approx(value, abs=TOLERANCE), f"overall {name}"
        checked += 1
    for key, attribute in [("by_sex", "sex"), ("by_race", "race"), ("by_sex_race", "sex|race")]:
        groups = result.by_group(attribute)
        assert len(groups) == len(ref[key]), f"{attribute}: number of groups"
        for group, values in ref[key].items():
            mine = groups[tuple(group.split("|"))] if "|" in attribute else groups[group]
            for name, value in values.items():
                assert mine[name] == pytest.approx(value, abs=TOLERANCE), f"{attribute}={group} {name}"
                checked += 1
    for column in ["sex", "race"]:
        disparities = result.disparities(column)
        for name in [
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
            "equalized_odds_ratio",
        ]:
            theirs = ref[f"{name}_{column}"]
            assert disparities[name] == pytest.approx(theirs, abs=TOLERANCE), f"{name} by {column}"
            checked += 1
    for key, attribute in [("auc_by_sex", "sex"), ("auc_by_race", "race")]:
        if key not in ref:
            continue
        report = result.to_dict()
        aucs = {g["group"]: g.get("auc") for a in report["attributes"] if a["attribute"] == attribute for g in a["groups"]}
        for group, value in ref[key].items():
            assert aucs[group] == pytest.approx(value, abs=TOLERANCE), f"AUC {attribute}={group}"
            checked += 1
    return checked


def adult_inputs(path):
    """The adult predictions as every kind of input the API takes."""
    frame = pd.read_csv(path)
    table = pacsv.read_csv(path)
    return {
        "path": str(path),
        "pandas": frame,
        "pandas-object-strings": frame.astype({"sex": object, "race": object}),
        "pandas-categorical": frame.astype({"sex": "category", "race": "category"}),
        "pyarrow.Table": table,
        "pyarrow.RecordBatchReader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1000)),
        "polars": pl.read_csv(path),
        "polars.LazyFrame": pl.scan_csv(path),
    }


@pytest.mark.parametrize(
    "kind",
    ["path", "pandas", "pandas-object-strings", "pandas-categorical", "pyarrow.Table",
     "pyarrow.RecordBatchReader", "polars", "polars.LazyFrame"],
)
def test_adult_matches_fairlearn_to_1e_9(data_dir, kind):
    ref = reference("adult")
    data = adult_inputs(data_dir / "adult" / "adult_predictions.csv")[kind]
    result = lunli.audit_fairness(data, label="y_true", prediction="y_pred", score="score", sensitive=["sex", "race"])
    checked = compare(result, ref)
    assert checked == numbers_in(ref) - 1, "every reference value but `rows` is compared"


@pytest.mark.parametrize("kind", ["path", "pandas", "polars"])
def test_compas_matches_fairlearn_to_1e_9(data_dir, kind):
    ref = reference("compas")
    path = data_dir / "compas" / "compas_predictions.csv"
    data = {"path": str(path), "pandas": pd.read_csv(path), "polars": pl.read_csv(path)}[kind]
    result = lunli.audit_fairness(data, label="y_true", prediction="y_pred", sensitive=["sex", "race"])
    checked = compare(result, ref)
    assert checked == numbers_in(ref) - 1


def test_a_dataframe_gives_the_report_a_file_gives(data_dir):
    path = data_dir / "adult" / "adult_predictions.csv"
    args = dict(label="y_true", prediction="y_pred", score="score", sensitive=["sex", "race"], bootstrap=50, seed=7)
    from_file = lunli.audit_fairness(str(path), **args).to_dict()
    from_frame = lunli.audit_fairness(pd.read_csv(path), **args).to_dict()
    assert from_file["inputs"][0]["format"] == "csv"
    assert from_frame["inputs"] == [
        {"path": "pandas.DataFrame", "format": "arrow", "bytes": from_frame["inputs"][0]["bytes"]}
    ]
    for report in (from_file, from_frame):
        del report["inputs"]
    assert from_file == from_frame


def test_to_pandas_is_shaped_like_metricframe_by_group(data_dir):
    frame = pd.read_csv(data_dir / "adult" / "adult_predictions.csv")
    result = lunli.audit_fairness(frame, label="y_true", prediction="y_pred", sensitive=["sex", "race"])
    by_sex = result.to_pandas("sex")
    assert by_sex.index.name == "sex"
    assert list(by_sex.index) == ["Female", "Male"]
    assert list(by_sex.columns) == list(lunli.METRICS)
    assert by_sex.loc["Female", "count"] == (frame["sex"] == "Female").sum()
    female = frame[frame["sex"] == "Female"]
    assert by_sex.loc["Female", "selection_rate"] == pytest.approx((female["y_pred"] == 1).mean(), abs=1e-12)
    # With several sensitive columns, as MetricFrame: their intersection on a MultiIndex.
    both = result.to_pandas()
    assert both.index.names == ["sex", "race"]
    assert both.shape == (10, len(lunli.METRICS))
    assert both.loc[("Male", "White"), "count"] == ((frame["sex"] == "Male") & (frame["race"] == "White")).sum()
    assert both["count"].sum() == len(frame)


def test_html_json_and_dict_agree(data_dir):
    path = data_dir / "compas" / "compas_predictions.csv"
    result = lunli.audit_fairness(path, label="y_true", prediction="y_pred", sensitive="race")
    assert isinstance(result, lunli.FairnessResult)
    html = result._repr_html_()
    assert "<html" in html and "African-American" in html
    assert result.to_dict()["rows"] == result.rows == len(pd.read_csv(path))
    assert json.loads(result.to_json()) == result.to_dict()
    assert result.passed == result.to_dict()["passed"]
