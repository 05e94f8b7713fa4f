//! The runtime oversight workflows — playbooks, the human review queue, incidents, public
//! feedback, reported outcomes and their alerts — each one unit of work on the store together
//! with its ledger entries.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{existing_person, existing_system, not_found};
use crate::Governance;
use crate::GovernanceError;
use crate::actor::Actor;
use crate::incident::{Feedback, Incident, IncidentStatus, NewIncident, Overdue};
use crate::ledger_event::{LedgerEvent, PendingEvent, record};
use crate::monitoring::{self, Alert, OutcomeReport, Reading};
use crate::playbook::{Loosening, Playbook};
use crate::registry::System;
use crate::review::{HumanOutcome, NewReview, ReviewItem, ReviewStatus};
use crate::runtime::Suspension;
use crate::store::{IncidentFilter, Keyset, PendingWork, ReviewFilter, Store, SystemVersion, Tx};

/// Who the ledger names when the playbook acts by itself (an automatic suspension).
pub const PLAYBOOK_ACTOR: &str = "lunli:playbook";

/// An incident with whether it is overdue now, for lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRow {
    #[serde(flatten)]
    pub incident: Incident,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue: Option<Overdue>,
}

/// One page of a list and the id to continue after, `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<u64>,
}

impl<T> Page<T> {
    /// Reads `limit + 1` records with `read`, so that whether another page follows is known
    /// without a second query; keeps `limit` of them.
    fn read(
        after: u64,
        limit: u32,
        read: impl FnOnce(Keyset) -> Result<Vec<T>, GovernanceError>,
        id: impl Fn(&T) -> u64,
    ) -> Result<Self, GovernanceError> {
        // A cursor past every id a store can give reads from the end: an empty page.
        let mut items = read(Keyset { after: after.min(MAX_ID), limit: limit.saturating_add(1) })?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more { items.last().map(&id) } else { None };
        Ok(Self { items, next })
    }
}

/// The two steps an open incident goes through (Art. 17): acknowledged, then resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentStep {
    Acknowledge,
    Resolve,
}

impl IncidentStep {
    /// The step an action's name (`acknowledge`, `resolve`) asks for.
    pub fn from_verb(verb: &str) -> Option<Self> {
        match verb {
            "acknowledge" => Some(Self::Acknowledge),
            "resolve" => Some(Self::Resolve),
            _ => None,
        }
    }

    /// The status the step leaves the incident in.
    pub fn status(self) -> IncidentStatus {
        match self {
            Self::Acknowledge => IncidentStatus::Acknowledged,
            Self::Resolve => IncidentStatus::Resolved,
        }
    }
}

/// What a batch of reported outcomes led to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeResult {
    pub accepted: usize,
    /// Every monitor's reading after the batch.
    pub readings: Vec<Reading>,
    /// Alerts raised by this batch.
    pub raised: Vec<Alert>,
    /// Ids of alerts cleared because the rate fell back within its threshold.
    pub cleared: Vec<u64>,
    /// Incidents the raised alerts opened.
    pub incidents: Vec<Incident>,
}

/// Only the people a playbook names may pause its system, when it names any (the kill switch
/// has owners, like everything else; Art. 3(5)). No playbook locks out an admin.
pub(super) fn check_may_pause(system: &System, actor: &Actor) -> Result<(), GovernanceError> {
    let may = &system.playbook.may_pause;
    if may.is_empty() || actor.any_system || actor.person.as_ref().is_some_and(|p| may.contains(p)) {
        Ok(())
    } else {
        Err(GovernanceError::Forbidden {
            reason: format!("the playbook of {} lets only {} pause it, not {}", system.id, may.join(", "), actor.name),
        })
    }
}

/// Only a system's owner changes how it is operated: its playbook (who may pause it, when a
/// human reviews). An admin may change any system's.
pub(super) fn check_playbook_scope(system: &System, actor: &Actor) -> Result<(), GovernanceError> {
    if actor.any_system || actor.is(&system.owner) {
        Ok(())
    } else {
        Err(GovernanceError::Forbidden {
            reason: format!(
                "only the owner of {} ({}) or an admin may change its playbook, not {}",
                system.id, system.owner, actor.name
            ),
        })
    }
}

/// Who the ledger names when the playbook acts by itself: it may pause any system it belongs to.
pub(super) fn playbook_actor() -> Actor {
    Actor { name: PLAYBOOK_ACTOR.to_string(), person: None, any_system: true, resume_own: false }
}

