//! lunli's storage: the backends behind `lunli-governance`'s [`Store`](lunli_governance::store::Store)
//! interface. [`SqliteStore`] is the embedded default — one file in a data directory, created
//! and migrated on open. [`PostgresStore`] is the shared one, for several `lunli serve`
//! instances on one state and one ledger; both pass the same tests. Every write is one
//! transaction that also appends its ledger entries, so a change and its record in the
//! tamper-evident ledger are stored together or not at all.
//!
//! The ledger, the same on both backends: each implements `lunli_ledger::store`'s
//! [`Backend`](lunli_ledger::store::Backend) (the ledger tables through one transaction), and so
//! gets the [`Ledger`] operations written once there — keys in a directory ([`LedgerKeys`]),
//! [`Ledger::sign_head`], [`Ledger::verify_ledger`], proofs, [`Ledger::export_bundle`] — and
//! `lunli_governance::ledger`'s [`LedgerStatus`]. Here: appending inside the governance
//! transaction, and group commit for many writers on SQLite ([`GroupCommit`],
//! [`SqliteStore::append_batch`]). The ledger's types are re-exported from their crates, so
//! `lunli_store::Ledger` and the like still name them.
//!
//! This crate holds SQL and nothing else: no governance rule, no ledger algorithm, no printing.

mod any;
mod chain;
mod ledger;
mod postgres;
mod records;
mod sqlite;

use std::path::PathBuf;

pub use any::AnyStore;
pub use ledger::{GroupCommit, LedgerRow};
pub use lunli_governance::ledger::{HeadSummary, LedgerHealth, LedgerStatus, VERIFICATION_FILE, Verification};
pub use lunli_ledger::store::{
    ConsistencyProof, ExportSummary, InclusionProof, Ledger, LedgerError, LedgerKeys, PUBLIC_KEY_FILE,
    SIGNING_KEY_FILE, SignOutcome, fingerprint,
};
pub use postgres::{PostgresError, PostgresOptions, PostgresStore};
pub use sqlite::{DATABASE_FILE, SqliteStore};

/// Failures opening or migrating a store; failures inside a unit of work are
/// [`GovernanceError::Storage`](lunli_governance::GovernanceError::Storage).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("SQLite error on {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot bring the database {} up to date: {message}", path.display())]
    Migration { path: PathBuf, message: String },
    #[error("the database connection was poisoned: {0}")]
    Poisoned(String),
    #[error("invalid PostgreSQL connection string: {source}")]
    PostgresUrl {
        #[source]
        source: PostgresError,
    },
    #[error(
        "invalid PostgreSQL schema name {name:?}: use lowercase ASCII letters, digits and `_`, starting with a letter"
    )]
    InvalidSchema { name: String },
    #[error("PostgreSQL at {target} failed while {doing}: {source}")]
    Postgres {
        target: String,
        doing: &'static str,
        #[source]
        source: PostgresError,
    },
    #[error("cannot open connections to PostgreSQL at {target}: {message}")]
    PostgresPool { target: String, message: String },
    #[error("cannot bring the PostgreSQL database {target} up to date: {message}")]
    PostgresMigration { target: String, message: String },
}
