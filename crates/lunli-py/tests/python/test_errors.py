"""Bad input raises Python exceptions worded as the command line words them."""

import pandas as pd
import pytest

import lunli


def test_a_missing_column_names_the_data_and_the_columns(data_dir):
    path = data_dir / "adult" / "adult_predictions.csv"
    with pytest.raises(lunli.InputError) as caught:
        lunli.audit_fairness(str(path), label="y_true", prediction="nope", sensitive=["sex"])
    assert str(caught.value) == (
        f"{path}: column `nope`: no such column; the columns are: y_true, y_pred, score, sex, race"
    )
    with pytest.raises(lunli.InputError) as caught:
        lunli.audit_fairness(pd.read_csv(path), label="y_true", prediction="nope", sensitive=["sex"])
    assert str(caught.value) == (
        "pandas.DataFrame: column `nope`: no such column; the columns are: y_true, y_pred, score, sex, race"
    )


def test_a_request_that_cannot_run_is_blamed_on_the_call():
    frame = pd.DataFrame({"y": [0, 1], "p": [1, 0], "g": ["a", "b"]})
    with pytest.raises(lunli.InputError, match=r"^command line: column `y` is given for two roles$"):
        lunli.audit_fairness(frame, label="y", prediction="y", sensitive=["g"])
    with pytest.raises(lunli.InputError, match="at least one sensitive column"):
        lunli.audit_fairness(frame, label="y", prediction="p", sensitive=[])


def test_a_missing_label_is_located_at_its_row():
    frame = pd.DataFrame({"y": [0, 1, None, 1], "p": [1, 0, 0, 1], "g": ["a", "b", "a", "b"]})
    with pytest.raises(lunli.InputError) as caught:
        lunli.audit_fairness(frame, label="y", prediction="p", sensitive=["g"])
    assert str(caught.value) == "pandas.DataFrame: row 3, column `y`: missing value"


def test_a_label_with_three_values_is_refused():
    frame = pd.DataFrame({"y": [0, 1, 2], "p": [1, 0, 0], "g": ["a", "b", "a"]})
    with pytest.raises(lunli.InputError, match="`y`"):
        lunli.audit_fairness(frame, label="y", prediction="p", sensitive=["g"])


def test_a_bad_policy_file_is_named(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("fairness:\n  min_group_size: many\n")
    frame = pd.DataFrame({"y": [0, 1], "p": [1, 0], "g": ["a", "b"]})
    with pytest.raises(lunli.InputError) as caught:
        lunli.audit_fairness(frame, label="y", prediction="p", sensitive=["g"], policy=policy)
    assert str(caught.value).startswith(f"{policy}")


def test_unknown_data_is_a_type_error():
    with pytest.raises(TypeError, match="lunli cannot read a builtins.dict"):
        lunli.audit_fairness({"y": [1]}, label="y", prediction="p", sensitive=["g"])


def test_exceptions_are_one_family():
    assert issubclass(lunli.InputError, lunli.LunliError)
    assert issubclass(lunli.LunliError, Exception)
