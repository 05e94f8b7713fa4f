//! The embedded store: one SQLite file in the data directory, in WAL mode with full fsync on
//! every commit, so an acknowledged change survives a crash or power loss.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
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
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::StoreError;
use crate::ledger;
use crate::paging::{Page, newest_first_bound};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The file name of the database inside the data directory.
pub const DATABASE_FILE: &str = "lunli.db";

/// lunli's embedded store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
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
        Ok(Self { conn: Mutex::new(conn), path })
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
        let value = work(&mut SqliteTx { conn: &tx })?;
        tx.commit().map_err(db("committing"))?;
        Ok(value)
    }

    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred).map_err(db("beginning a read"))?;
        let value = work(&mut SqliteTx { conn: &tx });
        // Reads never commit: dropping the transaction rolls back anything written through it.
        drop(tx);
        value
    }
}

/// One open transaction.
pub(crate) struct SqliteTx<'c> {
    pub(crate) conn: &'c Connection,
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

fn to_json<T: Serialize>(value: &T) -> Result<String, GovernanceError> {
    serde_json::to_string(value).map_err(|e| GovernanceError::storage("encoding a record as JSON", e))
}

fn from_json<T: DeserializeOwned>(table: &str, key: &str, text: &str) -> Result<T, GovernanceError> {
    serde_json::from_str(text).map_err(|e| {
        GovernanceError::storage(format!("the stored record {table}/{key} is not valid (altered outside lunli?)"), e)
    })
}

impl SqliteTx<'_> {
    fn one<T: DeserializeOwned>(
        &self,
        table: &str,
        key: &str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<T>, GovernanceError> {
        let text: Option<String> = self.conn.query_row(sql, params, |r| r.get(0)).optional().map_err(db("reading"))?;
        text.map(|t| from_json(table, key, &t)).transpose()
    }

    fn all<T: DeserializeOwned>(
        &self,
        table: &str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<T>, GovernanceError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(db("preparing a query"))?;
        let rows = statement
            .query_map(params, |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db("reading"))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text) = row.map_err(db("reading a row"))?;
            out.push(from_json(table, &key, &text)?);
        }
        Ok(out)
    }
}

impl SqliteTx<'_> {
    /// The next id of one of the oversight tables (their names are constants, never input).
    fn page<T: DeserializeOwned>(&self, page: &Page<'_>) -> Result<Vec<T>, GovernanceError> {
        use rusqlite::types::Value;
        let mut values = vec![Value::Integer(page.after)];
        values.extend(page.system.map(|s| Value::Text(s.to_string())));
        values.extend(page.statuses.iter().map(|s| Value::Text(s.to_string())));
        values.push(Value::Integer(page.limit));
        let sql = page.sql("CAST(id AS TEXT)", |n| format!("?{n}"));
        self.all(page.table, &sql, rusqlite::params_from_iter(values))
    }

    fn next_id(&self, table: &str) -> Result<u64, GovernanceError> {
        let id: i64 = self
            .conn
            .query_row(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"), [], |r| r.get(0))
            .map_err(db("numbering a record"))?;
        to_u64(id, "id")
    }

    fn update(&self, table: &str, id: u64, status: Option<&str>, record: String) -> Result<(), GovernanceError> {
        let changed = match status {
            Some(status) => self.conn.execute(
                &format!("UPDATE {table} SET status = ?2, record = ?3 WHERE id = ?1"),
                params![to_i64(id)?, status, record],
            ),
            None => self
                .conn
                .execute(&format!("UPDATE {table} SET record = ?2 WHERE id = ?1"), params![to_i64(id)?, record]),
        }
        .map_err(db("updating a record"))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(GovernanceError::storage(format!("{table}/{id} is not stored"), rusqlite::Error::QueryReturnedNoRows))
        }
    }
}

