//! The ledger's tables in SQLite and PostgreSQL: appending events as entries inside the caller's
//! transaction, and the [`Tables`](lunli_ledger::store::Tables) view through which
//! `lunli_ledger::store`'s operations (signing, verification, proofs, export — written once,
//! without SQL) run on either database. Each backend implements
//! [`Backend`](lunli_ledger::store::Backend), and so gets [`Ledger`](lunli_ledger::store::Ledger)
//! and `lunli_governance::ledger::LedgerStatus`.
//! [`SqliteStore::append_batch`](crate::SqliteStore::append_batch) and [`GroupCommit`] put many
//! appends in one commit.

mod group_commit;
mod postgres;
mod sqlite;

pub use group_commit::GroupCommit;
pub(crate) use sqlite::{append, ledger_rows, ledger_size};

/// One stored ledger row: the entry's canonical bytes and the leaf hash stored beside them.
/// Verification recomputes the hash from the bytes; the stored hash is never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub index: u64,
    pub leaf_hash: Vec<u8>,
    pub entry: Vec<u8>,
}
