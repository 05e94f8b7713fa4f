//! A system's playbook (the operating model's questions before go-live, Art. 8, Art. 17): who
//! may pause it, when a human takes over a decision, what suspends it automatically, which
//! rates are watched and how far they may drift, whom to call, and how fast incidents must be
//! acknowledged and resolved. Kept with the system's record, so a change makes a new version
//! and the ledger shows who changed it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::incident::Severity;
use crate::registry::check_id;
use crate::runtime::Impact;

/// Everything the playbook of one system says. Every key is optional; an empty playbook keeps
/// the gateway's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Playbook {
    /// People (ids) who may pull the kill switch on this system; empty: anyone the access
    /// policy allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub may_pause: Vec<String>,
    /// When a human reviews a decision instead of the model alone (Art. 3(4)).
    pub review: ReviewThresholds,
    /// Incident severities that suspend the system as soon as such an incident is opened.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspend_on: Vec<Severity>,
    /// The rates watched on reported outcomes (Art. 8: early warning).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<Monitor>,
    /// Whom to call when something goes wrong, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<Contact>,
    /// Acknowledge and resolve targets by severity; missing severities use [`Target::default_for`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<Severity, Target>,
}

// Thresholds are validated finite, so equality is an equivalence (needed because the system
// record it lives in is `Eq`).
impl Eq for Playbook {}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewThresholds {
    /// Below this model confidence a human reviews the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below_confidence: Option<f64>,
    /// At or above this impact a human reviews the output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_impact: Option<Impact>,
}

/// What a monitor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Share of reported outcomes marked as errors.
    ErrorRate,
    /// Largest difference in selection rate (share of favourable outcomes) between two groups of
    /// a sensitive attribute: Fairlearn's demographic parity difference (Art. 13).
    SelectionRateDifference,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::ErrorRate => "error-rate",
            Metric::SelectionRateDifference => "selection-rate-difference",
        }
    }
}

/// One watched rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    pub metric: Metric,
    /// The sensitive attribute whose groups are compared (selection-rate-difference only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// An alert is raised when the rate exceeds this.
    pub threshold: f64,
    /// How many of the most recent outcomes (per group, for a difference) the rate is over.
    #[serde(default = "default_window")]
    pub window: u32,
    /// Fewer outcomes than this (in any compared group) raise nothing: too few to tell.
    #[serde(default = "default_min_count")]
    pub min_count: u32,
    /// Open an incident of this severity with the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Severity>,
}

fn default_window() -> u32 {
    500
}

fn default_min_count() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    /// How to reach them: e-mail, phone, on-call rota.
    pub reach: String,
    /// The least severity they are called for.
    #[serde(default = "default_contact_severity")]
    pub from: Severity,
}

fn default_contact_severity() -> Severity {
    Severity::Low
}

/// Time allowed to acknowledge and to resolve an incident, in minutes from when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub acknowledge_minutes: u32,
    pub resolve_minutes: u32,
}

impl Target {
    /// The targets when a playbook names none: an hour to acknowledge a critical incident and a
    /// day to resolve it, growing as severity falls.
    pub fn default_for(severity: Severity) -> Target {
        let (acknowledge_minutes, resolve_minutes) = match severity {
            Severity::Critical => (15, 24 * 60),
            Severity::High => (60, 3 * 24 * 60),
            Severity::Medium => (4 * 60, 7 * 24 * 60),
            Severity::Low => (24 * 60, 30 * 24 * 60),
        };
        Target { acknowledge_minutes, resolve_minutes }
    }
}

impl Playbook {
    pub fn is_empty(&self) -> bool {
        self == &Playbook::default()
    }

    /// The targets for incidents of `severity`.
    pub fn target(&self, severity: Severity) -> Target {
        self.targets.get(&severity).copied().unwrap_or_else(|| Target::default_for(severity))
    }

