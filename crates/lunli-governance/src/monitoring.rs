//! Early warning (Art. 8, Art. 13, Art. 17): products report what became of their decisions —
//! whether the outcome was favourable to the person, whether it was an error, and the person's
//! groups for the sensitive attributes the system declares. lunli keeps rolling rates over the
//! most recent outcomes, per system and per group, and raises an alert when a rate crosses the
//! threshold in the system's playbook — when it crosses, not before, and once until it falls
//! back.
//!
//! The rates are pure functions of the outcomes ([`evaluate`]); storing the outcomes and
//! alerts, and opening incidents, is the governance service's work.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::playbook::{Metric, Monitor};

/// What became of one decision, as the product reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeReport {
    /// Filled from the request path or body.
    #[serde(default)]
    pub system: String,
    /// The gateway decision id, when the product kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// Group of the person for each declared sensitive attribute, e.g. `{sex: female}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
    /// Whether the outcome was the favourable one (a loan granted, a post kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<bool>,
    /// Whether the decision turned out wrong (a complaint upheld, a human overturned it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<bool>,
    /// When the outcome was reported; set by lunli.
    #[serde(default = "epoch")]
    pub at: Timestamp,
}

fn epoch() -> Timestamp {
    Timestamp::UNIX_EPOCH
}

impl OutcomeReport {
    pub fn validate(&self, index: usize) -> Result<(), GovernanceError> {
        let field = |name: &str| format!("outcomes[{index}].{name}");
        if self.selected.is_none() && self.error.is_none() {
            return Err(GovernanceError::Invalid {
                field: field("selected"),
                reason: "report `selected`, `error` or both; an outcome with neither tells nothing".into(),
            });
        }
        if self.groups.len() > 16 {
            return Err(GovernanceError::Invalid { field: field("groups"), reason: "at most 16 attributes".into() });
        }
        for (k, v) in &self.groups {
            if k.is_empty() || k.len() > 64 || v.is_empty() || v.len() > 64 {
                return Err(GovernanceError::Invalid {
                    field: field("groups"),
                    reason: format!("attribute names and groups are 1 to 64 bytes (`{k}`: `{v}`)"),
                });
            }
        }
        if self.decision.as_ref().is_some_and(|d| d.len() > 100) {
            return Err(GovernanceError::Invalid { field: field("decision"), reason: "at most 100 bytes".into() });
        }
        Ok(())
    }
}

/// A rate within one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupRate {
    pub count: u64,
    pub rate: f64,
}

/// A monitor's value over the current window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Outcomes in the window that carry what the metric needs.
    pub count: u64,
    /// `None` while there are too few outcomes to tell.
    pub value: Option<f64>,
    pub threshold: f64,
    /// Per group, for a selection-rate difference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupRate>,
}

impl Reading {
    /// Whether the rate is beyond the threshold. Equal is within, and so is a difference that
    /// exceeds it only by floating-point rounding (0.8 − 0.5 is 0.30000000000000004).
    pub fn breached(&self) -> bool {
        self.value.is_some_and(|v| v > self.threshold + 1e-12)
    }
}