/// Whether every version after `assessed` changed only the playbook: operating the system
/// (thresholds, contacts, targets) is not what its assessment approved, so a playbook change
/// keeps the approval instead of stopping the system.
pub(super) fn only_playbook_changed(
    tx: &mut dyn Tx,
    current: &SystemVersion,
    assessed: u32,
) -> Result<bool, GovernanceError> {
    let Some(then) = tx.system_version(&current.system.id, assessed)? else { return Ok(false) };
    let strip = |s: &System| System { playbook: Playbook::default(), ..s.clone() };
    Ok(assessed < current.version && strip(&then.system) == strip(&current.system))
}

/// Whether the system as it now runs is approved: its latest assessment was approved for the
/// current version, or for one before a run of playbook-only changes.
pub(super) fn approved(tx: &mut dyn Tx, current: &SystemVersion) -> Result<bool, GovernanceError> {
    Ok(match tx.latest_assessment(&current.system.id)? {
        Some(a) if a.approved_at.is_some() => {
            a.version == current.version || only_playbook_changed(tx, current, a.version)?
        }
        _ => false,
    })
}

/// How the current playbook weakens human control compared with the one the approval saw
/// (empty when the system is not approved, or was approved as it now runs).
pub fn loosened_since_approval(tx: &mut dyn Tx, current: &SystemVersion) -> Result<Vec<Loosening>, GovernanceError> {
    let Some(a) = tx.latest_assessment(&current.system.id)? else { return Ok(Vec::new()) };
    if a.approved_at.is_none() || a.version >= current.version || !only_playbook_changed(tx, current, a.version)? {
        return Ok(Vec::new());
    }
    let Some(then) = tx.system_version(&current.system.id, a.version)? else { return Ok(Vec::new()) };
    Ok(crate::playbook::loosenings(&then.system.playbook, &current.system.playbook))
}

/// The tier of the system as it now runs: the latest intake of the current version, or of the
/// version before a run of playbook-only changes.
pub(super) fn current_tier(
    tx: &mut dyn Tx,
    current: &SystemVersion,
) -> Result<Option<lunli_norms::Tier>, GovernanceError> {
    let mut version = current.version;
    loop {
        if let Some(intake) = tx.latest_intake(&current.system.id, version)? {
            return Ok(Some(intake.tier));
        }
        if version <= 1 || !only_playbook_changed(tx, current, version - 1)? {
            return Ok(None);
        }
        version -= 1;
    }
}