    /// Checks what the types cannot, naming the field: ranges, ids, and that each monitor is
    /// complete for its metric.
    pub fn validate(&self) -> Result<(), GovernanceError> {
        let invalid = |field: String, reason: &str| GovernanceError::Invalid { field, reason: reason.to_string() };
        for (i, person) in self.may_pause.iter().enumerate() {
            check_id(&format!("playbook.may_pause[{i}]"), person)?;
        }
        if let Some(c) = self.review.below_confidence
            && !(0.0..=1.0).contains(&c)
        {
            return Err(invalid("playbook.review.below_confidence".into(), "a confidence between 0 and 1"));
        }
        for (i, m) in self.monitors.iter().enumerate() {
            let field = |name: &str| format!("playbook.monitors[{i}].{name}");
            if !m.threshold.is_finite() || !(0.0..=1.0).contains(&m.threshold) {
                return Err(invalid(field("threshold"), "a rate between 0 and 1"));
            }
            if m.window == 0 || m.window > 100_000 {
                return Err(invalid(field("window"), "between 1 and 100000 outcomes"));
            }
            if m.min_count == 0 || m.min_count > m.window {
                return Err(invalid(field("min_count"), "at least 1 and at most the window"));
            }
            match (m.metric, &m.attribute) {
                (Metric::SelectionRateDifference, None) => {
                    return Err(invalid(
                        field("attribute"),
                        "a selection-rate-difference monitor names the sensitive attribute whose groups it compares",
                    ));
                }
                (Metric::ErrorRate, Some(_)) => {
                    return Err(invalid(field("attribute"), "an error-rate monitor takes no attribute"));
                }
                (_, Some(a)) if a.trim().is_empty() || a.len() > 64 => {
                    return Err(invalid(field("attribute"), "an attribute name of 1 to 64 characters"));
                }
                _ => {}
            }
        }
        for (i, c) in self.escalation.iter().enumerate() {
            if c.name.trim().is_empty() || c.reach.trim().is_empty() {
                return Err(invalid(
                    format!("playbook.escalation[{i}]"),
                    "a contact needs a name and how to reach them",
                ));
            }
        }
        for (severity, t) in &self.targets {
            if t.acknowledge_minutes == 0 || t.resolve_minutes < t.acknowledge_minutes {
                return Err(invalid(
                    format!("playbook.targets.{}", severity.as_str()),
                    "acknowledge_minutes at least 1, and resolve_minutes no less than it",
                ));
            }
        }
        Ok(())
    }

    /// The contacts to call for an incident of `severity`.
    pub fn contacts_for(&self, severity: Severity) -> Vec<&Contact> {
        self.escalation.iter().filter(|c| severity >= c.from).collect()
    }
}

/// One way a playbook change weakens human control over its system: fewer decisions go to a
/// human, fewer people may pull the kill switch, or fewer incidents stop the system. Any change
/// to these that is not known to tighten them counts, because the gateway's defaults (which an
/// unset threshold falls back to) are not the playbook's to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Loosening {
    /// The confidence below which a human reviews changed other than upwards (`None`: the
    /// gateway's default).
    ReviewConfidence { from: Option<f64>, to: Option<f64> },
    /// The impact from which a human reviews changed other than downwards.
    ReviewImpact { from: Option<Impact>, to: Option<Impact> },
    /// Fewer people may pause the system (`from` empty: anyone the access policy allows).
    MayPause { from: Vec<String>, to: Vec<String> },
    /// Severities that no longer suspend the system when an incident of theirs is opened.
    SuspendOn { removed: Vec<Severity> },
}

impl Loosening {
    /// What weakened, in Chinese and English, for status lines and reports.
    pub fn describe(&self) -> (String, String) {
        let confidence = |c: &Option<f64>| c.map_or_else(|| "default".to_string(), |c| c.to_string());
        let impact = |i: &Option<Impact>| i.map_or_else(|| "default".to_string(), |i| format!("{i:?}").to_lowercase());
        let people = |p: &Vec<String>| if p.is_empty() { "anyone".to_string() } else { p.join(", ") };
        match self {
            Self::ReviewConfidence { from, to } => (
                format!("人工复核置信度阈值 {} → {}", confidence(from), confidence(to)),
                format!("review below confidence {} → {}", confidence(from), confidence(to)),
            ),
            Self::ReviewImpact { from, to } => (
                format!("人工复核影响阈值 {} → {}", impact(from), impact(to)),
                format!("review at impact {} → {}", impact(from), impact(to)),
            ),
            Self::MayPause { from, to } => (
                format!("可暂停者 {} → {}", people(from), people(to)),
                format!("may pause {} → {}", people(from), people(to)),
            ),
            Self::SuspendOn { removed } => {
                let removed: Vec<&str> = removed.iter().map(|s| s.as_str()).collect();
                (
                    format!("不再自动暂停的事件级别：{}", removed.join(", ")),
                    format!("no longer suspends on incidents of: {}", removed.join(", ")),
                )
            }
        }
    }
}

