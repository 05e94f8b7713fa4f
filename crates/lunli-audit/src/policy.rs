//! Thresholds that turn figures into findings, with documented defaults, and the findings
//! themselves.
//!
//! A policy file is YAML with two optional sections, `fairness` and `quality`; anything left out
//! keeps its default (docs/audits.md lists them). Every limit has a `severity`, and an audit
//! *passes* when it has no finding of medium severity or worse.

use serde::{Deserialize, Serialize};

use lunli_norms::{Automation, Catalogue, Text};

use crate::error::AuditError;

/// How much a finding matters. Ordered: `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn name(self) -> Text {
        lunli_norms::terms::severity(self.as_str())
    }

    /// Findings at or above this severity fail an audit.
    pub const FAILS: Severity = Severity::Medium;
}

/// A bound on one figure: it must be at least `min` and at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    pub severity: Severity,
}

impl Limit {
    const fn at_least(min: f64, severity: Severity) -> Self {
        Self { min: Some(min), max: None, severity }
    }

    const fn at_most(max: f64, severity: Severity) -> Self {
        Self { min: None, max: Some(max), severity }
    }

    /// Whether `value` breaks the limit.
    pub fn breached_by(&self, value: f64) -> bool {
        self.min.is_some_and(|m| value < m) || self.max.is_some_and(|m| value > m)
    }

    /// `≥ 0.8`, `≤ 0.1` or `in [a, b]`, for messages.
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) => format!("in [{a}, {b}]"),
            (Some(a), None) => format!("≥ {a}"),
            (None, Some(b)) => format!("≤ {b}"),
            (None, None) => "unbounded".into(),
        }
    }
}

/// Thresholds of the fairness audit (Art. 13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FairnessPolicy {
    /// Groups with fewer rows are flagged as too small to judge (never hidden, never passed).
    pub min_group_size: u64,
    /// Severity of the small-group flag.
    pub small_group_severity: Severity,
    pub disparate_impact_ratio: Limit,
    pub demographic_parity_difference: Limit,
    pub equalized_odds_difference: Limit,
    pub equal_opportunity_difference: Limit,
    pub predictive_parity_difference: Limit,
    /// Per group, when scores are given.
    pub calibration_error: Limit,
}

impl Default for FairnessPolicy {
    fn default() -> Self {
        Self {
            min_group_size: 30,
            small_group_severity: Severity::Low,
            // The four-fifths rule of employment-selection practice.
            disparate_impact_ratio: Limit::at_least(0.8, Severity::High),
            demographic_parity_difference: Limit::at_most(0.1, Severity::Medium),
            equalized_odds_difference: Limit::at_most(0.1, Severity::High),
            equal_opportunity_difference: Limit::at_most(0.1, Severity::Medium),
            predictive_parity_difference: Limit::at_most(0.1, Severity::Medium),
            calibration_error: Limit::at_most(0.1, Severity::Low),
        }
    }
}

impl FairnessPolicy {
    /// The cross-group limits with the disparity each one bounds.
    pub fn disparity_limits(&self) -> [(&'static str, &Limit); 5] {
        [
            ("disparate_impact_ratio", &self.disparate_impact_ratio),
            ("demographic_parity_difference", &self.demographic_parity_difference),
            ("equalized_odds_difference", &self.equalized_odds_difference),
            ("equal_opportunity_difference", &self.equal_opportunity_difference),
            ("predictive_parity_difference", &self.predictive_parity_difference),
        ]
    }
}

/// Thresholds of the data-quality audit (Art. 11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityPolicy {
    /// Share of missing values per column (completeness).
    pub null_rate: Limit,
    /// Share of blank strings per column (completeness).
    pub empty_rate: Limit,
    /// Share of rows that repeat an earlier row exactly (consistency).
    pub duplicate_rate: Limit,
    /// Share of a column's values that fit its inferred type or declared pattern (normativeness).
    pub conformance: Limit,
    /// Share of rows breaking a rule of the rules file (per rule).
    pub rule_violation_rate: Limit,
    /// Severity when a key declared unique repeats (consistency).
    pub key_duplicate_severity: Severity,
    /// Severity when the newest timestamp is older than the rules file's `max_age` (timeliness).
    pub stale_severity: Severity,
    /// Largest absolute gap between a group's share and its reference share (accuracy).
    pub representation_gap: Limit,
}

