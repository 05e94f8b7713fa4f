"""Quality, personal information and redaction through the Python API."""

import pandas as pd
import pyarrow as pa
import pytest

import lunli


def test_quality_of_a_dataframe_is_the_quality_of_its_file(tmp_path):
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 4],
            "age": [31, None, 45, 27, 27],
            "city": ["Beijing", "Shanghai", None, "Shenzhen", "Shenzhen"],
        }
    )
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    from_frame = lunli.audit_quality(frame)
    from_file = lunli.audit_quality(str(path))
    assert from_frame.rows == from_file.rows == 5
    table = from_frame.to_pandas()
    assert list(table.index) == ["id", "age", "city"]
    assert table.loc["age", "nulls"] == 1
    assert table.loc["city", "nulls"] == 1
    assert from_frame.to_dict()["duplicates"]["rows"] == from_file.to_dict()["duplicates"]["rows"] == 1
    assert "<html" in from_frame._repr_html_()


def test_quality_reads_a_stream_by_gathering_its_batches():
    table = pa.table({"x": [1, 2, None, 4]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    result = lunli.audit_quality(reader)
    assert result.rows == 4
    assert result.to_pandas().loc["x", "nulls"] == 1


def test_pii_finds_identifiers_in_a_table_and_redaction_masks_them(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("name,phone\n张伟,13812345678\n李娜,13987654321\n")
    result = lunli.audit_pii(str(path))
    table = result.to_pandas()
    phones = table[(table["column"] == "phone") & (table["entity"] == "mobile")]
    assert len(phones) == 1 and phones.iloc[0]["count"] == 2
    assert not result.passed or result.findings == []
    out = tmp_path / "redacted.csv"
    report = lunli.redact(path, out, mode="mask")
    assert report["total"] >= 2
    text = out.read_text()
    assert "13812345678" not in text and "13987654321" not in text
    assert "138******78" in text


def test_redaction_refuses_to_overwrite_its_input(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("call 13812345678\n")
    with pytest.raises(lunli.InputError, match="would overwrite the input"):
        lunli.redact(path, path)


def test_pii_refuses_what_is_neither_data_nor_paths():
    with pytest.raises(TypeError, match="cannot read"):
        lunli.audit_pii(42)