/// How `after` weakens human control compared with `before` (empty when it does not).
pub fn loosenings(before: &Playbook, after: &Playbook) -> Vec<Loosening> {
    let mut found = Vec::new();
    let (b, a) = (&before.review, &after.review);
    // A higher confidence threshold sends more decisions to a human; anything else loosens.
    let confidence_tightened = matches!((b.below_confidence, a.below_confidence), (Some(x), Some(y)) if y >= x);
    if b.below_confidence != a.below_confidence && !confidence_tightened {
        found.push(Loosening::ReviewConfidence { from: b.below_confidence, to: a.below_confidence });
    }
    // A lower impact threshold sends more decisions to a human.
    let impact_tightened = matches!((b.at_impact, a.at_impact), (Some(x), Some(y)) if y <= x);
    if b.at_impact != a.at_impact && !impact_tightened {
        found.push(Loosening::ReviewImpact { from: b.at_impact, to: a.at_impact });
    }
    // An empty list lets anyone pause; a list that drops someone, or a first list, lets fewer.
    let fewer_may_pause = if before.may_pause.is_empty() {
        !after.may_pause.is_empty()
    } else {
        !after.may_pause.is_empty() && before.may_pause.iter().any(|p| !after.may_pause.contains(p))
    };
    if fewer_may_pause {
        found.push(Loosening::MayPause { from: before.may_pause.clone(), to: after.may_pause.clone() });
    }
    let removed: Vec<Severity> = before.suspend_on.iter().filter(|s| !after.suspend_on.contains(s)).copied().collect();
    if !removed.is_empty() {
        found.push(Loosening::SuspendOn { removed });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Playbook {
        serde_yaml_ng::from_str(yaml).expect("playbook")
    }

    #[test]
    fn a_complete_playbook_parses_and_validates() {
        let p = parse(
            "may_pause: [wang-fang]\nreview: {below_confidence: 0.7, at_impact: medium}\nsuspend_on: [critical]\n\
             monitors:\n  - {metric: selection-rate-difference, attribute: sex, threshold: 0.1, window: 200, min_count: 20, incident: high}\n\
             escalation:\n  - {name: On call, reach: oncall@example.cn, from: high}\n\
             targets:\n  critical: {acknowledge_minutes: 5, resolve_minutes: 60}\n",
        );
        p.validate().expect("valid");
        assert_eq!(p.target(Severity::Critical).acknowledge_minutes, 5);
        assert_eq!(p.target(Severity::Low), Target::default_for(Severity::Low));
        assert_eq!(p.contacts_for(Severity::Medium).len(), 0);
        assert_eq!(p.contacts_for(Severity::Critical).len(), 1);
        assert!(Playbook::default().is_empty() && !p.is_empty());
    }

    #[test]
    fn the_bundled_example_playbook_is_valid() {
        let p = parse(include_str!("../../../examples/credit-scoring/playbook.yaml"));
        p.validate().expect("valid");
        assert_eq!(p.monitors.len(), 2);
        assert_eq!(p.target(Severity::Critical).acknowledge_minutes, 15);
    }

    #[test]
    fn bad_playbooks_name_the_field() {
        let cases = [
            ("review: {below_confidence: 1.5}", "playbook.review.below_confidence"),
            ("monitors: [{metric: selection-rate-difference, threshold: 0.1}]", "playbook.monitors[0].attribute"),
            ("monitors: [{metric: error-rate, threshold: 2}]", "playbook.monitors[0].threshold"),
            (
                "monitors: [{metric: error-rate, threshold: 0.1, window: 10, min_count: 11}]",
                "playbook.monitors[0].min_count",
            ),
            ("targets: {high: {acknowledge_minutes: 60, resolve_minutes: 5}}", "playbook.targets.high"),
            ("may_pause: [Bad Id]", "playbook.may_pause[0]"),
        ];
        for (yaml, field) in cases {
            let err = parse(yaml).validate().expect_err(yaml);
            assert!(err.to_string().contains(field), "{yaml}: {err}");
        }
        assert!(serde_yaml_ng::from_str::<Playbook>("pause: [x]").is_err(), "unknown keys are errors");
    }

    #[test]
    fn weakening_human_control_is_found_and_tightening_is_not() {
        let before = parse(
            "may_pause: [a, b]\nreview: {below_confidence: 0.7, at_impact: medium}\nsuspend_on: [critical, high]\n",
        );
        let tighter = parse(
            "may_pause: [a, b, c]\nreview: {below_confidence: 0.9, at_impact: low}\nsuspend_on: [critical, high, medium]\n",
        );
        assert_eq!(loosenings(&before, &tighter), vec![]);
        let looser = parse("may_pause: [a]\nreview: {below_confidence: 0}\nsuspend_on: [critical]\n");
        let found = loosenings(&before, &looser);
        assert_eq!(
            found,
            vec![
                Loosening::ReviewConfidence { from: Some(0.7), to: Some(0.0) },
                Loosening::ReviewImpact { from: Some(Impact::Medium), to: None },
                Loosening::MayPause { from: vec!["a".into(), "b".into()], to: vec!["a".into()] },
                Loosening::SuspendOn { removed: vec![Severity::High] },
            ]
        );
        // From the gateway's defaults to an explicit threshold cannot be known to tighten.
        let explicit = parse("review: {below_confidence: 0.01}\n");
        assert_eq!(loosenings(&Playbook::default(), &explicit).len(), 1);
        // A first pause list takes the kill switch from everyone else.
        let first = parse("may_pause: [mallory]\n");
        assert!(matches!(loosenings(&Playbook::default(), &first)[..], [Loosening::MayPause { .. }]));
        assert!(found[0].describe().1.contains("0.7 → 0"), "{:?}", found[0].describe());
    }
}
