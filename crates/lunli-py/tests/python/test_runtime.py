"""How the audits run inside Python: the GIL released, DataFrames read without copies."""

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pyarrow as pa
import pytest

import lunli
from lunli import _native


def test_another_thread_runs_during_an_audit():
    rows = 2_000_000
    rng = np.random.default_rng(1)
    table = pa.table(
        {
            "y": rng.integers(0, 2, rows),
            "p": rng.integers(0, 2, rows),
            "g": pa.array(rng.integers(0, 4, rows)).cast(pa.string()),
        }
    )
    count = 0
    stop = threading.Event()

    def counter():
        nonlocal count
        while not stop.is_set():
            count += 1

    # Python hands the GIL to a waiting thread only every switch interval; at 10 s, the counter
    # can only run during the audit if the audit lets go of the GIL itself.
    old = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    thread = threading.Thread(target=counter)
    try:
        thread.start()
        while count == 0:
            pass  # the counter has started (it had the GIL once)
        before = count
        report = _native.audit_fairness(arrow=table, name="table", label="y", prediction="p", sensitive=["g"])
        during = count - before
    finally:
        stop.set()
        sys.setswitchinterval(old)
        thread.join()
    assert report.kind == "fairness"
    assert during > 1000, f"the counting thread advanced {during} times while the audit ran"


MEASURE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    import lunli

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(key)

    def reset_peak():
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    rows = int(sys.argv[2])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "y": rng.integers(0, 2, rows),
        "p": rng.integers(0, 2, rows),
        "g": pd.Categorical.from_codes(rng.integers(0, 4, rows).astype(np.int8), ["a", "b", "c", "d"]),
    })
    data = int(frame.memory_usage(index=False, deep=True).sum())
    # Engine code and threads come to life on a small audit first.
    lunli.audit_fairness(frame.head(1000), label="y", prediction="p", sensitive=["g"])
    start = status("VmRSS")
    reset_peak()
    if sys.argv[1] == "audit":
        result = lunli.audit_fairness(frame, label="y", prediction="p", sensitive=["g"])
        assert result.rows == rows
    else:
        copy = frame.copy(deep=True)
    print(data, status("VmHWM") - start)
    """
)


def peak_growth(what: str, rows: int):
    out = subprocess.run([sys.executable, "-c", MEASURE, what, str(rows)], check=True, capture_output=True, text=True)
    data, growth = map(int, out.stdout.split())
    return data, growth


def test_a_dataframe_in_memory_is_audited_without_copying_it():
    rows = 10_000_000
    data, audit = peak_growth("audit", rows)
    _, copy = peak_growth("copy", rows)
    assert data >= rows * 17
    # The control copies the columns: its peak grows by about the data's size.
    assert copy > 0.9 * data, f"control: a copy grew the peak by {copy} bytes for {data} bytes of data"
    # The audit reads the columns where they are: its peak grows by a small fraction of them.
    assert audit < 0.2 * data, f"the audit grew the peak by {audit} bytes for {data} bytes of data"


def test_a_stream_is_read_once():
    table = pa.table({"y": [0, 1, 1, 0], "p": [0, 1, 0, 0], "g": ["a", "a", "b", "b"]})
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    result = lunli.audit_fairness(reader, label="y", prediction="p", sensitive=["g"])
    assert result.rows == 4
    assert result.to_dict()["inputs"][0]["path"] == "pyarrow.RecordBatchReader"
