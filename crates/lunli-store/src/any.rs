//! One of the backends, chosen at run time: the binary opens the embedded store, or PostgreSQL
//! when given a database URL, and the governance library and the gateway work on either through
//! [`Store`].

use lunli_governance::GovernanceError;
use lunli_governance::store::{Store, Tx};
use lunli_ledger::store::{Backend, LedgerError, LedgerKeys, Tables};

use crate::{PostgresStore, SqliteStore};

/// The embedded store or the shared one.
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl AnyStore {
    /// Where the store is: the SQLite file's path, or PostgreSQL's `user@host:port/dbname`.
    pub fn location(&self) -> String {
        match self {
            AnyStore::Sqlite(store) => store.path().display().to_string(),
            AnyStore::Postgres(store) => format!("postgresql://{}", store.target()),
        }
    }

    /// Number of entries in the ledger.
    pub fn ledger_size(&self) -> Result<u64, GovernanceError> {
        match self {
            AnyStore::Sqlite(store) => store.ledger_size(),
            AnyStore::Postgres(store) => store.ledger_size(),
        }
    }
}

impl Backend for AnyStore {
    fn ledger_keys(&self) -> Result<LedgerKeys, LedgerError> {
        match self {
            AnyStore::Sqlite(store) => Backend::ledger_keys(store),
            AnyStore::Postgres(store) => Backend::ledger_keys(store),
        }
    }

    fn snapshot<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        match self {
            AnyStore::Sqlite(store) => store.snapshot(work),
            AnyStore::Postgres(store) => store.snapshot(work),
        }
    }

    fn write_ledger<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        match self {
            AnyStore::Sqlite(store) => store.write_ledger(work),
            AnyStore::Postgres(store) => store.write_ledger(work),
        }
    }

    fn written_links(&self) -> Option<&lunli_ledger::WrittenLinks> {
        match self {
            AnyStore::Sqlite(store) => store.written_links(),
            AnyStore::Postgres(store) => store.written_links(),
        }
    }
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PostgresStore> for AnyStore {
    fn from(store: PostgresStore) -> Self {
        AnyStore::Postgres(store)
    }
}

impl Store for AnyStore {
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        match self {
            AnyStore::Sqlite(store) => store.write(work),
            AnyStore::Postgres(store) => store.write(work),
        }
    }

    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        match self {
            AnyStore::Sqlite(store) => store.read(work),
            AnyStore::Postgres(store) => store.read(work),
        }
    }
}
