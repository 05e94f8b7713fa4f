//! The shared store: PostgreSQL, so that several `lunli serve` instances (and the CLI) work on
//! one state and one ledger. Same tables and migrations as the embedded store
//! (`migrations/postgres`), same [`Store`] semantics:
//!
//! - [`Store::write`] is one transaction that first takes the store's write lock, a
//!   transaction-scoped advisory lock, so writers from every process and instance run one after
//!   another exactly as SQLite's `BEGIN IMMEDIATE` makes them. Inside it each statement reads
//!   everything committed before the lock was granted, so the ledger's next index and previous
//!   leaf hash are always the latest ones: indices stay gap-free and the hash chain unforked
//!   however many instances append at once. (A row lock on the last ledger entry would not do:
//!   an empty ledger has no row to lock. A table lock would queue behind autovacuum.)
//! - Commits are durable: every session runs with `synchronous_commit = on`, whatever the
//!   server's default, so a commit returns only once its WAL is flushed.
//! - [`Store::read`] is a `REPEATABLE READ, READ ONLY` transaction: one consistent snapshot that
//!   never waits for writers. PostgreSQL refuses writes made through it; nothing of them is kept.
//!
//! Connections come from a small pool, so readers do not queue behind a writer.
//!
//! Every call blocks, like the embedded store's; unlike it, the driver panics when called on a
//! thread that is running an async runtime. Async code calls it through `spawn_blocking` or
//! `block_in_place`, as the gateway does.

use std::fmt;
use std::time::Duration;

use lunli_governance::GovernanceError;
use lunli_governance::store::{Event, Store, Tx, Value};
use lunli_ledger::Hash;
use postgres::types::ToSql;
use postgres::{Config, IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{Pool, PooledConnection};

use crate::StoreError;
use crate::chain;
use crate::ledger::LedgerRow;
use crate::records::{Cell, Column, Dialect, Records, Sql};
use crate::sqlite::{to_i64, to_u64};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The first key of the write lock (`'lunl'` in ASCII); the second is the schema's hash, so
/// stores in different schemas of one database do not wait for each other (two schemas whose
/// hashes collide only take turns).
const LOCK_CLASS: i32 = 0x6c75_6e6c;
/// The first key of the lock held while creating and migrating a schema.
const MIGRATION_LOCK_CLASS: i32 = LOCK_CLASS + 1;

/// How long a statement waits for a lock (the write lock included) before failing, as the
/// embedded store's busy timeout.
const LOCK_TIMEOUT: &str = "30s";

/// How the shared store connects, beyond the connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// The schema lunli's tables live in, created if missing. `None` uses the connection's
    /// `search_path` (normally `public`). Lowercase letters, digits and `_`, starting with a letter.
    pub schema: Option<String>,
    /// The most connections this store opens (at least 1).
    pub max_connections: u32,
    /// How long to wait for a free connection, or to connect, before failing.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions { schema: None, max_connections: 8, connect_timeout: Duration::from_secs(30) }
    }
}

pub(crate) type Manager = PostgresConnectionManager<NoTls>;

/// lunli's shared store on PostgreSQL.
pub struct PostgresStore {
    pool: Pool<Manager>,
    /// Where it is, for messages: `user@host:port/dbname`, and the schema; never a password.
    target: String,
    /// `SELECT pg_advisory_xact_lock(..)` with this store's keys.
    write_lock: String,
    /// Where the ledger's signing key is kept; the database holds entries and heads, never keys.
    ledger_keys: Option<crate::LedgerKeys>,
    /// The ledger entries appended through this store, for signing heads (see
    /// `lunli_ledger::written`); entries other instances append are checked in full.
    pub(crate) written: lunli_ledger::WrittenLinks,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore").field("target", &self.target).finish_non_exhaustive()
    }
}

/// A PostgreSQL error with its causes on one line: the driver's own message is only
/// "db error" or "error connecting to server", the server's words are in its source.
#[derive(Debug)]
pub struct PostgresError(pub(crate) postgres::Error);

