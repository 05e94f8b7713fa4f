"""Recording runs as evidence from Python (``store=``, ``system=``), as ``lunli audit … --system``
does: the same controls, the summary pinned to what was read, one transaction with the ledger."""

import hashlib

import pandas as pd
import pyarrow as pa
import pytest

import lunli
from conftest import cli, evidence

ADULT = dict(label="y_true", prediction="y_pred", score="score", sensitive=["sex", "race"])


def test_a_dataframe_run_is_recorded_pinned_by_its_content(store, data_dir):
    frame = pd.read_csv(data_dir / "adult" / "adult_predictions.csv")
    result = lunli.audit_fairness(frame, **ADULT, store=store, system="credit-scoring", actor="li-wei")
    assert [r["control"] for r in result.recorded] == ["C-13-03"]
    [item] = evidence(store, "C-13-03")
    assert item["added_by"] == "li-wei"
    assert item["note"] == "lunli.audit_fairness(pandas.DataFrame)"
    summary = item["item"]["summary"]
    [data] = summary["inputs"]
    assert data["format"] == "arrow" and data["path"] == "pandas.DataFrame"
    # The digest a person can recompute to match the evidence to the data it read.
    assert data["sha256"] == lunli.sha256(frame)
    assert data["sha256"] != lunli.sha256(frame.iloc[:-1]), "other data, another digest"
    assert summary["rows"] == result.rows == 16281
    # The evidence id is what the assessment shows.
    assert result.recorded[0]["evidence"] == item["id"]
    # The ledger still verifies (exit 7 otherwise), with the run in it.
    cli(store, "admin", "ledger", "verify")


def test_a_stream_is_pinned_as_it_is_read(store, data_dir):
    table = pa.Table.from_pandas(pd.read_csv(data_dir / "adult" / "adult_predictions.csv"), preserve_index=False)
    batches = table.to_batches(max_chunksize=1000)
    reader = pa.RecordBatchReader.from_batches(table.schema, batches)
    result = lunli.audit_fairness(reader, **ADULT, store=store, system="credit-scoring", actor="li-wei")
    [item] = evidence(store, "C-13-03")
    [data] = item["item"]["summary"]["inputs"]
    same = pa.RecordBatchReader.from_batches(table.schema, batches)
    assert data["sha256"] == lunli.sha256(same)
    assert result.rows == 16281


def test_a_file_run_pins_the_files_bytes_and_quality_and_pii_record_too(store, data_dir, tmp_path):
    path = data_dir / "adult" / "adult_predictions.csv"
    lunli.audit_fairness(str(path), **ADULT, store=store, system="credit-scoring", actor="li-wei")
    [item] = evidence(store, "C-13-03")
    [data] = item["item"]["summary"]["inputs"]
    assert data["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    quality = lunli.audit_quality(str(data_dir / "adult" / "adult.test.csv"), store=store, system="credit-scoring")
    assert quality.recorded and quality.recorded[0]["control"].startswith("C-11-")

    contacts = pd.DataFrame({"phone": ["13812345678", "13987654321"], "note": ["ok", "call back"]})
    pii = lunli.audit_pii(contacts, store=store, system="credit-scoring", actor="li-wei")
    assert pii.recorded, "the personal-information audit is evidence too"
    entities = {e["entity"] for c in pii.to_dict()["columns"] for e in c["entities"]}
    assert "cn_mobile" in entities or any("mobile" in e for e in entities), entities


def test_pii_of_a_dataframe_is_the_pii_of_its_file(tmp_path):
    frame = pd.DataFrame({"phone": ["13812345678", "n/a", "13987654321"], "city": ["北京", "上海", "深圳"]})
    path = tmp_path / "contacts.csv"
    frame.to_csv(path, index=False)
    from_frame = lunli.audit_pii(frame).to_dict()
    from_file = lunli.audit_pii(str(path)).to_dict()
    assert from_frame["columns"] == from_file["columns"]
    assert from_frame["summary"] == from_file["summary"]
    assert from_frame["inputs"][0]["format"] == "arrow"


def test_recording_arguments_are_checked_before_any_work(store, data_dir):
    frame = pd.read_csv(data_dir / "adult" / "adult_predictions.csv")
    with pytest.raises(lunli.InputError, match="store"):
        lunli.audit_fairness(frame, **ADULT, system="credit-scoring")
    with pytest.raises(lunli.InputError, match="system"):
        lunli.audit_fairness(frame, **ADULT, store=store)
    with pytest.raises(lunli.InputError, match="no-such-system"):
        lunli.audit_fairness(frame, **ADULT, store=store, system="no-such-system", actor="li-wei")
    with pytest.raises(lunli.InputError, match="key_dir"):
        lunli.audit_fairness(frame, **ADULT, store="postgres://127.0.0.1/test", system="credit-scoring")
    # Nothing was recorded by the refused calls.
    assert evidence(store, "C-13-03") == []
