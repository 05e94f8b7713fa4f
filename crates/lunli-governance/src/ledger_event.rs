//! What the ledger records, as types: one [`LedgerEvent`] variant per action, each naming its
//! subject and carrying its details, from which the stored [`Event`] (action string, subject
//! string, JSON payload) is made in one place. A decision, made tens of thousands of times a
//! second, has its payload written in canonical form on the request's thread instead
//! ([`PendingEvent::decision`]), with the same members.
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
use lunli_ledger::CanonicalObject;
use serde_json::{Value, json};

use crate::GovernanceError;
use crate::assessment::{Assessment, ControlStatus, EvidenceItem, SignOff};
use crate::incident::{Feedback, Incident};
use crate::monitoring::{Alert, OutcomeReport, Reading};
use crate::playbook::{Contact, Loosening};
use crate::registry::{DueDiligenceAnswer, Person, Training, Vendor};
use crate::review::{HumanOutcome, ReviewItem};
use crate::runtime::{Consent, DecisionRequest, Impact, Outcome, Reason, Suspension};
use crate::store::{ActivePack, ApiKey, Event, IntakeRecord, Payload, Store, SystemVersion, Tx};

/// Declares [`LedgerEvent`] with each variant's action string beside it, and from that one list
/// [`ACTIONS`] and [`LedgerEvent::action`]: a new action is one line here and one arm in
/// [`LedgerEvent::subject_and_payload`].
macro_rules! ledger_events {
    ($($(#[$doc:meta])* $variant:ident $({ $($field:ident: $ty:ty),* $(,)? })? $(($tuple:ty))? => $action:literal,)*) => {
        /// Something that happened, for the ledger, with the records or details it is about.
        #[derive(Debug, Clone, Copy)]
        pub enum LedgerEvent<'a> {
            $($(#[$doc])* $variant $({ $($field: $ty),* })? $(($tuple))?,)*
        }

        /// Every action the ledger records, in the order of [`LedgerEvent`]'s variants.
        pub const ACTIONS: &[&str] = &[$($action),*];

        impl LedgerEvent<'_> {
            /// The dotted verb the ledger stores, e.g. `system.register`.
            pub fn action(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $action,)*
                }
            }
        }
    };
}

