//! Recording a run as evidence from Python (`store=`, `system=`): the workflow of
//! `lunli audit … --system` — the same catalogue and packs, the summary pinned to the audited
//! bytes, all controls and ledger entries in one transaction, governed by lunli-governance.
//!
//! Files are pinned by their SHA-256 on disk. Data handed over in memory is pinned by the
//! SHA-256 of its Arrow IPC stream (schema, then every batch as it crossed), taken while the
//! audit reads it; `lunli.sha256(data)` computes the same digest, so the data can be checked
//! against the evidence later.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::writer::StreamWriter;
use pyo3::prelude::*;
use sha2::{Digest, Sha256};

use lunli_audit::policy::Policy;
use lunli_audit::{ArrowBatches, ArrowInput};
use lunli_governance::audit_summary::AuditSummary;
use lunli_governance::store::Store as _;
use lunli_governance::{AuditRun, Governance};
use lunli_norms::{Catalogue, Pack};
use lunli_store::{AnyStore, LedgerKeys, PostgresStore, SqliteStore};

use crate::{InputError, LunliError};

/// Where and as whom a run is recorded.
pub struct Recording {
    store: AnyStore,
    system: String,
    actor: String,
    /// The bundled catalogue with the store's active norm packs layered on it.
    pub catalogue: Catalogue,
    /// The audit thresholds of the active packs, when one carries them (Art. 24).
    pub pack_policy: Option<Policy>,
}

fn store_error(store: &str, e: impl std::fmt::Display) -> PyErr {
    LunliError::new_err(format!("the lunli store {store}: {e}"))
}

impl Recording {
    /// Opens the store when `store` and `system` are both given (neither: no recording).
    /// `store` is a data directory (the embedded store, as `--data-dir`) or a PostgreSQL URL (as
    /// `--database-url`, whose ledger key stays in `key_dir`).
    pub fn open(
        store: Option<String>,
        system: Option<String>,
        actor: Option<String>,
        key_dir: Option<String>,
    ) -> PyResult<Option<Self>> {
        let (store_name, system) = match (store, system) {
            (None, None) => return Ok(None),
            (Some(store), Some(system)) => (store, system),
            (Some(_), None) => return Err(InputError::new_err("system: give the system to record on with store=")),
            (None, Some(_)) => {
                return Err(InputError::new_err("store: give the lunli store to record in with system="));
            }
        };
        let actor = actor.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).ok_or_else(|| {
            InputError::new_err("actor: name who records the run (the Python layer passes the OS user by default)")
        })?;
        let is_url =
            ["postgres://", "postgresql://"].iter().any(|p| store_name.starts_with(p)) || store_name.contains("host=");
        let store: AnyStore = if is_url {
            let key_dir = key_dir.map(PathBuf::from).ok_or_else(|| {
                InputError::new_err(
                    "key_dir: a PostgreSQL store needs the directory that holds the ledger's signing key",
                )
            })?;
            PostgresStore::connect(&store_name)
                .map_err(|e| store_error(&store_name, e))?
                .with_ledger_keys(LedgerKeys::in_dir(&key_dir))
                .into()
        } else {
            SqliteStore::open(std::path::Path::new(&store_name)).map_err(|e| store_error(&store_name, e))?.into()
        };
        let active = store.read(|tx| tx.packs()).map_err(|e| store_error(&store_name, e))?;
        let mut packs = Vec::with_capacity(active.len());
        for p in active {
            let source = format!("pack {}@{}", p.id, p.version);
            packs.push(Pack::from_files(&source, p.files).map_err(|e| store_error(&store_name, e))?);
        }
        let catalogue =
            Catalogue::layered(None, &packs).map_err(|e| LunliError::new_err(format!("the active packs: {e}")))?;
        let pack_policy = Policy::of_packs(&packs).map_err(crate::py_error)?;
        Ok(Some(Self { store, system, actor, catalogue, pack_policy }))
    }

    /// Records `report` (an audit's JSON report) as evidence on `controls`; returns
    /// `(control, evidence id)` per control recorded. `arrow_sha256` pins data handed over in
    /// memory.
    pub fn record(
        &self,
        audit: &str,
        passed: bool,
        mut report: serde_json::Value,
        controls: &[String],
        arrow_sha256: Option<String>,
        note: &str,
    ) -> PyResult<Vec<(String, u32)>> {
        if let (Some(sha256), Some(serde_json::Value::Array(inputs))) = (arrow_sha256, report.get_mut("inputs")) {
            for input in inputs.iter_mut().filter(|i| i.get("format").and_then(|f| f.as_str()) == Some("arrow")) {
                if let Some(object) = input.as_object_mut() {
                    object.insert("sha256".into(), sha256.clone().into());
                }
            }
        }
        let summary = AuditSummary::pinned(report).map_err(governance_error)?;
        let run = AuditRun { audit, passed, summary, controls, note };
        let gov = Governance::new(&self.catalogue, &self.store);
        gov.record_audit(&self.actor, &self.system, &run, now()).map_err(governance_error)
    }
}