impl Default for QualityPolicy {
    fn default() -> Self {
        Self {
            null_rate: Limit::at_most(0.05, Severity::Medium),
            empty_rate: Limit::at_most(0.05, Severity::Low),
            duplicate_rate: Limit::at_most(0.01, Severity::Medium),
            conformance: Limit::at_least(0.99, Severity::Medium),
            rule_violation_rate: Limit::at_most(0.0, Severity::High),
            key_duplicate_severity: Severity::High,
            stale_severity: Severity::High,
            representation_gap: Limit::at_most(0.05, Severity::Medium),
        }
    }
}

/// Thresholds of the model audit (Art. 12 robustness, Art. 13 counterfactual fairness); its
/// performance by group is judged by [`FairnessPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelPolicy {
    /// Accuracy lost under one perturbation, against the unperturbed data (per perturbation).
    pub robustness_accuracy_drop: Limit,
    /// Share of decisions a perturbation changes (per perturbation).
    pub robustness_flip_rate: Limit,
    /// Share of rows whose decision changes when only a sensitive attribute or a named proxy is
    /// changed (per attribute and per group).
    pub counterfactual_flip_rate: Limit,
}

impl Default for ModelPolicy {
    fn default() -> Self {
        Self {
            // C-12-03 asks for pass criteria set before testing, "such as accuracy under
            // perturbation falling no more than an agreed margin below baseline".
            robustness_accuracy_drop: Limit::at_most(0.05, Severity::Medium),
            robustness_flip_rate: Limit::at_most(0.10, Severity::Low),
            // Art. 13: a decision that changes with the sex or ethnicity alone is direct bias.
            counterfactual_flip_rate: Limit::at_most(0.01, Severity::High),
        }
    }
}

impl ModelPolicy {
    /// The limits with their names.
    pub fn limits(&self) -> [(&'static str, &Limit); 3] {
        [
            ("robustness_accuracy_drop", &self.robustness_accuracy_drop),
            ("robustness_flip_rate", &self.robustness_flip_rate),
            ("counterfactual_flip_rate", &self.counterfactual_flip_rate),
        ]
    }
}

/// The thresholds of every audit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub fairness: FairnessPolicy,
    pub quality: QualityPolicy,
    pub model: ModelPolicy,
}

/// The file of a norm pack that carries audit thresholds (Art. 24).
pub const PACK_FILE: &str = "audit-policy.yaml";

impl Policy {
    /// Reads a policy file's text; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, AuditError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        read_yaml(file, text)
    }
}

/// Parses a policy or rules file, refusing text over lunli's size or nesting limits first.
pub(crate) fn read_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, AuditError> {
    lunli_norms::check_yaml_bounds(text).map_err(|e| AuditError::Definition {
        file: file.to_string(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    serde_yaml_ng::from_str(text).map_err(|e| definition_error(file, &e))
}

/// A YAML error as a definition error with the file and line.
fn definition_error(file: &str, e: &serde_yaml_ng::Error) -> AuditError {
    AuditError::Definition {
        file: file.to_string(),
        line: e.location().map(|l| l.line()),
        reason: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
    }
}

/// The Art. 11 dimension of data quality a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// 完整性: values present.
    Completeness,
    /// 及时性: data current.
    Timeliness,
    /// 一致性: no contradictions, duplicates or broken keys.
    Consistency,
    /// 规范性: values in the declared formats and code lists.
    Normativeness,
    /// 准确性: values plausible and the data representative.
    Accuracy,
}

impl Dimension {
    pub const ALL: [Dimension; 5] =
        [Self::Completeness, Self::Timeliness, Self::Consistency, Self::Normativeness, Self::Accuracy];

    /// The id it serializes as.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completeness => "completeness",
            Self::Timeliness => "timeliness",
            Self::Consistency => "consistency",
            Self::Normativeness => "normativeness",
            Self::Accuracy => "accuracy",
        }
    }

    pub fn name(self) -> Text {
        lunli_norms::terms::quality_dimension(self.as_str())
    }
}

