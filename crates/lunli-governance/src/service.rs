//! The governance workflows — register, take the intake, assess, gather evidence, submit, sign
//! off — each one unit of work on a [`Store`] that also records what happened in the ledger.
//! Time comes in as an argument so that the rules stay testable.

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_norms::{Catalogue, Tier};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::assessment::{Approval, Assessment, ControlState, ControlStatus, EvidenceItem};
use crate::intake::Answers;
use crate::ledger_event::{self, LedgerEvent, PendingEvent, record};
use crate::playbook::{self, Loosening};
use crate::registry::{DueDiligenceAnswer, Person, System, Training, Vendor};
use crate::runtime::{Consent, ConsentChange, Impact, Mode, Suspension, SystemPolicy};
use crate::store::{ActivePack, ApiKey, IntakeRecord, Store, SystemVersion, Tx};
use crate::tiering::{self, Tiering};
use crate::{GovernanceError, Step};

mod oversight;
pub use oversight::{IncidentRow, IncidentStep, OutcomeResult, PLAYBOOK_ACTOR, Page, loosened_since_approval};

/// Governance work for one catalogue over one store.
pub struct Governance<'a, S> {
    catalogue: &'a Catalogue,
    store: &'a S,
}

/// One line of `lunli status`: a system at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusRow {
    pub system: String,
    pub name: String,
    pub owner: String,
    pub stage: crate::registry::Stage,
    pub version: u32,
    /// From the latest intake of the current version, if any.
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<u64>,
    /// Version the latest assessment belongs to; older than `version` means it is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessed_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<Date>,
    pub overdue: bool,
    /// How the playbook now weakens human control compared with the approved version's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playbook_loosened: Vec<Loosening>,
}

impl<'a, S: Store> Governance<'a, S> {
    pub fn new(catalogue: &'a Catalogue, store: &'a S) -> Self {
        Self { catalogue, store }
    }

    pub fn catalogue(&self) -> &Catalogue {
        self.catalogue
    }

    // ── people ────────────────────────────────────────────────────────────────────────────

    pub fn add_person(&self, actor: &str, person: Person, at: Timestamp) -> Result<Person, GovernanceError> {
        person.validate()?;
        self.check_roles(&person.roles)?;
        self.store.write(|tx| {
            if tx.person(&person.id)?.is_some() {
                return Err(GovernanceError::Exists { what: "person", id: person.id.clone() });
            }
            tx.put_person(&person)?;
            record(tx, actor, at, LedgerEvent::PersonAdd { person: &person })?;
            Ok(person)
        })
    }

    pub fn grant_role(
        &self,
        actor: &str,
        person_id: &str,
        role: &str,
        at: Timestamp,
    ) -> Result<Person, GovernanceError> {
        self.check_roles(&[role.to_string()])?;
        self.store.write(|tx| {
            let mut person = existing_person(tx, person_id)?;
            if !person.roles.iter().any(|r| r == role) {
                person.roles.push(role.to_string());
            }
            tx.put_person(&person)?;
            record(tx, actor, at, LedgerEvent::PersonGrantRole { person: person_id, role })?;
            Ok(person)
        })
    }

    pub fn add_training(
        &self,
        actor: &str,
        person_id: &str,
        training: Training,
        at: Timestamp,
    ) -> Result<Person, GovernanceError> {
        self.store.write(|tx| {
            let mut person = existing_person(tx, person_id)?;
            person.training.push(training.clone());
            person.validate()?;
            tx.put_person(&person)?;
            record(tx, actor, at, LedgerEvent::PersonTraining { person: person_id, training: &training })?;
            Ok(person)
        })
    }

    fn check_roles(&self, roles: &[String]) -> Result<(), GovernanceError> {
        for role in roles {
            if self.catalogue.role(role).is_none() {
                let known: Vec<&str> = self.catalogue.roles().iter().map(|r| r.id.as_str()).collect();
                return Err(GovernanceError::Invalid {
                    field: "role".into(),
                    reason: format!("`{role}` is not a sign-off role in the catalogue; known: {}", known.join(", ")),
                });
            }
        }
        Ok(())
    }

