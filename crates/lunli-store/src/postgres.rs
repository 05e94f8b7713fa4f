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

use lunli_governance::incident::{Feedback, Incident};
use lunli_governance::monitoring::{Alert, OutcomeReport};
use lunli_governance::review::ReviewItem;
use lunli_governance::runtime::{Consent, ConsentChange, Suspension};
use lunli_governance::store::{
    ActivePack, ApiKey, Event, IncidentFilter, IntakeRecord, Keyset, PendingWork, ReviewFilter, Store, SystemVersion,
    Tx,
};
use lunli_governance::{Assessment, GovernanceError, Person, Vendor};
use lunli_ledger::Hash;
use postgres::types::ToSql;
use postgres::{Config, IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::r2d2::{Pool, PooledConnection};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;
use crate::chain;
use crate::ledger::LedgerRow;
use crate::paging::{Page, newest_first_bound};
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
        Ok(PostgresStore { pool, target, write_lock, ledger_keys: None })
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
        let mut open = PostgresTx { tx: &mut tx, tail: None, pending: Vec::new() };
        let value = work(&mut open)?;
        open.flush()?;
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
        let value = work(&mut PostgresTx { tx: &mut tx, tail: None, pending: Vec::new() });
        // A read never commits. A failed rollback means a broken connection, which the pool
        // discards; the value read is still good.
        let _ = tx.rollback();
        value
    }
}

/// One open transaction.
struct PostgresTx<'t, 'c> {
    tx: &'t mut Transaction<'c>,
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

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

fn to_json<T: Serialize>(value: &T) -> Result<String, GovernanceError> {
    serde_json::to_string(value).map_err(|e| GovernanceError::storage("encoding a record as JSON", e))
}

fn from_json<T: DeserializeOwned>(table: &str, key: &str, text: &str) -> Result<T, GovernanceError> {
    serde_json::from_str(text).map_err(|e| {
        GovernanceError::storage(format!("the stored record {table}/{key} is not valid (altered outside lunli?)"), e)
    })
}

fn version_param(version: u32) -> i64 {
    i64::from(version)
}

impl PostgresTx<'_, '_> {
    fn one<T: DeserializeOwned>(
        &mut self,
        table: &str,
        key: &str,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Option<T>, GovernanceError> {
        let row = self.tx.query_opt(sql, params).map_err(pg("reading"))?;
        let text: Option<String> = row.map(|r| r.try_get(0)).transpose().map_err(pg("reading"))?;
        text.map(|t| from_json(table, key, &t)).transpose()
    }

    fn page<T: DeserializeOwned>(&mut self, page: &Page<'_>) -> Result<Vec<T>, GovernanceError> {
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&page.after];
        if let Some(system) = &page.system {
            values.push(system);
        }
        for status in &page.statuses {
            values.push(status);
        }
        values.push(&page.limit);
        let sql = page.sql("id::text", |n| format!("${n}"));
        self.all(page.table, &sql, &values)
    }

