//! What the ledger records, as types: one [`LedgerEvent`] variant per action, each naming its
//! subject and carrying its details, from which the stored [`Event`] (action string, subject
//! string, JSON payload) is made in one place.
//!
//! Only governance turns a `LedgerEvent` into an `Event` and records it, inside the workflow
//! that checks the rules for the change (separation of duties, four eyes, who may pause, owner
//! scope), so the command line, the API and the dashboard cannot record a change differently.
//! The events the runtime gateway queues for its group commit (decisions, refused requests,
//! dashboard sign-ins) and the reports' anchoring entries are made by the public constructors
//! of [`PendingEvent`] and the report functions here; no caller outside this crate builds an
//! `Event` itself.
//!
//! The action strings and payload shapes are those existing ledgers hold and `docs/ledger.md`
//! lists: changing one changes what a verifier or a report reads, so the tests below pin each.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::GovernanceError;
use crate::assessment::{Assessment, ControlStatus, EvidenceItem, SignOff};
use crate::incident::{Feedback, Incident};
use crate::monitoring::{Alert, OutcomeReport, Reading};
use crate::playbook::{Contact, Loosening};
use crate::registry::{DueDiligenceAnswer, Person, Training, Vendor};
use crate::review::{HumanOutcome, ReviewItem};
use crate::runtime::{Consent, DecisionRequest, Outcome, Reason, Suspension};
use crate::store::{ActivePack, ApiKey, Event, IntakeRecord, Store, SystemVersion, Tx};

