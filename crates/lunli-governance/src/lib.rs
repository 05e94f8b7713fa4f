//! The governance rules of lunli — the registry of AI systems, intake and risk tiering,
//! assessments and sign-offs — as pure functions over data. Nothing here opens a database, looks
//! at the clock or prints, and nothing reads files but [`ledger`]'s record of the last ledger
//! verification and [`digest`], which hashes the files callers name: callers hand in the
//! catalogue, the answers and the time, and store or show what comes back.
//!
//! Intake and tiering: parse a system's answers with [`intake::Answers::from_yaml`] (or build
//! them and [`intake::Answers::validate`] them) against the questionnaire in
//! [`lunli_norms::Catalogue`], then [`tiering::tier`] them into a [`tiering::Tiering`]: the tier,
//! every rule that fired with its reason and articles, and what the tier requires. The
//! questionnaire and the rules are catalogue data, never code (Art. 24: an organisation may
//! make them stricter without rebuilding lunli).

//!
//! Registry and assessments: [`System`], [`Person`] and [`Vendor`] records, and the
//! [`Assessment`] of one system version with its control states, evidence and sign-offs, whose
//! approval rules (separation of duties, training, re-review dates) are pure functions. The
//! workflows that store them — each one transaction together with its ledger entries — are on
//! [`Governance`], over any [`store::Store`] backend.
//!
//! Runtime oversight (Art. 3(4), Art. 8, Art. 17, Art. 21): a system's [`playbook::Playbook`],
//! the human [`review`] queue, [`incident`]s and public feedback, and [`monitoring`] of reported
//! outcomes with alerts; their workflows are on [`Governance`] too (`service/oversight.rs`).
//!
//! The ledger: every workflow records what it changed as a typed [`LedgerEvent`] in the same
//! transaction; this crate alone turns those into stored events, so no client (the command
//! line, the gateway, the reports) can record a change its own way. The gateway's decisions
//! are queued as [`PendingEvent`]s and committed in batches by [`Governance::record_decisions`].
//! The ledger's state as the dashboard shows it: [`ledger::LedgerStatus`] (size, latest signed head, last
//! verification) for every store whose ledger runs `lunli_ledger::store::Ledger`.

pub mod actor;
pub mod assessment;
mod audit_detail;
pub mod audit_summary;
pub mod crosswalk;
pub mod digest;
mod error;
pub mod filing;
pub mod incident;
pub mod intake;
pub mod ledger;
pub mod ledger_event;
pub mod manifest;
pub mod monitoring;
pub mod playbook;
pub mod registry;
pub mod review;
pub mod runtime;
pub mod service;
pub mod store;
pub mod tiering;

pub use actor::Actor;
pub use assessment::{Approval, Assessment, ControlState, ControlStatus, Evidence, EvidenceItem, SignOff};
pub use error::{GovernanceError, Step};
pub use ledger_event::{LedgerEvent, PendingEvent};
pub use registry::{
    DataSource, Deployment, DueDiligenceAnswer, Exposure, LegalBasis, ModelProvenance, ModelSource, OrgRole, Person,
    Stage, System, Training, Vendor, VendorKind,
};
pub use service::{
    AuditRun, Governance, IncidentRow, OutcomeResult, PLAYBOOK_ACTOR, RuntimeDefaults, RuntimeSnapshot, StatusRow,
};
