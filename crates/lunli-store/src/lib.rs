//! lunli's storage: the backends behind `lunli-governance`'s [`Store`](lunli_governance::store::Store)
//! interface. [`SqliteStore`] is the embedded default — one file in a data directory, created
//! and migrated on open. Every write is one transaction that also appends its ledger entries,
//! so a change and its record in the tamper-evident ledger are stored together or not at all.
//!
//! This crate holds SQL and nothing else: no governance rule, no printing.

mod ledger;
mod sqlite;

use std::path::PathBuf;

pub use ledger::LedgerRow;
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
}