impl Tx for SqliteTx<'_> {
    fn system(&mut self, id: &str) -> Result<Option<SystemVersion>, GovernanceError> {
        self.one(
            "system_versions",
            id,
            "SELECT record FROM system_versions WHERE system = ?1 ORDER BY version DESC LIMIT 1",
            params![id],
        )
    }

    fn system_version(&mut self, id: &str, version: u32) -> Result<Option<SystemVersion>, GovernanceError> {
        self.one(
            "system_versions",
            &format!("{id}@{version}"),
            "SELECT record FROM system_versions WHERE system = ?1 AND version = ?2",
            params![id, version],
        )
    }

    fn systems(&mut self) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.all(
            "system_versions",
            "SELECT v.system, v.record FROM system_versions v \
             WHERE v.version = (SELECT MAX(version) FROM system_versions w WHERE w.system = v.system) \
             ORDER BY v.system",
            [],
        )
    }

    fn system_versions(&mut self, id: &str) -> Result<Vec<SystemVersion>, GovernanceError> {
        self.all(
            "system_versions",
            "SELECT system, record FROM system_versions WHERE system = ?1 ORDER BY version",
            params![id],
        )
    }

    fn add_system_version(&mut self, version: &SystemVersion) -> Result<(), GovernanceError> {
        let latest: u32 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM system_versions WHERE system = ?1",
                params![version.system.id],
                |r| r.get(0),
            )
            .map_err(db("reading the latest version"))?;
        if version.version != latest + 1 {
            return Err(GovernanceError::Refused {
                reason: format!(
                    "{} changed meanwhile (now at version {latest}); run the command again",
                    version.system.id
                ),
            });
        }
        self.conn
            .execute(
                "INSERT INTO system_versions (system, version, record) VALUES (?1, ?2, ?3)",
                params![version.system.id, version.version, to_json(version)?],
            )
            .map_err(db("adding a system version"))?;
        Ok(())
    }

    fn person(&mut self, id: &str) -> Result<Option<Person>, GovernanceError> {
        self.one("people", id, "SELECT record FROM people WHERE id = ?1", params![id])
    }

    fn people(&mut self) -> Result<Vec<Person>, GovernanceError> {
        self.all("people", "SELECT id, record FROM people ORDER BY id", [])
    }

    fn put_person(&mut self, person: &Person) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO people (id, record) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![person.id, to_json(person)?],
            )
            .map_err(db("storing a person"))?;
        Ok(())
    }

    fn vendor(&mut self, id: &str) -> Result<Option<Vendor>, GovernanceError> {
        self.one("vendors", id, "SELECT record FROM vendors WHERE id = ?1", params![id])
    }

    fn vendors(&mut self) -> Result<Vec<Vendor>, GovernanceError> {
        self.all("vendors", "SELECT id, record FROM vendors ORDER BY id", [])
    }

    fn put_vendor(&mut self, vendor: &Vendor) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO vendors (id, record) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![vendor.id, to_json(vendor)?],
            )
            .map_err(db("storing a vendor"))?;
        Ok(())
    }

    fn add_intake(&mut self, intake: &IntakeRecord) -> Result<u64, GovernanceError> {
        let id: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM intakes", [], |r| r.get(0))
            .map_err(db("numbering an intake"))?;
        let id = to_u64(id, "intake id")?;
        let mut record = intake.clone();
        record.id = id;
        self.conn
            .execute(
                "INSERT INTO intakes (id, system, version, tier, record) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![to_i64(id)?, record.system, record.version, record.tier.as_str(), to_json(&record)?],
            )
            .map_err(db("storing an intake"))?;
        Ok(id)
    }

    fn latest_intake(&mut self, system: &str, version: u32) -> Result<Option<IntakeRecord>, GovernanceError> {
        self.one(
            "intakes",
            system,
            "SELECT record FROM intakes WHERE system = ?1 AND version = ?2 ORDER BY id DESC LIMIT 1",
            params![system, version],
        )
    }

    fn next_assessment_id(&mut self) -> Result<u64, GovernanceError> {
        let id: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM assessments", [], |r| r.get(0))
            .map_err(db("numbering an assessment"))?;
        to_u64(id, "assessment id")
    }

    fn assessment(&mut self, id: u64) -> Result<Option<Assessment>, GovernanceError> {
        self.one("assessments", &id.to_string(), "SELECT record FROM assessments WHERE id = ?1", params![to_i64(id)?])
    }

    fn latest_assessment(&mut self, system: &str) -> Result<Option<Assessment>, GovernanceError> {
        self.one(
            "assessments",
            system,
            "SELECT record FROM assessments WHERE system = ?1 ORDER BY id DESC LIMIT 1",
            params![system],
        )
    }

    fn put_assessment(&mut self, assessment: &Assessment) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO assessments (id, system, version, record) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![to_i64(assessment.id)?, assessment.system, assessment.version, to_json(assessment)?],
            )
            .map_err(db("storing an assessment"))?;
        Ok(())
    }

    fn suspensions(&mut self) -> Result<Vec<Suspension>, GovernanceError> {
        self.all("suspensions", "SELECT system || '/' || purpose, record FROM suspensions ORDER BY system, purpose", [])
    }

    fn put_suspension(&mut self, suspension: &Suspension) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO suspensions (system, purpose, record) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (system, purpose) DO UPDATE SET record = excluded.record",
                params![suspension.system, suspension.purpose.as_deref().unwrap_or(""), to_json(suspension)?],
            )
            .map_err(db("storing a suspension"))?;
        Ok(())
    }

    fn remove_suspension(
        &mut self,
        system: &str,
        purpose: Option<&str>,
    ) -> Result<Option<Suspension>, GovernanceError> {
        let purpose = purpose.unwrap_or("");
        let existing: Option<Suspension> = self.one(
            "suspensions",
            system,
            "SELECT record FROM suspensions WHERE system = ?1 AND purpose = ?2",
            params![system, purpose],
        )?;
        if existing.is_some() {
            self.conn
                .execute("DELETE FROM suspensions WHERE system = ?1 AND purpose = ?2", params![system, purpose])
                .map_err(db("lifting a suspension"))?;
        }
        Ok(existing)
    }

    fn consent(&mut self, system: &str, subject: &str) -> Result<Option<Consent>, GovernanceError> {
        self.one(
            "consents",
            subject,
            "SELECT record FROM consents WHERE system = ?1 AND subject = ?2",
            params![system, subject],
        )
    }

    fn consents(&mut self) -> Result<Vec<Consent>, GovernanceError> {
        self.all("consents", "SELECT system || '/' || subject, record FROM consents", [])
    }

    fn put_consent(&mut self, consent: &Consent) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO consents (system, subject, record, seq) \
                 VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM consents)) \
                 ON CONFLICT (system, subject) DO UPDATE SET record = excluded.record, seq = excluded.seq",
                params![consent.system, consent.subject, to_json(consent)?],
            )
            .map_err(db("storing a consent"))?;
        Ok(())
    }

    fn consent_changes(&mut self, after: u64, limit: u32) -> Result<Vec<ConsentChange>, GovernanceError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT seq, subject, record FROM consents WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(db("reading consent changes"))?;
        let rows = statement
            .query_map(params![to_i64(after)?, i64::from(limit)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })
            .map_err(db("reading consent changes"))?;
        let mut changes = Vec::new();
        for row in rows {
            let (seq, subject, text) = row.map_err(db("reading consent changes"))?;
            changes.push(ConsentChange {
                seq: to_u64(seq, "consent seq")?,
                consent: from_json("consents", &subject, &text)?,
            });
        }
        Ok(changes)
    }

    fn api_keys(&mut self) -> Result<Vec<ApiKey>, GovernanceError> {
        self.all("api_keys", "SELECT id, record FROM api_keys ORDER BY id", [])
    }

    fn put_api_key(&mut self, key: &ApiKey) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO api_keys (id, record) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![key.id, to_json(key)?],
            )
            .map_err(db("storing an API key"))?;
        Ok(())
    }

    fn packs(&mut self) -> Result<Vec<ActivePack>, GovernanceError> {
        self.all("packs", "SELECT id, record FROM packs ORDER BY seq", [])
    }

    fn put_pack(&mut self, pack: &ActivePack) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO packs (id, seq, record) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM packs), ?2) \
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![pack.id, to_json(pack)?],
            )
            .map_err(db("storing a norm pack"))?;
        Ok(())
    }

    fn runtime_version(&mut self) -> Result<u64, GovernanceError> {
        let version: i64 = self
            .conn
            .query_row("SELECT version FROM runtime_state WHERE id = 1", [], |r| r.get(0))
            .map_err(db("reading the runtime version"))?;
        to_u64(version, "runtime version")
    }

    fn add_review(&mut self, item: &ReviewItem) -> Result<u64, GovernanceError> {
        let mut item = item.clone();
        item.id = self.next_id("reviews")?;
        self.conn
            .execute(
                "INSERT INTO reviews (id, system, status, decision_index, record) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    to_i64(item.id)?,
                    item.system,
                    item.status.as_str(),
                    to_i64(item.decision_index)?,
                    to_json(&item)?
                ],
            )
            .map_err(db("queueing a review"))?;
        Ok(item.id)
    }

    fn review(&mut self, id: u64) -> Result<Option<ReviewItem>, GovernanceError> {
        self.one("reviews", &id.to_string(), "SELECT record FROM reviews WHERE id = ?1", params![to_i64(id)?])
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
        incident.id = self.next_id("incidents")?;
        self.conn
            .execute(
                "INSERT INTO incidents (id, system, status, record) VALUES (?1, ?2, ?3, ?4)",
                params![to_i64(incident.id)?, incident.system, incident.status.as_str(), to_json(&incident)?],
            )
            .map_err(db("opening an incident"))?;
        Ok(incident.id)
    }

    fn incident(&mut self, id: u64) -> Result<Option<Incident>, GovernanceError> {
        self.one("incidents", &id.to_string(), "SELECT record FROM incidents WHERE id = ?1", params![to_i64(id)?])
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
        // Kept by triggers (migration V8): one row per system, however long the queue.
        let mut reviews = self
            .conn
            .prepare_cached("SELECT system, pending FROM review_counts WHERE pending > 0")
            .map_err(db("counting reviews"))?;
        let rows = reviews
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(db("counting reviews"))?;
        for row in rows {
            let (system, n) = row.map_err(db("counting reviews"))?;
            let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
            entry.reviews = to_u64(n, "count")?;
        }
        // Deadlines are RFC 3339 instants in the record; julianday() compares them as times.
        let mut incidents = self
            .conn
            .prepare_cached(
                "SELECT system, COUNT(*), SUM(CASE WHEN \
                    (status = 'open' AND julianday(json_extract(record, '$.acknowledge_by')) < julianday(?1)) \
                    OR julianday(json_extract(record, '$.resolve_by')) < julianday(?1) THEN 1 ELSE 0 END) \
                 FROM incidents WHERE status IN ('open', 'acknowledged') GROUP BY system",
            )
            .map_err(db("counting incidents"))?;
        let rows = incidents
            .query_map(params![now.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .map_err(db("counting incidents"))?;
        for row in rows {
            let (system, n, overdue) = row.map_err(db("counting incidents"))?;
            let entry = by_system.entry(system.clone()).or_insert_with(|| PendingWork { system, ..Default::default() });
            entry.incidents = to_u64(n, "count")?;
            entry.overdue_incidents = to_u64(overdue, "count")?;
        }
        Ok(by_system.into_values().collect())
    }

    fn add_feedback(&mut self, feedback: &Feedback) -> Result<u64, GovernanceError> {
        let mut feedback = feedback.clone();
        feedback.id = self.next_id("feedback")?;
        self.conn
            .execute(
                "INSERT INTO feedback (id, system, record) VALUES (?1, ?2, ?3)",
                params![to_i64(feedback.id)?, feedback.system, to_json(&feedback)?],
            )
            .map_err(db("storing feedback"))?;
        Ok(feedback.id)
    }

    fn feedback(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Feedback>, GovernanceError> {
        let (before, limit) = (newest_first_bound(page)?, i64::from(page.limit));
        match system {
            Some(system) => self.all(
                "feedback",
                "SELECT CAST(id AS TEXT), record FROM feedback WHERE system = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                params![system, before, limit],
            ),
            None => self.all(
                "feedback",
                "SELECT CAST(id AS TEXT), record FROM feedback WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                params![before, limit],
            ),
        }
    }

    fn feedback_item(&mut self, id: u64) -> Result<Option<Feedback>, GovernanceError> {
        self.one("feedback", &id.to_string(), "SELECT record FROM feedback WHERE id = ?1", params![to_i64(id)?])
    }

    fn add_outcome(&mut self, outcome: &OutcomeReport) -> Result<(), GovernanceError> {
        self.conn
            .execute(
                "INSERT INTO outcomes (system, record) VALUES (?1, ?2)",
                params![outcome.system, to_json(outcome)?],
            )
            .map_err(db("storing an outcome"))?;
        Ok(())
    }

    fn recent_outcomes(&mut self, system: &str, limit: u32) -> Result<Vec<OutcomeReport>, GovernanceError> {
        let mut newest: Vec<OutcomeReport> = self.all(
            "outcomes",
            "SELECT CAST(id AS TEXT), record FROM outcomes WHERE system = ?1 ORDER BY id DESC LIMIT ?2",
            params![system, limit],
        )?;
        newest.reverse();
        Ok(newest)
    }

    fn add_alert(&mut self, alert: &Alert) -> Result<u64, GovernanceError> {
        let mut alert = alert.clone();
        alert.id = self.next_id("alerts")?;
        self.conn
            .execute(
                "INSERT INTO alerts (id, system, record) VALUES (?1, ?2, ?3)",
                params![to_i64(alert.id)?, alert.system, to_json(&alert)?],
            )
            .map_err(db("raising an alert"))?;
        Ok(alert.id)
    }

    fn alert_page(&mut self, system: Option<&str>, page: Keyset) -> Result<Vec<Alert>, GovernanceError> {
        self.page(&Page::new("alerts", system, vec![], page)?)
    }

    fn put_alert(&mut self, alert: &Alert) -> Result<(), GovernanceError> {
        self.update("alerts", alert.id, None, to_json(alert)?)
    }

    fn record(&mut self, event: &Event) -> Result<u64, GovernanceError> {
        ledger::append(self.conn, event)
    }
}
