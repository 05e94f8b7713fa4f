//! lunli's reports: what management, an ethics committee, an auditor or a regulator reads about
//! one AI system ([`SystemReport`]) or the whole inventory ([`OrgReport`]), built from one
//! consistent read of the governance store, in Chinese and English, and verifiable.
//!
//! A report is recorded in the tamper-evident ledger before anyone reads it: [`anchor`] appends a
//! `report.issue` entry carrying the SHA-256 of the report's canonical content, signs a tree head
//! over it and returns a [`Document`] that embeds the head and the entry's inclusion proof.
//! [`verify::verify_document`] checks such a document offline, with nothing but the file and the
//! ledger's public key. Rendering: [`html::system_page`] and [`html::org_page`] write
//! self-contained pages with `maud` (inline CSS and SVG, no script, nothing from the network; the signed
//! document is embedded so the HTML verifies too); [`pdf::print_pdf`] prints that HTML with
//! headless Chromium; JSON is the [`Document`] itself (shape in `docs/json.md`).
//!
//! This crate does not decide anything about governance (`lunli-governance` does), does not
//! parse the command line, print or read the environment (the `lunli` binary does). It works
//! over any [`lunli_governance::store::Store`] with a [`lunli_ledger::store::Ledger`]: SQLite or PostgreSQL.

mod anchor;
pub mod audit;
mod error;
pub mod html;
mod model;
mod org;
pub mod pdf;
pub mod verify;

pub use anchor::{Document, anchor, ledger_decisions};
pub use error::ReportError;
pub use html::Languages;
pub use model::{
    ArticleGroup, AssessmentSection, ConsentCounts, ControlRow, DecisionCounts, EvidenceRow, FiredRule, Header,
    IncidentSummary, Issue, Named, PersonRef, PrincipleGroup, Progress, REPORT_FORMAT, ReviewCounts, RoleSignOff,
    RuntimeSection, SignedBy, SystemCard, SystemReport, TieringSection, system_report,
};
pub use org::{ArticleCoverage, Count, OrgReport, OrgSystem, org_report};