    // ── vendors ───────────────────────────────────────────────────────────────────────────

    pub fn add_vendor(&self, actor: &str, vendor: Vendor, at: Timestamp) -> Result<Vendor, GovernanceError> {
        vendor.validate()?;
        self.store.write(|tx| {
            if tx.vendor(&vendor.id)?.is_some() {
                return Err(GovernanceError::Exists { what: "vendor", id: vendor.id.clone() });
            }
            tx.put_vendor(&vendor)?;
            record(tx, actor, at, LedgerEvent::VendorAdd { vendor: &vendor })?;
            Ok(vendor)
        })
    }

    /// Records one answer of a vendor's due diligence (the operating model's vendor questions).
    pub fn answer_due_diligence(
        &self,
        actor: &str,
        vendor_id: &str,
        question: &str,
        answer: DueDiligenceAnswer,
        at: Timestamp,
    ) -> Result<Vendor, GovernanceError> {
        if self.catalogue.vendor_question(question).is_none() {
            let known: Vec<&str> = self.catalogue.vendor_questions().iter().map(|q| q.id.as_str()).collect();
            return Err(GovernanceError::NotFound {
                what: "vendor due-diligence question",
                id: question.to_string(),
                hint: format!("known: {}", known.join(", ")),
            });
        }
        self.store.write(|tx| {
            let mut vendor = tx.vendor(vendor_id)?.ok_or_else(|| not_found("vendor", vendor_id))?;
            vendor.due_diligence.insert(question.to_string(), answer.clone());
            tx.put_vendor(&vendor)?;
            record(tx, actor, at, LedgerEvent::VendorDueDiligence { vendor: vendor_id, question, answer: &answer })?;
            Ok(vendor)
        })
    }

    // ── systems ───────────────────────────────────────────────────────────────────────────

    pub fn register_system(
        &self,
        actor: &str,
        system: System,
        at: Timestamp,
    ) -> Result<SystemVersion, GovernanceError> {
        system.validate()?;
        self.store.write(|tx| {
            if tx.system(&system.id)?.is_some() {
                return Err(GovernanceError::Exists { what: "system", id: system.id.clone() });
            }
            check_references(tx, &system)?;
            let version = SystemVersion {
                version: 1,
                system: system.clone(),
                change: "registered".into(),
                created_by: actor.to_string(),
                created_at: at,
            };
            tx.add_system_version(&version)?;
            record(tx, actor, at, LedgerEvent::SystemRegister { version: &version })?;
            Ok(version)
        })
    }

    /// Changes a system's record, making a new version. `change` edits the record and says in
    /// a few words what changed. A change to the playbook is the owner's or an admin's to make;
    /// one that weakens human control over an approved system (see [`playbook::loosenings`]) is
    /// recorded as such in the same transaction, and shown in status and reports until the
    /// system is approved again.
    pub fn update_system(
        &self,
        actor: &Actor,
        id: &str,
        at: Timestamp,
        change: impl FnOnce(&mut System) -> Result<String, GovernanceError>,
    ) -> Result<SystemVersion, GovernanceError> {
        self.store.write(|tx| {
            let current = existing_system(tx, id)?;
            let mut system = current.system.clone();
            let description = change(&mut system)?;
            if system.id != current.system.id {
                return Err(GovernanceError::Invalid {
                    field: "id".into(),
                    reason: "a system's id cannot change".into(),
                });
            }
            system.validate()?;
            if system == current.system {
                return Err(GovernanceError::Refused { reason: "nothing changed; no new version recorded".into() });
            }
            let playbook_changed = system.playbook != current.system.playbook;
            if playbook_changed {
                oversight::check_playbook_scope(&current.system, actor)?;
            }
            check_references(tx, &system)?;
            let loosened = if playbook_changed && oversight::approved(tx, &current)? {
                playbook::loosenings(&current.system.playbook, &system.playbook)
            } else {
                Vec::new()
            };
            let version = SystemVersion {
                version: current.version + 1,
                system,
                change: description,
                created_by: actor.name.clone(),
                created_at: at,
            };
            tx.add_system_version(&version)?;
            record(tx, &actor.name, at, LedgerEvent::SystemUpdate { version: &version })?;
            if !loosened.is_empty() {
                let loosen = LedgerEvent::PlaybookLoosen { system: id, version: version.version, loosened: &loosened };
                record(tx, &actor.name, at, loosen)?;
            }
            Ok(version)
        })
    }