impl fmt::Display for PostgresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_db_error() {
            Some(db) => {
                write!(f, "{} ({}): {}", db.severity(), db.code().code(), db.message())?;
                if let Some(detail) = db.detail() {
                    write!(f, "; {detail}")?;
                }
                Ok(())
            }
            None => {
                write!(f, "{}", self.0)?;
                let mut cause = std::error::Error::source(&self.0);
                while let Some(err) = cause {
                    write!(f, ": {err}")?;
                    cause = err.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PostgresError {}

impl PostgresError {
    /// The SQLSTATE the server answered with, if it answered.
    pub fn code(&self) -> Option<&str> {
        self.0.code().map(|code| code.code())
    }
}

fn pg(doing: &'static str) -> impl Fn(postgres::Error) -> GovernanceError {
    move |e| GovernanceError::storage(format!("PostgreSQL failed while {doing}"), PostgresError(e))
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL or `host=… dbname=…` pairs, see
    /// [`postgres::Config`]) and brings lunli's schema up to date.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        PostgresStore::connect_with(url, &PostgresOptions::default())
    }

    /// [`PostgresStore::connect`] with options: a schema of its own, the pool's size.
    pub fn connect_with(url: &str, options: &PostgresOptions) -> Result<Self, StoreError> {
        let mut config: Config = url.parse().map_err(|e| StoreError::PostgresUrl { source: PostgresError(e) })?;
        if let Some(schema) = &options.schema
            && !valid_schema(schema)
        {
            return Err(StoreError::InvalidSchema { name: schema.clone() });
        }
        let target = describe(&config, options.schema.as_deref());
        let pg_error = |doing: &'static str| {
            let target = target.clone();
            move |e| StoreError::Postgres { target: target.clone(), doing, source: PostgresError(e) }
        };
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("lunli");
        }

        // Create the schema and migrate first, on a connection whose search_path is left alone
        // (the schema may not exist yet), under a session lock so that instances starting
        // together do not migrate twice.
        let mut setup = config.connect(NoTls).map_err(pg_error("connecting"))?;
        let schema_sql = match &options.schema {
            Some(schema) => format!("'{schema}'"),
            None => "COALESCE(current_schema(), '')".into(),
        };
        setup
            .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_CLASS}, hashtext({schema_sql}))"))
            .map_err(pg_error("waiting for another instance to finish migrating"))?;
        if let Some(schema) = &options.schema {
            setup
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"))
                .map_err(pg_error("creating the schema"))?;
        }
        // Grouped: every pending migration and its history row in one transaction. Ungrouped,
        // refinery commits a migration and its history row separately, and a process killed
        // between the two leaves tables no history knows of (caught by tests/crash.rs).
        embedded::migrations::runner()
            .set_grouped(true)
            .run(&mut setup)
            .map_err(|e| StoreError::PostgresMigration { target: target.clone(), message: e.to_string() })?;
        let lock_key: i32 = setup
            .query_one(&format!("SELECT hashtext({schema_sql})"), &[])
            .and_then(|row| row.try_get(0))
            .map_err(pg_error("reading the schema"))?;
        // Closing the setup connection releases its migration lock.
        drop(setup);

        // Every pooled session: durable commits, bounded lock waits, and the schema.
        let mut session = config.get_options().map(|o| format!("{o} ")).unwrap_or_default();
        session.push_str(&format!("-c synchronous_commit=on -c lock_timeout={LOCK_TIMEOUT}"));
        if let Some(schema) = &options.schema {
            session.push_str(&format!(" -c search_path={schema}"));
        }
        config.options(&session);
        let pool = Pool::builder()
            .max_size(options.max_connections.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .build(PostgresConnectionManager::new(config, NoTls))
            .map_err(|e| StoreError::PostgresPool { target: target.clone(), message: e.to_string() })?;
        let write_lock = format!("SELECT pg_advisory_xact_lock({LOCK_CLASS}, {lock_key})");
        Ok(PostgresStore { pool, target, write_lock, ledger_keys: None, written: Default::default() })
    }

    /// Signs the ledger's heads with the key files in `keys` (created on first use). Every
    /// instance writing one database must hold the same key files; a head signed with another key
    /// is refused with [`LedgerError::ForeignKey`](crate::LedgerError::ForeignKey).
    pub fn with_ledger_keys(mut self, keys: crate::LedgerKeys) -> Self {
        self.ledger_keys = Some(keys);
        self
    }

    pub(crate) fn configured_ledger_keys(&self) -> Option<&crate::LedgerKeys> {
        self.ledger_keys.as_ref()
    }

    pub(crate) fn write_lock_sql(&self) -> &str {
        &self.write_lock
    }

    /// Where the store is: `user@host:port/dbname`, and its schema when it has one of its own.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The newest migration applied, e.g. 3 for `V3__runtime`.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        let mut client = self
            .pool
            .get()
            .map_err(|e| StoreError::PostgresPool { target: self.target.clone(), message: e.to_string() })?;
        let version: i32 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history", &[])
            .and_then(|row| row.try_get(0))
            .map_err(|e| StoreError::Postgres {
                target: self.target.clone(),
                doing: "reading the schema version",
                source: PostgresError(e),
            })?;
        u32::try_from(version).map_err(|_| StoreError::PostgresMigration {
            target: self.target.clone(),
            message: format!("the recorded schema version {version} is negative"),
        })
    }

    /// A server setting as the store's sessions see it, e.g. `synchronous_commit`.
    pub fn setting(&self, name: &str) -> Result<String, GovernanceError> {
        let mut client = self.client()?;
        client
            .query_one("SELECT current_setting($1)", &[&name])
            .and_then(|row| row.try_get(0))
            .map_err(pg("reading a setting"))
    }

    /// Number of entries in the ledger.
    pub fn ledger_size(&self) -> Result<u64, GovernanceError> {
        let mut client = self.client()?;
        let size: i64 = client
            .query_one("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", &[])
            .and_then(|row| row.try_get(0))
            .map_err(pg("counting ledger entries"))?;
        to_u64(size, "ledger size")
    }

    /// Ledger entries from index `from`, at most `limit`, in index order.
    pub fn ledger_rows(&self, from: u64, limit: u64) -> Result<Vec<LedgerRow>, GovernanceError> {
        let mut client = self.client()?;
        let rows = client
            .query(
                "SELECT idx, leaf_hash, entry FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2",
                &[&to_i64(from)?, &to_i64(limit)?],
            )
            .map_err(pg("reading the ledger"))?;
        rows.iter()
            .map(|row| {
                let index: i64 = row.try_get(0).map_err(pg("reading a ledger row"))?;
                Ok(LedgerRow {
                    index: to_u64(index, "ledger index")?,
                    leaf_hash: row.try_get(1).map_err(pg("reading a ledger row"))?,
                    entry: row.try_get(2).map_err(pg("reading a ledger row"))?,
                })
            })
            .collect()
    }

    pub(crate) fn client(&self) -> Result<PooledConnection<Manager>, GovernanceError> {
        self.pool.get().map_err(|e| {
            GovernanceError::storage(format!("no connection to PostgreSQL at {} became free", self.target), e)
        })
    }
}

