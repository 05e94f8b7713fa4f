//! Incidents (Art. 17: prevent systemic failures, respond in time; Art. 21: users report
//! flaws): something went wrong with a system, with a severity, an accountable owner, targets to
//! acknowledge and resolve it by, its status changes, and links to the decisions and controls
//! it concerns. Whether one is overdue is a pure function of the incident and the time.
//!
//! Also here: feedback from the public, which may become an incident.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::playbook::Target;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Severity::Low => "低",
            Severity::Medium => "中",
            Severity::High => "高",
            Severity::Critical => "严重",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl IncidentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Open => "open",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Resolved => "resolved",
        }
    }
}

/// One status change, for the incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: IncidentStatus,
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Assigned by the store.
    pub id: u64,
    pub system: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub severity: Severity,
    /// The person accountable for resolving it (the system's owner unless named).
    pub owner: String,
    pub status: IncidentStatus,
    pub opened_by: String,
    pub opened_at: Timestamp,
    pub acknowledge_by: Timestamp,
    pub resolve_by: Timestamp,
    /// Gateway decision ids it concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<String>,
    /// Control ids it concerns (e.g. the runtime guard that failed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
    /// Where it came from: `manual`, `alert:<id>`, `feedback:<id>`.
    pub source: String,
    pub history: Vec<StatusChange>,
    /// Whether opening it suspended the system (the playbook's `suspend_on`).
    #[serde(default)]
    pub suspended_system: bool,
}

/// Which target an incident has missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overdue {
    Acknowledge,
    Resolve,
}

/// What is asked when opening an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub system: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub severity: Severity,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub decisions: Vec<String>,
    #[serde(default)]
    pub controls: Vec<String>,
    /// The feedback that raised it (Art. 17: feedback is answered by action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<u64>,
}

impl NewIncident {
    pub fn validate(&self) -> Result<(), GovernanceError> {
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            return Err(GovernanceError::Invalid { field: "title".into(), reason: "1 to 200 characters".into() });
        }
        if self.description.chars().count() > 10_000 {
            return Err(GovernanceError::Invalid {
                field: "description".into(),
                reason: "at most 10000 characters".into(),
            });
        }
        Ok(())
    }
}

fn minutes(m: u32) -> SignedDuration {
    SignedDuration::from_mins(i64::from(m))
}

impl Incident {
    pub fn open(new: NewIncident, owner: String, by: &str, source: String, target: Target, at: Timestamp) -> Self {
        Incident {
            id: 0,
            system: new.system,
            title: new.title.trim().to_string(),
            description: new.description.trim().to_string(),
            severity: new.severity,
            owner,
            status: IncidentStatus::Open,
            opened_by: by.to_string(),
            opened_at: at,
            acknowledge_by: at.saturating_add(minutes(target.acknowledge_minutes)).unwrap_or(at),
            resolve_by: at.saturating_add(minutes(target.resolve_minutes)).unwrap_or(at),
            decisions: new.decisions,
            controls: new.controls,
            source,
            history: vec![StatusChange { status: IncidentStatus::Open, by: by.to_string(), at, note: String::new() }],
            suspended_system: false,
        }
    }

    /// The target missed at `now`, if any: acknowledgement first, then resolution.
    pub fn overdue(&self, now: Timestamp) -> Option<Overdue> {
        match self.status {
            IncidentStatus::Resolved => None,
            IncidentStatus::Open if now > self.acknowledge_by => Some(Overdue::Acknowledge),
            _ if now > self.resolve_by => Some(Overdue::Resolve),
            _ => None,
        }
    }

    pub fn acknowledge(&mut self, by: &str, note: &str, at: Timestamp) -> Result<(), GovernanceError> {
        if self.status != IncidentStatus::Open {
            return Err(GovernanceError::Refused {
                reason: format!("incident {} is {}, not open", self.id, self.status.as_str()),
            });
        }
        self.change(IncidentStatus::Acknowledged, by, note, at);
        Ok(())
    }