    fn all<T: DeserializeOwned>(
        &mut self,
        table: &str,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<T>, GovernanceError> {
        let rows = self.tx.query(sql, params).map_err(pg("reading"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.try_get(0).map_err(pg("reading a row"))?;
            let text: String = row.try_get(1).map_err(pg("reading a row"))?;
            out.push(from_json(table, &key, &text)?);
        }
        Ok(out)
    }

    fn execute(&mut self, doing: &'static str, sql: &str, params: Params<'_>) -> Result<u64, GovernanceError> {
        self.tx.execute(sql, params).map_err(pg(doing))
    }

    fn next_id(&mut self, doing: &'static str, sql: &str) -> Result<u64, GovernanceError> {
        let id: i64 = self.tx.query_one(sql, &[]).and_then(|row| row.try_get(0)).map_err(pg(doing))?;
        to_u64(id, "id")
    }

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
}

impl PostgresTx<'_, '_> {
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

    /// The next id of one of the oversight tables (their names are constants, never input).
    fn next_oversight_id(&mut self, table: &str) -> Result<u64, GovernanceError> {
        self.next_id("numbering a record", &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
    }

    fn update(&mut self, table: &str, id: u64, status: Option<&str>, record: String) -> Result<(), GovernanceError> {
        let id = to_i64(id)?;
        let changed = match status {
            Some(status) => self.execute(
                "updating a record",
                &format!("UPDATE {table} SET status = $2, record = $3 WHERE id = $1"),
                &[&id, &status, &record],
            )?,
            None => self.execute(
                "updating a record",
                &format!("UPDATE {table} SET record = $2 WHERE id = $1"),
                &[&id, &record],
            )?,
        };
        if changed == 1 {
            Ok(())
        } else {
            Err(GovernanceError::Storage { message: format!("{table}/{id} is not stored"), source: None })
        }
    }
}

impl Tx for PostgresTx<'_, '_> {
    fn system(&mut self, id: &str) -> Result<Option<SystemVersion>, GovernanceError> {
        self.one(
            "system_versions",
            id,
            "SELECT record FROM system_versions WHERE system = $1 ORDER BY version DESC LIMIT 1",
            &[&id],
        )
    }

    fn system_version(&mut self, id: &str, version: u32) -> Result<Option<SystemVersion>, GovernanceError> {
        self.one(
            "system_versions",
            &format!("{id}@{version}"),
            "SELECT record FROM system_versions WHERE system = $1 AND version = $2",
            &[&id, &version_param(version)],
        )
    }

    fn systems(&mut self) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.all(
            "system_versions",
            "SELECT DISTINCT ON (system) system, record FROM system_versions ORDER BY system, version DESC",
            &[],
        )
    }

    fn system_versions(&mut self, id: &str) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.all(
            "system_versions",
            "SELECT system, record FROM system_versions WHERE system = $1 ORDER BY version",
            &[&id],
        )
    }

    fn add_system_version(&mut self, version: &SystemVersion) -> Result<(), GovernanceError> {
        let latest: i64 = self
            .tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM system_versions WHERE system = $1", &[&version.system.id])
            .and_then(|row| row.try_get(0))
            .map_err(pg("reading the latest version"))?;
        if i64::from(version.version) != latest + 1 {
            return Err(GovernanceError::Refused {
                reason: format!(
                    "{} changed meanwhile (now at version {latest}); run the command again",
                    version.system.id
                ),
            });
        }
        self.execute(
            "adding a system version",
            "INSERT INTO system_versions (system, version, record) VALUES ($1, $2, $3)",
            &[&version.system.id, &version_param(version.version), &to_json(version)?],
        )?;
        Ok(())
    }

    fn person(&mut self, id: &str) -> Result<Option<Person>, GovernanceError> {
        self.one("people", id, "SELECT record FROM people WHERE id = $1", &[&id])
    }

    fn people(&mut self) -> Result<Vec<Person>, GovernanceError> {
        self.all("people", "SELECT id, record FROM people ORDER BY id", &[])
    }

    fn put_person(&mut self, person: &Person) -> Result<(), GovernanceError> {
        self.execute(
            "storing a person",
            "INSERT INTO people (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&person.id, &to_json(person)?],
        )?;
        Ok(())
    }

    fn vendor(&mut self, id: &str) -> Result<Option<Vendor>, GovernanceError> {
        self.one("vendors", id, "SELECT record FROM vendors WHERE id = $1", &[&id])
    }

    fn vendors(&mut self) -> Result<Vec<Vendor>, GovernanceError> {
        self.all("vendors", "SELECT id, record FROM vendors ORDER BY id", &[])
    }

    fn put_vendor(&mut self, vendor: &Vendor) -> Result<(), GovernanceError> {
        self.execute(
            "storing a vendor",
            "INSERT INTO vendors (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&vendor.id, &to_json(vendor)?],
        )?;
        Ok(())
    }

    fn add_intake(&mut self, intake: &IntakeRecord) -> Result<u64, GovernanceError> {
        let id = self.next_id("numbering an intake", "SELECT COALESCE(MAX(id), 0) + 1 FROM intakes")?;
        let mut record = intake.clone();
        record.id = id;
        self.execute(
            "storing an intake",
            "INSERT INTO intakes (id, system, version, tier, record) VALUES ($1, $2, $3, $4, $5)",
            &[&to_i64(id)?, &record.system, &version_param(record.version), &record.tier.as_str(), &to_json(&record)?],
        )?;
        Ok(id)
    }

    fn latest_intake(&mut self, system: &str, version: u32) -> Result<Option<IntakeRecord>, GovernanceError> {
        self.one(
            "intakes",
            system,
            "SELECT record FROM intakes WHERE system = $1 AND version = $2 ORDER BY id DESC LIMIT 1",
            &[&system, &version_param(version)],
        )
    }

    fn next_assessment_id(&mut self) -> Result<u64, GovernanceError> {
        self.next_id("numbering an assessment", "SELECT COALESCE(MAX(id), 0) + 1 FROM assessments")
    }

    fn assessment(&mut self, id: u64) -> Result<Option<Assessment>, GovernanceError> {
        self.one("assessments", &id.to_string(), "SELECT record FROM assessments WHERE id = $1", &[&to_i64(id)?])
    }

    fn latest_assessment(&mut self, system: &str) -> Result<Option<Assessment>, GovernanceError> {
        self.one(
            "assessments",
            system,
            "SELECT record FROM assessments WHERE system = $1 ORDER BY id DESC LIMIT 1",
            &[&system],
        )
    }

    fn put_assessment(&mut self, assessment: &Assessment) -> Result<(), GovernanceError> {
        self.execute(
            "storing an assessment",
            "INSERT INTO assessments (id, system, version, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&to_i64(assessment.id)?, &assessment.system, &version_param(assessment.version), &to_json(assessment)?],
        )?;
        Ok(())
    }

    fn suspensions(&mut self) -> Result<Vec<Suspension>, GovernanceError> {
        self.all(
            "suspensions",
            "SELECT system || '/' || purpose, record FROM suspensions ORDER BY system, purpose",
            &[],
        )
    }

    fn put_suspension(&mut self, suspension: &Suspension) -> Result<(), GovernanceError> {
        self.execute(
            "storing a suspension",
            "INSERT INTO suspensions (system, purpose, record) VALUES ($1, $2, $3) \
             ON CONFLICT (system, purpose) DO UPDATE SET record = excluded.record",
            &[&suspension.system, &suspension.purpose.as_deref().unwrap_or(""), &to_json(suspension)?],
        )?;
        Ok(())
    }

    fn remove_suspension(
        &mut self,
        system: &str,
        purpose: Option<&str>,
    ) -> Result<Option<Suspension>, GovernanceError> {
        let purpose = purpose.unwrap_or("");
        let removed: Option<String> = self
            .tx
            .query_opt(
                "DELETE FROM suspensions WHERE system = $1 AND purpose = $2 RETURNING record",
                &[&system, &purpose],
            )
            .map_err(pg("lifting a suspension"))?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(pg("lifting a suspension"))?;
        removed.map(|text| from_json("suspensions", system, &text)).transpose()
    }

    fn consent(&mut self, system: &str, subject: &str) -> Result<Option<Consent>, GovernanceError> {
        self.one(
            "consents",
            subject,
            "SELECT record FROM consents WHERE system = $1 AND subject = $2",
            &[&system, &subject],
        )
    }

    fn consents(&mut self) -> Result<Vec<Consent>, GovernanceError> {
        self.all("consents", "SELECT system || '/' || subject, record FROM consents", &[])
    }

    fn put_consent(&mut self, consent: &Consent) -> Result<(), GovernanceError> {
        self.execute(
            "storing a consent",
            "INSERT INTO consents (system, subject, record, seq) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM consents)) \
             ON CONFLICT (system, subject) DO UPDATE SET record = excluded.record, seq = excluded.seq",
            &[&consent.system, &consent.subject, &to_json(consent)?],
        )?;
        Ok(())
    }

    fn consent_changes(&mut self, after: u64, limit: u32) -> Result<Vec<ConsentChange>, GovernanceError> {
        let rows = self
            .tx
            .query(
                "SELECT seq, subject, record FROM consents WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&to_i64(after)?, &i64::from(limit)],
            )
            .map_err(pg("reading consent changes"))?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: i64 = row.try_get(0).map_err(pg("reading consent changes"))?;
            let subject: String = row.try_get(1).map_err(pg("reading consent changes"))?;
            let text: String = row.try_get(2).map_err(pg("reading consent changes"))?;
            changes.push(ConsentChange {
                seq: to_u64(seq, "consent seq")?,
                consent: from_json("consents", &subject, &text)?,
            });
        }
        Ok(changes)
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKey>, GovernanceError> {
        self.all("api_keys", "SELECT id, record FROM api_keys ORDER BY id", &[])
    }

    fn put_api_key(&mut self, key: &ApiKey) -> Result<(), GovernanceError> {
        self.execute(
            "storing an API key",
            "INSERT INTO api_keys (id, record) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&key.id, &to_json(key)?],
        )?;
        Ok(())
    }

    fn packs(&mut self) -> Result<Vec<ActivePack>, GovernanceError> {
        self.all("packs", "SELECT id, record FROM packs ORDER BY seq", &[])
    }

    fn put_pack(&mut self, pack: &ActivePack) -> Result<(), GovernanceError> {
        self.execute(
            "storing a norm pack",
            "INSERT INTO packs (id, seq, record) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM packs), $2) \
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            &[&pack.id, &to_json(pack)?],
        )?;
        Ok(())
    }

    fn runtime_version(&mut self) -> Result<u64, GovernanceError> {
        let version: i64 = self
            .tx
            .query_one("SELECT version FROM runtime_state WHERE id = 1", &[])
            .and_then(|row| row.try_get(0))
            .map_err(pg("reading the runtime version"))?;
        to_u64(version, "runtime version")
    }

    fn add_review(&mut self, item: &ReviewItem) -> Result<u64, GovernanceError> {
        let mut item = item.clone();
        item.id = self.next_oversight_id("reviews")?;
        self.execute(
            "queueing a review",
            "INSERT INTO reviews (id, system, status, decision_index, record) VALUES ($1, $2, $3, $4, $5)",
            &[&to_i64(item.id)?, &item.system, &item.status.as_str(), &to_i64(item.decision_index)?, &to_json(&item)?],
        )?;
        Ok(item.id)
    }

    fn review(&mut self, id: u64) -> Result<Option<ReviewItem>, GovernanceError> {
        self.one("reviews", &id.to_string(), "SELECT record FROM reviews WHERE id = $1", &[&to_i64(id)?])
    }

    fn review_page(&mut self, filter: &ReviewFilter, page: Keyset) -> Result<Vec<ReviewItem>, GovernanceError> {
        let statuses = filter.statuses.iter().map(|s| s.as_str()).collect();
        self.page(&Page::new("reviews", filter.system.as_deref(), statuses, page)?)
    }

    fn put_review(&mut self, item: &ReviewItem) -> Result<(), GovernanceError> {
        self.update("reviews", item.id, Some(item.status.as_str()), to_json(item)?)
    }

    fn add_incident(&mut self, incident: &Incident) -> Result<u64, GovernanceError> {
        let mut incident = incident.clone();
        incident.id = self.next_oversight_id("incidents")?;
        self.execute(
            "opening an incident",
            "INSERT INTO incidents (id, system, status, record) VALUES ($1, $2, $3, $4)",
            &[&to_i64(incident.id)?, &incident.system, &incident.status.as_str(), &to_json(&incident)?],
        )?;
        Ok(incident.id)
    }

    fn incident(&mut self, id: u64) -> Result<Option<Incident>, GovernanceError> {
        self.one("incidents", &id.to_string(), "SELECT record FROM incidents WHERE id = $1", &[&to_i64(id)?])
    }

    fn incident_page(&mut self, filter: &IncidentFilter, page: Keyset) -> Result<Vec<Incident>, GovernanceError> {
        let statuses = filter.statuses.iter().map(|s| s.as_str()).collect();
        self.page(&Page::new("incidents", filter.system.as_deref(), statuses, page)?)
    }

    fn put_incident(&mut self, incident: &Incident) -> Result<(), GovernanceError> {
        self.update("incidents", incident.id, Some(incident.status.as_str()), to_json(incident)?)
    }

    fn pending_work(&mut self, now: jiff::Timestamp) -> Result<Vec<PendingWork>, GovernanceError> {
        let mut by_system: std::collections::BTreeMap<String, PendingWork> = Default::default();
        let rows = self
            .tx
            // Kept by a trigger (migration V8): one row per system, however long the queue.
            .query("SELECT system, pending FROM review_counts WHERE pending > 0", &[])
            .map_err(pg("counting reviews"))?;
        for row in rows {
            let system: String = row.try_get(0).map_err(pg("counting reviews"))?;
            let n: i64 = row.try_get(1).map_err(pg("counting reviews"))?;
            let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
            entry.reviews = to_u64(n, "count")?;
        }
        let now = now.to_string();
        let rows = self
            .tx
            .query(
                "SELECT system, COUNT(*), COUNT(*) FILTER (WHERE \
                    (status = 'open' AND (record::jsonb ->> 'acknowledge_by')::timestamptz < $1::text::timestamptz) \
                    OR (record::jsonb ->> 'resolve_by')::timestamptz < $1::text::timestamptz) \
                 FROM incidents WHERE status IN ('open', 'acknowledged') GROUP BY system",
                &[&now],
            )
            .map_err(pg("counting incidents"))?;
        for row in rows {
            let system: String = row.try_get(0).map_err(pg("counting incidents"))?;
            let (n, overdue): (i64, i64) =
                (row.try_get(1).map_err(pg("counting incidents"))?, row.try_get(2).map_err(pg("counting incidents"))?);
            let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
            entry.incidents = to_u64(n, "count")?;
            entry.overdue_incidents = to_u64(overdue, "count")?;
        }
        Ok(by_system.into_values().collect())
    }

    fn add_feedback(&mut self, feedback: &Feedback) -> Result<u64, GovernanceError> {
        let mut feedback = feedback.clone();
        feedback.id = self.next_oversight_id("feedback")?;
        self.execute(
            "storing feedback",
            "INSERT INTO feedback (id, system, record) VALUES ($1, $2, $3)",
            &[&to_i64(feedback.id)?, &feedback.system, &to_json(&feedback)?],
        )?;
        Ok(feedback.id)
    }

    fn feedback(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Feedback>, GovernanceError> {
        let (before, limit) = (newest_first_bound(page)?, i64::from(page.limit));
        match system {
            Some(system) => self.all(
                "feedback",
                "SELECT id::text AS id_text, record FROM feedback WHERE system = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                &[&system, &before, &limit],
            ),
            None => self.all(
                "feedback",
                "SELECT id::text AS id_text, record FROM feedback WHERE id < $1 ORDER BY id DESC LIMIT $2",
                &[&before, &limit],
            ),
        }
    }

    fn feedback_item(&mut self, id: u64) -> Result<Option<Feedback>, GovernanceError> {
        self.one("feedback", &id.to_string(), "SELECT record FROM feedback WHERE id = $1", &[&to_i64(id)?])
    }

    fn add_outcome(&mut self, outcome: &OutcomeReport) -> Result<(), GovernanceError> {
        let id = self.next_oversight_id("outcomes")?;
        self.execute(
            "storing an outcome",
            "INSERT INTO outcomes (id, system, record) VALUES ($1, $2, $3)",
            &[&to_i64(id)?, &outcome.system, &to_json(outcome)?],
        )?;
        Ok(())
    }

    fn recent_outcomes(&mut self, system: &str, limit: u32) -> Result<Vec<OutcomeReport>, GovernanceError> {
        let mut newest: Vec<OutcomeReport> = self.all(
            "outcomes",
            "SELECT id::text AS id_text, record FROM outcomes WHERE system = $1 ORDER BY id DESC LIMIT $2",
            &[&system, &i64::from(limit)],
        )?;
        newest.reverse();
        Ok(newest)
    }

    fn add_alert(&mut self, alert: &Alert) -> Result<u64, GovernanceError> {
        let mut alert = alert.clone();
        alert.id = self.next_oversight_id("alerts")?;
        self.execute(
            "raising an alert",
            "INSERT INTO alerts (id, system, record) VALUES ($1, $2, $3)",
            &[&to_i64(alert.id)?, &alert.system, &to_json(&alert)?],
        )?;
        Ok(alert.id)
    }

    fn alert_page(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Alert>, GovernanceError> {
        self.page(&Page::new("alerts", system, vec![], page)?)
    }

    fn put_alert(&mut self, alert: &Alert) -> Result<(), GovernanceError> {
        self.update("alerts", alert.id, None, to_json(alert)?)
    }

    fn record(&mut self, event: &Event) -> Result<u64, GovernanceError> {
        let (index, prev) = self.tail()?;
        let link = chain::link(index, prev, event)?;
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
