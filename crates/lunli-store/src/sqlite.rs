//! The embedded store: one SQLite file in the data directory, in WAL mode with full fsync on
//! every commit, so an acknowledged change survives a crash or power loss.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use lunli_governance::GovernanceError;
use lunli_governance::store::{Event, Store, Tx, Value};
use lunli_ledger::WrittenLinks;
use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;
use crate::ledger;
use crate::records::{Cell, Column, Dialect, Records, Sql};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "lunli.db";

/// lunli's embedded store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The ledger entries appended through this store, for signing heads (see
    /// `lunli_ledger::written`).
    pub(crate) written: WrittenLinks,
}

/// Creates `dir` (and missing parents) unless it exists; `dir` itself is made 0700 on Unix,
/// its parents with the usual mode.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `data_dir` and brings its schema up to date.
    ///
    /// The store holds feedback contact details and who did what, so a data directory or
    /// database file it creates is its owner's only (0700 and 0600 on Unix), like the signing
    /// key; SQLite gives the `-wal` and `-shm` files the database file's mode. An existing
    /// directory or file keeps the mode it has: its owner may have chosen it.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        create_private_dir(data_dir).map_err(|source| StoreError::Io { path: data_dir.to_path_buf(), source })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut new_file = std::fs::OpenOptions::new();
        new_file.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            new_file.mode(0o600);
        }
        // An empty file is an empty database. When it exists already, or cannot be made,
        // SQLite's own open below uses it or reports why not, naming the file.
        let _ = new_file.open(&path);
        let sql = |source| StoreError::Sqlite { path: path.clone(), source };
        let mut conn = Connection::open(&path).map_err(sql)?;
        // WAL lets readers work while a writer commits; FULL makes every commit fsync the WAL.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(sql)?;
        // Grouped: every pending migration and its history row in one transaction. Ungrouped,
        // refinery commits a migration and its history row separately, and a process killed
        // between the two leaves tables no history knows of (caught by tests/crash.rs).
        embedded::migrations::runner()
            .set_grouped(true)
            .run(&mut conn)
            .map_err(|source| StoreError::Migration { path: path.clone(), message: source.to_string() })?;
        Ok(Self { conn: Mutex::new(conn), path, written: WrittenLinks::default() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest migration applied, e.g. 1 for `V1__initial`.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let conn = self.lock().map_err(|e| StoreError::Poisoned(e.to_string()))?;
        conn.query_row("SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history", [], |r| r.get(0))
            .map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })
    }

    /// Number of entries in the ledger.
    pub fn ledger_size(&self) -> Result<u64, GovernanceError> {
        ledger::ledger_size(&*self.lock()?)
    }

    /// Ledger entries from index `from`, at most `limit`, in index order.
    pub fn ledger_rows(&self, from: u64, limit: u64) -> Result<Vec<ledger::LedgerRow>, GovernanceError> {
        ledger::ledger_rows(&*self.lock()?, from, limit)
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Connection>, GovernanceError> {
        self.conn.lock().map_err(|_| GovernanceError::Storage {
            message: "the database connection was poisoned by an earlier panic".into(),
            source: None,
        })
    }
}

impl Store for SqliteStore {
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        let mut conn = self.lock()?;
        // IMMEDIATE takes the write lock up front, so two processes never interleave a
        // read-then-write on the same records.
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("beginning a transaction"))?;
        let value = work(&mut Records(SqliteTx { conn: &tx, tail: None, written: &self.written }))?;
        tx.commit().map_err(db("committing"))?;
        Ok(value)
    }

    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(db("beginning a read"))?;
        let value = work(&mut Records(SqliteTx { conn: &tx, tail: None, written: &self.written }));
        // Reads never commit: dropping the transaction rolls back anything written through it.
        drop(tx);
        value
    }
}

/// One open transaction.
pub(crate) struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
    /// The ledger's tail after this transaction's last append (see `ledger::append`).
    pub(crate) tail: Option<(u64, lunli_ledger::Hash)>,
    pub(crate) written: &'c WrittenLinks,
}

fn db(doing: &'static str) -> impl Fn(rusqlite::Error) -> GovernanceError {
    move |e| GovernanceError::storage(format!("SQLite failed while {doing}"), e)
}

/// SQLite integers are signed 64-bit; lunli's ids and indices are unsigned and far below 2^63.
pub(crate) fn to_i64(value: u64) -> Result<i64, GovernanceError> {
    i64::try_from(value).map_err(|e| GovernanceError::storage(format!("{value} is too large to store"), e))
}

pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, GovernanceError> {
    u64::try_from(value).map_err(|e| GovernanceError::storage(format!("stored {what} {value} is negative"), e))
}

impl Sql for SqliteTx<'_> {
    const DIALECT: Dialect = Dialect::Sqlite;

    fn execute(&mut self, doing: &'static str, sql: &str, params: &[Value]) -> Result<u64, GovernanceError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(db(doing))?;
        let changed = statement.execute(rusqlite::params_from_iter(params.iter().map(bind))).map_err(db(doing))?;
        Ok(changed as u64)
    }

    fn query(
        &mut self,
        doing: &'static str,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Cell>>, GovernanceError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(db(doing))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter().map(bind)), |row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        Ok(match column {
                            Column::Int => row.get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int),
                            Column::Text => row.get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text),
                        })
                    })
                    .collect::<Result<Vec<Cell>, rusqlite::Error>>()
            })
            .map_err(db(doing))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db(doing))
    }

    fn append(&mut self, event: &Event) -> Result<u64, GovernanceError> {
        ledger::append(self.conn, &mut self.tail, self.written, event)
    }
}

/// A value as SQLite binds it; [`Value::Next`] is written into the SQL, never bound.
fn bind(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Int(n) => rusqlite::types::Value::Integer(*n),
        Value::Text(text) => rusqlite::types::Value::Text(text.clone()),
        Value::Next => rusqlite::types::Value::Null,
    }
}
