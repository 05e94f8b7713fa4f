//! Human review of runtime decisions (Art. 3(4): humans keep the final say). A decision the
//! gateway sends to a human becomes a queue item linked to the decision's ledger entry; a
//! reviewer claims it and resolves it with the human outcome, and the ledger entry of the
//! resolution names the decision's index, so an auditor can follow one to the other.
//!
//! Separation of duties, as for sign-offs (Art. 3(5), Art. 7): reviewers are registered people
//! with current ethics training; the accountable owner of a system does not review its
//! decisions; only the person who claimed an item resolves it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::Step;
use crate::registry::Person;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    Open,
    Claimed,
    Resolved,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Claimed => "claimed",
            ReviewStatus::Resolved => "resolved",
        }
    }
}

/// What the human decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HumanOutcome {
    /// The request may go ahead as the model proposed.
    Approve,
    /// The request is refused or the model's output is overridden.
    Reject,
}

/// A decision waiting for (or done with) a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// Assigned by the store.
    pub id: u64,
    pub system: String,
    /// The gateway's decision id.
    pub decision: String,
    /// The ledger index of the decision entry.
    pub decision_index: u64,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Why the gateway sent it to a human (reason codes: `low_confidence`, `high_impact`).
    pub reasons: Vec<String>,
    pub created_at: Timestamp,
    pub status: ReviewStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    pub outcome: HumanOutcome,
    pub note: String,
    pub by: String,
    pub at: Timestamp,
    /// The ledger index of the resolution's entry.
    pub ledger_index: u64,
}

/// A queue item as the gateway hands it over with its decision, before the store numbers it
/// and the ledger indexes the decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReview {
    pub system: String,
    pub decision: String,
    pub subject: String,
    pub purpose: Option<String>,
    pub confidence: Option<f64>,
    pub reasons: Vec<String>,
    pub created_at: Timestamp,
}

impl NewReview {
    pub fn into_item(self, decision_index: u64) -> ReviewItem {
        ReviewItem {
            id: 0,
            system: self.system,
            decision: self.decision,
            decision_index,
            subject: self.subject,
            purpose: self.purpose,
            confidence: self.confidence,
            reasons: self.reasons,
            created_at: self.created_at,
            status: ReviewStatus::Open,
            claimed_by: None,
            claimed_at: None,
            resolution: None,
        }
    }
}

impl ReviewItem {
    /// Claims the item for `reviewer`. A claimed item may be claimed again only by the same
    /// person (idempotent); nobody claims a resolved one.
    pub fn claim(&mut self, reviewer: &Person, owner: &str, at: Timestamp) -> Result<(), GovernanceError> {
        check_reviewer(reviewer, owner, &self.system, at)?;
        match (self.status, &self.claimed_by) {
            (ReviewStatus::Resolved, _) => {
                Err(GovernanceError::Refused { reason: format!("review {} is already resolved", self.id) })
            }
            (ReviewStatus::Claimed, Some(by)) if by != &reviewer.id => Err(GovernanceError::Refused {
                reason: format!("review {} is claimed by {by}; only they may work on it", self.id),
            }),
            _ => {
                self.status = ReviewStatus::Claimed;
                self.claimed_by = Some(reviewer.id.clone());
                self.claimed_at.get_or_insert(at);
                Ok(())
            }
        }
    }

    /// Resolves the item with the human outcome. The reviewer must have claimed it.
    pub fn resolve(
        &mut self,
        reviewer: &Person,
        owner: &str,
        outcome: HumanOutcome,
        note: &str,
        at: Timestamp,
    ) -> Result<(), GovernanceError> {
        check_reviewer(reviewer, owner, &self.system, at)?;
        match (self.status, &self.claimed_by) {
            (ReviewStatus::Resolved, _) => {
                return Err(GovernanceError::Refused { reason: format!("review {} is already resolved", self.id) });
            }
            (ReviewStatus::Claimed, Some(by)) if by == &reviewer.id => {}
            (ReviewStatus::Claimed, Some(by)) => {
                return Err(GovernanceError::Refused {
                    reason: format!("review {} is claimed by {by}; only they may resolve it", self.id),
                });
            }
            _ => {
                return Err(GovernanceError::Blocked {
                    reason: format!("review {} is not claimed", self.id),
                    next: Step::ClaimReview { id: self.id },
                });
            }
        }
        if outcome == HumanOutcome::Reject && note.trim().is_empty() {
            return Err(GovernanceError::Invalid {
                field: "note".into(),
                reason: "say why the model's proposal is rejected; the subject is owed an explanation".into(),
            });
        }
        self.status = ReviewStatus::Resolved;
        self.resolution =
            Some(Resolution { outcome, note: note.trim().to_string(), by: reviewer.id.clone(), at, ledger_index: 0 });
        Ok(())
    }
}

fn check_reviewer(reviewer: &Person, owner: &str, system: &str, at: Timestamp) -> Result<(), GovernanceError> {
    if reviewer.id == owner {
        return Err(GovernanceError::Refused {
            reason: format!(
                "{} is the accountable owner of {system} and may not review its decisions; another person must",
                reviewer.id
            ),
        });
    }
    let today = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    if !reviewer.training.iter().any(|t| t.expires >= today) {
        return Err(GovernanceError::Blocked {
            reason: format!("{} has no current ethics training (Art. 22)", reviewer.id),
            next: Step::RecordTraining { person: reviewer.id.clone() },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Training;
    use jiff::civil::Date;

    fn person(id: &str, expires: Date) -> Person {
        Person {
            id: id.into(),
            name: id.into(),
            email: None,
            roles: vec![],
            training: vec![Training { course: "ethics".into(), completed: Date::constant(2026, 1, 1), expires }],
        }
    }

    fn item() -> ReviewItem {
        NewReview {
            system: "s".into(),
            decision: "d-1".into(),
            subject: "u".into(),
            purpose: None,
            confidence: Some(0.2),
            reasons: vec!["low_confidence".into()],
            created_at: Timestamp::UNIX_EPOCH,
        }
        .into_item(7)
    }

    fn at() -> Timestamp {
        "2026-06-01T00:00:00Z".parse().expect("time")
    }

    #[test]
    fn only_the_claimer_resolves_and_owners_and_untrained_people_do_not_review() {
        let ok = Date::constant(2027, 1, 1);
        let mut i = item();
        let err = i.resolve(&person("a", ok), "o", HumanOutcome::Approve, "", at()).expect_err("unclaimed");
        assert!(err.to_string().contains("claim review"), "{err}");
        assert!(i.claim(&person("o", ok), "o", at()).expect_err("owner").to_string().contains("owner"));
        let lapsed = person("b", Date::constant(2026, 1, 2));
        assert!(i.claim(&lapsed, "o", at()).expect_err("lapsed").to_string().contains("training"));
        i.claim(&person("a", ok), "o", at()).expect("claim");
        assert!(i.claim(&person("c", ok), "o", at()).is_err());
        assert!(i.resolve(&person("c", ok), "o", HumanOutcome::Approve, "", at()).is_err());
        let err = i.resolve(&person("a", ok), "o", HumanOutcome::Reject, " ", at()).expect_err("no note");
        assert!(err.to_string().contains("note"), "{err}");
        i.resolve(&person("a", ok), "o", HumanOutcome::Reject, "income not verified", at()).expect("resolve");
        assert_eq!(i.status, ReviewStatus::Resolved);
        assert!(i.resolve(&person("a", ok), "o", HumanOutcome::Approve, "", at()).is_err());
    }
}
