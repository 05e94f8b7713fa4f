//! Assessments: for one version of a system, the controls its tier requires, their status and
//! evidence, and the sign-offs by named people. The approval rules live here as pure functions
//! of the assessment, the people involved and the time given.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use lunli_norms::Tier;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::Step;
use crate::registry::Person;

/// Where a control stands in an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    NotStarted,
    InProgress,
    Met,
    NotMet,
    /// Does not apply to this system; only with a written justification.
    NotApplicable,
}

impl ControlStatus {
    pub const ALL: [ControlStatus; 5] =
        [Self::NotStarted, Self::InProgress, Self::Met, Self::NotMet, Self::NotApplicable];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::InProgress => "in-progress",
            Self::Met => "met",
            Self::NotMet => "not-met",
            Self::NotApplicable => "not-applicable",
        }
    }

    pub fn name(self) -> lunli_norms::Text {
        let (zh, en) = match self {
            Self::NotStarted => ("未开始", "not started"),
            Self::InProgress => ("进行中", "in progress"),
            Self::Met => ("已满足", "met"),
            Self::NotMet => ("未满足", "not met"),
            Self::NotApplicable => ("不适用", "not applicable"),
        };
        lunli_norms::Text { zh: zh.into(), en: en.into() }
    }

    /// Met, or justified as not applicable: nothing left to do.
    pub fn is_resolved(self) -> bool {
        matches!(self, Self::Met | Self::NotApplicable)
    }
}

impl std::str::FromStr for ControlStatus {
    type Err = GovernanceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| GovernanceError::Invalid {
            field: "status".into(),
            reason: format!(
                "`{s}` is not a control status; expected one of: {}",
                Self::ALL.map(|v| v.as_str()).join(", ")
            ),
        })
    }
}

/// What backs a control: the file's fingerprint, a link, a person's statement, or an audit run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EvidenceItem {
    /// A file recorded by content: whoever holds the file can prove it is the one recorded.
    File {
        name: String,
        sha256: String,
        size: u64,
    },
    Link {
        url: String,
    },
    Attestation {
        text: String,
    },
    /// A lunli audit's result (fairness, quality, personal information).
    Audit {
        audit: String,
        passed: bool,
        summary: serde_json::Value,
    },
}

/// The URL schemes a link may be followed by: web pages and mail.
const LINK_SCHEMES: [&str; 3] = ["http://", "https://", "mailto:"];

/// Whether a link given as evidence may be rendered as one a reader can follow (`<a href>`): only
/// `http:`, `https:` and `mailto:`. Anything else — `javascript:`, `data:`, `vbscript:`, `file:`, a
/// relative or scheme-less link, one with control characters a browser would strip — is shown as
/// inert text, because evidence URLs are typed by people and a report or the dashboard must not
/// run or open whatever they name (a page's CSP is a second line, not the rule).
pub fn is_safe_link(url: &str) -> bool {
    // Browsers drop tabs and newlines inside a URL (`java\tscript:` is `javascript:`) and strip
    // leading control characters; refusing any control character keeps the check simple.
    if url.chars().any(char::is_control) {
        return false;
    }
    let head: String = url.chars().take(8).collect::<String>().to_ascii_lowercase();
    LINK_SCHEMES.iter().any(|scheme| head.starts_with(scheme))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: u32,
    pub item: EvidenceItem,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// One change to a control, kept so the assessment shows its own history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlChange {
    pub status: ControlStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    pub by: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlState {
    pub control: String,
    pub status: ControlStatus,
    /// Required when the status is not-applicable.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub history: Vec<ControlChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub role: String,
    pub person: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The assessment of one system version against the controls its tier requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub id: u64,
    pub system: String,
    pub version: u32,
    pub tier: Tier,
    /// The rule set that produced the tier, so a later rule change cannot silently re-tier it.
    pub ruleset_version: String,
    pub ruleset_digest: String,
    /// Sign-off roles the tier requires.
    pub required_roles: Vec<String>,
    /// Months until re-review after approval (none for a prohibited system).
    pub review_months: Option<u32>,
    pub controls: Vec<ControlState>,
    pub created_by: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    #[serde(default)]
    pub signoffs: Vec<SignOff>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<Timestamp>,
    /// The norm packs (Art. 24) layered over the catalogue when the assessment was opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<lunli_norms::PackRef>,
}

/// Where an assessment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Approval {
    /// Prohibited (Art. 20): can never be approved.
    Blocked,
    /// Work remains: controls to resolve, roles to sign.
    Open {
        unresolved_controls: Vec<String>,
        missing_roles: Vec<String>,
        submitted: bool,
    },
    Approved {
        at: Timestamp,
        review_due: Option<Date>,
    },
}