impl<S: Store> Governance<'_, S> {
    // ── playbooks ─────────────────────────────────────────────────────────────────────────

    /// Replaces a system's playbook, making a new version of its record. Only the system's
    /// owner or an admin may; see [`Governance::update_system`] for what else is checked and
    /// recorded.
    pub fn set_playbook(
        &self,
        actor: &Actor,
        system: &str,
        playbook: Playbook,
        at: Timestamp,
    ) -> Result<SystemVersion, GovernanceError> {
        playbook.validate()?;
        self.update_system(actor, system, at, |s| {
            s.playbook = playbook;
            Ok("playbook".into())
        })
    }

    pub fn playbook(&self, system: &str) -> Result<Playbook, GovernanceError> {
        Ok(self.system(system)?.system.playbook)
    }

    // ── human review ──────────────────────────────────────────────────────────────────────

    /// Appends runtime decisions to the ledger in one transaction (the unit of a group commit)
    /// and puts those sent to a human in the review queue, each linked to its decision's index.
    pub fn record_decisions(&self, batch: &[(PendingEvent, Option<NewReview>)]) -> Result<Vec<u64>, GovernanceError> {
        self.store.write(|tx| {
            let mut indices = Vec::with_capacity(batch.len());
            for (event, review) in batch {
                let index = tx.record(event.event())?;
                if let Some(review) = review {
                    tx.add_review(&review.clone().into_item(index))?;
                }
                indices.push(index);
            }
            Ok(indices)
        })
    }

    pub fn reviews(&self, status: Option<ReviewStatus>) -> Result<Vec<ReviewItem>, GovernanceError> {
        self.store.read(|tx| tx.reviews(status))
    }

    /// The review items the filter selects with an id after `after`, `limit` at most, in id order.
    pub fn review_page(
        &self,
        filter: &ReviewFilter,
        after: u64,
        limit: u32,
    ) -> Result<Page<ReviewItem>, GovernanceError> {
        Page::read(after, limit, |page| self.store.read(|tx| tx.review_page(filter, page)), |i| i.id)
    }

    pub fn review(&self, id: u64) -> Result<ReviewItem, GovernanceError> {
        self.store.read(|tx| existing_review(tx, id))
    }

    pub fn claim_review(&self, person: &str, id: u64, at: Timestamp) -> Result<ReviewItem, GovernanceError> {
        self.store.write(|tx| {
            let reviewer = existing_person(tx, person)?;
            let mut item = existing_review(tx, id)?;
            let owner = existing_system(tx, &item.system)?.system.owner;
            item.claim(&reviewer, &owner, at)?;
            tx.put_review(&item)?;
            record(tx, person, at, LedgerEvent::ReviewClaim { review: &item })?;
            Ok(item)
        })
    }

    /// Records the human outcome; the ledger entry names the decision's index.
    pub fn resolve_review(
        &self,
        person: &str,
        id: u64,
        outcome: HumanOutcome,
        note: &str,
        at: Timestamp,
    ) -> Result<ReviewItem, GovernanceError> {
        self.store.write(|tx| {
            let reviewer = existing_person(tx, person)?;
            let mut item = existing_review(tx, id)?;
            let owner = existing_system(tx, &item.system)?.system.owner;
            item.resolve(&reviewer, &owner, outcome, note, at)?;
            let index = record(tx, person, at, LedgerEvent::ReviewResolve { review: &item, outcome, note })?;
            if let Some(resolution) = &mut item.resolution {
                resolution.ledger_index = index;
            }
            tx.put_review(&item)?;
            Ok(item)
        })
    }

    // ── incidents ─────────────────────────────────────────────────────────────────────────

    /// Opens an incident with the targets of the system's playbook; a severity the playbook
    /// lists under `suspend_on` suspends the system in the same transaction.
    pub fn open_incident(&self, actor: &Actor, new: NewIncident, at: Timestamp) -> Result<Incident, GovernanceError> {
        new.validate()?;
        for control in &new.controls {
            if self.catalogue.control(control).is_none() {
                return Err(not_found("control", control));
            }
        }
        self.store.write(|tx| {
            let source = match new.feedback {
                Some(id) => {
                    let feedback = (id <= MAX_ID)
                        .then(|| tx.feedback_item(id))
                        .transpose()?
                        .flatten()
                        .ok_or_else(|| not_found("feedback", &id.to_string()))?;
                    if feedback.system != new.system {
                        return Err(GovernanceError::Invalid {
                            field: "feedback".into(),
                            reason: format!("feedback {id} is about {}, not {}", feedback.system, new.system),
                        });
                    }
                    format!("feedback:{id}")
                }
                None => "manual".into(),
            };
            open_incident_in(tx, actor, new, source, at)
        })
    }

    pub fn acknowledge_incident(
        &self,
        actor: &str,
        id: u64,
        note: &str,
        at: Timestamp,
    ) -> Result<Incident, GovernanceError> {
        self.advance_incident(IncidentStep::Acknowledge, actor, id, note, at)
    }

    pub fn resolve_incident(
        &self,
        actor: &str,
        id: u64,
        note: &str,
        at: Timestamp,
    ) -> Result<Incident, GovernanceError> {
        self.advance_incident(IncidentStep::Resolve, actor, id, note, at)
    }

    /// Takes an incident one step on, recording in the ledger whether the step came after the
    /// playbook's deadline for it.
    pub fn advance_incident(
        &self,
        step: IncidentStep,
        actor: &str,
        id: u64,
        note: &str,
        at: Timestamp,
    ) -> Result<Incident, GovernanceError> {
        self.store.write(|tx| {
            let mut incident = existing_incident(tx, id)?;
            let deadline = match step {
                IncidentStep::Acknowledge => {
                    incident.acknowledge(actor, note, at)?;
                    incident.acknowledge_by
                }
                IncidentStep::Resolve => {
                    incident.resolve(actor, note, at)?;
                    incident.resolve_by
                }
            };
            tx.put_incident(&incident)?;
            let late = at > deadline;
            let stepped = match step {
                IncidentStep::Acknowledge => LedgerEvent::IncidentAcknowledge { incident: &incident, note, late },
                IncidentStep::Resolve => LedgerEvent::IncidentResolve { incident: &incident, note, late },
            };
            record(tx, actor, at, stepped)?;
            Ok(incident)
        })
    }

    /// Unresolved reviews and incidents per system, counted by the store, with the incidents
    /// overdue at `now`.
    pub fn pending_work(&self, now: Timestamp) -> Result<Vec<PendingWork>, GovernanceError> {
        self.store.read(|tx| tx.pending_work(now))
    }

    pub fn incident(&self, id: u64, now: Timestamp) -> Result<IncidentRow, GovernanceError> {
        let incident = self.store.read(|tx| existing_incident(tx, id))?;
        Ok(IncidentRow { overdue: incident.overdue(now), incident })
    }

    /// Every incident with its overdue flag at `now`.
    pub fn incidents(&self, now: Timestamp) -> Result<Vec<IncidentRow>, GovernanceError> {
        let all = self.store.read(|tx| tx.incidents())?;
        Ok(all.into_iter().map(|incident| IncidentRow { overdue: incident.overdue(now), incident }).collect())
    }

    /// The incidents the filter selects with an id after `after`, `limit` at most, in id order,
    /// each with its overdue flag at `now`.
    pub fn incident_page(
        &self,
        filter: &IncidentFilter,
        after: u64,
        limit: u32,
        now: Timestamp,
    ) -> Result<Page<IncidentRow>, GovernanceError> {
        let page = Page::read(after, limit, |page| self.store.read(|tx| tx.incident_page(filter, page)), |i| i.id)?;
        let items = page.items.into_iter().map(|incident| IncidentRow { overdue: incident.overdue(now), incident });
        Ok(Page { items: items.collect(), next: page.next })
    }

    // ── feedback ──────────────────────────────────────────────────────────────────────────

    /// Stores feedback from the public about a system (Art. 17, Art. 21).
    pub fn submit_feedback(&self, actor: &str, mut feedback: Feedback) -> Result<Feedback, GovernanceError> {
        feedback.validate()?;
        self.store.write(|tx| {
            existing_system(tx, &feedback.system)?;
            feedback.id = tx.add_feedback(&feedback)?;
            record(tx, actor, feedback.at, LedgerEvent::FeedbackSubmit { feedback: &feedback })?;
            Ok(feedback)
        })
    }

    pub fn feedback(&self, system: Option<&str>, limit: u32) -> Result<Vec<Feedback>, GovernanceError> {
        Ok(self.feedback_page(system, 0, limit)?.items)
    }

    /// A page of the feedback, newest first: `after` is the id the previous page ended on (0 for
    /// the newest).
    pub fn feedback_page(
        &self,
        system: Option<&str>,
        after: u64,
        limit: u32,
    ) -> Result<Page<Feedback>, GovernanceError> {
        Page::read(after, limit, |page| self.store.read(|tx| tx.feedback(system, page)), |f| f.id)
    }

    // ── outcomes and early warning ────────────────────────────────────────────────────────

    /// Stores reported outcomes of a system's decisions, re-reads every monitor of its playbook
    /// over the newest outcomes, and raises an alert for each monitor that has just crossed its
    /// threshold (opening an incident when the monitor asks), or clears one that fell back.
    pub fn report_outcomes(
        &self,
        actor: &str,
        system: &str,
        mut outcomes: Vec<OutcomeReport>,
        at: Timestamp,
    ) -> Result<OutcomeResult, GovernanceError> {
        if outcomes.is_empty() || outcomes.len() > 10_000 {
            return Err(GovernanceError::Invalid {
                field: "outcomes".into(),
                reason: format!("1 to 10000 outcomes per report (got {})", outcomes.len()),
            });
        }
        for (i, o) in outcomes.iter_mut().enumerate() {
            o.validate(i)?;
            o.system = system.to_string();
            o.at = at;
        }
        self.store.write(|tx| {
            let playbook = existing_system(tx, system)?.system.playbook;
            for o in &outcomes {
                tx.add_outcome(o)?;
            }
            record(tx, actor, at, LedgerEvent::OutcomeReport { system, outcomes: &outcomes })?;
            let mut result = OutcomeResult {
                accepted: outcomes.len(),
                readings: vec![],
                raised: vec![],
                cleared: vec![],
                incidents: vec![],
            };
            let window = playbook.monitors.iter().map(|m| m.window).max().unwrap_or(0);
            if window == 0 {
                return Ok(result);
            }
            let recent = tx.recent_outcomes(system, window)?;
            let active: Vec<Alert> = tx.alerts(Some(system))?.into_iter().filter(|a| a.cleared_at.is_none()).collect();
            for (i, monitor) in playbook.monitors.iter().enumerate() {
                let reading = monitoring::evaluate(monitor, &recent);
                let open = active.iter().find(|a| a.monitor == i && a.reading.metric == monitor.metric);
                match open {
                    None if reading.breached() => {
                        let mut alert = Alert {
                            id: 0,
                            system: system.to_string(),
                            monitor: i,
                            reading: reading.clone(),
                            raised_at: at,
                            incident: None,
                            cleared_at: None,
                        };
                        alert.id = tx.add_alert(&alert)?;
                        record(tx, PLAYBOOK_ACTOR, at, LedgerEvent::AlertRaise { alert: &alert })?;
                        if let Some(severity) = monitor.incident {
                            let title = format!(
                                "{} {} {:.3} > {}{}",
                                system,
                                monitor.metric.as_str(),
                                reading.value.unwrap_or_default(),
                                monitor.threshold,
                                monitor.attribute.as_ref().map(|a| format!(" ({a})")).unwrap_or_default()
                            );
                            let new = NewIncident {
                                system: system.to_string(),
                                title,
                                description: format!("early warning from monitor {i} of the playbook (Art. 8)"),
                                severity,
                                owner: None,
                                decisions: vec![],
                                controls: vec![],
                                feedback: None,
                            };
                            let incident =
                                open_incident_in(tx, &playbook_actor(), new, format!("alert:{}", alert.id), at)?;
                            alert.incident = Some(incident.id);
                            tx.put_alert(&alert)?;
                            result.incidents.push(incident);
                        }
                        result.raised.push(alert);
                    }
                    Some(alert) if reading.value.is_some() && !reading.breached() => {
                        let mut alert = alert.clone();
                        alert.cleared_at = Some(at);
                        tx.put_alert(&alert)?;
                        let clear = LedgerEvent::AlertClear { alert: alert.id, system, reading: &reading };
                        record(tx, PLAYBOOK_ACTOR, at, clear)?;
                        result.cleared.push(alert.id);
                    }
                    _ => {}
                }
                result.readings.push(reading);
            }
            Ok(result)
        })
    }

    pub fn alerts(&self, system: Option<&str>) -> Result<Vec<Alert>, GovernanceError> {
        self.store.read(|tx| tx.alerts(system))
    }

    /// The alerts (of one system when given) with an id after `after`, `limit` at most.
    pub fn alert_page(&self, system: Option<&str>, after: u64, limit: u32) -> Result<Page<Alert>, GovernanceError> {
        Page::read(after, limit, |page| self.store.read(|tx| tx.alert_page(system, page)), |a| a.id)
    }
}

