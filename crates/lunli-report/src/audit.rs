//! Audit results as a report shows them, read from the JSON summary that `lunli audit … --system`
//! records as evidence. The summary is read leniently — a field an older or newer audit does not
//! write is simply absent — because evidence already stored must always be reportable.

use jiff::Timestamp;
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
pub struct AuditInput {
    pub path: String,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditFinding {
    pub severity: String,
    pub check: String,
    pub message: Text,
}

/// A metric with its bootstrap confidence interval, when one was computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub interval: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeResult {
    pub attribute: String,
    /// Disparity metrics by name (`demographic_parity_difference`, …).
    pub disparities: Vec<Disparity>,
    pub groups: Vec<GroupResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disparity {
    pub metric: String,
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    pub group: String,
    pub count: u64,
    /// Too few rows for a reliable estimate.
    pub small: bool,
    pub selection_rate: Option<Estimate>,
    pub true_positive_rate: Option<Estimate>,
    pub false_positive_rate: Option<Estimate>,
    pub accuracy: Option<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionResult {
    pub dimension: String,
    pub name: Text,
    pub checks: u64,
    pub findings: u64,
}

fn digest(summary: &Value) -> String {
    let bytes = serde_jcs::to_vec(summary).unwrap_or_else(|_| summary.to_string().into_bytes());
    lunli_ledger::Hash::sha256(&bytes).to_hex()
}

fn text(value: &Value) -> Text {
    let get = |lang: &str| value.get(lang).and_then(Value::as_str).unwrap_or_default().to_string();
    match value.as_str() {
        Some(s) => Text { zh: s.into(), en: s.into() },
        None => Text { zh: get("zh"), en: get("en") },
    }
}

fn interval(value: Option<&Value>) -> Option<[f64; 2]> {
    let pair = value?.as_array()?;
    Some([pair.first()?.as_f64()?, pair.get(1)?.as_f64()?])
}

fn estimate(object: &Value, intervals: Option<&Value>, metric: &str) -> Option<Estimate> {
    Some(Estimate { value: object.get(metric)?.as_f64()?, interval: interval(intervals.and_then(|i| i.get(metric))) })
}

pub(crate) fn audit_result(
    audit: &str,
    passed: bool,
    summary: &Value,
    control: &str,
    evidence: &lunli_governance::Evidence,
) -> AuditResult {
    let list = |key: &str| summary.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let inputs = list("inputs")
        .iter()
        .map(|i| AuditInput {
            path: i.get("path").and_then(Value::as_str).unwrap_or_default().to_string(),
            sha256: i.get("sha256").and_then(Value::as_str).map(str::to_string),
        })
        .collect();
    let findings = list("findings")
        .iter()
        .map(|f| AuditFinding {
            severity: f.get("severity").and_then(Value::as_str).unwrap_or_default().to_string(),
            check: f.get("check").and_then(Value::as_str).unwrap_or_default().to_string(),
            message: f.get("message").map(text).unwrap_or(Text { zh: String::new(), en: String::new() }),
        })
        .collect();
    let attributes = list("attributes")
        .iter()
        .map(|a| {
            let intervals = a.get("intervals");
            let disparities = a
                .get("disparities")
                .and_then(Value::as_object)
                .map(|d| {
                    d.iter()
                        .filter_map(|(name, v)| {
                            Some(Disparity {
                                metric: name.clone(),
                                estimate: Estimate {
                                    value: v.as_f64()?,
                                    interval: interval(intervals.and_then(|i| i.get(name))),
                                },
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let groups = a
                .get("groups")
                .and_then(Value::as_array)
                .map(|groups| {
                    groups
                        .iter()
                        .map(|g| {
                            let gi = g.get("intervals");
                            GroupResult {
                                group: g.get("group").and_then(Value::as_str).unwrap_or_default().to_string(),
                                count: g.get("count").and_then(Value::as_u64).unwrap_or_default(),
                                small: g.get("small").and_then(Value::as_bool).unwrap_or(false),
                                selection_rate: estimate(g, gi, "selection_rate"),
                                true_positive_rate: estimate(g, gi, "true_positive_rate"),
                                false_positive_rate: estimate(g, gi, "false_positive_rate"),
                                accuracy: estimate(g, gi, "accuracy"),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            AttributeResult {
                attribute: a.get("attribute").and_then(Value::as_str).unwrap_or_default().to_string(),
                disparities,
                groups,
            }
        })
        .collect();
    let dimensions = list("dimensions")
        .iter()
        .map(|d| {
            let id = d.get("dimension").and_then(Value::as_str).unwrap_or_default();
            DimensionResult {
                dimension: id.to_string(),
                name: lunli_norms::terms::quality_dimension(id),
                checks: d.get("checks").and_then(Value::as_u64).unwrap_or_default(),
                findings: d.get("findings").and_then(Value::as_u64).unwrap_or_default(),
            }
        })
        .collect();
    AuditResult {
        audit: audit.to_string(),
        passed,
        evidence: vec![format!("{control}#{}", evidence.id)],
        recorded_by: evidence.added_by.clone(),
        recorded_at: evidence.added_at,
        rows: summary.get("rows").and_then(Value::as_u64),
        inputs,
        findings,
        attributes,
        dimensions,
        summary_digest: digest(summary),
    }
}