impl Assessment {
    pub fn control(&self, id: &str) -> Option<&ControlState> {
        self.controls.iter().find(|c| c.control.eq_ignore_ascii_case(id))
    }

    pub fn control_mut(&mut self, id: &str) -> Result<&mut ControlState, GovernanceError> {
        let system = self.system.clone();
        self.controls.iter_mut().find(|c| c.control.eq_ignore_ascii_case(id)).ok_or_else(|| GovernanceError::NotFound {
            what: "control in this assessment",
            id: id.to_string(),
            hint: format!("the assessment of {system} lists the controls its tier requires"),
        })
    }

    pub fn unresolved_controls(&self) -> Vec<String> {
        self.controls.iter().filter(|c| !c.status.is_resolved()).map(|c| c.control.clone()).collect()
    }

    pub fn missing_roles(&self) -> Vec<String> {
        self.required_roles.iter().filter(|r| !self.signoffs.iter().any(|s| &s.role == *r)).cloned().collect()
    }

    pub fn approval(&self) -> Approval {
        if self.tier == Tier::Prohibited {
            return Approval::Blocked;
        }
        match self.approved_at {
            Some(at) => Approval::Approved { at, review_due: self.review_due() },
            None => Approval::Open {
                unresolved_controls: self.unresolved_controls(),
                missing_roles: self.missing_roles(),
                submitted: self.submitted_by.is_some(),
            },
        }
    }

    /// When the approved assessment must be reviewed again (Art. 5 agile governance, Art. 8
    /// timely risk evaluation): approval date plus the tier's review period.
    pub fn review_due(&self) -> Option<Date> {
        let approved = self.approved_at?;
        let months = self.review_months?;
        let date = approved.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        date.checked_add(i64::from(months).months()).ok()
    }

    pub fn is_overdue(&self, today: Date) -> bool {
        self.review_due().is_some_and(|due| due < today)
    }