    pub fn system(&self, id: &str) -> Result<SystemVersion, GovernanceError> {
        self.store.read(|tx| existing_system(tx, id))
    }

    pub fn systems(&self) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.store.read(|tx| tx.systems())
    }

    pub fn system_versions(&self, id: &str) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.store.read(|tx| {
            existing_system(tx, id)?;
            tx.system_versions(id)
        })
    }

    pub fn people(&self) -> Result<Vec<Person>, GovernanceError> {
        self.store.read(|tx| tx.people())
    }

    pub fn vendors(&self) -> Result<Vec<Vendor>, GovernanceError> {
        self.store.read(|tx| tx.vendors())
    }

    // ── intake ────────────────────────────────────────────────────────────────────────────

    /// Takes the intake for the system's current version and records the tier with every rule
    /// that fired and the rule set that produced it.
    pub fn intake(
        &self,
        actor: &str,
        system_id: &str,
        answers: &Answers,
        at: Timestamp,
    ) -> Result<(IntakeRecord, Tiering), GovernanceError> {
        let tiering = tiering::tier(answers, self.catalogue);
        self.store.write(|tx| {
            let current = existing_system(tx, system_id)?;
            let mut record = IntakeRecord {
                id: 0,
                system: system_id.to_string(),
                version: current.version,
                answers: serde_json::to_value(answers).map_err(|e| GovernanceError::storage("encoding answers", e))?,
                tiering: serde_json::to_value(&tiering).map_err(|e| GovernanceError::storage("encoding tiering", e))?,
                tier: tiering.tier,
                ruleset_version: tiering.ruleset_version.clone(),
                ruleset_digest: tiering.ruleset_digest.clone(),
                by: actor.to_string(),
                at,
            };
            record.id = tx.add_intake(&record)?;
            ledger_event::record(tx, actor, at, LedgerEvent::IntakeRecord { intake: &record })?;
            Ok((record, tiering.clone()))
        })
    }

    pub fn latest_intake(&self, system_id: &str) -> Result<Option<IntakeRecord>, GovernanceError> {
        self.store.read(|tx| {
            let current = existing_system(tx, system_id)?;
            tx.latest_intake(system_id, current.version)
        })
    }

    // ── assessments ───────────────────────────────────────────────────────────────────────

    /// Opens an assessment of the system's current version with the controls its tier
    /// requires, or returns the one already open for that version.
    pub fn open_assessment(&self, actor: &str, system_id: &str, at: Timestamp) -> Result<Assessment, GovernanceError> {
        self.store.write(|tx| {
            let current = existing_system(tx, system_id)?;
            if let Some(existing) = tx.latest_assessment(system_id)?
                && existing.version == current.version
            {
                return Ok(existing);
            }
            let intake = tx.latest_intake(system_id, current.version)?.ok_or_else(|| GovernanceError::Blocked {
                reason: format!("version {} of {system_id} has no intake yet", current.version),
                next: Step::Intake { system: system_id.to_string() },
            })?;
            let tiering: Tiering = serde_json::from_value(intake.tiering.clone())
                .map_err(|e| GovernanceError::storage("decoding the stored tiering", e))?;
            if tiering.tier == Tier::Prohibited {
                return Err(GovernanceError::Refused {
                    reason: format!(
                        "{system_id} is tiered prohibited (Art. 20): it is blocked and cannot be assessed or approved"
                    ),
                });
            }
            let assessment = Assessment {
                id: tx.next_assessment_id()?,
                system: system_id.to_string(),
                version: current.version,
                tier: tiering.tier,
                ruleset_version: tiering.ruleset_version.clone(),
                ruleset_digest: tiering.ruleset_digest.clone(),
                required_roles: tiering.signoff_roles.clone(),
                review_months: tiering.review_months,
                controls: tiering
                    .required_controls
                    .iter()
                    .map(|c| ControlState {
                        control: c.clone(),
                        status: ControlStatus::NotStarted,
                        justification: String::new(),
                        evidence: Vec::new(),
                        history: Vec::new(),
                    })
                    .collect(),
                created_by: actor.to_string(),
                created_at: at,
                submitted_by: None,
                submitted_at: None,
                signoffs: Vec::new(),
                approved_at: None,
                packs: self.catalogue.packs().to_vec(),
            };
            tx.put_assessment(&assessment)?;
            let opened = LedgerEvent::AssessmentOpen {
                assessment: &assessment,
                intake: intake.id,
                controls: &tiering.required_controls,
            };
            record(tx, actor, at, opened)?;
            Ok(assessment)
        })
    }

    /// Activates a norm pack (Art. 24) in one transaction with its ledger entry. The caller has
    /// checked that the pack layers cleanly over the base and the packs already active.
    pub fn activate_pack(&self, pack: ActivePack) -> Result<ActivePack, GovernanceError> {
        self.store.write(|tx| {
            let replaced = tx.packs()?.into_iter().find(|p| p.id == pack.id).map(|p| p.version);
            tx.put_pack(&pack)?;
            let activated = LedgerEvent::PackActivate { pack: &pack, replaces: replaced.as_deref() };
            record(tx, &pack.activated_by, pack.activated_at, activated)?;
            Ok(pack)
        })
    }

    /// The active norm packs, in layering order.
    pub fn packs(&self) -> Result<Vec<ActivePack>, GovernanceError> {
        self.store.read(|tx| tx.packs())
    }

    pub fn assessment(&self, system_id: &str) -> Result<Assessment, GovernanceError> {
        self.store.read(|tx| current_assessment(tx, system_id))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn set_control(
        &self,
        actor: &str,
        system_id: &str,
        control: &str,
        status: ControlStatus,
        justification: &str,
        comment: &str,
        at: Timestamp,
    ) -> Result<Assessment, GovernanceError> {
        self.store.write(|tx| {
            let mut assessment = current_assessment(tx, system_id)?;
            assessment.set_status(control, status, justification, comment, actor, at)?;
            tx.put_assessment(&assessment)?;
            let set = LedgerEvent::ControlSet { assessment: assessment.id, control, status, justification, comment };
            record(tx, actor, at, set)?;
            Ok(assessment)
        })
    }

    /// Attaches evidence to a control; the kind of evidence must be one the control accepts.
    pub fn add_evidence(
        &self,
        actor: &str,
        system_id: &str,
        control: &str,
        item: EvidenceItem,
        note: &str,
        at: Timestamp,
    ) -> Result<u32, GovernanceError> {
        let definition = self.catalogue.control(control).ok_or_else(|| not_found("control", control))?;
        let kind = match &item {
            EvidenceItem::File { .. } => lunli_norms::EvidenceType::File,
            EvidenceItem::Link { .. } => lunli_norms::EvidenceType::Link,
            EvidenceItem::Attestation { .. } => lunli_norms::EvidenceType::Attestation,
            EvidenceItem::Audit { .. } => lunli_norms::EvidenceType::Audit,
        };
        if !definition.evidence.accepts.contains(&kind) {
            let accepts: Vec<&str> = definition.evidence.accepts.iter().map(|e| e.as_str()).collect();
            return Err(GovernanceError::Refused {
                reason: format!("{} accepts {} evidence, not {kind}", definition.id, accepts.join(" or ")),
            });
        }
        self.store.write(|tx| {
            let mut assessment = current_assessment(tx, system_id)?;
            let id = assessment.add_evidence(&definition.id, item.clone(), note, actor, at)?;
            tx.put_assessment(&assessment)?;
            let added = LedgerEvent::EvidenceAdd {
                assessment: assessment.id,
                control: &definition.id,
                evidence: id,
                item: &item,
                note,
            };
            record(tx, actor, at, added)?;
            Ok(id)
        })
    }

    /// Records one audit run as `Audit` evidence on every control of `controls` that the system's
    /// current assessment includes, in one transaction (all of them or none), with one ledger
    /// entry per control. Refused when the assessment includes none of them (the tier does not
    /// require them) or a control does not take audit evidence. Returns `(control, evidence id)`
    /// for each control it was recorded on, in the order given.
    pub fn record_audit(
        &self,
        actor: &str,
        system_id: &str,
        run: &AuditRun<'_>,
        at: Timestamp,
    ) -> Result<Vec<(String, u32)>, GovernanceError> {
        for control in run.controls {
            let definition = self.catalogue.control(control).ok_or_else(|| not_found("control", control))?;
            if !definition.evidence.accepts.contains(&lunli_norms::EvidenceType::Audit) {
                return Err(GovernanceError::Refused {
                    reason: format!("{} does not take audit evidence", definition.id),
                });
            }
        }
        self.store.write(|tx| {
            let mut assessment = current_assessment(tx, system_id)?;
            let concerned: Vec<&String> = run.controls.iter().filter(|c| assessment.control(c).is_some()).collect();
            if concerned.is_empty() {
                return Err(GovernanceError::Refused {
                    reason: format!(
                        "the assessment of {system_id} includes none of the controls a {} audit is evidence for ({}); \
                         its tier does not require them",
                        run.audit,
                        run.controls.join(", ")
                    ),
                });
            }
            let item =
                EvidenceItem::Audit { audit: run.audit.to_string(), passed: run.passed, summary: run.summary.clone() };
            let mut recorded = Vec::with_capacity(concerned.len());
            for control in concerned {
                let id = assessment.add_evidence(control, item.clone(), run.note, actor, at)?;
                let added = LedgerEvent::EvidenceAdd {
                    assessment: assessment.id,
                    control,
                    evidence: id,
                    item: &item,
                    note: run.note,
                };
                record(tx, actor, at, added)?;
                recorded.push((control.clone(), id));
            }
            tx.put_assessment(&assessment)?;
            Ok(recorded)
        })
    }

    pub fn submit(&self, actor: &str, system_id: &str, at: Timestamp) -> Result<Assessment, GovernanceError> {
        self.store.write(|tx| {
            let mut assessment = current_assessment(tx, system_id)?;
            assessment.submit(actor, at)?;
            tx.put_assessment(&assessment)?;
            record(tx, actor, at, LedgerEvent::AssessmentSubmit { assessment: assessment.id })?;
            Ok(assessment)
        })
    }

    pub fn reopen(
        &self,
        actor: &str,
        system_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<Assessment, GovernanceError> {
        self.store.write(|tx| {
            let mut assessment = current_assessment(tx, system_id)?;
            let lapsed = assessment.reopen()?;
            tx.put_assessment(&assessment)?;
            record(
                tx,
                actor,
                at,
                LedgerEvent::AssessmentReopen { assessment: assessment.id, reason, lapsed: &lapsed },
            )?;
            Ok(assessment)
        })
    }

    /// Signs off the system's current assessment in a role. The signer is `person_id`; all the
    /// separation-of-duties rules of [`Assessment::sign`] apply.
    pub fn sign_off(
        &self,
        person_id: &str,
        system_id: &str,
        role: &str,
        note: &str,
        at: Timestamp,
    ) -> Result<Assessment, GovernanceError> {
        self.store.write(|tx| {
            let person = existing_person(tx, person_id)?;
            let mut assessment = current_assessment(tx, system_id)?;
            let approved = assessment.sign(&person, role, note, at)?;
            tx.put_assessment(&assessment)?;
            record(tx, person_id, at, LedgerEvent::AssessmentSignOff { assessment: assessment.id, role, note })?;
            if approved {
                record(tx, person_id, at, LedgerEvent::AssessmentApprove { assessment: &assessment })?;
            }
            Ok(assessment)
        })
    }

    /// The whole inventory at a glance; `today` decides what is overdue.
    pub fn status(&self, today: Date) -> Result<Vec<StatusRow>, GovernanceError> {
        self.store.read(|tx| {
            let mut rows = Vec::new();
            for current in tx.systems()? {
                let id = current.system.id.clone();
                let tier = oversight::current_tier(tx, &current)?;
                let assessment = tx.latest_assessment(&id)?;
                rows.push(StatusRow {
                    name: current.system.name.clone(),
                    owner: current.system.owner.clone(),
                    stage: current.system.stage,
                    version: current.version,
                    tier,
                    assessment: assessment.as_ref().map(|a| a.id),
                    // An assessment covers later versions that changed only the playbook.
                    assessed_version: match &assessment {
                        Some(a) if oversight::only_playbook_changed(tx, &current, a.version)? => Some(current.version),
                        Some(a) => Some(a.version),
                        None => None,
                    },
                    approval: assessment.as_ref().map(Assessment::approval),
                    review_due: assessment.as_ref().and_then(Assessment::review_due),
                    overdue: assessment.as_ref().is_some_and(|a| a.is_overdue(today)),
                    playbook_loosened: oversight::loosened_since_approval(tx, &current)?,
                    system: id,
                });
            }
            Ok(rows)
        })
    }
}

/// Gateway-wide settings that shape every [`SystemPolicy`] until systems carry their own
/// playbooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeDefaults {
    pub review_below_confidence: f64,
    pub review_at_impact: Impact,
    /// The organisation providing the services, named in implicit content labels.
    pub provider: String,
}