/// The largest id a store gives a record (stores keep ids as signed 64-bit integers). A larger
/// id in a request names no record; it is not a storage failure.
const MAX_ID: u64 = i64::MAX as u64;

fn existing_review(tx: &mut dyn Tx, id: u64) -> Result<ReviewItem, GovernanceError> {
    let found = if id <= MAX_ID { tx.review(id)? } else { None };
    found.ok_or_else(|| not_found("review", &id.to_string()))
}

fn existing_incident(tx: &mut dyn Tx, id: u64) -> Result<Incident, GovernanceError> {
    let found = if id <= MAX_ID { tx.incident(id)? } else { None };
    found.ok_or_else(|| not_found("incident", &id.to_string()))
}

fn open_incident_in(
    tx: &mut dyn Tx,
    actor: &Actor,
    new: NewIncident,
    source: String,
    at: Timestamp,
) -> Result<Incident, GovernanceError> {
    let system = existing_system(tx, &new.system)?.system;
    let owner = new.owner.clone().unwrap_or_else(|| system.owner.clone());
    existing_person(tx, &owner)?;
    let severity = new.severity;
    let mut incident = Incident::open(new, owner, &actor.name, source, system.playbook.target(severity), at);
    // Art. 17: a severity the playbook names stops the system at once, in the same transaction,
    // as pulled by whoever opened the incident: the four-eyes rule on resuming applies to them,
    // and someone the playbook does not let pause the system cannot pause it this way. Their
    // incident is still opened (reporting is never refused); the suspension is withheld and the
    // ledger says why.
    let wanted = system.playbook.suspend_on.contains(&severity);
    let withheld = if wanted { check_may_pause(&system, actor).err().map(|e| e.to_string()) } else { None };
    let suspend = wanted && withheld.is_none();
    incident.suspended_system = suspend;
    incident.id = tx.add_incident(&incident)?;
    let contacts = system.playbook.contacts_for(severity);
    let opened = LedgerEvent::IncidentOpen {
        incident: &incident,
        contacts: &contacts,
        suspension_withheld: withheld.as_deref(),
    };
    record(tx, &actor.name, at, opened)?;
    if suspend {
        let suspension = Suspension {
            system: system.id.clone(),
            purpose: None,
            reason: format!("incident {} ({}): {}", incident.id, severity.as_str(), incident.title),
            by: actor.name.clone(),
            at,
        };
        tx.put_suspension(&suspension)?;
        record(
            tx,
            &actor.name,
            at,
            LedgerEvent::SystemSuspend { suspension: &suspension, incident: Some(incident.id) },
        )?;
    }
    Ok(incident)
}