/// Schema names are put into SQL and session options as they are, so only plain ones.
fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
}

fn describe(config: &Config, schema: Option<&str>) -> String {
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
    let dbname = config.get_dbname().or(config.get_user()).unwrap_or("");
    let schema = schema.map(|s| format!(" (schema {s})")).unwrap_or_default();
    format!("{user}{host}{port}/{dbname}{schema}")
}

impl Store for PostgresStore {
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        let mut client = self.client()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(pg("beginning a transaction"))?;
        // Taken before anything is read, at READ COMMITTED: every statement after it sees what
        // was committed before it was granted, and no other writer commits until this one has.
        // (Under REPEATABLE READ the snapshot would be taken by the lock statement itself, before
        // the lock is granted, and the tail read after it could be stale.)
        tx.batch_execute(&self.write_lock).map_err(pg("waiting for the write lock"))?;
        let mut open = Records(PostgresTx { tx: &mut tx, written: &self.written, tail: None, pending: Vec::new() });
        let value = work(&mut open)?;
        open.0.flush()?;
        tx.commit().map_err(pg("committing"))?;
        Ok(value)
    }

    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        let mut client = self.client()?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg("beginning a read"))?;
        let value =
            work(&mut Records(PostgresTx { tx: &mut tx, written: &self.written, tail: None, pending: Vec::new() }));
        // A read never commits. A failed rollback means a broken connection, which the pool
        // discards; the value read is still good.
        let _ = tx.rollback();
        value
    }
}

/// One open transaction.
struct PostgresTx<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    written: &'t lunli_ledger::WrittenLinks,
    /// The next ledger index and the leaf hash it follows, once read in this transaction: the
    /// write lock keeps it current, so a batch of appends reads the tail once.
    tail: Option<(u64, Hash)>,
    /// Entries appended in this transaction and not yet sent: they go to the server in one
    /// statement before the commit, so a group commit of many decisions costs one round trip,
    /// not one per entry. Nothing in a transaction reads the entries it appends (the tail is
    /// kept here), so holding them back changes no result.
    pending: Vec<(i64, Vec<u8>, Vec<u8>)>,
}

const APPEND: &str = "INSERT INTO ledger_entries (idx, leaf_hash, entry) \
                      SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BYTEA[])";

