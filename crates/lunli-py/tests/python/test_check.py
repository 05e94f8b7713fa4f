"""lunli.check over the example system's lunli.yaml, and a broken one."""

import shutil
from pathlib import Path

import pytest

import lunli

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "credit-scoring"


def test_the_example_system_is_checked(tmp_path):
    result = lunli.check(EXAMPLE / "lunli.yaml")
    report = result.to_dict()
    assert result.tier == report["tiering"]["tier"]
    assert result.may_ship == (report["may_ship"])
    assert report["required"] == report["satisfied"] + len(report["unmet"])
    assert list(result.to_pandas().columns) == ["control", "title_zh", "title_en", "reason"]
    assert len(result.to_pandas()) == len(result.unmet)


def test_a_missing_evidence_file_leaves_its_control_unmet(tmp_path):
    copy = tmp_path / "system"
    shutil.copytree(EXAMPLE, copy)
    before = lunli.check(copy / "lunli.yaml")
    text = (copy / "lunli.yaml").read_text()
    files = [line.split("file:", 1)[1].strip() for line in text.splitlines() if "file:" in line]
    assert files, "the example names evidence files"
    (copy / files[0]).unlink()
    after = lunli.check(copy / "lunli.yaml")
    assert not after.may_ship
    assert len(after.unmet) > len(before.unmet) or not before.may_ship
    assert any("cannot open evidence file" in u["reason"] or files[0] in u["reason"] for u in after.unmet)


def test_a_broken_manifest_names_file_and_line(tmp_path):
    path = tmp_path / "lunli.yaml"
    path.write_text("system:\n  id: [unclosed\n")
    with pytest.raises(lunli.InputError, match=rf"^{path}:\d+: "):
        lunli.check(path)