/// One breach of a threshold: what, where, how far, how bad, and which controls it concerns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id of the check, e.g. `fairness.disparate_impact_ratio` or `quality.null_rate`.
    pub check: String,
    pub severity: Severity,
    /// What it is about: an attribute (`race`), a group (`race=Other`), a column, or a rule.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<Dimension>,
    pub message: Text,
    /// Catalogue controls the finding concerns.
    pub controls: Vec<String>,
}

/// Whether a list of findings lets the audit pass.
pub fn passes(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity < Severity::FAILS)
}

/// The catalogue's controls whose evidence is this kind of audit, by their `automation` field.
pub fn controls_for(catalogue: &Catalogue, automation: Automation) -> Vec<String> {
    catalogue.controls().iter().filter(|c| c.automation == Some(automation)).map(|c| c.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_policy_keeps_the_other_defaults() {
        let p = Policy::from_yaml("p.yaml", "fairness:\n  min_group_size: 50\n").unwrap();
        assert_eq!(p.fairness.min_group_size, 50);
        assert_eq!(p.fairness.disparate_impact_ratio.min, Some(0.8));
        assert_eq!(p.quality, QualityPolicy::default());
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let e = Policy::from_yaml("p.yaml", "fairness:\n  min_grup_size: 50\n").unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("p.yaml:2"), "{text}");
        assert!(text.contains("min_grup_size"), "{text}");
    }

    #[test]
    fn policies_and_rules_over_the_yaml_limits_are_refused_with_their_line() {
        let deep = format!("fairness:\n  groups: {}{}\n", "[".repeat(80), "]".repeat(80));
        let text = Policy::from_yaml("p.yaml", &deep).unwrap_err().to_string();
        assert!(text.starts_with("p.yaml:2: "), "{text}");
        assert!(text.contains("more than 64 levels deep"), "{text}");
        let text = crate::quality::Rules::from_yaml("r.yaml", &deep).unwrap_err().to_string();
        assert!(text.starts_with("r.yaml:2: "), "{text}");
        let large = format!("# {}\n", "x".repeat(lunli_norms::YAML_MAX_BYTES));
        let text = Policy::from_yaml("p.yaml", &large).unwrap_err().to_string();
        assert!(text.starts_with("p.yaml: ") && text.contains("-byte limit"), "{text}");
    }

    #[test]
    fn the_catalogue_names_the_controls_of_each_audit() {
        let catalogue = Catalogue::bundled().unwrap();
        assert!(!controls_for(&catalogue, Automation::AuditFairness).is_empty());
        assert!(!controls_for(&catalogue, Automation::AuditQuality).is_empty());
    }
}

impl Policy {
    /// The thresholds of the last of `packs` (in layering order) that carries a
    /// [`PACK_FILE`]; `None` when none does.
    pub fn of_packs(packs: &[lunli_norms::Pack]) -> Result<Option<Self>, AuditError> {
        for pack in packs.iter().rev() {
            if let Some(text) = pack.file(PACK_FILE) {
                return Self::from_yaml(&format!("{}/{PACK_FILE}", pack.source), text).map(Some);
            }
        }
        Ok(None)
    }
}

