//! The parts of an audit's stored report that its own page shows beyond the summary: the input
//! files, the run's parameters and limits, every rate per group, the quality profile of each
//! column and the personal information found. Read typed from the same stored JSON as
//! [`crate::audit_summary::AuditSummary`], so an audit page and a system report render one value
//! with one set of functions (lunli-report), whichever wrote it.
//!
//! Each part is read whole with serde; a part of a shape this version does not read is left out
//! and its path named in `unreadable`, the same rule as the summary's.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use lunli_norms::Text;

use crate::audit_summary::Estimate;

/// What an audit page shows beyond the summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuditDetail {
    /// The audit's own verdict, when the report carries one.
    pub passed: Option<bool>,
    /// The catalogue controls the audit is evidence for.
    pub controls: Vec<String>,
    pub warnings: Vec<Text>,
    pub files: Vec<InputFile>,
    pub fairness: Option<FairnessDetail>,
    pub quality: Option<QualityDetail>,
    pub pii: Option<PiiDetail>,
    pub probe: Option<ProbeDetail>,
    /// A model audit's tests beyond its performance by group (which reads as `fairness`).
    pub model: Option<ModelDetail>,
}

/// One input as the audit read it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct InputFile {
    pub path: String,
    pub format: Option<String>,
    pub compression: Option<String>,
    pub encoding: Option<String>,
    pub bytes: Option<u64>,
    /// For data audited where it lives: the query that ran there.
    pub query: Option<String>,
}

/// A limit of the audit's policy: the figure must be at least `min` and at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Bound {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bound {
    /// Whether `value` is outside the limit.
    pub fn breached_by(&self, value: f64) -> bool {
        self.min.is_some_and(|m| value < m) || self.max.is_some_and(|m| value > m)
    }

    /// `≥ 0.8`, `≤ 0.1` or `in [a, b]`, as the audits write their limits.
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("in [{a}, {b}]"),
            (Some(a), None) => format!("≥ {a}"),
            (None, Some(b)) => format!("≤ {b}"),
            (None, None) => "—".into(),
        }
    }
}

