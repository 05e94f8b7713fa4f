//! The stores an integration test runs on, each fresh: SQLite in a new temporary data directory,
//! PostgreSQL in a new schema of the database that `LUNLI_TEST_POSTGRES` names (default
//! `host=127.0.0.1 user=postgres dbname=test`), dropped afterwards. Schemas keep parallel tests
//! apart: each has its own tables and its own write lock.
//!
//! PostgreSQL must be up (`.ci/run` starts one): a test that cannot reach it fails and says
//! so. It never skips, so a green run always means both backends passed.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lunli_governance::store::Store;
use lunli_store::{PostgresOptions, PostgresStore, SqliteStore};

/// The variable naming the PostgreSQL server tests use, and its default.
pub const POSTGRES_ENV: &str = "LUNLI_TEST_POSTGRES";
pub const POSTGRES_DEFAULT: &str = "host=127.0.0.1 user=postgres dbname=test";

/// A store the tests run on, and how to make a fresh one.
pub trait Backend: Store + Sized {
    /// Where a fresh store lives; removed when dropped.
    type Place;
    fn place() -> Self::Place;
    /// Opens (creating and migrating on first use) the store at `place`.
    fn open(place: &Self::Place) -> Self;
    fn ledger_size(&self) -> u64;
    fn schema_version(&self) -> u32;
    /// Every ledger entry, in index order.
    fn ledger_entries(&self) -> Vec<lunli_ledger::Entry>;
}

fn decode(rows: Vec<lunli_store::LedgerRow>) -> Vec<lunli_ledger::Entry> {
    rows.iter().map(|row| serde_json::from_slice(&row.entry).expect("a stored ledger entry")).collect()
}

impl Backend for SqliteStore {
    type Place = tempfile::TempDir;

    fn place() -> Self::Place {
        tempfile::tempdir().expect("a temporary directory")
    }

    fn open(place: &Self::Place) -> Self {
        // Nested: opening creates the data directory.
        SqliteStore::open(&place.path().join("nested").join("data")).expect("open the SQLite store")
    }

    fn ledger_size(&self) -> u64 {
        SqliteStore::ledger_size(self).expect("ledger size")
    }

    fn schema_version(&self) -> u32 {
        SqliteStore::schema_version(self).expect("schema version")
    }

    fn ledger_entries(&self) -> Vec<lunli_ledger::Entry> {
        decode(self.ledger_rows(0, 1_000_000).expect("ledger rows"))
    }
}

impl Backend for PostgresStore {
    type Place = PgSchema;

    fn place() -> Self::Place {
        PgSchema::new()
    }

    fn open(place: &Self::Place) -> Self {
        place.connect()
    }

    fn ledger_size(&self) -> u64 {
        PostgresStore::ledger_size(self).expect("ledger size")
    }

    fn schema_version(&self) -> u32 {
        PostgresStore::schema_version(self).expect("schema version")
    }

    fn ledger_entries(&self) -> Vec<lunli_ledger::Entry> {
        decode(self.ledger_rows(0, 1_000_000).expect("ledger rows"))
    }
}

/// The test server's connection string.
pub fn postgres_url() -> String {
    std::env::var(POSTGRES_ENV).ok().filter(|url| !url.trim().is_empty()).unwrap_or_else(|| POSTGRES_DEFAULT.into())
}

/// `url` with server options added (`-c name=value …`), in whichever form `url` is written.
pub fn with_options(url: &str, options: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}options={}", options.replace(' ', "%20").replace('=', "%3D"))
    } else {
        format!("{url} options='{options}'")
    }
}

/// A schema of its own in the test database, dropped with everything in it when this is dropped.
pub struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    #[expect(clippy::new_without_default, reason = "each call names a new schema and reaches the server")]
    /// A new schema name, after checking that the server answers (failing loudly if not). The
    /// store creates the schema when it first connects.
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = postgres_url();
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|err| {
            panic!(
                "PostgreSQL is not reachable at `{url}` ({err}: {}). The PostgreSQL tests need a server: start one \
                 (`bash .ci/run` does), or point {POSTGRES_ENV} at one.",
                std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default()
            )
        });
        client.simple_query("SELECT 1").expect("PostgreSQL answers a query");
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let name = format!("lunli_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        PgSchema { url, name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn options(&self) -> PostgresOptions {
        PostgresOptions { schema: Some(self.name.clone()), ..PostgresOptions::default() }
    }

    /// A new store on this schema (several may share it, as several gateway instances do).
    pub fn connect(&self) -> PostgresStore {
        PostgresStore::connect_with(&self.url, &self.options())
            .unwrap_or_else(|err| panic!("cannot open the PostgreSQL store in schema {}: {err}", self.name))
    }

    /// A connection string whose sessions work in this schema (created here if missing), for a
    /// process given only a database URL, as `lunli serve --database` is.
    pub fn url_with_search_path(&self) -> String {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to PostgreSQL");
        client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {}", self.name)).expect("create the schema");
        with_options(&self.url, &format!("-c search_path={}", self.name))
    }

    /// A plain connection whose search_path is this schema, for looking under the store.
    pub fn client(&self) -> postgres::Client {
        let mut client = postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to PostgreSQL");
        client.batch_execute(&format!("SET search_path TO {}", self.name)).expect("set search_path");
        client
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind by a failed drop is harmless and uniquely named.
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}
