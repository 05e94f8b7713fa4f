//! The ledger's health at a glance, cheap enough to read on every dashboard page: how many
//! entries it holds, its latest signed tree head, and the result of the last full verification.
//!
//! A full verification recomputes the whole tree (seconds on a large ledger), so its result is
//! kept beside the database in `ledger-verification.json` rather than recomputed on each read.
//! Both `lunli ledger verify` and the dashboard's "verify now" write it — the one file this
//! crate touches, beside the ledger's key files.
//!
//! Why here: [`LedgerStatus`] answers in [`GovernanceError`], like [`Store`](crate::store::Store)
//! beside it, and the gateway names both; the ledger's operations it builds on
//! ([`lunli_ledger::store::Ledger`]) stay in `lunli-ledger`, which must not depend on governance
//! (an auditor uses it alone). Neither crate links a database driver: `lunli-store` implements
//! [`Backend`] for SQLite and PostgreSQL, and every such store gets [`LedgerStatus`] here.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use lunli_ledger::store::{Backend, Ledger, LedgerError, fingerprint};
use lunli_ledger::{Entry, Report, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::GovernanceError;

/// File in the data directory that holds the last verification's result.
pub const VERIFICATION_FILE: &str = "ledger-verification.json";

/// The ledger at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerHealth {
    /// Entries in the log.
    pub size: u64,
    /// The signed head with the largest size, if any.
    pub latest_head: Option<HeadSummary>,
    /// The last full verification, if one was recorded.
    pub last_verification: Option<Verification>,
    /// Whether heads can be signed and verified here: always on the embedded store; on
    /// PostgreSQL when the store was given a key directory (the binary always gives its data
    /// directory).
    pub signs_heads: bool,
}

/// A signed tree head, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeadSummary {
    pub size: u64,
    /// The Merkle root, hex.
    pub root: String,
    pub signed_at: Timestamp,
}

/// The result of one full verification of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub at: Timestamp,
    pub ok: bool,
    /// Entries that checked out (all of them when `ok`).
    pub size: u64,
    pub heads_verified: u64,
    /// The first problem found, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// SHA-256 fingerprint of the public key the heads were checked with.
    pub key_fingerprint: String,
}

impl Verification {
    pub fn from_report(report: &Report, key: &VerifyingKey, at: Timestamp) -> Self {
        Self {
            at,
            ok: report.is_ok(),
            size: report.size,
            heads_verified: report.heads_verified,
            problem: report.problem.as_ref().map(ToString::to_string),
            key_fingerprint: fingerprint(key).to_hex(),
        }
    }
}

/// What a store tells about its ledger. Implemented for every store with a [`Ledger`].
pub trait LedgerStatus {
    /// Size, latest signed head and last verification: a few small reads.
    fn ledger_health(&self) -> Result<LedgerHealth, GovernanceError>;
    /// The last `limit` entries, oldest first.
    fn recent_entries(&self, limit: u64) -> Result<Vec<Entry>, GovernanceError>;
    /// Verifies the whole ledger now and records the result.
    fn verify_now(&self, at: Timestamp) -> Result<Verification, GovernanceError>;
    /// Keeps a verification's result for [`LedgerStatus::ledger_health`]: written to a new file
    /// and renamed over the old one, so a reader never sees half of it.
    fn record_verification(&self, verification: &Verification) -> Result<(), GovernanceError>;
    /// The last recorded verification. A file that cannot be read is an error naming it, so
    /// that the dashboard can say so.
    fn last_verification(&self) -> Result<Option<Verification>, GovernanceError>;
}

fn ledger_error(e: LedgerError) -> GovernanceError {
    GovernanceError::Storage { message: e.to_string(), source: None }
}

/// The result lives beside the ledger's keys: the data directory, on either backend.
fn verification_file(store: &impl Ledger) -> Result<PathBuf, GovernanceError> {
    let keys = store.key_files().map_err(ledger_error)?;
    Ok(keys.public_key_path().parent().unwrap_or(Path::new(".")).join(VERIFICATION_FILE))
}

fn to_jiff(t: lunli_ledger::Timestamp) -> Timestamp {
    Timestamp::from_millisecond(t.unix_millis()).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl<B: Backend> LedgerStatus for B {
    fn ledger_health(&self) -> Result<LedgerHealth, GovernanceError> {
        let size = self.snapshot(|tables| tables.size()).map_err(ledger_error)?;
        let latest_head = self.latest_head().map_err(ledger_error)?.map(|h| HeadSummary {
            size: h.head.size,
            root: h.head.root.to_hex(),
            signed_at: to_jiff(h.head.timestamp),
        });
        // A PostgreSQL store opened without a key directory cannot sign or verify.
        let signs_heads = self.key_files().is_ok();
        let last_verification = if signs_heads { self.last_verification()? } else { None };
        Ok(LedgerHealth { size, latest_head, last_verification, signs_heads })
    }

    fn recent_entries(&self, limit: u64) -> Result<Vec<Entry>, GovernanceError> {
        let mut entries = Vec::new();
        let mut failure = None;
        self.snapshot(|tables| {
            let size = tables.size()?;
            tables.rows(size.saturating_sub(limit), &mut |index, _, bytes| match serde_json::from_slice::<Entry>(bytes) {
                Ok(entry) => {
                    entries.push(entry);
                    true
                }
                Err(e) => {
                    failure = Some(GovernanceError::Storage {
                        message: format!(
                            "ledger entry {index} cannot be read ({e}); it was altered outside lunli; a full verification of the ledger shows what else was"
                        ),
                        source: None,
                    });
                    false
                }
            })
        })
        .map_err(ledger_error)?;
        match failure {
            Some(failure) => Err(failure),
            None => Ok(entries),
        }
    }

    fn verify_now(&self, at: Timestamp) -> Result<Verification, GovernanceError> {
        let key = self.verifying_key().map_err(ledger_error)?;
        let report = self.verify_ledger_with(&key).map_err(ledger_error)?;
        let verification = Verification::from_report(&report, &key, at);
        self.record_verification(&verification)?;
        Ok(verification)
    }

    fn record_verification(&self, verification: &Verification) -> Result<(), GovernanceError> {
        let path = verification_file(self)?;
        let text = serde_json::to_vec_pretty(verification)
            .map_err(|e| GovernanceError::storage("encoding the verification result", e))?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &path))
            .map_err(|e| GovernanceError::storage(format!("writing {}", path.display()), e))
    }

    fn last_verification(&self) -> Result<Option<Verification>, GovernanceError> {
        let path = verification_file(self)?;
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| GovernanceError::storage(format!("reading {}", path.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(GovernanceError::storage(format!("reading {}", path.display()), e)),
        }
    }
}
