"""Shared fixtures: the reference data sets beside the repository (shared/data), and a lunli
store set up through the command line for the recording tests."""

import json
import os
import subprocess
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


def cli(store: Path, actor: str, *args: str) -> str:
    """Runs the lunli command line on `store` as `actor`, failing the test when it fails."""
    binary = os.environ.get("LUNLI_BIN")
    assert binary and Path(binary).exists(), "LUNLI_BIN must name the lunli binary (tests/pytest.rs builds it)"
    env = dict(os.environ, LUNLI_DATA_DIR=str(store), LUNLI_ACTOR=actor, LUNLI_LANG="en", LUNLI_FORMAT="json")
    env.pop("LUNLI_DATABASE_URL", None)
    done = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"lunli {' '.join(args)} failed: {done.stderr}"
    return done.stdout


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with the credit-scoring example registered, taken through intake and assessed."""
    examples = Path(os.environ["LUNLI_EXAMPLES"]) / "credit-scoring"
    for person, role in [("wang-fang", "owner"), ("li-wei", "data")]:
        cli(tmp_path, "admin", "person", "add", person, "--name", person, "--role", role)
    cli(tmp_path, "admin", "vendor", "add", "pboc-credit-bureau", "--name", "Credit bureau", "--kind", "data")
    cli(tmp_path, "wang-fang", "system", "add", "--file", str(examples / "system.yaml"))
    cli(tmp_path, "wang-fang", "intake", "credit-scoring", "--answers", str(examples / "intake.yaml"))
    cli(tmp_path, "wang-fang", "assess", "credit-scoring")
    return tmp_path


def evidence(store: Path, control: str) -> list:
    assessment = json.loads(cli(store, "admin", "assess", "credit-scoring"))
    state = next(c for c in assessment["controls"] if c["control"] == control)
    return state["evidence"]