impl PostgresTx<'_, '_> {
    /// The index the next entry gets and the leaf hash it follows: (0, zero) for an empty ledger.
    fn tail(&mut self) -> Result<(u64, Hash), GovernanceError> {
        if let Some(tail) = self.tail {
            return Ok(tail);
        }
        let last = self
            .tx
            .query_opt("SELECT idx, leaf_hash FROM ledger_entries ORDER BY idx DESC LIMIT 1", &[])
            .map_err(pg("reading the ledger's last entry"))?;
        let Some(row) = last else { return Ok((0, Hash::ZERO)) };
        let index: i64 = row.try_get(0).map_err(pg("reading the ledger's last entry"))?;
        let hash: Vec<u8> = row.try_get(1).map_err(pg("reading the ledger's last entry"))?;
        let index = to_u64(index, "ledger index")?;
        let hash = Hash::try_from(hash.as_slice()).map_err(|e| {
            GovernanceError::storage(format!("ledger entry {index} has a stored leaf hash that is not 32 bytes"), e)
        })?;
        Ok((index + 1, hash))
    }

    /// Sends the entries appended in this transaction, in one statement.
    fn flush(&mut self) -> Result<(), GovernanceError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (mut indices, mut leaves, mut entries) = (Vec::new(), Vec::new(), Vec::new());
        for (index, leaf, entry) in self.pending.drain(..) {
            indices.push(index);
            leaves.push(leaf);
            entries.push(entry);
        }
        self.tx.execute(APPEND, &[&indices, &leaves, &entries]).map_err(pg("appending to the ledger"))?;
        Ok(())
    }
}

/// A value as the driver binds it; [`Value::Next`] is written into the SQL, never bound.
fn bind(value: &Value) -> Box<dyn ToSql + Sync + '_> {
    match value {
        Value::Int(n) => Box::new(*n),
        Value::Text(text) => Box::new(text.as_str()),
        Value::Next => Box::new(Option::<i64>::None),
    }
}

impl Sql for PostgresTx<'_, '_> {
    const DIALECT: Dialect = Dialect::Postgres;

    fn execute(&mut self, doing: &'static str, sql: &str, params: &[Value]) -> Result<u64, GovernanceError> {
        let bound: Vec<_> = params.iter().map(bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
        self.tx.execute(sql, &refs).map_err(pg(doing))
    }

    fn query(
        &mut self,
        doing: &'static str,
        sql: &str,
        params: &[Value],
        columns: &[Column],
    ) -> Result<Vec<Vec<Cell>>, GovernanceError> {
        let bound: Vec<_> = params.iter().map(bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
        let rows = self.tx.query(sql, &refs).map_err(pg(doing))?;
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, column)| {
                        Ok(match column {
                            Column::Int => row.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int),
                            Column::Text => row.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text),
                        })
                    })
                    .collect::<Result<Vec<Cell>, postgres::Error>>()
                    .map_err(pg(doing))
            })
            .collect()
    }

    fn append(&mut self, event: &Event) -> Result<u64, GovernanceError> {
        let (index, prev) = self.tail()?;
        let link = chain::link(index, prev, event, self.written)?;
        self.pending.push((to_i64(index)?, link.leaf.as_bytes().to_vec(), link.bytes));
        self.tail = Some((index + 1, link.leaf));
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain() {
        for good in ["lunli", "lunli_test_1", "a"] {
            assert!(valid_schema(good), "{good}");
        }
        for bad in ["", "1abc", "Lunli", "a-b", "a b", "a;drop", "pg_temp", &"a".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }

    #[test]
    fn targets_never_show_a_password() {
        let config: Config = "postgres://alice:secret@db.example:5433/gov".parse().expect("url");
        assert_eq!(describe(&config, Some("lunli")), "alice@db.example:5433/gov (schema lunli)");
        let config: Config = "host=127.0.0.1 user=postgres dbname=test password=x".parse().expect("pairs");
        assert_eq!(describe(&config, None), "postgres@127.0.0.1/test");
    }

    #[test]
    fn a_bad_connection_string_is_a_clear_error() {
        let err = PostgresStore::connect("postgres://[::1").expect_err("malformed");
        assert!(err.to_string().contains("connection string"), "{err}");
        let options = PostgresOptions { schema: Some("Bad-Name".into()), ..PostgresOptions::default() };
        let err = PostgresStore::connect_with("host=127.0.0.1", &options).expect_err("schema");
        assert!(err.to_string().contains("Bad-Name"), "{err}");
    }
}