ledger_events! {
    /// A person registered (the whole record).
    PersonAdd { person: &'a Person } => "person.add",
    /// A sign-off role given to a person.
    PersonGrantRole { person: &'a str, role: &'a str } => "person.grant-role",
    /// Ethics training recorded for a person (Art. 22).
    PersonTraining { person: &'a str, training: &'a Training } => "person.training",
    /// A vendor registered (the whole record).
    VendorAdd { vendor: &'a Vendor } => "vendor.add",
    /// One due-diligence answer about a vendor.
    VendorDueDiligence { vendor: &'a str, question: &'a str, answer: &'a DueDiligenceAnswer } => "vendor.due-diligence",
    /// A system's first version.
    SystemRegister { version: &'a SystemVersion } => "system.register",
    /// A new version of a system's record.
    SystemUpdate { version: &'a SystemVersion } => "system.update",
    /// A playbook change that weakens human control over an approved
    /// system, recorded beside its `system.update`.
    PlaybookLoosen { system: &'a str, version: u32, loosened: &'a [Loosening] } => "playbook.loosen",
    /// An intake taken for a system version, with its tier.
    IntakeRecord { intake: &'a IntakeRecord } => "intake.record",
    /// A norm pack activated, replacing the active version `replaces`.
    PackActivate { pack: &'a ActivePack, replaces: Option<&'a str> } => "pack.activate",
    /// An assessment opened from intake `intake`, with the controls the tier
    /// requires.
    AssessmentOpen { assessment: &'a Assessment, intake: u64, controls: &'a [String] } => "assessment.open",
    /// A control's status changed in an assessment (the id stored upper-cased).
    ControlSet { assessment: u64, control: &'a str, status: ControlStatus, justification: &'a str, comment: &'a str } => "control.set",
    /// Evidence attached to a control, numbered `evidence`.
    EvidenceAdd { assessment: u64, control: &'a str, evidence: u32, item: &'a EvidenceItem, note: &'a str } => "evidence.add",
    /// An assessment submitted for sign-off.
    AssessmentSubmit { assessment: u64 } => "assessment.submit",
    /// A submitted assessment reopened; its sign-offs lapse.
    AssessmentReopen { assessment: u64, reason: &'a str, lapsed: &'a [SignOff] } => "assessment.reopen",
    /// One sign-off in a role.
    AssessmentSignOff { assessment: u64, role: &'a str, note: &'a str } => "assessment.signoff",
    /// The last required sign-off approved the assessment.
    AssessmentApprove { assessment: &'a Assessment } => "assessment.approve",
    /// The kill switch pulled (Art. 3(4)); `incident` when an incident's
    /// severity pulled it.
    SystemSuspend { suspension: &'a Suspension, incident: Option<u64> } => "system.suspend",
    /// A suspension lifted, with why (stored trimmed).
    SystemResume { system: &'a str, purpose: Option<&'a str>, reason: &'a str, lifted: &'a Suspension } => "system.resume",
    /// A subject's choice toward a system (Art. 16).
    ConsentSet { consent: &'a Consent } => "consent.set",
    /// An API key made (never its secret or hash).
    KeyAdd { key: &'a ApiKey } => "key.add",
    /// An API key revoked.
    KeyRevoke { key: &'a str } => "key.revoke",
    /// A reviewer took a queued decision.
    ReviewClaim { review: &'a ReviewItem } => "review.claim",
    /// A reviewer's outcome for a queued decision (the note stored trimmed).
    ReviewResolve { review: &'a ReviewItem, outcome: HumanOutcome, note: &'a str } => "review.resolve",
    /// An incident opened, with who to tell; `suspension_withheld` says why
    /// the playbook's suspension was not applied, when it was not.
    IncidentOpen { incident: &'a Incident, contacts: &'a [&'a Contact], suspension_withheld: Option<&'a str> } => "incident.open",
    /// An incident acknowledged, `late` after its deadline.
    IncidentAcknowledge { incident: &'a Incident, note: &'a str, late: bool } => "incident.acknowledge",
    /// An incident resolved, `late` after its deadline.
    IncidentResolve { incident: &'a Incident, note: &'a str, late: bool } => "incident.resolve",
    /// Feedback from the public about a system (Art. 17).
    FeedbackSubmit { feedback: &'a Feedback } => "feedback.submit",
    /// Reported outcomes of a system's decisions.
    OutcomeReport { system: &'a str, outcomes: &'a [OutcomeReport] } => "outcome.report",
    /// A monitor crossed its threshold.
    AlertRaise { alert: &'a Alert } => "alert.raise",
    /// A monitor fell back within its threshold.
    AlertClear { alert: u64, system: &'a str, reading: &'a Reading } => "alert.clear",
    /// The runtime gateway's answer to one request.
    Decision { id: &'a str, request: &'a DecisionRequest, outcome: Outcome, reasons: &'a [Reason] } => "decision",
    /// The access policy refused a key an action.
    AccessRefused { key: &'a str, action: &'a str, why: &'a str } => "access.refused",
    /// A key signed in to the dashboard.
    DashboardSignIn { key: &'a str } => "dashboard.sign-in",
    /// A report's content digest, anchored in the ledger.
    ReportIssue(ReportIssue<'a>) => "report.issue",
    /// A file (a PDF) written from an anchored report.
    ReportFile(ReportFile<'a>) => "report.file",
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

impl LedgerEvent<'_> {
    /// What it happened to: `person:ID`, `system:ID`, `assessment:N`, `key:ID` …
    pub fn subject(&self) -> String {
        self.subject_and_payload().0
    }

    /// The details, as the ledger stores them.
    pub fn payload(&self) -> Value {
        self.subject_and_payload().1
    }

    /// The subject and the details, one arm per action.
    fn subject_and_payload(&self) -> (String, Value) {
        match *self {
            Self::PersonAdd { person } => (format!("person:{}", person.id), json!(person)),
            Self::PersonGrantRole { person, role } => (format!("person:{person}"), json!({ "role": role })),
            Self::PersonTraining { person, training } => (format!("person:{person}"), json!(training)),
            Self::VendorAdd { vendor } => (format!("vendor:{}", vendor.id), json!(vendor)),
            Self::VendorDueDiligence { vendor, question, answer } => {
                (format!("vendor:{vendor}"), json!({ "question": question, "answer": answer }))
            }
            Self::SystemRegister { version } => (format!("system:{}", version.system.id), json!(version)),
            Self::SystemUpdate { version } => (format!("system:{}", version.system.id), json!(version)),
            Self::PlaybookLoosen { system, version, loosened } => {
                (format!("system:{system}"), json!({ "version": version, "loosened": loosened }))
            }
            Self::IntakeRecord { intake } => (format!("system:{}", intake.system), json!(intake)),
            Self::PackActivate { pack, replaces } => (
                format!("pack:{}", pack.id),
                json!({
                    "id": pack.id, "version": pack.version, "digest": pack.digest, "extends": pack.extends,
                    "replaces": replaces, "files": pack.files.iter().map(|f| &f.path).collect::<Vec<_>>(),
                }),
            ),
            Self::AssessmentOpen { assessment, intake, controls } => (
                format!("assessment:{}", assessment.id),
                json!({
                    "system": assessment.system, "version": assessment.version, "tier": assessment.tier,
                    "intake": intake, "controls": controls, "roles": assessment.required_roles,
                }),
            ),
            Self::ControlSet { assessment, control, status, justification, comment } => (
                format!("assessment:{assessment}"),
                json!({
                    "control": control.to_ascii_uppercase(), "status": status, "justification": justification,
                    "comment": comment,
                }),
            ),
            Self::EvidenceAdd { assessment, control, evidence, item, note } => (
                format!("assessment:{assessment}"),
                json!({ "control": control, "evidence": evidence, "item": item, "note": note }),
            ),
            Self::AssessmentSubmit { assessment } => (format!("assessment:{assessment}"), json!({})),
            Self::AssessmentReopen { assessment, reason, lapsed } => {
                (format!("assessment:{assessment}"), json!({ "reason": reason, "lapsed_signoffs": lapsed }))
            }
            Self::AssessmentSignOff { assessment, role, note } => {
                (format!("assessment:{assessment}"), json!({ "role": role, "note": note }))
            }
            Self::AssessmentApprove { assessment } => (
                format!("assessment:{}", assessment.id),
                json!({
                    "system": assessment.system, "version": assessment.version, "review_due": assessment.review_due(),
                }),
            ),
            Self::SystemSuspend { suspension, incident } => (
                format!("system:{}", suspension.system),
                match incident {
                    None => json!(suspension),
                    Some(incident) => json!({ "suspension": suspension, "incident": incident }),
                },
            ),
            Self::SystemResume { system, purpose, reason, lifted } => {
                (format!("system:{system}"), json!({ "purpose": purpose, "reason": reason.trim(), "lifted": lifted }))
            }
            Self::ConsentSet { consent } => (format!("system:{}", consent.system), json!(consent)),
            Self::KeyAdd { key } => {
                (format!("key:{}", key.id), json!({ "name": key.name, "person": key.person, "roles": key.roles }))
            }
            Self::KeyRevoke { key } => (format!("key:{key}"), json!({})),
            Self::ReviewClaim { review } => (
                format!("review:{}", review.id),
                json!({ "decision": review.decision, "decision_index": review.decision_index }),
            ),
            Self::ReviewResolve { review, outcome, note } => (
                format!("review:{}", review.id),
                json!({
                    "system": review.system, "decision": review.decision, "decision_index": review.decision_index,
                    "outcome": outcome, "note": note.trim(),
                }),
            ),
            Self::IncidentOpen { incident, contacts, suspension_withheld } => {
                let mut payload = json!({ "incident": incident, "contacts": contacts });
                if let Some(why) = suspension_withheld {
                    payload["suspension_withheld"] = json!(why);
                }
                (format!("incident:{}", incident.id), payload)
            }
            Self::IncidentAcknowledge { incident, note, late } => (
                format!("incident:{}", incident.id),
                json!({ "system": incident.system, "note": note.trim(), "late": late }),
            ),
            Self::IncidentResolve { incident, note, late } => (
                format!("incident:{}", incident.id),
                json!({ "system": incident.system, "note": note.trim(), "late": late }),
            ),
            Self::FeedbackSubmit { feedback } => (format!("system:{}", feedback.system), json!(feedback)),
            Self::OutcomeReport { system, outcomes } => {
                (format!("system:{system}"), json!({ "count": outcomes.len(), "outcomes": outcomes }))
            }
            Self::AlertRaise { alert } => (format!("alert:{}", alert.id), json!(alert)),
            Self::AlertClear { alert, system, reading } => {
                (format!("alert:{alert}"), json!({ "system": system, "reading": reading }))
            }
            Self::Decision { id, request, outcome, reasons } => (
                format!("system:{}", request.system),
                json!({
                    "id": id,
                    "subject": request.subject,
                    "purpose": request.purpose,
                    "impact": request.impact,
                    "confidence": request.confidence,
                    "channel": request.channel,
                    "outcome": outcome,
                    "reasons": reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                }),
            ),
            Self::AccessRefused { key, action, why } => (format!("key:{key}"), json!({ "action": action, "why": why })),
            Self::DashboardSignIn { key } => (format!("key:{key}"), json!({})),
            Self::ReportIssue(issue) => {
                let mut payload =
                    json!({ "kind": issue.kind, "content_sha256": issue.content_sha256, "format": issue.format });
                if let (Some(page), Some(fields)) = (issue.html_sha256, payload.as_object_mut()) {
                    fields.insert("html_sha256".into(), Value::String(page.to_string()));
                }
                (issue.subject.to_string(), payload)
            }
            Self::ReportFile(file) => (
                file.subject.to_string(),
                json!({
                    "kind": file.kind,
                    "format": file.format,
                    "file_sha256": file.file_sha256,
                    "content_sha256": file.content_sha256,
                    "report_entry": file.report_entry,
                }),
            ),
        }
    }

    /// The stored form, as `actor` did it at `at`. Every [`Event`] is made here, but for a
    /// decision's, whose payload [`PendingEvent::decision`] writes canonical from the same
    /// fields (and a test holds to this one).
    pub(crate) fn to_event(self, actor: impl Into<String>, at: Timestamp) -> Event {
        let (subject, payload) = self.subject_and_payload();
        Event { actor: actor.into(), action: self.action(), subject, at, payload: payload.into() }
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
    /// Its payload is made canonical here, on the caller's thread: the members of
    /// [`LedgerEvent::Decision`]'s payload, written in sorted order from the typed request.
    pub fn decision(
        actor: String,
        at: Timestamp,
        id: &str,
        request: &DecisionRequest,
        outcome: Outcome,
        reasons: &[Reason],
    ) -> Self {
        let decision = LedgerEvent::Decision { id, request, outcome, reasons };
        let mut object = CanonicalObject::new();
        object
            .optional_string("channel", request.channel.as_deref())
            .optional_number("confidence", request.confidence)
            .string("id", id)
            .optional_string("impact", request.impact.map(Impact::as_str))
            .string("outcome", outcome.as_str())
            .optional_string("purpose", request.purpose.as_deref())
            .strings("reasons", reasons.iter().map(|r| r.code.as_str()))
            .string("subject", &request.subject);
        match object.finish() {
            Ok(payload) => Self(Event {
                actor,
                action: decision.action(),
                subject: format!("system:{}", request.system),
                at,
                payload: Payload::Canonical(payload),
            }),
            // The names above are fixed and in order (a test holds this path to the JSON one);
            // were one not, the JSON value, canonicalised by the writer, gives the same entry.
            Err(_) => Self(decision.to_event(actor, at)),
        }
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
