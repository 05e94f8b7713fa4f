//! Oversight records for the list tests (paging), made directly rather than through the
//! workflows that open them, so a test can have many in any status.

use jiff::Timestamp;
use lunli_governance::incident::{Incident, IncidentStatus, NewIncident, Severity};
use lunli_governance::monitoring::{Alert, Reading};
use lunli_governance::playbook::{Metric, Playbook};
use lunli_governance::review::{NewReview, ReviewItem, ReviewStatus};

pub fn at() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().expect("timestamp")
}

/// The review item of decision `d-<n>` (ledger entry `n`) of `system`.
pub fn review(n: u64, system: &str, status: ReviewStatus) -> ReviewItem {
    let new = NewReview {
        system: system.into(),
        decision: format!("d-{n}"),
        subject: "u".into(),
        purpose: None,
        confidence: Some(0.1),
        reasons: vec!["low_confidence".into()],
        created_at: at(),
    };
    ReviewItem { status, ..new.into_item(n) }
}

/// Incident `n` of `system`, opened by `op` for `owner` with the default playbook's targets.
pub fn incident(n: u64, system: &str, severity: Severity, status: IncidentStatus) -> Incident {
    let new = NewIncident {
        system: system.into(),
        title: format!("incident {n}"),
        description: String::new(),
        severity,
        owner: None,
        decisions: vec![],
        controls: vec![],
        feedback: None,
    };
    let target = Playbook::default().target(severity);
    Incident { status, ..Incident::open(new, "owner".into(), "op", "manual".into(), target, at()) }
}

/// An error-rate alert of `system`.
pub fn alert(system: &str) -> Alert {
    let reading = Reading {
        metric: Metric::ErrorRate,
        attribute: None,
        count: 10,
        value: Some(0.5),
        threshold: 0.1,
        groups: Default::default(),
    };
    Alert { id: 0, system: system.into(), monitor: 0, reading, raised_at: at(), incident: None, cleared_at: None }
}