    /// Records a status change. Controls are frozen once submitted: reopen to change them, so
    /// sign-offs always attest the state they saw.
    pub fn set_status(
        &mut self,
        control: &str,
        status: ControlStatus,
        justification: &str,
        comment: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<(), GovernanceError> {
        self.ensure_editable()?;
        if status == ControlStatus::NotApplicable && justification.trim().is_empty() {
            return Err(GovernanceError::Refused {
                reason: format!("marking {control} not applicable needs a written justification (--justification)"),
            });
        }
        let state = self.control_mut(control)?;
        state.status = status;
        state.justification =
            if status == ControlStatus::NotApplicable { justification.trim().to_string() } else { String::new() };
        state.history.push(ControlChange { status, comment: comment.to_string(), by: by.to_string(), at });
        Ok(())
    }

    /// Attaches evidence to a control and returns its id within the assessment.
    pub fn add_evidence(
        &mut self,
        control: &str,
        item: EvidenceItem,
        note: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<u32, GovernanceError> {
        self.ensure_editable()?;
        let next = self.controls.iter().flat_map(|c| &c.evidence).map(|e| e.id).max().unwrap_or(0) + 1;
        let state = self.control_mut(control)?;
        state.evidence.push(Evidence {
            id: next,
            item,
            note: note.to_string(),
            added_by: by.to_string(),
            added_at: at,
        });
        Ok(next)
    }

    /// Hands the assessment to its reviewers. Everything must be resolved first: reviewers sign
    /// a finished piece of work.
    pub fn submit(&mut self, by: &str, at: Timestamp) -> Result<(), GovernanceError> {
        if self.tier == Tier::Prohibited {
            return Err(prohibited());
        }
        self.ensure_editable()?;
        let unresolved = self.unresolved_controls();
        if !unresolved.is_empty() {
            return Err(GovernanceError::Refused {
                reason: format!(
                    "{} required control(s) are neither met nor justified as not applicable: {}",
                    unresolved.len(),
                    unresolved.join(", ")
                ),
            });
        }
        self.submitted_by = Some(by.to_string());
        self.submitted_at = Some(at);
        Ok(())
    }

    /// Withdraws a submission so controls can change again; every sign-off lapses with it.
    pub fn reopen(&mut self) -> Result<Vec<SignOff>, GovernanceError> {
        if self.submitted_by.is_none() {
            return Err(GovernanceError::Refused {
                reason: "the assessment is not submitted, nothing to reopen".into(),
            });
        }
        self.submitted_by = None;
        self.submitted_at = None;
        self.approved_at = None;
        Ok(std::mem::take(&mut self.signoffs))
    }

    /// Records a sign-off, enforcing separation of duties (Art. 3(5), Art. 7): the signer holds
    /// the role, has current ethics training, did not submit the assessment, and fills no other
    /// role on it. Returns true when this sign-off completes the approval.
    pub fn sign(&mut self, person: &Person, role: &str, note: &str, at: Timestamp) -> Result<bool, GovernanceError> {
        if self.tier == Tier::Prohibited {
            return Err(prohibited());
        }
        let refuse = |reason: String| Err(GovernanceError::Refused { reason });
        let Some(submitter) = &self.submitted_by else {
            return Err(GovernanceError::Blocked {
                reason: "the assessment has not been submitted for sign-off yet".into(),
                next: Step::Submit { system: self.system.clone() },
            });
        };
        if self.approved_at.is_some() {
            return refuse("the assessment is already approved".into());
        }
        if !self.required_roles.iter().any(|r| r == role) {
            return refuse(format!(
                "a {} assessment needs sign-off from: {}; `{role}` is not one of them",
                self.tier,
                self.required_roles.join(", ")
            ));
        }
        if let Some(existing) = self.signoffs.iter().find(|s| s.role == role) {
            return refuse(format!("role {role} was already signed by {} at {}", existing.person, existing.at));
        }
        if &person.id == submitter {
            return refuse(format!(
                "{} submitted this assessment and cannot sign it off (Art. 3(5), Art. 7: no one approves their own submission)",
                person.id
            ));
        }
        if let Some(other) = self.signoffs.iter().find(|s| s.person == person.id) {
            return refuse(format!(
                "{} already signed as {}; one person cannot fill two roles on one assessment",
                person.id, other.role
            ));
        }
        if !person.roles.iter().any(|r| r == role) {
            return refuse(format!("{} does not hold the role {role} (holds: {})", person.id, person.roles.join(", ")));
        }
        let today = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        if person.training_valid_on(today).is_none() {
            let lapsed = person.training.iter().filter(|t| t.expires < today).map(|t| t.expires).max();
            let pending = person.training.iter().filter(|t| t.completed > today).map(|t| t.completed).min();
            return refuse(match (lapsed, pending) {
                (Some(expired), _) => format!(
                    "{}'s ethics training lapsed on {expired}; renew it before signing off (Art. 3(6), Art. 22)",
                    person.id
                ),
                (None, Some(completed)) => format!(
                    "{}'s ethics training is recorded as completed on {completed}, after this sign-off (Art. 3(6), Art. 22)",
                    person.id
                ),
                (None, None) => format!("{} has no ethics training on record (Art. 3(6), Art. 22)", person.id),
            });
        }
        self.signoffs.push(SignOff { role: role.to_string(), person: person.id.clone(), at, note: note.to_string() });
        if self.missing_roles().is_empty() && self.unresolved_controls().is_empty() {
            self.approved_at = Some(at);
            return Ok(true);
        }
        Ok(false)
    }

    fn ensure_editable(&self) -> Result<(), GovernanceError> {
        if self.tier == Tier::Prohibited {
            return Err(prohibited());
        }
        if self.submitted_by.is_some() {
            return Err(GovernanceError::Blocked {
                reason: "the assessment is submitted for sign-off".into(),
                next: Step::Reopen { system: self.system.clone() },
            });
        }
        Ok(())
    }
}

fn prohibited() -> GovernanceError {
    GovernanceError::Refused {
        reason: "the system is tiered prohibited (Art. 20): it is blocked and cannot be assessed or approved".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_safe_link;

    #[test]
    fn only_web_and_mail_links_are_safe() {
        for safe in ["https://example.org/dpia.pdf", "HTTP://intranet/policy", "mailto:dpo@example.org"] {
            assert!(is_safe_link(safe), "{safe}");
        }
        for unsafe_link in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "\u{1}https://example.org",
            "https://example.org/\nx",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "//evil.example/x",
            "docs/dpia.pdf",
            "https:",
            "",
        ] {
            assert!(!is_safe_link(unsafe_link), "{unsafe_link:?}");
        }
    }
}