/// The monitor's reading over `outcomes` (oldest first): the most recent `window` of them.
pub fn evaluate(monitor: &Monitor, outcomes: &[OutcomeReport]) -> Reading {
    let recent = &outcomes[outcomes.len().saturating_sub(monitor.window as usize)..];
    let min = u64::from(monitor.min_count);
    let mut reading = Reading {
        metric: monitor.metric,
        attribute: monitor.attribute.clone(),
        count: 0,
        value: None,
        threshold: monitor.threshold,
        groups: BTreeMap::new(),
    };
    match monitor.metric {
        Metric::ErrorRate => {
            let (mut n, mut errors) = (0u64, 0u64);
            for e in recent.iter().filter_map(|o| o.error) {
                n += 1;
                errors += u64::from(e);
            }
            reading.count = n;
            if n >= min {
                reading.value = Some(errors as f64 / n as f64);
            }
        }
        Metric::SelectionRateDifference => {
            let attribute = monitor.attribute.as_deref().unwrap_or_default();
            let mut tally: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for o in recent {
                if let (Some(selected), Some(group)) = (o.selected, o.groups.get(attribute)) {
                    let t = tally.entry(group.as_str()).or_default();
                    t.0 += 1;
                    t.1 += u64::from(selected);
                }
            }
            reading.count = tally.values().map(|t| t.0).sum();
            reading.groups = tally
                .iter()
                .map(|(g, &(n, s))| (g.to_string(), GroupRate { count: n, rate: s as f64 / n as f64 }))
                .collect();
            // Only groups with enough outcomes are compared; two are needed for a difference.
            let rates: Vec<f64> = reading.groups.values().filter(|g| g.count >= min).map(|g| g.rate).collect();
            if rates.len() >= 2 {
                let max = rates.iter().copied().fold(f64::MIN, f64::max);
                let min = rates.iter().copied().fold(f64::MAX, f64::min);
                reading.value = Some(max - min);
            }
        }
    }
    reading
}

/// An early warning: a monitor's rate crossed its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Assigned by the store.
    pub id: u64,
    pub system: String,
    /// The monitor's position in the playbook.
    pub monitor: usize,
    pub reading: Reading,
    pub raised_at: Timestamp,
    /// The incident opened with it, when the monitor asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// When the rate fell back within the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(group: &str, selected: bool) -> OutcomeReport {
        OutcomeReport {
            system: "s".into(),
            decision: None,
            groups: [("sex".to_string(), group.to_string())].into(),
            selected: Some(selected),
            error: Some(!selected),
            at: Timestamp::UNIX_EPOCH,
        }
    }

    fn monitor(metric: Metric, threshold: f64) -> Monitor {
        Monitor {
            metric,
            attribute: (metric == Metric::SelectionRateDifference).then(|| "sex".into()),
            threshold,
            window: 100,
            min_count: 10,
            incident: None,
        }
    }

    #[test]
    fn selection_rate_difference_is_max_minus_min_over_groups_with_enough_outcomes() {
        let mut outcomes = Vec::new();
        // 8 of 10 women and 5 of 10 men selected; 1 of 3 "other" (too few to compare).
        for i in 0..10 {
            outcomes.push(outcome("f", i < 8));
            outcomes.push(outcome("m", i < 5));
        }
        for i in 0..3 {
            outcomes.push(outcome("x", i < 1));
        }
        let r = evaluate(&monitor(Metric::SelectionRateDifference, 0.3), &outcomes);
        assert!((r.value.expect("value") - 0.3).abs() < 1e-12);
        assert!(!r.breached(), "equal to the threshold is within it");
        assert_eq!(r.groups["x"].count, 3);
        let r = evaluate(&monitor(Metric::SelectionRateDifference, 0.29), &outcomes);
        assert!(r.breached());
        // Too few per group: no value at all.
        assert_eq!(evaluate(&monitor(Metric::SelectionRateDifference, 0.0), &outcomes[..10]).value, None);
    }

    #[test]
    fn error_rate_counts_only_the_window() {
        let mut outcomes: Vec<OutcomeReport> = (0..100).map(|_| outcome("f", false)).collect();
        outcomes.extend((0..100).map(|_| outcome("f", true)));
        let r = evaluate(&monitor(Metric::ErrorRate, 0.1), &outcomes);
        assert_eq!((r.count, r.value), (100, Some(0.0)), "the 100 errors fell out of the window");
        let r = evaluate(&monitor(Metric::ErrorRate, 0.1), &outcomes[50..150]);
        assert_eq!(r.value, Some(0.5));
        assert!(r.breached());
    }

    #[test]
    fn an_outcome_must_say_something() {
        let mut o = outcome("f", true);
        o.selected = None;
        o.error = None;
        assert!(o.validate(3).expect_err("empty").to_string().contains("outcomes[3].selected"));
    }
}
