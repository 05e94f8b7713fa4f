"""lunli (伦理) for Python: fairness, data-quality, personal-information and model audits over
pandas, Polars and PyArrow data, by the same engine as the ``lunli`` command line.

DataFrames and Arrow tables cross into the engine through the Arrow C data interface
(``__arrow_c_stream__``) without their column buffers being copied; a path or glob pattern is
read by lunli's own file reader (CSV in UTF-8 or GBK/GB18030, optionally gzip; Parquet; JSON
Lines). The audits release the GIL while they run.

>>> import lunli
>>> result = lunli.audit_fairness(df, label="y_true", prediction="y_pred", sensitive=["sex"])
>>> result.to_pandas()          # shaped like Fairlearn's MetricFrame.by_group
"""

from __future__ import annotations

import getpass
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _native
from ._native import InputError, LunliError

__all__ = [
    "InputError",
    "LunliError",
    "AuditResult",
    "FairnessResult",
    "QualityResult",
    "PiiResult",
    "ModelResult",
    "audit_fairness",
    "audit_quality",
    "audit_pii",
    "audit_model",
    "redact",
    "check",
    "CheckResult",
    "sha256",
]

PathLike = Union[str, "os.PathLike[str]"]

# The per-group metrics of the fairness report, in Fairlearn's names, in report order: the
# engine's own list (lunli_norms::terms::GROUP_RATES), so the two cannot drift apart.
METRICS = ("count",) + tuple(_native.GROUP_RATES)


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _source(data: Any, *, stream_allowed: bool = True) -> Dict[str, Any]:
    """The native call's arguments for `data`: paths, or an Arrow stream object and its name."""
    if _is_path(data):
        return {"paths": [os.fspath(data)]}
    if isinstance(data, (list, tuple)) and data and all(_is_path(d) for d in data):
        return {"paths": [os.fspath(d) for d in data]}
    kind = type(data)
    module = kind.__module__.split(".")[0]
    name = f"{module}.{kind.__name__}"
    if module == "pandas" and kind.__name__ == "DataFrame":
        import pyarrow as pa

        # Numeric, boolean, categorical and Arrow-backed columns are wrapped, not copied;
        # columns of Python objects (plain `object` strings) are converted, as any Arrow reader must.
        table = pa.Table.from_pandas(data, preserve_index=False)
        return {"arrow": table, "name": name, "stream": False}
    if module == "polars" and kind.__name__ == "LazyFrame":
        data = data.collect()
        name = "polars.DataFrame"
    if hasattr(data, "__arrow_c_stream__"):
        # A reader is a stream (read once, batch by batch); tables and data frames are in memory.
        stream = "Reader" in kind.__name__ and stream_allowed
        return {"arrow": data, "name": name, "stream": stream}
    raise TypeError(
        f"lunli cannot read a {name}: give a pandas or Polars DataFrame, a PyArrow Table or "
        "RecordBatchReader (anything with __arrow_c_stream__), or a path or glob pattern"
    )


def _recording(
    store: Optional[PathLike], system: Optional[str], actor: Optional[str], key_dir: Optional[PathLike]
) -> Dict[str, Any]:
    """The native call's recording arguments: where (``store``: a lunli data directory or a
    PostgreSQL URL), on which system, as whom (default: the OS user, as the command line)."""
    if store is None and system is None:
        return {}
    if actor is None:
        actor = getpass.getuser().strip().lower()
    return {
        "store": None if store is None else os.fspath(store),
        "system": system,
        "actor": actor,
        "key_dir": None if key_dir is None else os.fspath(key_dir),
    }


