"""Shared fixtures: the reference data sets beside the repository (shared/data)."""

import json
import os
from pathlib import Path

import pytest


def shared_data() -> Path:
    root = os.environ.get("LUNLI_SHARED_DATA")
    assert root, "LUNLI_SHARED_DATA must name shared/data (tests/pytest.rs sets it)"
    path = Path(root)
    assert path.is_dir(), f"{path} is missing: the reference data sets live in shared/ beside the repository"
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return shared_data()


def reference(name: str) -> dict:
    return json.loads((shared_data() / name / "fairlearn_reference.json").read_text())