/// Refusals and unknown systems are the caller's to fix: `InputError`; the store failing is not.
fn governance_error(e: lunli_governance::GovernanceError) -> PyErr {
    match e {
        lunli_governance::GovernanceError::Storage { .. } => LunliError::new_err(e.to_string()),
        other => InputError::new_err(other.to_string()),
    }
}

/// Now, at the millisecond precision the ledger records.
fn now() -> jiff::Timestamp {
    let ms = jiff::Timestamp::now().as_millisecond();
    jiff::Timestamp::from_millisecond(ms).unwrap_or_else(|_| jiff::Timestamp::now())
}

/// A SHA-256 that Arrow's IPC writer writes into.
struct HashSink(Sha256);

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 of Arrow data's IPC stream, fed batch by batch.
#[derive(Clone)]
pub struct ArrowDigest(Arc<Mutex<Option<StreamWriter<HashSink>>>>);

impl ArrowDigest {
    fn new(schema: &SchemaRef) -> Result<Self, ArrowError> {
        let writer = StreamWriter::try_new(HashSink(Sha256::new()), schema)?;
        Ok(Self(Arc::new(Mutex::new(Some(writer)))))
    }

    fn add(&self, batch: &RecordBatch) -> Result<(), ArrowError> {
        let mut slot = self.0.lock().map_err(|_| ArrowError::ComputeError("the digest's lock was poisoned".into()))?;
        match slot.as_mut() {
            Some(writer) => writer.write(batch),
            None => Err(ArrowError::ComputeError("the digest is already finished".into())),
        }
    }

    /// The digest (lower-case hex) of everything fed so far.
    pub fn finish(&self) -> PyResult<String> {
        let writer = self.0.lock().ok().and_then(|mut slot| slot.take());
        let writer = writer.ok_or_else(|| LunliError::new_err("the data's digest was already taken"))?;
        let sink = writer.into_inner().map_err(|e| LunliError::new_err(format!("hashing the data: {e}")))?;
        Ok(hex::encode(sink.0.finalize()))
    }

    /// The digest of batches held in memory.
    pub fn of_batches(schema: &SchemaRef, batches: &[RecordBatch]) -> PyResult<String> {
        let hash = || -> Result<Self, ArrowError> {
            let digest = Self::new(schema)?;
            for batch in batches {
                digest.add(batch)?;
            }
            Ok(digest)
        };
        hash().map_err(|e| LunliError::new_err(format!("hashing the data: {e}")))?.finish()
    }
}

/// A stream that feeds every batch it passes on into a digest.
struct Hashing {
    inner: Box<dyn RecordBatchReader + Send>,
    digest: ArrowDigest,
}

impl Iterator for Hashing {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        Some(item.and_then(|batch| self.digest.add(&batch).map(|()| batch)))
    }
}

impl RecordBatchReader for Hashing {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
}

/// Arranges for `input`'s content to be hashed: batches in memory at once, a stream as the audit
/// reads it (call [`ArrowDigest::finish`] after the audit).
pub fn hashed(input: ArrowInput) -> PyResult<(ArrowInput, Pinned)> {
    match input.batches {
        ArrowBatches::Memory(batches) => {
            let sha256 = ArrowDigest::of_batches(&input.schema, &batches)?;
            Ok((ArrowInput { batches: ArrowBatches::Memory(batches), ..input }, Pinned::Known(sha256)))
        }
        ArrowBatches::Stream(reader) => {
            let digest =
                ArrowDigest::new(&input.schema).map_err(|e| LunliError::new_err(format!("hashing the data: {e}")))?;
            let reader = Hashing { inner: reader, digest: digest.clone() };
            Ok((ArrowInput { batches: ArrowBatches::Stream(Box::new(reader)), ..input }, Pinned::Streamed(digest)))
        }
    }
}

/// The digest of Arrow data: known before the audit, or taken while it streamed.
pub enum Pinned {
    Known(String),
    Streamed(ArrowDigest),
}

impl Pinned {
    pub fn sha256(self) -> PyResult<String> {
        match self {
            Pinned::Known(sha256) => Ok(sha256),
            Pinned::Streamed(digest) => digest.finish(),
        }
    }
}
