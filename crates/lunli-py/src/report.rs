//! An audit's result as Python sees it: its kind, its JSON and its HTML page.

use pyo3::prelude::*;
use serde::Serialize;

use lunli_audit::fairness::FairnessReport;
use lunli_audit::pii::PiiReport;
use lunli_audit::quality::QualityReport;

use crate::LunliError;

/// One audit's report, as the Python package's result classes read it.
#[pyclass(frozen, module = "lunli._native")]
pub struct Report {
    /// `fairness`, `quality` or `pii`.
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
}

/// The HTML page of a report: the one place the Python package renders HTML, through
/// lunli-report's audit page, the renderer of `lunli audit … --html` and of recorded runs.
fn html_page(report: &impl Serialize) -> PyResult<String> {
    let value = serde_json::to_value(report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))?;
    Ok(lunli_report::html::audit_page(&value, lunli_report::html::Languages::Both))
}

fn json(report: &impl Serialize) -> PyResult<String> {
    serde_json::to_string(report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))
}

impl Report {
    pub fn fairness(report: FairnessReport) -> PyResult<Self> {
        Ok(Self { kind: "fairness", json: json(&report)?, html: html_page(&report)?, passed: report.passed })
    }

    pub fn quality(report: QualityReport) -> PyResult<Self> {
        Ok(Self { kind: "quality", json: json(&report)?, html: html_page(&report)?, passed: report.passed })
    }

    pub fn pii(report: PiiReport) -> PyResult<Self> {
        Ok(Self { kind: "pii", json: json(&report)?, html: html_page(&report)?, passed: report.passed })
    }
}
