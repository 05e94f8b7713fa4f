//! An audit's result as Python sees it: its kind, its JSON, its HTML page and, when the run was
//! recorded, the evidence it became.

use pyo3::prelude::*;
use serde_json::Value;

use crate::LunliError;

/// One audit's report, as the Python package's result classes read it.
#[pyclass(frozen, module = "lunli._native")]
pub struct Report {
    /// `fairness`, `quality`, `pii` or `model`.
    #[pyo3(get)]
    kind: &'static str,
    /// The report in the JSON shape of `lunli audit … --format json` (docs/audits.md).
    #[pyo3(get)]
    json: String,
    /// The self-contained HTML page.
    #[pyo3(get)]
    html: String,
    /// No finding of medium severity or worse.
    #[pyo3(get)]
    passed: bool,
    /// `(control, evidence id)` for each control the run was recorded on; empty when it was not.
    #[pyo3(get)]
    recorded: Vec<(String, u32)>,
}

impl Report {
    /// The HTML page goes through lunli-report's audit page: the renderer of
    /// `lunli audit … --html` and of recorded runs, and the one place this package renders HTML.
    pub fn new(kind: &'static str, report: &Value, recorded: Vec<(String, u32)>) -> PyResult<Self> {
        let json =
            serde_json::to_string(report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))?;
        let html = lunli_report::html::audit_page(report, lunli_report::html::Languages::Both);
        let passed = report.get("passed").and_then(Value::as_bool).unwrap_or(false);
        Ok(Self { kind, json, html, passed, recorded })
    }
}