    /// Resolves the incident with what was done. An incident that suspended its system is not
    /// resolved by whoever opened it alone: four eyes before the way back to service (Art. 3(5)).
    pub fn resolve(&mut self, by: &str, note: &str, at: Timestamp) -> Result<(), GovernanceError> {
        if self.status == IncidentStatus::Resolved {
            return Err(GovernanceError::Refused { reason: format!("incident {} is already resolved", self.id) });
        }
        if note.trim().is_empty() {
            return Err(GovernanceError::Invalid {
                field: "note".into(),
                reason: "say what was found and done; the resolution is the record".into(),
            });
        }
        if self.suspended_system && by == self.opened_by {
            return Err(GovernanceError::Refused {
                reason: format!(
                    "{by} opened incident {} that suspended {}; another person must resolve it",
                    self.id, self.system
                ),
            });
        }
        self.change(IncidentStatus::Resolved, by, note, at);
        Ok(())
    }

    fn change(&mut self, status: IncidentStatus, by: &str, note: &str, at: Timestamp) {
        self.status = status;
        self.history.push(StatusChange { status, by: by.to_string(), at, note: note.trim().to_string() });
    }
}

/// What a member of the public tells about a system (Art. 17, Art. 21).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Assigned by the store.
    pub id: u64,
    pub system: String,
    pub kind: FeedbackKind,
    pub message: String,
    /// The gateway decision it is about, if the person has its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// How to answer them, if they want an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedbackKind {
    /// The answer was wrong.
    Error,
    /// Treated unfairly.
    Unfair,
    /// A flaw or risk in the system (Art. 21).
    Flaw,
    Complaint,
    Other,
}

impl Feedback {
    pub fn validate(&self) -> Result<(), GovernanceError> {
        let n = self.message.chars().count();
        if self.message.trim().is_empty() || n > 4000 {
            return Err(GovernanceError::Invalid {
                field: "message".into(),
                reason: format!("1 to 4000 characters (got {n})"),
            });
        }
        if self.contact.as_ref().is_some_and(|c| c.chars().count() > 200) {
            return Err(GovernanceError::Invalid { field: "contact".into(), reason: "at most 200 characters".into() });
        }
        if self.decision.as_ref().is_some_and(|d| d.len() > 100) {
            return Err(GovernanceError::Invalid { field: "decision".into(), reason: "at most 100 characters".into() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    fn incident() -> Incident {
        let new = NewIncident {
            system: "s".into(),
            title: "wrong denials".into(),
            description: String::new(),
            severity: Severity::High,
            owner: None,
            decisions: vec![],
            controls: vec![],
            feedback: None,
        };
        let target = Target { acknowledge_minutes: 60, resolve_minutes: 600 };
        Incident::open(new, "o".into(), "a", "manual".into(), target, at("2026-06-01T00:00:00Z"))
    }

    #[test]
    fn an_incident_is_overdue_past_its_targets_and_not_before() {
        let mut i = incident();
        assert_eq!(i.overdue(at("2026-06-01T01:00:00Z")), None, "exactly at the target is on time");
        assert_eq!(i.overdue(at("2026-06-01T01:00:01Z")), Some(Overdue::Acknowledge));
        i.acknowledge("o", "", at("2026-06-01T01:30:00Z")).expect("ack");
        assert_eq!(i.overdue(at("2026-06-01T09:00:00Z")), None);
        assert_eq!(i.overdue(at("2026-06-01T10:00:01Z")), Some(Overdue::Resolve));
        assert!(i.acknowledge("o", "", at("2026-06-01T02:00:00Z")).is_err());
        assert!(i.resolve("o", "", at("2026-06-01T02:00:00Z")).is_err(), "a resolution needs a note");
        i.resolve("o", "rolled back model v3", at("2026-06-01T11:00:00Z")).expect("resolve");
        assert_eq!(i.overdue(at("2027-01-01T00:00:00Z")), None);
        assert_eq!(i.history.len(), 3);
    }

    #[test]
    fn an_incident_that_suspended_its_system_needs_a_second_person_to_resolve() {
        let mut i = incident();
        i.suspended_system = true;
        assert!(i.resolve("a", "fixed", at("2026-06-01T00:10:00Z")).is_err());
        i.resolve("b", "fixed", at("2026-06-01T00:10:00Z")).expect("another person");
    }
}