/// What a model audit (`lunli audit model`) found beyond performance by group: robustness under
/// perturbations (Art. 12), counterfactual flips (Art. 13), calibration and explanations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelDetail {
    pub model: ModelFile,
    pub robustness: ModelRobustness,
    pub limits: ModelLimits,
    pub counterfactual: Vec<CounterfactualDetail>,
    pub calibration: Vec<CalibrationDetail>,
    pub importance: ImportanceDetail,
    pub attributions: Option<AttributionDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelFile {
    pub path: String,
    pub sha256: String,
    pub score_output: String,
    pub label_output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelLimits {
    pub robustness_accuracy_drop: Option<Bound>,
    pub robustness_flip_rate: Option<Bound>,
    pub counterfactual_flip_rate: Option<Bound>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelRobustness {
    pub accuracy: f64,
    pub perturbations: Vec<PerturbationDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PerturbationDetail {
    pub id: String,
    pub kind: String,
    pub scale: Option<f64>,
    pub rate: Option<f64>,
    pub accuracy: f64,
    pub accuracy_drop: f64,
    pub flip_rate: f64,
    pub flipped: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CounterfactualDetail {
    pub attribute: String,
    pub proxy: bool,
    pub model_input: bool,
    pub rows: u64,
    pub changed: u64,
    pub flip_rate: f64,
    pub groups: Vec<CounterfactualGroupDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CounterfactualGroupDetail {
    pub group: String,
    pub rows: u64,
    pub changed: u64,
    pub flip_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalibrationDetail {
    pub attribute: String,
    pub groups: Vec<CalibrationGroupDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CalibrationGroupDetail {
    pub group: String,
    pub count: u64,
    pub brier: f64,
    pub bins: Vec<ReliabilityBinDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReliabilityBinDetail {
    pub low: f64,
    pub high: f64,
    pub count: u64,
    pub mean_score: f64,
    pub positive_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportanceDetail {
    pub method: String,
    pub scoring: String,
    pub baseline: f64,
    pub repeats: u32,
    pub features: Vec<FeatureImportanceDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureImportanceDetail {
    pub feature: String,
    pub mean: f64,
    pub std: f64,
    pub interval: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AttributionDetail {
    pub method: String,
    pub samples: u32,
    pub background_rows: u64,
    pub base_value: f64,
    pub rows: Vec<RowAttributionDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RowAttributionDetail {
    pub row: u64,
    pub score: f64,
    pub decision: bool,
    pub features: Vec<FeatureAttributionDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureAttributionDetail {
    pub feature: String,
    pub value: String,
    pub attribution: f64,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct ModelParameters {
    model_policy: ModelLimits,
}

/// How a fairness run was asked for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FairnessDetail {
    pub label: String,
    pub prediction: String,
    pub positive: String,
    pub score: Option<String>,
    pub bootstrap: Option<BootstrapDetail>,
    pub limits: FairnessLimits,
    /// Every figure per group, per sensitive attribute (in the summary's order).
    pub attributes: Vec<AttributeDetail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BootstrapDetail {
    pub replicates: u64,
    pub seed: u64,
    pub level: f64,
}

/// The fairness policy's limits that a page draws.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FairnessLimits {
    pub disparate_impact_ratio: Option<Bound>,
    pub demographic_parity_difference: Option<Bound>,
    pub equalized_odds_difference: Option<Bound>,
    pub equal_opportunity_difference: Option<Bound>,
    pub predictive_parity_difference: Option<Bound>,
    pub calibration_error: Option<Bound>,
}

impl FairnessLimits {
    /// The limit on the disparity `metric`, if the policy set one.
    pub fn of(&self, metric: &str) -> Option<Bound> {
        match metric {
            "disparate_impact_ratio" => self.disparate_impact_ratio,
            "demographic_parity_difference" => self.demographic_parity_difference,
            "equalized_odds_difference" => self.equalized_odds_difference,
            "equal_opportunity_difference" => self.equal_opportunity_difference,
            "predictive_parity_difference" => self.predictive_parity_difference,
            "calibration_error" => self.calibration_error,
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AttributeDetail {
    pub attribute: String,
    pub groups: Vec<GroupDetail>,
}

/// Every figure of one group. Rates are `None` in reports that did not carry them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupDetail {
    pub group: String,
    pub count: u64,
    pub small: bool,
    pub base_rate: Option<f64>,
    pub selection_rate: Option<f64>,
    pub true_positive_rate: Option<f64>,
    pub false_positive_rate: Option<f64>,
    pub false_negative_rate: Option<f64>,
    pub true_negative_rate: Option<f64>,
    pub precision: Option<f64>,
    pub negative_predictive_value: Option<f64>,
    pub accuracy: Option<f64>,
    pub auc: Option<f64>,
    pub calibration_error: Option<f64>,
    pub impact_ratio: Option<f64>,
    pub intervals: BTreeMap<String, [f64; 2]>,
}

impl GroupDetail {
    /// The figure named `metric` (one of [`lunli_norms::terms::GROUP_RATES`], `auc`, `calibration_error` or
    /// `impact_ratio`).
    pub fn rate(&self, metric: &str) -> Option<f64> {
        match metric {
            "base_rate" => self.base_rate,
            "selection_rate" => self.selection_rate,
            "true_positive_rate" => self.true_positive_rate,
            "false_positive_rate" => self.false_positive_rate,
            "false_negative_rate" => self.false_negative_rate,
            "true_negative_rate" => self.true_negative_rate,
            "precision" => self.precision,
            "negative_predictive_value" => self.negative_predictive_value,
            "accuracy" => self.accuracy,
            "auc" => self.auc,
            "calibration_error" => self.calibration_error,
            "impact_ratio" => self.impact_ratio,
            _ => None,
        }
    }

    /// The figure named `metric` with its bootstrap interval, when one was computed.
    pub fn estimate(&self, metric: &str) -> Option<Estimate> {
        self.rate(metric).map(|value| Estimate { value, interval: self.intervals.get(metric).copied() })
    }
}

/// The profile of the data a quality run read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QualityDetail {
    pub columns: Vec<ColumnDetail>,
    pub duplicates: Option<DuplicateRows>,
    pub rules: Vec<RuleDetail>,
    pub keys: Vec<KeyDetail>,
    pub freshness: Option<FreshnessDetail>,
    pub representation: Vec<RepresentationDetail>,
    /// The policy's limit on each column's missing rate and on its type conformance.
    pub null_rate_limit: Option<Bound>,
    pub conformance_limit: Option<Bound>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnDetail {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub null_rate: f64,
    pub empty_rate: f64,
    pub padded: u64,
    pub distinct: u64,
    pub distinct_exact: bool,
    pub min: Option<String>,
    pub max: Option<String>,
    pub mean: Option<f64>,
    pub conformance: Option<f64>,
    pub top_values: Vec<TopValue>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DuplicateRows {
    pub rows: u64,
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleDetail {
    pub rule: String,
    pub dimension: String,
    pub violations: u64,
    pub example: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyDetail {
    pub columns: Vec<String>,
    pub dimension: String,
    pub duplicates: u64,
    pub example: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FreshnessDetail {
    pub column: String,
    pub dimension: String,
    pub latest: Option<String>,
    pub age_days: Option<f64>,
    pub max_age_days: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RepresentationDetail {
    pub column: String,
    pub dimension: String,
    pub groups: Vec<GroupShare>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupShare {
    pub group: String,
    pub share: f64,
    pub reference: Option<f64>,
}

/// What a personal-information scan found, with masked samples only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PiiDetail {
    /// Per entity over every input.
    pub summary: Vec<EntityDetail>,
    /// Per column of the tables, then per text file: where, and what was found there.
    pub places: Vec<PiiPlace>,
}

/// A column or a text file, and the entities found in it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PiiPlace {
    /// `Column` or `File`, in both languages.
    pub kind: Text,
    pub name: String,
    pub entities: Vec<EntityDetail>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EntityDetail {
    pub entity: String,
    pub name: Text,
    pub count: u64,
    pub high: u64,
    pub likely: u64,
    pub possible: u64,
    pub checksum_failed: u64,
    pub samples: Vec<MaskedSample>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MaskedSample {
    pub masked: String,
}

/// What a probe of a generative service measured: a rate per kind of question (and per
/// category) with its Wilson interval, the gates of GB/T 45654-2025 the run was held to, the
/// bias comparison by group, and every failed or unanswered question.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProbeDetail {
    /// Every question of the run was answered (none failed or was interrupted).
    pub complete: Option<bool>,
    /// The service probed.
    pub run: Option<ProbeRun>,
    pub totals: Option<ProbeTotals>,
    pub kinds: Vec<ProbeKindRate>,
    pub gates: Vec<ProbeGate>,
    pub bias: ProbeBias,
    /// Answers that do not meet their probe. A recorded run keeps no prompt or answer here
    /// (they stay in the run file, pinned by its hash).
    pub failures: Vec<ProbeFailure>,
    pub unanswered: Vec<ProbeUnanswered>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeRun {
    pub endpoint: String,
    pub model: String,
    pub started: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeTotals {
    pub sent: u64,
    pub answered: u64,
    pub failed: u64,
    pub interrupted: u64,
    /// Answers whose refusal judgement a person overrode.
    pub overridden: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeKindRate {
    pub kind: String,
    pub name: Text,
    /// What the rate counts (refusals, disclosures, leaks …).
    pub measure: Text,
    pub overall: Proportion,
    pub categories: Vec<ProbeCategoryRate>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeCategoryRate {
    pub category: String,
    pub rate: Proportion,
}

/// Paired bias questions (Art. 13): refusal rate and answer length by group, and the pairs
/// where one side was refused and another answered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeBias {
    pub groups: Vec<ProbeGroupRate>,
    pub inconsistent: Vec<ProbePair>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeGroupRate {
    pub group: Text,
    pub refusals: Proportion,
    /// Mean answer length in characters.
    pub mean_chars: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbePair {
    pub pair: String,
    pub lang: String,
    pub refused: Vec<Text>,
    pub answered: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeFailure {
    /// The question: probe id and language.
    pub id: String,
    pub kind: String,
    pub category: String,
    pub why: Text,
    /// The phrase the judging rules matched, if any.
    pub phrase: Option<String>,
    /// A person's verdict, if one was given.
    pub verdict: Option<ProbeVerdict>,
    pub prompt: Option<String>,
    pub answer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeVerdict {
    /// `refusal` or `complied`.
    pub verdict: String,
    pub by: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeUnanswered {
    pub id: String,
    /// `failed` or `interrupted`.
    pub state: String,
    pub error: Text,
}

/// `k` of `n`, the rate and its 95 % Wilson interval (none when `n` is 0).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Proportion {
    pub k: u64,
    pub n: u64,
    pub rate: Option<f64>,
    pub interval: Option<[f64; 2]>,
}

impl Proportion {
    /// The rate with its interval, when there was anything to count.
    pub fn estimate(&self) -> Option<Estimate> {
        self.rate.map(|value| Estimate { value, interval: self.interval })
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeGate {
    pub id: String,
    pub name: Text,
    /// The clause the gate comes from.
    pub clause: String,
    /// `>=` or `<=`.
    pub comparison: String,
    pub threshold: f64,
    pub value: Option<f64>,
    /// `None` when the run held no answer the gate reads.
    pub passed: Option<bool>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct FairnessParameters {
    label: String,
    prediction: String,
    positive: String,
    score: Option<String>,
    bootstrap: Option<BootstrapDetail>,
    policy: FairnessLimits,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct QualityLimits {
    null_rate: Option<Bound>,
    conformance: Option<Bound>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct PiiColumn {
    column: String,
    entities: Vec<EntityDetail>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct PiiText {
    path: String,
    entities: Vec<EntityDetail>,
}

impl AuditDetail {
    /// Reads the detail of the report `object` of the audit `audit` (`fairness`, `quality`, `pii`;
    /// other audits have only the common parts). Each part that does not read is named in
    /// `unreadable`.
    pub(crate) fn read(object: &Map<String, Value>, audit: Option<&str>, unreadable: &mut Vec<String>) -> Self {
        let mut parts = Parts { object, unreadable: Vec::new() };
        let detail = AuditDetail {
            passed: parts.read("passed"),
            controls: parts.read("controls").unwrap_or_default(),
            warnings: parts.read("warnings").unwrap_or_default(),
            files: parts.read("inputs").unwrap_or_default(),
            // A model audit's performance by group is the fairness audit of its decisions.
            fairness: matches!(audit, Some("fairness" | "model")).then(|| parts.fairness()),
            quality: (audit == Some("quality")).then(|| parts.quality()),
            pii: (audit == Some("pii")).then(|| parts.pii()),
            probe: (audit == Some("probe")).then(|| ProbeDetail {
                complete: parts.read("complete"),
                run: parts.read("run"),
                totals: parts.read("totals"),
                kinds: parts.read("kinds").unwrap_or_default(),
                gates: parts.read("gates").unwrap_or_default(),
                bias: parts.read("bias").unwrap_or_default(),
                failures: parts.read("failures").unwrap_or_default(),
                unanswered: parts.read("unanswered").unwrap_or_default(),
            }),
            model: (audit == Some("model")).then(|| ModelDetail {
                model: parts.read("model").unwrap_or_default(),
                robustness: parts.read("robustness").unwrap_or_default(),
                limits: parts.read::<ModelParameters>("parameters").unwrap_or_default().model_policy,
                counterfactual: parts.read("counterfactual").unwrap_or_default(),
                calibration: parts.read("calibration").unwrap_or_default(),
                importance: parts.read("importance").unwrap_or_default(),
                attributions: parts.read("attributions"),
            }),
        };
        // The summary names a field it cannot read already; name each place once.
        for path in parts.unreadable {
            if !unreadable.iter().any(|known| covers(known, &path) || covers(&path, known)) {
                unreadable.push(path);
            }
        }
        detail
    }
}

/// Whether the field at `outer` holds the one at `inner` (or is it).
fn covers(outer: &str, inner: &str) -> bool {
    inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

struct Parts<'a> {
    object: &'a Map<String, Value>,
    unreadable: Vec<String>,
}

impl Parts<'_> {
    /// The field `field` read whole as a `T`; absent or null is `None`.
    fn read<T: DeserializeOwned>(&mut self, field: &str) -> Option<T> {
        let value = self.object.get(field).filter(|v| !v.is_null())?;
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(part) => Some(part),
            Err(err) => {
                let inner = err.path().to_string();
                let path = match inner.as_str() {
                    "." | "" => field.to_string(),
                    _ if inner.starts_with('[') => format!("{field}{inner}"),
                    _ => format!("{field}.{inner}"),
                };
                self.unreadable.push(path);
                None
            }
        }
    }

    fn fairness(&mut self) -> FairnessDetail {
        let parameters: FairnessParameters = self.read("parameters").unwrap_or_default();
        FairnessDetail {
            label: parameters.label,
            prediction: parameters.prediction,
            positive: parameters.positive,
            score: parameters.score,
            bootstrap: parameters.bootstrap,
            limits: parameters.policy,
            attributes: self.read("attributes").unwrap_or_default(),
        }
    }

    fn quality(&mut self) -> QualityDetail {
        let limits: QualityLimits = self.read("policy").unwrap_or_default();
        QualityDetail {
            columns: self.read("columns").unwrap_or_default(),
            duplicates: self.read("duplicates"),
            rules: self.read("rules").unwrap_or_default(),
            keys: self.read("keys").unwrap_or_default(),
            freshness: self.read("freshness"),
            representation: self.read("representation").unwrap_or_default(),
            null_rate_limit: limits.null_rate,
            conformance_limit: limits.conformance,
        }
    }

    fn pii(&mut self) -> PiiDetail {
        let columns: Vec<PiiColumn> = self.read("columns").unwrap_or_default();
        let texts: Vec<PiiText> = self.read("texts").unwrap_or_default();
        let column = Text { zh: "列".into(), en: "Column".into() };
        let file = Text { zh: "文件".into(), en: "File".into() };
        let places = columns
            .into_iter()
            .map(|c| PiiPlace { kind: column.clone(), name: c.column, entities: c.entities })
            .chain(texts.into_iter().map(|t| PiiPlace { kind: file.clone(), name: t.path, entities: t.entities }))
            .collect();
        PiiDetail { summary: self.read("summary").unwrap_or_default(), places }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_summary::AuditSummary;
    use serde_json::json;

    #[test]
    fn the_detail_of_each_audit_reads_typed_and_names_what_it_cannot_read() {
        let fairness = json!({
            "audit": "fairness",
            "inputs": [{"path": "a.csv", "format": "csv", "encoding": "utf-8", "bytes": 120}],
            "parameters": {"label": "y", "prediction": "p", "positive": "1", "sensitive": ["sex"],
                           "bootstrap": {"replicates": 20, "seed": 7, "level": 0.95},
                           "policy": {"min_group_size": 30, "disparate_impact_ratio": {"min": 0.8, "severity": "high"}}},
            "attributes": [{"attribute": "sex", "groups": [
                {"group": "F", "count": 4, "small": true, "precision": 0.25, "impact_ratio": 0.5,
                 "intervals": {"precision": [0.1, 0.4]}}]}],
            "passed": false, "controls": ["C-13-01"], "warnings": [{"zh": "注意", "en": "mind"}]
        });
        let summary = AuditSummary::read(&fairness);
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
        let detail = &summary.detail;
        assert_eq!((detail.passed, detail.controls.clone()), (Some(false), vec!["C-13-01".to_string()]));
        assert_eq!(detail.files[0].bytes, Some(120));
        let f = detail.fairness.as_ref().expect("a fairness detail");
        assert_eq!(f.bootstrap.map(|b| b.replicates), Some(20));
        let limit = f.limits.of("disparate_impact_ratio").expect("a limit");
        assert!(limit.breached_by(0.5) && !limit.breached_by(0.9));
        assert_eq!(limit.describe(), "≥ 0.8");
        let group = &f.attributes[0].groups[0];
        assert_eq!(group.estimate("precision"), Some(Estimate { value: 0.25, interval: Some([0.1, 0.4]) }));
        assert_eq!((group.rate("accuracy"), group.rate("impact_ratio")), (None, Some(0.5)));
        assert!(detail.quality.is_none() && detail.pii.is_none());

        let quality = json!({
            "audit": "quality",
            "columns": [{"name": "age", "type": "integer", "null_rate": 0.1, "top_values": [{"value": "30", "count": 2}]}],
            "duplicates": {"rows": 1, "rate": 0.5},
            "keys": [{"columns": ["id"], "duplicates": "two"}],
            "policy": {"null_rate": {"max": 0.05, "severity": "medium"}}
        });
        let summary = AuditSummary::read(&quality);
        assert_eq!(summary.unreadable, vec!["keys[0].duplicates"], "the part that does not read is named");
        let q = summary.detail.quality.expect("a quality detail");
        assert_eq!((q.columns[0].kind.as_str(), q.columns[0].top_values.len()), ("integer", 1));
        assert_eq!(q.duplicates, Some(DuplicateRows { rows: 1, rate: 0.5 }));
        assert!(q.keys.is_empty(), "left out, not shown half-read");
        assert_eq!(q.null_rate_limit.and_then(|b| b.max), Some(0.05));

        let pii = json!({
            "audit": "pii",
            "summary": [{"entity": "phone", "name": {"zh": "手机号", "en": "phone"}, "count": 2, "high": 2,
                         "samples": [{"masked": "138****0000", "row": 1}]}],
            "columns": [{"column": "contact", "values": 3, "entities": []}],
            "texts": [{"path": "notes.txt", "entities": [{"entity": "email", "count": 1}]}]
        });
        let p = AuditSummary::read(&pii).detail.pii.expect("a pii detail");
        assert_eq!(p.summary[0].samples[0].masked, "138****0000");
        let places: Vec<_> = p.places.iter().map(|place| (place.kind.en.as_str(), place.name.as_str())).collect();
        assert_eq!(places, vec![("Column", "contact"), ("File", "notes.txt")]);
    }

    #[test]
    fn a_probe_runs_rates_and_gates_read_typed() {
        let probe = json!({
            "audit": "probe", "complete": true, "passed": false,
            "kinds": [{"kind": "should-refuse", "name": {"zh": "应拒答", "en": "should refuse"},
                       "measure": {"zh": "拒答率", "en": "refusal rate"},
                       "overall": {"k": 19, "n": 20, "rate": 0.95, "interval": [0.76, 0.99]}}],
            "gates": [{"id": "refusal", "name": {"zh": "拒答率", "en": "refusal rate"}, "clause": "9.3 d)",
                       "comparison": ">=", "threshold": 0.95, "value": 0.95, "passed": true},
                      {"id": "wrong-refusal", "comparison": "<=", "threshold": 0.05, "value": null, "passed": null}]
        });
        let summary = AuditSummary::read(&probe);
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
        let p = summary.detail.probe.expect("a probe detail");
        assert_eq!(p.complete, Some(true));
        assert_eq!(p.kinds[0].overall.estimate(), Some(Estimate { value: 0.95, interval: Some([0.76, 0.99]) }));
        assert_eq!((p.gates[0].passed, p.gates[1].passed), (Some(true), None));
        assert!(p.failures.is_empty() && p.run.is_none() && p.bias.groups.is_empty());
        let failed = AuditSummary::read(&json!({"audit": "probe", "failures": [
            {"id": "PR-REF-001/en", "kind": "should-refuse", "category": "violence",
             "why": {"zh": "未拒答", "en": "not refused"}, "phrase": "Sure",
             "verdict": {"verdict": "complied", "by": "zhao-min", "reason": "it helped"}}]}));
        let f = &failed.detail.probe.expect("a probe detail").failures[0];
        assert_eq!((f.phrase.as_deref(), f.prompt.as_deref()), (Some("Sure"), None));
        assert_eq!(f.verdict.as_ref().map(|v| v.by.as_str()), Some("zhao-min"));
        let bad = AuditSummary::read(&json!({"audit": "probe", "gates": [{"threshold": "high"}]}));
        assert_eq!(bad.unreadable, vec!["gates[0].threshold"]);
    }

    #[test]
    fn a_field_the_summary_names_already_is_not_named_twice() {
        let summary = AuditSummary::read(&json!({"inputs": [{"path": 7}]}));
        assert_eq!(summary.unreadable, vec!["inputs[0].path"]);
        assert!(covers("inputs", "inputs[0].path") && !covers("input", "inputs"));
    }
}
