//! Audit results as a report shows them, read through the typed summary
//! (`lunli_governance::audit_summary`) of what `lunli audit … --system` records as evidence. Evidence
//! already stored must always be reportable, so reading never fails; a field of a shape this
//! version does not read is listed in `unreadable` and shown, never silently dropped.

use jiff::Timestamp;
pub use lunli_governance::audit_summary::{
    AttributeSummary as AttributeResult, AuditFinding, AuditInput, Disparity, Estimate, GroupSummary as GroupResult,
    LabelCounts, ProbeDetail,
};
use lunli_governance::audit_summary::{AuditSummary, DimensionSummary};
use lunli_norms::Text;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One audit run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditResult {
    /// `fairness`, `quality`, `pii`, …
    pub audit: String,
    pub passed: bool,
    /// Where it is recorded: `control#evidence` for every control it is evidence on.
    pub evidence: Vec<String>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
    pub rows: Option<u64>,
    pub inputs: Vec<AuditInput>,
    pub findings: Vec<AuditFinding>,
    /// Fairness: per sensitive attribute, the disparities and the groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<AttributeResult>,
    /// Data quality: the dimensions of Art. 11.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<DimensionResult>,
    /// Content labels: how many files of the check stood where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<LabelCounts>,
    /// A generative-service probe: rates per kind of question and the gates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeDetail>,
    /// A model audit: robustness, counterfactual flips, calibration and explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<lunli_governance::audit_summary::ModelDetail>,
    /// Fields of the stored summary this version could not read, by path: the report says so
    /// rather than show them as absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
    /// The SHA-256 of the canonical summary, to tell runs apart.
    #[serde(skip)]
    pub(crate) summary_digest: String,
}

impl AuditResult {
    pub(crate) fn summary_matches(&self, summary: &Value) -> bool {
        self.summary_digest == digest(summary)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionResult {
    pub dimension: String,
    pub name: Text,
    pub checks: u64,
    pub findings: u64,
}

/// The data-quality dimensions of a summary, named for people.
pub(crate) fn dimension_results(dimensions: Vec<DimensionSummary>) -> Vec<DimensionResult> {
    dimensions
        .into_iter()
        .map(|d| DimensionResult {
            name: lunli_norms::terms::quality_dimension(&d.dimension),
            dimension: d.dimension,
            checks: d.checks,
            findings: d.findings,
        })
        .collect()
}

fn digest(summary: &Value) -> String {
    let bytes = serde_jcs::to_vec(summary).unwrap_or_else(|_| summary.to_string().into_bytes());
    lunli_ledger::Hash::sha256(&bytes).to_hex()
}

/// The report's view of one recorded run, read through the typed summary.
pub(crate) fn audit_result(
    audit: &str,
    passed: bool,
    summary: &Value,
    control: &str,
    evidence: &lunli_governance::Evidence,
) -> AuditResult {
    let view = AuditSummary::read(summary);
    let dimensions = dimension_results(view.dimensions);
    AuditResult {
        audit: audit.to_string(),
        passed,
        evidence: vec![format!("{control}#{}", evidence.id)],
        recorded_by: evidence.added_by.clone(),
        recorded_at: evidence.added_at,
        rows: view.rows,
        inputs: view.inputs,
        findings: view.findings,
        attributes: view.attributes,
        dimensions,
        labels: view.labels,
        probe: view.detail.probe,
        model: view.detail.model,
        unreadable: view.unreadable,
        summary_digest: digest(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunli_governance::{Evidence, EvidenceItem};
    use serde_json::json;

    #[test]
    fn a_summary_field_of_another_shape_reaches_the_report_by_name() {
        let summary =
            json!({"rows": 5, "dimensions": [{"dimension": "completeness", "checks": "many", "findings": 1}]});
        let evidence = Evidence {
            id: 3,
            item: EvidenceItem::Audit { audit: "quality".into(), passed: true, summary: summary.clone() },
            note: String::new(),
            added_by: "li-wei".into(),
            added_at: "2026-03-01T09:00:00Z".parse().expect("time"),
        };
        let result = audit_result("quality", true, &summary, "C-11-01", &evidence);
        assert_eq!(result.rows, Some(5));
        assert_eq!(result.unreadable, vec!["dimensions[0].checks"]);
        assert_eq!(result.dimensions[0].findings, 1);
        assert_eq!(result.dimensions[0].name, lunli_norms::terms::quality_dimension("completeness"));
        let json = serde_json::to_value(&result).expect("json");
        assert_eq!(json["unreadable"], json!(["dimensions[0].checks"]));
    }
}