impl Policy {
    /// Where `self` is looser than `base` (Art. 24: a norm pack may make thresholds stricter,
    /// never weaker): one line per weakened threshold, naming it and both values. Empty when
    /// every threshold is at least as strict.
    pub fn loosenings(&self, base: &Policy) -> Vec<String> {
        let mut found = Vec::new();
        let (f, b) = (&self.fairness, &base.fairness);
        if f.min_group_size < b.min_group_size {
            found.push(format!(
                "fairness.min_group_size = {} is below the base's {}; smaller groups would be judged",
                f.min_group_size, b.min_group_size
            ));
        }
        if f.small_group_severity < b.small_group_severity {
            found.push(format!(
                "fairness.small_group_severity = {} is below the base's {}",
                f.small_group_severity.as_str(),
                b.small_group_severity.as_str()
            ));
        }
        let fairness_limits = [
            ("disparate_impact_ratio", &f.disparate_impact_ratio, &b.disparate_impact_ratio),
            ("demographic_parity_difference", &f.demographic_parity_difference, &b.demographic_parity_difference),
            ("equalized_odds_difference", &f.equalized_odds_difference, &b.equalized_odds_difference),
            ("equal_opportunity_difference", &f.equal_opportunity_difference, &b.equal_opportunity_difference),
            ("predictive_parity_difference", &f.predictive_parity_difference, &b.predictive_parity_difference),
            ("calibration_error", &f.calibration_error, &b.calibration_error),
        ];
        for (name, limit, base_limit) in fairness_limits {
            limit.loosening(base_limit, &format!("fairness.{name}"), &mut found);
        }
        let (q, b) = (&self.quality, &base.quality);
        let quality_limits = [
            ("null_rate", &q.null_rate, &b.null_rate),
            ("empty_rate", &q.empty_rate, &b.empty_rate),
            ("duplicate_rate", &q.duplicate_rate, &b.duplicate_rate),
            ("conformance", &q.conformance, &b.conformance),
            ("rule_violation_rate", &q.rule_violation_rate, &b.rule_violation_rate),
            ("representation_gap", &q.representation_gap, &b.representation_gap),
        ];
        for (name, limit, base_limit) in quality_limits {
            limit.loosening(base_limit, &format!("quality.{name}"), &mut found);
        }
        for ((name, limit), (_, base_limit)) in self.model.limits().into_iter().zip(base.model.limits()) {
            limit.loosening(base_limit, &format!("model.{name}"), &mut found);
        }
        for (name, severity, base_severity) in [
            ("key_duplicate_severity", q.key_duplicate_severity, b.key_duplicate_severity),
            ("stale_severity", q.stale_severity, b.stale_severity),
        ] {
            if severity < base_severity {
                found.push(format!(
                    "quality.{name} = {} is below the base's {}",
                    severity.as_str(),
                    base_severity.as_str()
                ));
            }
        }
        found
    }
}

impl Limit {
    /// Adds a line to `found` for each way this limit is looser than `base`.
    fn loosening(&self, base: &Limit, name: &str, found: &mut Vec<String>) {
        if let Some(base_min) = base.min
            && self.min.is_none_or(|min| min < base_min)
        {
            found.push(format!("{name}: {} is looser than the base's {}", self.describe(), base.describe()));
        } else if let Some(base_max) = base.max
            && self.max.is_none_or(|max| max > base_max)
        {
            found.push(format!("{name}: {} is looser than the base's {}", self.describe(), base.describe()));
        }
        if self.severity < base.severity {
            found.push(format!(
                "{name}: severity {} is below the base's {}",
                self.severity.as_str(),
                base.severity.as_str()
            ));
        }
    }
}

#[cfg(test)]
mod loosening_tests {
    use super::*;

    #[test]
    fn stricter_thresholds_pass_and_weaker_ones_are_named() {
        let base = Policy::default();
        let mut strict = base.clone();
        strict.fairness.disparate_impact_ratio = Limit::at_least(0.9, Severity::High);
        strict.fairness.demographic_parity_difference = Limit::at_most(0.05, Severity::High);
        assert!(strict.loosenings(&base).is_empty());

        let mut weak = base.clone();
        weak.fairness.disparate_impact_ratio = Limit::at_least(0.7, Severity::High);
        weak.fairness.equalized_odds_difference = Limit::at_most(0.1, Severity::Low);
        weak.quality.null_rate = Limit { min: None, max: None, severity: Severity::Medium };
        let found = weak.loosenings(&base);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].contains("fairness.disparate_impact_ratio: ≥ 0.7 is looser than the base's ≥ 0.8"),
            "{found:?}"
        );
        assert!(found[1].contains("equalized_odds_difference: severity low is below the base's high"), "{found:?}");
        assert!(found[2].starts_with("quality.null_rate: unbounded"), "{found:?}");
    }
}