impl Default for RuntimeDefaults {
    fn default() -> Self {
        Self { review_below_confidence: 0.6, review_at_impact: Impact::High, provider: "lunli".into() }
    }
}

/// Everything the gateway needs in memory to decide: one snapshot of runtime state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
/// Consents are not in it: there may be millions, and they are followed change by change through
/// [`Governance::consent_changes`].
pub struct RuntimeSnapshot {
    pub version: u64,
    pub policies: Vec<SystemPolicy>,
    pub suspensions: Vec<Suspension>,
    pub keys: Vec<ApiKey>,
}

impl<'a, S: Store> Governance<'a, S> {
    // ── runtime human control ──────────────────────────────────────────────────────────────

    /// Pulls the kill switch on a system or one of its purposes (Art. 3(4), Art. 17). Anyone
    /// the access policy lets suspend may, unless the playbook names who may pause (admins
    /// always may); it takes effect on the next decision.
    pub fn suspend(
        &self,
        actor: &Actor,
        system: &str,
        purpose: Option<&str>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Suspension, GovernanceError> {
        if reason.trim().is_empty() {
            return Err(GovernanceError::Invalid {
                field: "reason".into(),
                reason: "say why the system is suspended".into(),
            });
        }
        self.store.write(|tx| {
            oversight::check_may_pause(&existing_system(tx, system)?.system, actor)?;
            let suspension = Suspension {
                system: system.to_string(),
                purpose: purpose.map(str::to_string),
                reason: reason.trim().to_string(),
                by: actor.name.clone(),
                at,
            };
            tx.put_suspension(&suspension)?;
            record(tx, &actor.name, at, LedgerEvent::SystemSuspend { suspension: &suspension, incident: None })?;
            Ok(suspension)
        })
    }

    /// Lifts a suspension, with a reason. Four eyes on turning an AI back on (Art. 3(5),
    /// Art. 7): whoever pulled the switch does not also release it unless their role allows it,
    /// checked in the transaction that reads the suspension, so no second instance or
    /// concurrent request can get round it.
    pub fn resume(
        &self,
        actor: &Actor,
        system: &str,
        purpose: Option<&str>,
        reason: &str,
        at: Timestamp,
    ) -> Result<Suspension, GovernanceError> {
        if reason.trim().is_empty() {
            return Err(GovernanceError::Invalid {
                field: "reason".into(),
                reason: "say why the system may run again".into(),
            });
        }
        self.store.write(|tx| {
            let lifted = tx.remove_suspension(system, purpose)?.ok_or_else(|| GovernanceError::Refused {
                reason: match purpose {
                    Some(p) => format!("purpose {p} of {system} is not suspended"),
                    None => format!("{system} is not suspended"),
                },
            })?;
            if lifted.by == actor.name && !actor.resume_own {
                return Err(GovernanceError::Forbidden {
                    reason: format!(
                        "{} suspended {system} and cannot also resume it; another owner or an admin must",
                        actor.name
                    ),
                });
            }
            record(tx, &actor.name, at, LedgerEvent::SystemResume { system, purpose, reason, lifted: &lifted })?;
            Ok(lifted)
        })
    }

    /// Records a subject's choice toward a system (Art. 16, Art. 19); withdrawal is one call
    /// and applies to the next decision.
    pub fn set_consent(
        &self,
        actor: &str,
        system: &str,
        subject: &str,
        given: bool,
        mode: Mode,
        at: Timestamp,
    ) -> Result<Consent, GovernanceError> {
        if subject.trim().is_empty() || subject.chars().count() > 200 {
            return Err(GovernanceError::Invalid {
                field: "subject".into(),
                reason: "a pseudonymous subject id of 1 to 200 characters".into(),
            });
        }
        self.store.write(|tx| {
            existing_system(tx, system)?;
            let consent = Consent { system: system.to_string(), subject: subject.to_string(), given, mode, at };
            tx.put_consent(&consent)?;
            record(tx, actor, at, LedgerEvent::ConsentSet { consent: &consent })?;
            Ok(consent)
        })
    }

    /// Stores a new API key (its hash) for the gateway.
    pub fn add_api_key(&self, actor: &str, key: ApiKey, at: Timestamp) -> Result<ApiKey, GovernanceError> {
        self.store.write(|tx| {
            if tx.api_keys()?.iter().any(|k| k.id == key.id) {
                return Err(GovernanceError::Exists { what: "API key", id: key.id.clone() });
            }
            if let Some(person) = &key.person {
                existing_person(tx, person)?;
            }
            tx.put_api_key(&key)?;
            record(tx, actor, at, LedgerEvent::KeyAdd { key: &key })?;
            Ok(key)
        })
    }

    pub fn revoke_api_key(&self, actor: &str, id: &str, at: Timestamp) -> Result<ApiKey, GovernanceError> {
        self.store.write(|tx| {
            let mut key = tx.api_keys()?.into_iter().find(|k| k.id == id).ok_or_else(|| not_found("API key", id))?;
            key.revoked_at = Some(at);
            tx.put_api_key(&key)?;
            record(tx, actor, at, LedgerEvent::KeyRevoke { key: id })?;
            Ok(key)
        })
    }

    pub fn api_keys(&self) -> Result<Vec<ApiKey>, GovernanceError> {
        self.store.read(|tx| tx.api_keys())
    }

    /// The runtime state version; cheap, for polling.
    pub fn runtime_version(&self) -> Result<u64, GovernanceError> {
        self.store.read(|tx| tx.runtime_version())
    }

    /// One consistent snapshot of everything the gateway decides with.
    pub fn runtime_snapshot(&self, defaults: &RuntimeDefaults) -> Result<RuntimeSnapshot, GovernanceError> {
        self.store.read(|tx| {
            let version = tx.runtime_version()?;
            let mut policies = Vec::new();
            for current in tx.systems()? {
                let id = current.system.id.clone();
                let tier = oversight::current_tier(tx, &current)?;
                let approved = oversight::approved(tx, &current)?;
                let s = current.system;
                policies.push(SystemPolicy {
                    id,
                    name: s.name,
                    tier,
                    approved,
                    purposes: s.purposes,
                    functions: s.functions,
                    limitations: s.limitations,
                    // The system's playbook, where it says, over the gateway's defaults.
                    review_below_confidence: s
                        .playbook
                        .review
                        .below_confidence
                        .unwrap_or(defaults.review_below_confidence),
                    review_at_impact: s.playbook.review.at_impact.unwrap_or(defaults.review_at_impact),
                    provider: defaults.provider.clone(),
                });
            }
            Ok(RuntimeSnapshot { version, policies, suspensions: tx.suspensions()?, keys: tx.api_keys()? })
        })
    }

    /// The consent changes after `after` (0: from the start), in order, at most `limit`.
    pub fn consent_changes(&self, after: u64, limit: u32) -> Result<Vec<ConsentChange>, GovernanceError> {
        self.store.read(|tx| tx.consent_changes(after, limit))
    }

    /// Appends events the runtime made (decisions, refusals, sign-ins) to the ledger in one
    /// transaction: the unit of a group commit. Returns the index of each.
    pub fn record_events(&self, events: &[PendingEvent]) -> Result<Vec<u64>, GovernanceError> {
        self.store.write(|tx| events.iter().map(|e| tx.record(e.event())).collect())
    }
}

/// Nothing of that kind under that id; the list of them shows which exist (the command line
/// names the command that lists them).
fn not_found(what: &'static str, id: &str) -> GovernanceError {
    GovernanceError::NotFound { what, id: id.to_string(), hint: "list them to see which exist".into() }
}

fn existing_system(tx: &mut dyn Tx, id: &str) -> Result<SystemVersion, GovernanceError> {
    tx.system(id)?.ok_or_else(|| not_found("system", id))
}

fn existing_person(tx: &mut dyn Tx, id: &str) -> Result<Person, GovernanceError> {
    tx.person(id)?.ok_or_else(|| not_found("person", id))
}

fn current_assessment(tx: &mut dyn Tx, system_id: &str) -> Result<Assessment, GovernanceError> {
    let current = existing_system(tx, system_id)?;
    match tx.latest_assessment(system_id)? {
        Some(a) if a.version == current.version => Ok(a),
        Some(a) => Err(GovernanceError::Blocked {
            reason: format!(
                "the latest assessment of {system_id} is for version {}, but the system is now at version {}",
                a.version, current.version
            ),
            next: Step::IntakeAndAssess { system: system_id.to_string() },
        }),
        None => Err(GovernanceError::Blocked {
            reason: format!("{system_id} has no assessment yet"),
            next: Step::Assess { system: system_id.to_string() },
        }),
    }
}

/// The owner must be a registered person and every vendor named must be registered, so that
/// accountability (Art. 3(5)) and due diligence can be traced.
fn check_references(tx: &mut dyn Tx, system: &System) -> Result<(), GovernanceError> {
    if tx.person(&system.owner)?.is_none() {
        return Err(GovernanceError::NotFound {
            what: "person (owner)",
            id: system.owner.clone(),
            hint: "register the accountable owner as a person first".into(),
        });
    }
    for person in &system.playbook.may_pause {
        existing_person(tx, person)?;
    }
    for vendor in system.vendors() {
        if tx.vendor(vendor)?.is_none() {
            return Err(GovernanceError::NotFound {
                what: "vendor",
                id: vendor.to_string(),
                hint: "register the vendor first".into(),
            });
        }
    }
    Ok(())
}

/// One audit run to record as evidence ([`Governance::record_audit`]).
#[derive(Debug, Clone)]
pub struct AuditRun<'a> {
    /// `fairness`, `quality`, `pii`, …
    pub audit: &'a str,
    pub passed: bool,
    /// The audit's JSON summary, its inputs pinned by their SHA-256.
    pub summary: serde_json::Value,
    /// The controls the audit is evidence for; those the assessment does not include are skipped.
    pub controls: &'a [String],
    /// How it was run, e.g. the command line.
    pub note: &'a str,
}