class AuditResult:
    """One audit's report: ``to_dict()``, ``to_json()``, ``to_pandas()`` and an HTML view in
    Jupyter. ``passed`` is true when no finding is of medium severity or worse."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._data = json.loads(native.json)
        #: The evidence the run became when it was recorded (``store=``, ``system=``): one
        #: ``{"control": …, "evidence": …}`` per control, as ``lunli audit … --system`` prints.
        self.recorded = [{"control": c, "evidence": e} for c, e in native.recorded]

    @property
    def kind(self) -> str:
        return self._native.kind

    @property
    def passed(self) -> bool:
        return bool(self._native.passed)

    @property
    def findings(self) -> List[Dict[str, Any]]:
        return self._data.get("findings", [])

    def to_dict(self) -> Dict[str, Any]:
        """The report as plain Python data (the JSON of ``lunli audit … --format json``)."""
        return json.loads(self._native.json)

    def to_json(self, indent: Optional[int] = None) -> str:
        """The report as JSON text."""
        if indent is None:
            return self._native.json
        return json.dumps(self._data, indent=indent, ensure_ascii=False)

    def to_html(self) -> str:
        """The report as a self-contained HTML page (Chinese and English)."""
        return self._native.html

    def _repr_html_(self) -> str:
        return self._native.html

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"<lunli {self.kind} audit: {verdict}, {len(self.findings)} finding(s)>"


class FairnessResult(AuditResult):
    """The fairness audit: per-group metrics of each sensitive attribute and their
    intersection, the disparities between groups and the findings against the policy."""

    @property
    def rows(self) -> int:
        return int(self._data["rows"])

    @property
    def overall(self) -> Dict[str, float]:
        """The metrics over all rows (Fairlearn's ``MetricFrame.overall``)."""
        return {m: self._data["overall"][m] for m in METRICS}

    @property
    def attributes(self) -> List[str]:
        """`sex`, `race`, and `sex|race` for their intersection."""
        return [a["attribute"] for a in self._data["attributes"]]

    def _attribute(self, attribute: Optional[str]) -> Dict[str, Any]:
        attributes = self._data["attributes"]
        if attribute is None:
            # Fairlearn's MetricFrame over all the sensitive features is their intersection.
            return max(attributes, key=lambda a: len(a["columns"]))
        for a in attributes:
            if a["attribute"] == attribute:
                return a
        raise KeyError(f"no attribute {attribute!r}; the report has {', '.join(self.attributes)}")

    def disparities(self, attribute: Optional[str] = None) -> Dict[str, Optional[float]]:
        """Differences and ratios between the groups of one attribute."""
        return dict(self._attribute(attribute)["disparities"])

    def by_group(self, attribute: Optional[str] = None) -> Dict[Any, Dict[str, float]]:
        """Metrics per group as a dict: group (a tuple for an intersection) → metric → value."""
        a = self._attribute(attribute)
        return {_group_key(g["group"], a["columns"]): {m: g[m] for m in METRICS} for g in a["groups"]}

    def to_pandas(self, attribute: Optional[str] = None):
        """Metrics per group as a pandas DataFrame shaped like Fairlearn's
        ``MetricFrame.by_group``: one row per group, indexed by the sensitive column (a
        MultiIndex over all of them for the intersection, the default), one column per metric."""
        import pandas as pd

        a = self._attribute(attribute)
        keys = [_group_key(g["group"], a["columns"]) for g in a["groups"]]
        if len(a["columns"]) > 1:
            index = pd.MultiIndex.from_tuples(keys, names=a["columns"])
        else:
            index = pd.Index(keys, name=a["columns"][0])
        rows = [[g[m] for m in METRICS] for g in a["groups"]]
        frame = pd.DataFrame(rows, index=index, columns=list(METRICS))
        frame["count"] = frame["count"].astype("int64")
        return frame


class ModelResult(FairnessResult):
    """The model audit of an ONNX classifier: performance by group (the fairness audit of the
    model's own decisions and scores, so ``overall``, ``by_group`` and ``to_pandas`` work as on
    :class:`FairnessResult`), robustness, counterfactual fairness and explanations."""

    def robustness(self):
        """One row per perturbation: accuracy, its drop from the unperturbed accuracy, and the
        share of decisions it changed (``flip_rate``)."""
        import pandas as pd

        records = [
            {
                "perturbation": p["id"],
                "accuracy": p["accuracy"],
                "accuracy_drop": p["accuracy_drop"],
                "flip_rate": p["flip_rate"],
                "flipped": p["flipped"],
            }
            for p in self._data["robustness"]["perturbations"]
        ]
        return pd.DataFrame.from_records(records).set_index("perturbation")

    def counterfactual(self):
        """One row per (attribute or proxy, group): the share of the group's decisions that
        change when only that attribute changes."""
        import pandas as pd

        records = []
        for c in self._data["counterfactual"]:
            for g in c["groups"]:
                records.append(
                    {
                        "attribute": c["attribute"],
                        "proxy": c["proxy"],
                        "group": g["group"],
                        "rows": g["rows"],
                        "changed": g["changed"],
                        "flip_rate": g["flip_rate"],
                    }
                )
        return pd.DataFrame.from_records(records)

    def importance(self):
        """Permutation importance per feature (drop in accuracy when it is shuffled): mean,
        standard deviation and confidence interval over the repeats, most important first."""
        import pandas as pd

        records = [
            {
                "feature": f["feature"],
                "mean": f["mean"],
                "std": f["std"],
                "low": f["interval"][0],
                "high": f["interval"][1],
            }
            for f in self._data["importance"]["features"]
        ]
        return pd.DataFrame.from_records(records).set_index("feature")


def _group_key(group: str, columns: Sequence[str]) -> Any:
    if len(columns) == 1:
        return group
    parts = group.split("|")
    return tuple(parts) if len(parts) == len(columns) else (group,) + ("",) * (len(columns) - 1)


class QualityResult(AuditResult):
    """The quality audit: a profile per column, rule results and findings per Art. 11 dimension."""

    @property
    def rows(self) -> int:
        return int(self._data["rows"])

    def to_pandas(self):
        """One row per column of the data: its type and the profile's scalar figures."""
        import pandas as pd

        records = []
        for column in self._data.get("columns", []):
            records.append({k: v for k, v in column.items() if not isinstance(v, (dict, list))})
        frame = pd.DataFrame.from_records(records)
        return frame.set_index("name") if "name" in frame.columns else frame


class PiiResult(AuditResult):
    """The personal-information audit: entities found per column and per text file."""

    def to_pandas(self):
        """One row per (column or text file, entity) with its count and confidence."""
        import pandas as pd

        def rows(where: Dict[str, Any], entities: List[Dict[str, Any]]):
            for entity in entities:
                row = dict(where)
                row.update({k: v for k, v in entity.items() if not isinstance(v, (dict, list))})
                row["name_zh"] = entity["name"]["zh"]
                row["name_en"] = entity["name"]["en"]
                yield row

        records: List[Dict[str, Any]] = []
        for column in self._data.get("columns", []):
            records.extend(rows({"column": column["column"], "file": None}, column["entities"]))
        for text in self._data.get("texts", []):
            records.extend(rows({"column": None, "file": text["path"]}, text["entities"]))
        return pd.DataFrame.from_records(records)


def audit_fairness(
    data: Any,
    *,
    label: str,
    prediction: str,
    sensitive: Sequence[str],
    score: Optional[str] = None,
    positive: Optional[str] = None,
    bootstrap: Optional[int] = None,
    seed: int = 0,
    level: float = 0.95,
    policy: Optional[PathLike] = None,
    threads: Optional[int] = None,
    store: Optional[PathLike] = None,
    system: Optional[str] = None,
    actor: Optional[str] = None,
    key_dir: Optional[PathLike] = None,
) -> FairnessResult:
    """Group fairness of a classifier's predictions (Art. 13), with Fairlearn's definitions.

    ``data``: a pandas or Polars DataFrame, a PyArrow Table or RecordBatchReader (read once,
    batch by batch), or paths/glob patterns. ``label`` and ``prediction`` are Fairlearn's
    ``y_true`` and ``y_pred`` columns; ``sensitive`` one or more columns (their intersection is
    audited too); ``score`` adds AUC and calibration per group; ``bootstrap`` draws that many
    replicates for confidence intervals at ``level``; ``policy`` is a thresholds YAML file.

    ``store`` and ``system`` record the run as evidence on the system's current assessment and in
    the ledger, as ``--system`` does: ``store`` is a lunli data directory or a PostgreSQL URL
    (whose ledger key is in ``key_dir``), ``actor`` who records it (default: the OS user). Data
    handed over in memory is pinned by :func:`sha256` of its content, files by theirs.
    """
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    native = _native.audit_fairness(
        **_source(data),
        label=label,
        prediction=prediction,
        score=score,
        sensitive=list(sensitive),
        positive=None if positive is None else str(positive),
        bootstrap=bootstrap,
        seed=seed,
        level=level,
        policy_file=None if policy is None else os.fspath(policy),
        threads=threads,
        **_recording(store, system, actor, key_dir),
    )
    return FairnessResult(native)


def audit_quality(
    data: Any,
    *,
    rules: Optional[PathLike] = None,
    policy: Optional[PathLike] = None,
    threads: Optional[int] = None,
    store: Optional[PathLike] = None,
    system: Optional[str] = None,
    actor: Optional[str] = None,
    key_dir: Optional[PathLike] = None,
) -> QualityResult:
    """Data quality along Art. 11's dimensions: completeness, conformance, duplicates, rules
    (a YAML file, docs/audits.md), freshness and representation of groups.

    ``store`` and ``system`` record the run as evidence on the system's current assessment and in
    the ledger, as ``--system`` does: ``store`` is a lunli data directory or a PostgreSQL URL
    (whose ledger key is in ``key_dir``), ``actor`` who records it (default: the OS user). Data
    handed over in memory is pinned by :func:`sha256` of its content, files by theirs.
    """
    native = _native.audit_quality(
        **_source(data, stream_allowed=False),
        rules_file=None if rules is None else os.fspath(rules),
        policy_file=None if policy is None else os.fspath(policy),
        threads=threads,
        **_recording(store, system, actor, key_dir),
    )
    return QualityResult(native)


def audit_pii(
    data: Any,
    *,
    min_confidence: str = "possible",
    threads: Optional[int] = None,
    store: Optional[PathLike] = None,
    system: Optional[str] = None,
    actor: Optional[str] = None,
    key_dir: Optional[PathLike] = None,
) -> PiiResult:
    """Personal information in tables (per column) and text files (per line): Chinese and
    international identifiers, names and addresses, with masked samples. ``data``: a DataFrame
    or Arrow data (scanned per column), or paths or glob patterns of tables and text files;
    ``min_confidence``: possible, likely or high.

    ``store`` and ``system`` record the run as evidence on the system's current assessment and in
    the ledger, as ``--system`` does: ``store`` is a lunli data directory or a PostgreSQL URL
    (whose ledger key is in ``key_dir``), ``actor`` who records it (default: the OS user). Data
    handed over in memory is pinned by :func:`sha256` of its content, files by theirs.
    """
    native = _native.audit_pii(
        **_source(data),
        min_confidence=min_confidence,
        threads=threads,
        **_recording(store, system, actor, key_dir),
    )
    return PiiResult(native)


def audit_model(
    model: PathLike,
    data: Any,
    *,
    label: str,
    sensitive: Sequence[str],
    positive: Optional[str] = None,
    proxies: Sequence[str] = (),
    explain_rows: Sequence[int] = (),
    seed: int = 0,
    repeats: int = 5,
    samples: int = 64,
    noise: Sequence[float] = (0.1, 0.25, 0.5),
    max_rows: Optional[int] = None,
    policy: Optional[PathLike] = None,
    threads: Optional[int] = None,
    store: Optional[PathLike] = None,
    system: Optional[str] = None,
    actor: Optional[str] = None,
    key_dir: Optional[PathLike] = None,
) -> ModelResult:
    """Tests an ONNX classifier itself (Art. 12, Art. 13), run in-process on ``data``: its
    performance by group, accuracy and decision flips under perturbations, the share of
    decisions that change when only a ``sensitive`` attribute (or a named proxy) changes, and
    permutation importance, with sampling Shapley attributions for ``explain_rows``. The model
    needs one input per data column (docs/models.md says what it runs and refuses).

    ``data``: a pandas or Polars DataFrame, a PyArrow Table or RecordBatchReader, or paths/glob
    patterns. ``store`` and ``system`` record the run as evidence, as ``lunli audit model
    --system`` does; the model file is pinned by its SHA-256 beside the data.
    """
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    if isinstance(proxies, str):
        proxies = [proxies]
    native = _native.audit_model(
        model=os.fspath(model),
        **_source(data),
        label=label,
        sensitive=list(sensitive),
        positive=None if positive is None else str(positive),
        proxies=list(proxies),
        explain_rows=[int(r) for r in explain_rows],
        seed=seed,
        repeats=repeats,
        samples=samples,
        noise=[float(n) for n in noise],
        max_rows=max_rows,
        policy_file=None if policy is None else os.fspath(policy),
        threads=threads,
        **_recording(store, system, actor, key_dir),
    )
    return ModelResult(native)


def sha256(data: Any) -> str:
    """The SHA-256 that pins a DataFrame or Arrow data in a recorded run: of its Arrow IPC
    stream (schema, then each batch as it crosses into lunli). The same data handed over the same
    way hashes the same, so a recorded run can be matched to the data it read."""
    source = _source(data, stream_allowed=False)
    if "paths" in source:
        raise TypeError("lunli.sha256 hashes data in memory; a file's digest is hashlib.sha256 of its bytes")
    return _native.sha256(source["arrow"])


def redact(
    input: PathLike,
    output: PathLike,
    *,
    mode: str = "mask",
    min_confidence: str = "possible",
) -> Dict[str, Any]:
    """Writes a copy of a table or text file with personal information replaced (``mask`` or
    ``generalise``); returns what was replaced."""
    text = _native.redact(
        input=os.fspath(input), output=os.fspath(output), mode=mode, min_confidence=min_confidence
    )
    return json.loads(text)


class CheckResult:
    """``lunli check`` of a lunli.yaml: the tier, the required controls and those unmet.
    ``may_ship`` is false when the system is prohibited or a required control is unmet."""

    def __init__(self, text: str) -> None:
        self._json = text
        self._data = json.loads(text)

    @property
    def may_ship(self) -> bool:
        return bool(self._data["may_ship"])

    @property
    def tier(self) -> str:
        return self._data["tiering"]["tier"]

    @property
    def unmet(self) -> List[Dict[str, Any]]:
        return self._data["unmet"]

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(self._json)

    def to_json(self) -> str:
        return self._json

    def to_pandas(self):
        """One row per unmet control: its id, title (Chinese and English) and why."""
        import pandas as pd

        rows = [
            {"control": u["control"], "title_zh": u["title"]["zh"], "title_en": u["title"]["en"], "reason": u["reason"]}
            for u in self.unmet
        ]
        return pd.DataFrame(rows, columns=["control", "title_zh", "title_en", "reason"])

    def __repr__(self) -> str:
        verdict = "may ship" if self.may_ship else "may not ship"
        return f"<lunli check {self._data['system']}: tier {self.tier}, {len(self.unmet)} unmet, {verdict}>"


def check(manifest: PathLike) -> CheckResult:
    """Governance as code: checks a lunli.yaml as ``lunli check`` does (tier, required
    controls, evidence files present and unchanged)."""
    return CheckResult(_native.check(os.fspath(manifest)))