/// Something that happened, for the ledger, with the records or details it is about.
#[derive(Debug, Clone, Copy)]
pub enum LedgerEvent<'a> {
    /// `person.add` — a person registered (the whole record).
    PersonAdd { person: &'a Person },
    /// `person.grant-role` — a sign-off role given to a person.
    PersonGrantRole { person: &'a str, role: &'a str },
    /// `person.training` — ethics training recorded for a person (Art. 22).
    PersonTraining { person: &'a str, training: &'a Training },
    /// `vendor.add` — a vendor registered (the whole record).
    VendorAdd { vendor: &'a Vendor },
    /// `vendor.due-diligence` — one due-diligence answer about a vendor.
    VendorDueDiligence { vendor: &'a str, question: &'a str, answer: &'a DueDiligenceAnswer },
    /// `system.register` — a system's first version.
    SystemRegister { version: &'a SystemVersion },
    /// `system.update` — a new version of a system's record.
    SystemUpdate { version: &'a SystemVersion },
    /// `playbook.loosen` — a playbook change that weakens human control over an approved
    /// system, recorded beside its `system.update`.
    PlaybookLoosen { system: &'a str, version: u32, loosened: &'a [Loosening] },
    /// `intake.record` — an intake taken for a system version, with its tier.
    IntakeRecord { intake: &'a IntakeRecord },
    /// `pack.activate` — a norm pack activated, replacing the active version `replaces`.
    PackActivate { pack: &'a ActivePack, replaces: Option<&'a str> },
    /// `assessment.open` — an assessment opened from intake `intake`, with the controls the tier
    /// requires.
    AssessmentOpen { assessment: &'a Assessment, intake: u64, controls: &'a [String] },
    /// `control.set` — a control's status changed in an assessment (the id stored upper-cased).
    ControlSet { assessment: u64, control: &'a str, status: ControlStatus, justification: &'a str, comment: &'a str },
    /// `evidence.add` — evidence attached to a control, numbered `evidence`.
    EvidenceAdd { assessment: u64, control: &'a str, evidence: u32, item: &'a EvidenceItem, note: &'a str },
    /// `assessment.submit` — an assessment submitted for sign-off.
    AssessmentSubmit { assessment: u64 },
    /// `assessment.reopen` — a submitted assessment reopened; its sign-offs lapse.
    AssessmentReopen { assessment: u64, reason: &'a str, lapsed: &'a [SignOff] },
    /// `assessment.signoff` — one sign-off in a role.
    AssessmentSignOff { assessment: u64, role: &'a str, note: &'a str },
    /// `assessment.approve` — the last required sign-off approved the assessment.
    AssessmentApprove { assessment: &'a Assessment },
    /// `system.suspend` — the kill switch pulled (Art. 3(4)); `incident` when an incident's
    /// severity pulled it.
    SystemSuspend { suspension: &'a Suspension, incident: Option<u64> },
    /// `system.resume` — a suspension lifted, with why (stored trimmed).
    SystemResume { system: &'a str, purpose: Option<&'a str>, reason: &'a str, lifted: &'a Suspension },
    /// `consent.set` — a subject's choice toward a system (Art. 16).
    ConsentSet { consent: &'a Consent },
    /// `key.add` — an API key made (never its secret or hash).
    KeyAdd { key: &'a ApiKey },
    /// `key.revoke` — an API key revoked.
    KeyRevoke { key: &'a str },
    /// `review.claim` — a reviewer took a queued decision.
    ReviewClaim { review: &'a ReviewItem },
    /// `review.resolve` — a reviewer's outcome for a queued decision (the note stored trimmed).
    ReviewResolve { review: &'a ReviewItem, outcome: HumanOutcome, note: &'a str },
    /// `incident.open` — an incident opened, with who to tell; `suspension_withheld` says why
    /// the playbook's suspension was not applied, when it was not.
    IncidentOpen { incident: &'a Incident, contacts: &'a [&'a Contact], suspension_withheld: Option<&'a str> },
    /// `incident.acknowledge` — an incident acknowledged, `late` after its deadline.
    IncidentAcknowledge { incident: &'a Incident, note: &'a str, late: bool },
    /// `incident.resolve` — an incident resolved, `late` after its deadline.
    IncidentResolve { incident: &'a Incident, note: &'a str, late: bool },
    /// `feedback.submit` — feedback from the public about a system (Art. 17).
    FeedbackSubmit { feedback: &'a Feedback },
    /// `outcome.report` — reported outcomes of a system's decisions.
    OutcomeReport { system: &'a str, outcomes: &'a [OutcomeReport] },
    /// `alert.raise` — a monitor crossed its threshold.
    AlertRaise { alert: &'a Alert },
    /// `alert.clear` — a monitor fell back within its threshold.
    AlertClear { alert: u64, system: &'a str, reading: &'a Reading },
    /// `decision` — the runtime gateway's answer to one request.
    Decision { id: &'a str, request: &'a DecisionRequest, outcome: Outcome, reasons: &'a [Reason] },
    /// `access.refused` — the access policy refused a key an action.
    AccessRefused { key: &'a str, action: &'a str, why: &'a str },
    /// `dashboard.sign-in` — a key signed in to the dashboard.
    DashboardSignIn { key: &'a str },
    /// `report.issue` — a report's content digest, anchored in the ledger.
    ReportIssue(ReportIssue<'a>),
    /// `report.file` — a file (a PDF) written from an anchored report.
    ReportFile(ReportFile<'a>),
}

/// A report anchored in the ledger: what it is about (`system:ID` or `organisation`), its kind,
/// the SHA-256 (hex) of its content and, for an HTML page, of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportIssue<'a> {
    pub subject: &'a str,
    pub kind: &'a str,
    pub content_sha256: &'a str,
    /// The report format version, e.g. `lunli-report/1`.
    pub format: &'a str,
    pub html_sha256: Option<&'a str>,
}

/// A file written from an anchored report: the report entry it came from (and that entry's
/// subject and kind), the file's format and SHA-256 (hex), and the report's content SHA-256.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportFile<'a> {
    pub subject: &'a str,
    /// The `kind` of the report entry, as it stands there.
    pub kind: &'a Value,
    pub format: &'a str,
    pub file_sha256: &'a str,
    pub content_sha256: &'a str,
    pub report_entry: u64,
}

/// Every action the ledger records, in the order of [`LedgerEvent`]'s variants.
pub const ACTIONS: [&str; 36] = [
    "person.add",
    "person.grant-role",
    "person.training",
    "vendor.add",
    "vendor.due-diligence",
    "system.register",
    "system.update",
    "playbook.loosen",
    "intake.record",
    "pack.activate",
    "assessment.open",
    "control.set",
    "evidence.add",
    "assessment.submit",
    "assessment.reopen",
    "assessment.signoff",
    "assessment.approve",
    "system.suspend",
    "system.resume",
    "consent.set",
    "key.add",
    "key.revoke",
    "review.claim",
    "review.resolve",
    "incident.open",
    "incident.acknowledge",
    "incident.resolve",
    "feedback.submit",
    "outcome.report",
    "alert.raise",
    "alert.clear",
    "decision",
    "access.refused",
    "dashboard.sign-in",
    "report.issue",
    "report.file",
];

impl LedgerEvent<'_> {
    /// The dotted verb the ledger stores, e.g. `system.register`.
    pub fn action(&self) -> &'static str {
        match self {
            Self::PersonAdd { .. } => "person.add",
            Self::PersonGrantRole { .. } => "person.grant-role",
            Self::PersonTraining { .. } => "person.training",
            Self::VendorAdd { .. } => "vendor.add",
            Self::VendorDueDiligence { .. } => "vendor.due-diligence",
            Self::SystemRegister { .. } => "system.register",
            Self::SystemUpdate { .. } => "system.update",
            Self::PlaybookLoosen { .. } => "playbook.loosen",
            Self::IntakeRecord { .. } => "intake.record",
            Self::PackActivate { .. } => "pack.activate",
            Self::AssessmentOpen { .. } => "assessment.open",
            Self::ControlSet { .. } => "control.set",
            Self::EvidenceAdd { .. } => "evidence.add",
            Self::AssessmentSubmit { .. } => "assessment.submit",
            Self::AssessmentReopen { .. } => "assessment.reopen",
            Self::AssessmentSignOff { .. } => "assessment.signoff",
            Self::AssessmentApprove { .. } => "assessment.approve",
            Self::SystemSuspend { .. } => "system.suspend",
            Self::SystemResume { .. } => "system.resume",
            Self::ConsentSet { .. } => "consent.set",
            Self::KeyAdd { .. } => "key.add",
            Self::KeyRevoke { .. } => "key.revoke",
            Self::ReviewClaim { .. } => "review.claim",
            Self::ReviewResolve { .. } => "review.resolve",
            Self::IncidentOpen { .. } => "incident.open",
            Self::IncidentAcknowledge { .. } => "incident.acknowledge",
            Self::IncidentResolve { .. } => "incident.resolve",
            Self::FeedbackSubmit { .. } => "feedback.submit",
            Self::OutcomeReport { .. } => "outcome.report",
            Self::AlertRaise { .. } => "alert.raise",
            Self::AlertClear { .. } => "alert.clear",
            Self::Decision { .. } => "decision",
            Self::AccessRefused { .. } => "access.refused",
            Self::DashboardSignIn { .. } => "dashboard.sign-in",
            Self::ReportIssue(_) => "report.issue",
            Self::ReportFile(_) => "report.file",
        }
    }

    /// What it happened to: `person:ID`, `system:ID`, `assessment:N`, `key:ID` …
    pub fn subject(&self) -> String {
        match self {
            Self::PersonAdd { person } => format!("person:{}", person.id),
            Self::PersonGrantRole { person, .. } | Self::PersonTraining { person, .. } => format!("person:{person}"),
            Self::VendorAdd { vendor } => format!("vendor:{}", vendor.id),
            Self::VendorDueDiligence { vendor, .. } => format!("vendor:{vendor}"),
            Self::SystemRegister { version } | Self::SystemUpdate { version } => {
                format!("system:{}", version.system.id)
            }
            Self::PlaybookLoosen { system, .. }
            | Self::SystemResume { system, .. }
            | Self::OutcomeReport { system, .. } => format!("system:{system}"),
            Self::IntakeRecord { intake } => format!("system:{}", intake.system),
            Self::PackActivate { pack, .. } => format!("pack:{}", pack.id),
            Self::AssessmentOpen { assessment, .. } | Self::AssessmentApprove { assessment } => {
                format!("assessment:{}", assessment.id)
            }
            Self::ControlSet { assessment, .. }
            | Self::EvidenceAdd { assessment, .. }
            | Self::AssessmentSubmit { assessment }
            | Self::AssessmentReopen { assessment, .. }
            | Self::AssessmentSignOff { assessment, .. } => format!("assessment:{assessment}"),
            Self::SystemSuspend { suspension, .. } => format!("system:{}", suspension.system),
            Self::ConsentSet { consent } => format!("system:{}", consent.system),
            Self::KeyAdd { key } => format!("key:{}", key.id),
            Self::KeyRevoke { key } | Self::AccessRefused { key, .. } | Self::DashboardSignIn { key } => {
                format!("key:{key}")
            }
            Self::ReviewClaim { review } | Self::ReviewResolve { review, .. } => format!("review:{}", review.id),
            Self::IncidentOpen { incident, .. }
            | Self::IncidentAcknowledge { incident, .. }
            | Self::IncidentResolve { incident, .. } => format!("incident:{}", incident.id),
            Self::FeedbackSubmit { feedback } => format!("system:{}", feedback.system),
            Self::AlertRaise { alert } => format!("alert:{}", alert.id),
            Self::AlertClear { alert, .. } => format!("alert:{alert}"),
            Self::Decision { request, .. } => format!("system:{}", request.system),
            Self::ReportIssue(issue) => issue.subject.to_string(),
            Self::ReportFile(file) => file.subject.to_string(),
        }
    }

    /// The details, as the ledger stores them.
    pub fn payload(&self) -> Value {
        match *self {
            Self::PersonAdd { person } => json!(person),
            Self::PersonGrantRole { role, .. } => json!({ "role": role }),
            Self::PersonTraining { training, .. } => json!(training),
            Self::VendorAdd { vendor } => json!(vendor),
            Self::VendorDueDiligence { question, answer, .. } => json!({ "question": question, "answer": answer }),
            Self::SystemRegister { version } | Self::SystemUpdate { version } => json!(version),
            Self::PlaybookLoosen { version, loosened, .. } => json!({ "version": version, "loosened": loosened }),
            Self::IntakeRecord { intake } => json!(intake),
            Self::PackActivate { pack, replaces } => json!({
                "id": pack.id, "version": pack.version, "digest": pack.digest, "extends": pack.extends,
                "replaces": replaces, "files": pack.files.iter().map(|f| &f.path).collect::<Vec<_>>(),
            }),
            Self::AssessmentOpen { assessment, intake, controls } => json!({
                "system": assessment.system, "version": assessment.version, "tier": assessment.tier,
                "intake": intake, "controls": controls, "roles": assessment.required_roles,
            }),
            Self::ControlSet { control, status, justification, comment, .. } => json!({
                "control": control.to_ascii_uppercase(), "status": status, "justification": justification,
                "comment": comment,
            }),
            Self::EvidenceAdd { control, evidence, item, note, .. } => {
                json!({ "control": control, "evidence": evidence, "item": item, "note": note })
            }
            Self::AssessmentSubmit { .. } | Self::KeyRevoke { .. } | Self::DashboardSignIn { .. } => json!({}),
            Self::AssessmentReopen { reason, lapsed, .. } => json!({ "reason": reason, "lapsed_signoffs": lapsed }),
            Self::AssessmentSignOff { role, note, .. } => json!({ "role": role, "note": note }),
            Self::AssessmentApprove { assessment } => json!({
                "system": assessment.system, "version": assessment.version, "review_due": assessment.review_due(),
            }),
            Self::SystemSuspend { suspension, incident: None } => json!(suspension),
            Self::SystemSuspend { suspension, incident: Some(incident) } => {
                json!({ "suspension": suspension, "incident": incident })
            }
            Self::SystemResume { purpose, reason, lifted, .. } => {
                json!({ "purpose": purpose, "reason": reason.trim(), "lifted": lifted })
            }
            Self::ConsentSet { consent } => json!(consent),
            Self::KeyAdd { key } => json!({ "name": key.name, "person": key.person, "roles": key.roles }),
            Self::ReviewClaim { review } => {
                json!({ "decision": review.decision, "decision_index": review.decision_index })
            }
            Self::ReviewResolve { review, outcome, note } => json!({
                "system": review.system, "decision": review.decision, "decision_index": review.decision_index,
                "outcome": outcome, "note": note.trim(),
            }),
            Self::IncidentOpen { incident, contacts, suspension_withheld } => {
                let mut payload = json!({ "incident": incident, "contacts": contacts });
                if let Some(why) = suspension_withheld {
                    payload["suspension_withheld"] = json!(why);
                }
                payload
            }
            Self::IncidentAcknowledge { incident, note, late } | Self::IncidentResolve { incident, note, late } => {
                json!({ "system": incident.system, "note": note.trim(), "late": late })
            }
            Self::FeedbackSubmit { feedback } => json!(feedback),
            Self::OutcomeReport { outcomes, .. } => json!({ "count": outcomes.len(), "outcomes": outcomes }),
            Self::AlertRaise { alert } => json!(alert),
            Self::AlertClear { system, reading, .. } => json!({ "system": system, "reading": reading }),
            Self::Decision { id, request, outcome, reasons } => json!({
                "id": id,
                "subject": request.subject,
                "purpose": request.purpose,
                "impact": request.impact,
                "confidence": request.confidence,
                "channel": request.channel,
                "outcome": outcome,
                "reasons": reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
            }),
            Self::AccessRefused { action, why, .. } => json!({ "action": action, "why": why }),
            Self::ReportIssue(issue) => {
                let mut payload =
                    json!({ "kind": issue.kind, "content_sha256": issue.content_sha256, "format": issue.format });
                if let (Some(page), Some(fields)) = (issue.html_sha256, payload.as_object_mut()) {
                    fields.insert("html_sha256".into(), Value::String(page.to_string()));
                }
                payload
            }
            Self::ReportFile(file) => json!({
                "kind": file.kind,
                "format": file.format,
                "file_sha256": file.file_sha256,
                "content_sha256": file.content_sha256,
                "report_entry": file.report_entry,
            }),
        }
    }

    /// The stored form, as `actor` did it at `at`. The one place an [`Event`] is made.
    pub(crate) fn to_event(self, actor: impl Into<String>, at: Timestamp) -> Event {
        Event {
            actor: actor.into(),
            action: self.action().to_string(),
            subject: self.subject(),
            at,
            payload: self.payload(),
        }
    }
}

/// Records `event` as done by `actor` at `at`, in the transaction `tx`; returns its index.
pub(crate) fn record(
    tx: &mut dyn Tx,
    actor: &str,
    at: Timestamp,
    event: LedgerEvent<'_>,
) -> Result<u64, GovernanceError> {
    tx.record(&event.to_event(actor, at))
}

/// An event made by governance and waiting to be recorded: what the runtime gateway queues for
/// its group commit ([`crate::Governance::record_decisions`]). Only the constructors here make
/// one, so every decision, refusal and sign-in reaches the ledger in the same shape. The
/// payload is built by the caller's thread, not by the one writer that commits the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent(Event);

impl PendingEvent {
    /// The gateway's decision `id` on `request`, made for `actor` (the key's person, or the key).
    pub fn decision(
        actor: String,
        at: Timestamp,
        id: &str,
        request: &DecisionRequest,
        outcome: Outcome,
        reasons: &[Reason],
    ) -> Self {
        Self(LedgerEvent::Decision { id, request, outcome, reasons }.to_event(actor, at))
    }

    /// The access policy refused key `key` the action `action`, for the reason `why`.
    pub fn access_refused(actor: String, at: Timestamp, key: &str, action: &str, why: &str) -> Self {
        Self(LedgerEvent::AccessRefused { key, action, why }.to_event(actor, at))
    }

    /// Key `key` signed in to the dashboard.
    pub fn dashboard_sign_in(actor: String, at: Timestamp, key: &str) -> Self {
        Self(LedgerEvent::DashboardSignIn { key }.to_event(actor, at))
    }

    /// The event as it will be stored.
    pub fn event(&self) -> &Event {
        &self.0
    }

    pub fn at(&self) -> Timestamp {
        self.0.at
    }
}

/// Records the `report.issue` entry that anchors a report, in its own transaction; returns its
/// index. The caller signs a tree head over it and embeds the proof.
pub fn record_report_issue<S: Store>(
    store: &S,
    actor: &str,
    at: Timestamp,
    issue: ReportIssue<'_>,
) -> Result<u64, GovernanceError> {
    store.write(|tx| record(tx, actor, at, LedgerEvent::ReportIssue(issue)))
}

/// Records the `report.file` entry for a file written from an anchored report, in its own
/// transaction; returns its index.
pub fn record_report_file<S: Store>(
    store: &S,
    actor: &str,
    at: Timestamp,
    file: ReportFile<'_>,
) -> Result<u64, GovernanceError> {
    store.write(|tx| record(tx, actor, at, LedgerEvent::ReportFile(file)))
}
