//! The ledger kept in a database: signing tree heads, verifying everything stored, building
//! proofs and exporting bundles — the same algorithms on every database, written once here
//! against [`Tables`], one transaction's view of the ledger's three tables. A store implements
//! [`Backend`] (how to get such a view for reading or for writing; `lunli-store` does for SQLite
//! and PostgreSQL) and gets every operation of [`Ledger`].
//!
//! Why here and not in the store crate: this is ledger logic, and the report and the gateway,
//! which only call it, should not link a database driver to name a trait. This module speaks
//! no SQL and no governance: it depends on nothing but this crate (an auditor's build of
//! `lunli-ledger` stays free of lunli's governance and of any driver), and appending — which
//! turns governance events into entries inside a governance transaction — stays in `lunli-store`.
//! What a store tells the dashboard about its ledger (`LedgerStatus`, in governance terms) is in
//! `lunli_governance::ledger`, on top of this.
//!
//! Tables (see `lunli-store`'s `migrations/`): `ledger_entries (idx, leaf_hash, entry)` holds
//! entry `idx`'s canonical bytes and, beside them, their leaf hash; `ledger_heads (size, root,
//! timestamp, signature)` the signed tree heads; `ledger_tree` the compact tree as of the latest
//! head, so a new head reads only the entries appended since — on a read snapshot, and under the
//! write lock only those appended while that read ran. The stored leaf hashes and the compact
//! tree are conveniences for appending, signing and proving: verification never trusts them and
//! recomputes everything from the entries' bytes, checking the stored hashes on the way.
//!
//! Durability is the backends': SQLite in WAL mode with `synchronous = FULL`, PostgreSQL with
//! `synchronous_commit = on`, so entries are on disk when their commit returns.

mod keys;

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use crate::verify::{BUNDLE_FORMAT_VERSION, Change};
use crate::{
    CompactTree, Entry, Hash, KeyError, LeafSource, Problem, ProofBuildError, ProofError, Report, SignedTreeHead,
    SigningKey, Timestamp, TreeHead, Verifier, VerifyingKey, WrittenLink, WrittenLinks,
};

pub use keys::{LedgerKeys, PUBLIC_KEY_FILE, SIGNING_KEY_FILE, fingerprint};

/// A database driver's error, kept as the source of [`LedgerError::Database`].
pub type DriverError = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong reading, signing, proving or exporting the ledger. A ledger that does not
/// verify is not an error here: [`Ledger::verify_ledger`] returns it as a [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database failed: `database` names it ("SQLite", "PostgreSQL"), `location` says which
    /// one (the file's path, the server), `source` is the driver's error.
    #[error("{database} failed while {doing} ({location}): {source}")]
    Database {
        database: &'static str,
        doing: &'static str,
        location: String,
        #[source]
        source: DriverError,
    },
    #[error(
        "the ledger in PostgreSQL needs a directory for its signing key: open the store with \
         `PostgresStore::with_ledger_keys` (the lunli binary uses its data directory)"
    )]
    NoKeyDirectory,
    #[error(
        "the latest signed head (size {size}) does not verify with this instance's public key {}: every \
         instance writing one ledger must sign with the same key — copy the signing key and public key files \
         of the instance that signed it into this one's data directory",
        public.display()
    )]
    ForeignKey { size: u64, public: PathBuf },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "{} exists but the signing key {} does not: restore the signing key from a backup, or move the \
         public key away to start a new key pair (heads signed before stay verifiable with the old public key only)",
        public.display(), private.display()
    )]
    SigningKeyMissing { private: PathBuf, public: PathBuf },
    #[error(
        "{} is not the public half of {}: one of them was replaced. Put the matching pair back, or delete the \
         public key file to have it derived again from the signing key",
        public.display(), private.display()
    )]
    KeysDisagree { private: PathBuf, public: PathBuf },
    #[error("the stored {what} cannot be read ({reason}); it was altered outside lunli — run `lunli ledger verify`")]
    Unreadable { what: String, reason: String },
    #[error("the ledger has {size} entries, so there is no entry {index}")]
    NoSuchEntry { index: u64, size: u64 },
    #[error("the ledger has {available} entries, so there is no tree of size {size}")]
    NoSuchSize { size: u64, available: u64 },
    #[error("a consistency proof needs 0 < first size <= second size; got {size1} and {size2}")]
    InvalidSizes { size1: u64, size2: u64 },
    #[error("refusing to sign a tree head over a ledger that does not verify: {problem}. Run `lunli ledger verify`")]
    Tampered { problem: Problem },
    #[error(
        "the proof built from the stored leaf hashes does not verify ({0}): the stored hashes were altered — \
         run `lunli ledger verify`"
    )]
    ProofFailed(#[source] ProofError),
    #[error("cannot write the export: {0}")]
    Write(#[source] std::io::Error),
    #[error("the database connection was poisoned by an earlier panic")]
    Poisoned,
    /// The store failed before the ledger's tables were reached (no connection, say); its own
    /// error, as it tells it.
    #[error(transparent)]
    Store(DriverError),
}

impl LedgerError {
    /// The stored ledger was found altered: `lunli` exits with its "ledger invalid" code.
    pub fn is_tampering(&self) -> bool {
        matches!(self, LedgerError::Unreadable { .. } | LedgerError::Tampered { .. } | LedgerError::ProofFailed(_))
    }
}

/// What [`Ledger::sign_head`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutcome {
    /// The log grew since the latest head (or had none): a new head was signed and stored.
    New(SignedTreeHead),
    /// The latest head already covers the whole log; nothing was signed.
    AlreadySigned(SignedTreeHead),
}

impl SignOutcome {
    pub fn head(&self) -> &SignedTreeHead {
        match self {
            SignOutcome::New(head) | SignOutcome::AlreadySigned(head) => head,
        }
    }
}

/// An inclusion proof (RFC 9162 §2.1.3) for one stored entry, checked before it is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// The leaf hash, computed from the entry's stored bytes.
    pub leaf_hash: Hash,
    /// The root the proof leads to: the signed head's when `head` is there, else computed.
    pub root: Hash,
    /// The audit path, lowest level first.
    pub path: Vec<Hash>,
    /// The signed head of this size, when there is one.
    pub head: Option<SignedTreeHead>,
    pub entry: Entry,
}

/// A consistency proof (RFC 9162 §2.1.4) between two sizes of the stored log, checked before
/// it is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyProof {
    pub size1: u64,
    pub size2: u64,
    pub root1: Hash,
    pub root2: Hash,
    pub path: Vec<Hash>,
    pub head1: Option<SignedTreeHead>,
    pub head2: Option<SignedTreeHead>,
}

/// What [`Ledger::export_bundle`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub entries: u64,
    pub heads: u64,
}

/// A head as stored, or the size of a head row that cannot be read back (it was altered).
pub type StoredHead = Result<SignedTreeHead, u64>;

/// Decodes a stored head row; `Err(size)` when a column does not hold what a head needs.
pub fn decode_head(size: i64, root: &[u8], timestamp: &str, signature: &[u8]) -> StoredHead {
    let size_u64 = u64::try_from(size).unwrap_or(0);
    let parsed = (|| {
        let size = u64::try_from(size).ok()?;
        let root = Hash::try_from(root).ok()?;
        let timestamp = Timestamp::parse(timestamp).ok()?;
        let signature = <[u8; 64]>::try_from(signature).ok()?;
        Some(SignedTreeHead {
            head: TreeHead { size, root, timestamp },
            signature: ed25519_dalek::Signature::from_bytes(&signature),
        })
    })();
    parsed.ok_or(size_u64)
}

/// Decodes the stored compact tree: its size and its peaks' hashes concatenated.
pub fn decode_tree(size: i64, peaks: &[u8]) -> Option<CompactTree> {
    let peaks: Option<Vec<Hash>> = peaks.chunks(32).map(|chunk| Hash::try_from(chunk).ok()).collect();
    CompactTree::from_parts(u64::try_from(size).ok()?, peaks?).ok()
}

/// The compact tree's peaks' hashes concatenated, as [`decode_tree`] reads them back.
pub fn encode_peaks(tree: &CompactTree) -> Vec<u8> {
    tree.peaks().iter().flat_map(|peak| peak.as_bytes().iter().copied()).collect()
}

mod backend {
    use super::{CompactTree, LedgerError, LedgerKeys, SignedTreeHead, StoredHead};

    /// Called with each row's index, stored leaf hash and entry bytes; returns whether to go on.
    pub type RowVisitor<'a> = dyn FnMut(u64, &[u8], &[u8]) -> bool + 'a;
    /// Called with each row's index and stored leaf hash.
    pub type LeafVisitor<'a> = dyn FnMut(u64, &[u8]) -> Result<(), LedgerError> + 'a;

    /// One transaction's (or read snapshot's) view of the ledger tables. A backend maps its own
    /// errors to [`LedgerError`] with the context it knows (file path, server).
    pub trait Tables {
        /// The index the next entry gets: one more than the largest stored index.
        fn size(&mut self) -> Result<u64, LedgerError>;
        /// Every head, smallest size first.
        fn heads(&mut self) -> Result<Vec<StoredHead>, LedgerError>;
        fn latest_head(&mut self) -> Result<Option<StoredHead>, LedgerError>;
        fn head_at(&mut self, size: u64) -> Result<Option<StoredHead>, LedgerError>;
        /// Streams `(index, stored leaf hash, entry bytes)` from index `from` on, in index order,
        /// while `each` returns true.
        fn rows(&mut self, from: u64, each: &mut RowVisitor<'_>) -> Result<(), LedgerError>;
        /// Streams `(index, stored leaf hash)` for `start <= index < end`, in index order.
        fn leaves(&mut self, start: u64, end: u64, each: &mut LeafVisitor<'_>) -> Result<(), LedgerError>;
        fn tree(&mut self) -> Result<Option<CompactTree>, LedgerError>;
        fn put_tree(&mut self, tree: &CompactTree) -> Result<(), LedgerError>;
        fn put_head(&mut self, head: &SignedTreeHead) -> Result<(), LedgerError>;
    }

    /// What a store provides so that [`Ledger`]'s operations run on it.
    pub trait Backend {
        /// Where the ledger's key files are.
        fn ledger_keys(&self) -> Result<LedgerKeys, LedgerError>;
        /// Runs `work` on one consistent read snapshot, without holding up writers.
        fn snapshot<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError>;
        /// Runs `work` in one write transaction, serialised with every other writer.
        fn write_ledger<T>(
            &self,
            work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>,
        ) -> Result<T, LedgerError>;
        /// The entries this store's writers appended in this process, when it remembers them:
        /// signing a head then recognises those rows by hash (see [`crate::written`]).
        fn written_links(&self) -> Option<&crate::WrittenLinks> {
            None
        }
    }
}

pub use backend::{Backend, LeafVisitor, RowVisitor, Tables};

/// The ledger's operations on a store: signing, verification, proofs and export. Implemented for
/// every [`Backend`] (in `lunli-store`: `SqliteStore`, `PostgresStore` and `AnyStore`).
pub trait Ledger: Backend {
    /// Where the signing key and public key files are.
    fn key_files(&self) -> Result<LedgerKeys, LedgerError> {
        self.ledger_keys()
    }

    /// The signing key, created (with its public key file) on first use. Creation runs inside a
    /// write transaction, so two processes sharing the store never create two keys.
    fn signing_key(&self) -> Result<SigningKey, LedgerError> {
        let keys = self.ledger_keys()?;
        if let Some(key) = keys.existing_signing_key()? {
            return Ok(key);
        }
        self.write_ledger(|_| keys.signing_key())
    }

    /// The public key heads are verified with: `ledger-key.pub.pem`, created with the signing
    /// key on first use.
    fn verifying_key(&self) -> Result<VerifyingKey, LedgerError> {
        let keys = self.ledger_keys()?;
        if let Some(key) = keys.existing_verifying_key()? {
            return Ok(key);
        }
        self.write_ledger(|_| keys.signing_key().map(|key| key.verifying_key()))
    }

    /// Signs a head over the whole log at `now`, unless the latest head already covers it.
    /// Refuses ([`LedgerError::Tampered`]) when the entries since the latest head do not check
    /// out, so a head never vouches for altered entries, and ([`LedgerError::ForeignKey`]) when
    /// the latest head was signed with another key.
    ///
    /// Writers are held up only briefly: the entries since the latest head are read and checked
    /// on a read snapshot first, without the write lock — and when that took long, those
    /// appended meanwhile on another snapshot, up to 8 rounds, until fewer than 1,024 were new.
    /// Under the lock, only the last entry read is read again (it must hash as before) and the
    /// few appended since are read and checked, then the head is signed and stored. When another
    /// instance signed a head in between, reading starts over from that head (few entries follow
    /// it). Rows this store wrote itself, and still remembers ([`Backend::written_links`]), are
    /// checked by hashing their bytes alone (see [`crate::written`]).
    fn sign_head(&self, now: Timestamp) -> Result<SignOutcome, LedgerError> {
        self.sign_head_pausing(now, &mut || {})
    }

    /// [`Ledger::sign_head`], running `between` after the entries are read on a snapshot and
    /// before the write lock is taken: for tests of what other writers do meanwhile.
    #[doc(hidden)]
    fn sign_head_pausing(&self, now: Timestamp, between: &mut dyn FnMut()) -> Result<SignOutcome, LedgerError> {
        let keys = self.ledger_keys()?;
        let key = self.signing_key()?;
        let known = self.written_links();
        let (mut folded, mut read) = self.snapshot(|tables| {
            let mut folded = start_fold(tables, &key, &keys)?;
            let from = folded.tree.size();
            fold(tables, known, &mut folded)?;
            let read = folded.tree.size() - from;
            Ok((folded, read))
        })?;
        // A long read leaves many entries appended meanwhile: read those on a new snapshot too,
        // until few are left for the write lock.
        let mut rounds = 1;
        while read >= CATCH_UP && rounds < SNAPSHOT_ROUNDS {
            let before = folded.tree.size();
            folded = self.snapshot(|tables| catch_up(tables, known, &key, &keys, folded))?;
            read = folded.tree.size().saturating_sub(before);
            rounds += 1;
        }
        between();
        let outcome = self.write_ledger(|tables| sign_after(tables, known, &key, now, &keys, folded))?;
        if let (Some(known), SignOutcome::New(head)) = (known, &outcome) {
            known.forget_before(head.head.size);
        }
        Ok(outcome)
    }

    /// Every signed head, smallest size first.
    fn heads(&self) -> Result<Vec<SignedTreeHead>, LedgerError> {
        self.snapshot(|tables| tables.heads()?.into_iter().map(|h| h.map_err(unreadable_head)).collect())
    }

    /// The signed head with the largest size, if any.
    fn latest_head(&self) -> Result<Option<SignedTreeHead>, LedgerError> {
        self.snapshot(|tables| tables.latest_head()?.map(|h| h.map_err(unreadable_head)).transpose())
    }

    /// Recomputes the whole tree from the stored entries and checks every signed head with the
    /// public key in the key directory. See [`Ledger::verify_ledger_with`].
    fn verify_ledger(&self) -> Result<Report, LedgerError> {
        let key = self.verifying_key()?;
        self.verify_ledger_with(&key)
    }

    /// Recomputes the whole tree from the stored entries and checks every signed head with `key`
    /// (an auditor's trusted copy, say). Rows are streamed in index order from one snapshot, so
    /// memory does not grow with the log. Each row is checked on its own (its bytes parse as the
    /// entry of that index, are canonical, and hash to the stored leaf hash), then fed to the
    /// [`Verifier`] (payload digests, the hash chain, order, and every head's signature and root).
    /// The report names the first problem: any modified, deleted, inserted or reordered entry by
    /// its index, an altered head by its size. Errors are only for failing to read.
    fn verify_ledger_with(&self, key: &VerifyingKey) -> Result<Report, LedgerError> {
        self.snapshot(|tables| verify(tables, key))
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries (default:
    /// the latest signed head, or the whole log), verified against that head's signed root.
    fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<InclusionProof, LedgerError> {
        self.snapshot(|tables| prove_inclusion(tables, index, size))
    }

    /// The consistency proof between the first `size1` and the first `size2` entries (default:
    /// the latest signed head, or the whole log), verified against their roots.
    fn consistency_proof(&self, size1: u64, size2: Option<u64>) -> Result<ConsistencyProof, LedgerError> {
        self.snapshot(|tables| prove_consistency(tables, size1, size2))
    }

    /// Hands every entry from index `from` on to `each`, in index order, from one snapshot, while
    /// it returns true: for counting and charting without holding the log in memory. An entry
    /// that does not parse stops the scan with an error naming its index.
    fn scan_entries(&self, from: u64, each: &mut dyn FnMut(Entry) -> bool) -> Result<(), LedgerError> {
        self.snapshot(|tables| {
            let mut failure = None;
            tables.rows(from, &mut |index, _, bytes| match serde_json::from_slice::<Entry>(bytes) {
                Ok(entry) => each(entry),
                Err(e) => {
                    failure = Some(LedgerError::Unreadable { what: format!("entry {index}"), reason: e.to_string() });
                    false
                }
            })?;
            failure.map_or(Ok(()), Err)
        })
    }

    /// Writes the whole ledger as a [`Bundle`](crate::Bundle) in JSON to `out`, streaming: the
    /// entries are never all in memory. The heads are written before the entries (JSON members
    /// are unordered) so that a reader can verify while it reads. Entries are exported as
    /// stored; an entry that cannot be read at all stops the export.
    fn export_bundle(&self, out: &mut dyn Write) -> Result<ExportSummary, LedgerError> {
        let key = self.verifying_key()?;
        let pem = crate::key::verifying_key_to_pem(&key)?;
        self.snapshot(|tables| export(tables, &pem, out))
    }
}

impl<B: Backend> Ledger for B {}

/// A row read back and found to be what `append` wrote.
struct CheckedRow {
    entry: Entry,
    leaf: Hash,
}

/// Checks one stored row on its own: its bytes are an entry claiming the row's index, they are
/// that entry's canonical form, and they hash to the leaf hash stored beside them. The chain, the
/// order and the roots are the [`Verifier`]'s to check.
fn check_row(index: u64, leaf_column: &[u8], bytes: &[u8]) -> Result<CheckedRow, Problem> {
    let altered = |reason: String| Problem::Malformed { index, reason };
    let entry: Entry = serde_json::from_slice(bytes)
        .map_err(|e| altered(format!("its stored bytes are not a ledger entry ({e}); they were altered")))?;
    if entry.index != index {
        return Err(if entry.index > index {
            Problem::Reordered { index, found: entry.index }
        } else {
            Problem::Inserted { claimed: entry.index, first: entry.index, second: index }
        });
    }
    let canonical = entry.canonical_bytes().map_err(|e| altered(e.to_string()))?;
    if canonical != bytes {
        return Err(altered(
            "its stored bytes are not the entry's canonical form (RFC 8785); they were rewritten".to_string(),
        ));
    }
    let leaf = crate::leaf_hash(bytes);
    if leaf.as_bytes().as_slice() != leaf_column {
        if entry.payload_digest().is_ok_and(|digest| digest != entry.payload_sha256) {
            return Err(Problem::Modified { index, change: Change::Payload });
        }
        return Err(altered(format!(
            "its bytes hash to {leaf}, not to the leaf hash stored beside them ({}): the row was altered",
            hex_or_len(leaf_column)
        )));
    }
    Ok(CheckedRow { entry, leaf })
}

fn hex_or_len(bytes: &[u8]) -> String {
    match Hash::try_from(bytes) {
        Ok(hash) => hash.to_hex(),
        Err(_) => format!("{} bytes", bytes.len()),
    }
}

/// Where a problem lies in the log, to tell which of two was met first.
fn position(problem: &Problem) -> u64 {
    match problem {
        Problem::RootMismatch { since, .. } => *since,
        Problem::BadSignature { size } => *size,
        other => other.index().unwrap_or(0),
    }
}

fn unreadable_head(size: u64) -> LedgerError {
    LedgerError::Unreadable {
        what: format!("tree head of size {size}"),
        reason: "its root, timestamp or signature is malformed".into(),
    }
}

/// The leaf hash of a stored row and the predecessor's leaf hash it names, checked: a row this
/// process wrote (remembered in `known`) by hashing its bytes, which must give the leaf hash
/// remembered and stored; any other with [`check_row`] (see [`crate::written`]).
fn checked_link(
    known: Option<&WrittenLinks>,
    index: u64,
    leaf_column: &[u8],
    bytes: &[u8],
) -> Result<WrittenLink, Problem> {
    if let Some(written) = known.and_then(|known| known.get(index)) {
        let leaf = crate::leaf_hash(bytes);
        if leaf == written.leaf && leaf.as_bytes().as_slice() == leaf_column {
            return Ok(written);
        }
    }
    check_row(index, leaf_column, bytes).map(|row| WrittenLink { leaf: row.leaf, prev: row.entry.prev_leaf_hash })
}

/// Rows streamed in index order from `from`, each checked with [`check_row`].
fn checked_rows(
    tables: &mut dyn Tables,
    from: u64,
    mut each: impl FnMut(u64, Result<CheckedRow, Problem>) -> bool,
) -> Result<(), LedgerError> {
    tables.rows(from, &mut |index, leaf, bytes| each(index, check_row(index, leaf, bytes)))
}

/// The one row at `index`, checked; an error when it is missing or altered.
fn checked_row(tables: &mut dyn Tables, index: u64, head_size: u64) -> Result<CheckedRow, LedgerError> {
    let mut found = None;
    checked_rows(tables, index, |at, checked| {
        found = Some((at, checked));
        false
    })?;
    match found {
        Some((at, Ok(row))) if at == index => Ok(row),
        Some((_, Err(problem))) => Err(LedgerError::Tampered { problem }),
        _ => Err(LedgerError::Tampered { problem: Problem::Truncated { index, head_size } }),
    }
}

/// Entries handed from the reading thread to the verifying one at a time.
const VERIFY_BATCH: usize = 1024;

/// Verification over a consistent snapshot.
fn verify(tables: &mut dyn Tables, key: &VerifyingKey) -> Result<Report, LedgerError> {
    let mut heads = Vec::new();
    // An unreadable head row was altered: it counts as a head whose signature fails.
    let mut candidates: Vec<Problem> = Vec::new();
    for head in tables.heads()? {
        match head {
            Ok(head) => heads.push(head),
            Err(size) => candidates.push(Problem::BadSignature { size }),
        }
    }
    // Two stages, so that two cores share the hashing: this thread reads and checks rows, a
    // second one feeds the verifier, in order, through a short queue (memory stays bounded).
    let (mut report, row_problem) = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Entry>>(4);
        let verifying = scope.spawn(move || {
            let mut verifier = Verifier::new(key, &heads);
            for batch in receive {
                for entry in &batch {
                    verifier.push(entry);
                    if verifier.is_decided() {
                        // Dropping the queue tells the reader to stop.
                        return verifier.finish();
                    }
                }
            }
            verifier.finish()
        });
        let mut row_problem = None;
        let mut batch = Vec::with_capacity(VERIFY_BATCH);
        let read = checked_rows(tables, 0, |_, checked| match checked {
            Ok(row) => {
                batch.push(row.entry);
                batch.len() < VERIFY_BATCH || send.send(std::mem::take(&mut batch)).is_ok()
            }
            Err(problem) => {
                row_problem = Some(problem);
                false
            }
        });
        if !batch.is_empty() {
            // The verifier may have decided already; then the rest is not needed.
            let _ = send.send(batch);
        }
        drop(send);
        let report = verifying.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        read.map(|()| (report, row_problem))
    })?;
    // The row checks run before the verifier sees a row, so a problem the verifier had already
    // met lies before it; at the same position, the row's own finding is the more precise.
    candidates.extend(row_problem);
    candidates.extend(report.problem.take());
    report.problem = candidates.into_iter().enumerate().min_by_key(|(order, p)| (position(p), *order)).map(|(_, p)| p);
    Ok(report)
}

/// A tree over the first entries of the log, each read and checked, ready to be extended.
struct Folded {
    /// The latest head when reading began; the tree extends it.
    latest: Option<SignedTreeHead>,
    tree: CompactTree,
    /// The leaf hash of the tree's last entry (zero when it is empty), which the next entry must
    /// record as its `prev_leaf_hash`.
    last_leaf: Hash,
}

/// Where signing starts: the latest head (refused when another key signed it) and the compact
/// tree stored with it when its root is that head's signed root (so only the entries since are
/// read), else the empty tree.
fn start_fold(tables: &mut dyn Tables, key: &SigningKey, keys: &LedgerKeys) -> Result<Folded, LedgerError> {
    let latest = match tables.latest_head()? {
        None => None,
        Some(Ok(head)) => Some(head),
        Some(Err(size)) => return Err(unreadable_head(size)),
    };
    if let Some(latest) = &latest
        && latest.verify(&key.verifying_key()).is_err()
    {
        return Err(LedgerError::ForeignKey { size: latest.head.size, public: keys.public_key_path() });
    }
    let stored = tables.tree()?;
    let tree = match (&latest, stored) {
        (Some(latest), Some(tree)) if tree.size() == latest.head.size && tree.root() == latest.head.root => tree,
        _ => CompactTree::new(),
    };
    let mut last_leaf = Hash::ZERO;
    if tree.size() > 0 {
        last_leaf = checked_row(tables, tree.size() - 1, tree.size())?.leaf;
    }
    Ok(Folded { latest, tree, last_leaf })
}

/// Reads every entry after the folded ones, checks it on its own and its link to the one
/// before, and folds it into the tree; checks on the way that the log has the latest head's
/// root at its size, and after that no head covers more than the log holds.
fn fold(tables: &mut dyn Tables, known: Option<&WrittenLinks>, folded: &mut Folded) -> Result<(), LedgerError> {
    let Folded { latest, tree, last_leaf } = folded;
    let mut problem = None;
    tables.rows(tree.size(), &mut |index, leaf_column, bytes| {
        let expected = tree.size();
        let row = match checked_link(known, index, leaf_column, bytes) {
            _ if index != expected => Err(Problem::Missing { index: expected, next: index }),
            Ok(row) if row.prev != *last_leaf => Err(Problem::ChainBroken { index }),
            other => other,
        };
        match row {
            Ok(row) => {
                tree.push(row.leaf);
                *last_leaf = row.leaf;
                if let Some(latest) = latest.filter(|latest| latest.head.size == tree.size())
                    && latest.head.root != tree.root()
                {
                    problem = Some(Problem::RootMismatch {
                        size: latest.head.size,
                        since: 0,
                        signed: latest.head.root,
                        computed: tree.root(),
                    });
                    return false;
                }
                true
            }
            Err(found) => {
                problem = Some(found);
                false
            }
        }
    })?;
    if let Some(problem) = problem {
        return Err(LedgerError::Tampered { problem });
    }
    if let Some(latest) = latest
        && latest.head.size > tree.size()
    {
        return Err(LedgerError::Tampered {
            problem: Problem::Truncated { index: tree.size(), head_size: latest.head.size },
        });
    }
    Ok(())
}

/// Signs and stores a head over the folded tree, unless the latest head already covers it.
fn finish(
    tables: &mut dyn Tables,
    key: &SigningKey,
    now: Timestamp,
    folded: Folded,
) -> Result<SignOutcome, LedgerError> {
    if let Some(latest) = folded.latest
        && latest.head.size == folded.tree.size()
    {
        return Ok(SignOutcome::AlreadySigned(latest));
    }
    let tree = folded.tree;
    let signed = TreeHead { size: tree.size(), root: tree.root(), timestamp: now }.sign(key);
    tables.put_head(&signed)?;
    tables.put_tree(&tree)?;
    Ok(SignOutcome::New(signed))
}

/// Entries a snapshot round of [`Ledger::sign_head`] may still have had to read for signing to go
/// on to the write lock; past that, another round reads the entries appended meanwhile.
const CATCH_UP: u64 = 1024;
/// Snapshot rounds at most: when writers append as fast as a round reads, rounds would not get
/// shorter, and the lock is taken after the last.
const SNAPSHOT_ROUNDS: u32 = 8;

/// Extends `folded`, read and checked on an earlier snapshot up to the size the log had then
/// (N), to the whole log as `tables` see it. When the latest head is still the one that reading
/// started from, entry N - 1 is read again and must still hash as it did (so the log was not cut
/// or rewritten at the seam meanwhile); then only the entries from N on — those appended since —
/// are read and checked, chained to it. When another head was signed meanwhile (by another
/// instance sharing the store), reading starts over from that head: it is recent, so few
/// entries follow it.
fn catch_up(
    tables: &mut dyn Tables,
    known: Option<&WrittenLinks>,
    key: &SigningKey,
    keys: &LedgerKeys,
    mut folded: Folded,
) -> Result<Folded, LedgerError> {
    let latest = tables.latest_head()?.map(|head| head.map_err(unreadable_head)).transpose()?;
    if latest != folded.latest {
        folded = start_fold(tables, key, keys)?;
    } else if folded.tree.size() > 0 {
        let size = folded.tree.size();
        let seam = checked_row(tables, size - 1, size)?;
        if seam.leaf != folded.last_leaf {
            let problem = Problem::Modified { index: size - 1, change: Change::Content };
            return Err(LedgerError::Tampered { problem });
        }
    }
    fold(tables, known, &mut folded)?;
    Ok(folded)
}

/// The last part of [`Ledger::sign_head`], inside the write transaction: [`catch_up`] with the
/// entries appended since the last snapshot (few), then the head signed over them all, with the
/// guarantees of signing in one go.
fn sign_after(
    tables: &mut dyn Tables,
    known: Option<&WrittenLinks>,
    key: &SigningKey,
    now: Timestamp,
    keys: &LedgerKeys,
    folded: Folded,
) -> Result<SignOutcome, LedgerError> {
    let folded = catch_up(tables, known, key, keys, folded)?;
    finish(tables, key, now, folded)
}

/// The leaf hashes stored beside the entries, as a [`LeafSource`] for building proofs: a
/// subtree's root is one range query.
struct StoredLeaves<'t> {
    tables: RefCell<&'t mut dyn Tables>,
    size: u64,
}

impl LeafSource for StoredLeaves<'_> {
    type Error = LedgerError;

    fn size(&self) -> Result<u64, LedgerError> {
        Ok(self.size)
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, LedgerError> {
        self.subtree_root(index, index + 1)
    }

    fn subtree_root(&self, start: u64, end: u64) -> Result<Hash, LedgerError> {
        let mut tree = CompactTree::new();
        self.tables.borrow_mut().leaves(start, end, &mut |index, leaf| {
            let expected = start + tree.size();
            if index != expected {
                return Err(LedgerError::Unreadable {
                    what: format!("entry {expected}"),
                    reason: format!("it is missing (the next stored index is {index})"),
                });
            }
            let leaf = Hash::try_from(leaf).map_err(|e| LedgerError::Unreadable {
                what: format!("leaf hash of entry {expected}"),
                reason: e.to_string(),
            })?;
            tree.push(leaf);
            Ok(())
        })?;
        if tree.size() != end - start {
            return Err(LedgerError::Unreadable {
                what: format!("entry {}", start + tree.size()),
                reason: "it is missing".into(),
            });
        }
        Ok(tree.root())
    }
}

/// The size proofs default to: the latest signed head's, or the whole log when it has none
/// or `index` is beyond it.
fn default_size(tables: &mut dyn Tables, index: Option<u64>) -> Result<u64, LedgerError> {
    let size = tables.size()?;
    let latest = tables.latest_head()?.and_then(Result::ok);
    Ok(match latest {
        Some(head) if index.is_none_or(|index| index < head.head.size) && head.head.size <= size => head.head.size,
        _ => size,
    })
}

/// The root of the first `size` entries: a signed head's when there is one of that size, else
/// computed from the stored leaf hashes.
fn root_at(leaves: &StoredLeaves<'_>, size: u64) -> Result<(Hash, Option<SignedTreeHead>), LedgerError> {
    let head = leaves.tables.borrow_mut().head_at(size)?;
    match head {
        Some(Ok(head)) => Ok((head.head.root, Some(head))),
        Some(Err(size)) => Err(unreadable_head(size)),
        None => Ok((leaves.subtree_root(0, size)?, None)),
    }
}

fn prove_inclusion(tables: &mut dyn Tables, index: u64, size: Option<u64>) -> Result<InclusionProof, LedgerError> {
    let available = tables.size()?;
    let size = match size {
        Some(size) => size,
        None => default_size(tables, Some(index))?,
    };
    if size > available {
        return Err(LedgerError::NoSuchSize { size, available });
    }
    if index >= size {
        return Err(LedgerError::NoSuchEntry { index, size });
    }
    let row = checked_row(tables, index, size).map_err(|err| match err {
        LedgerError::Tampered { problem: Problem::Truncated { .. } } => {
            LedgerError::Unreadable { what: format!("entry {index}"), reason: "it is missing".into() }
        }
        other => other,
    })?;
    let leaves = StoredLeaves { tables: RefCell::new(tables), size };
    let path = inclusion_proof(&leaves, index, size).map_err(build_error)?;
    let (root, head) = root_at(&leaves, size)?;
    verify_inclusion(index, size, &row.leaf, &path, root).map_err(LedgerError::ProofFailed)?;
    Ok(InclusionProof { index, size, leaf_hash: row.leaf, root, path, head, entry: row.entry })
}

fn prove_consistency(tables: &mut dyn Tables, size1: u64, size2: Option<u64>) -> Result<ConsistencyProof, LedgerError> {
    let available = tables.size()?;
    let size2 = match size2 {
        Some(size) => size,
        None => default_size(tables, None)?,
    };
    if size1 == 0 || size1 > size2 {
        return Err(LedgerError::InvalidSizes { size1, size2 });
    }
    if size2 > available {
        return Err(LedgerError::NoSuchSize { size: size2, available });
    }
    let leaves = StoredLeaves { tables: RefCell::new(tables), size: size2 };
    let path = consistency_proof(&leaves, size1, size2).map_err(build_error)?;
    let (root1, head1) = root_at(&leaves, size1)?;
    let (root2, head2) = root_at(&leaves, size2)?;
    verify_consistency(size1, size2, &path, root1, root2).map_err(LedgerError::ProofFailed)?;
    Ok(ConsistencyProof { size1, size2, root1, root2, path, head1, head2 })
}

fn export(tables: &mut dyn Tables, pem: &str, out: &mut dyn Write) -> Result<ExportSummary, LedgerError> {
    let heads: Vec<SignedTreeHead> =
        tables.heads()?.into_iter().map(|h| h.map_err(unreadable_head)).collect::<Result<_, _>>()?;
    let json = |e: serde_json::Error| LedgerError::Write(std::io::Error::other(e));
    write!(out, "{{\"format_version\":{BUNDLE_FORMAT_VERSION},\"public_key_pem\":").map_err(LedgerError::Write)?;
    serde_json::to_writer(&mut *out, pem).map_err(json)?;
    out.write_all(b",\n\"heads\":").map_err(LedgerError::Write)?;
    serde_json::to_writer(&mut *out, &heads).map_err(json)?;
    out.write_all(b",\n\"entries\":[").map_err(LedgerError::Write)?;
    let mut entries = 0u64;
    let mut failure = None;
    tables.rows(0, &mut |index, _, bytes| {
        let entry: Entry = match serde_json::from_slice(bytes) {
            Ok(entry) => entry,
            Err(e) => {
                failure = Some(LedgerError::Unreadable { what: format!("entry {index}"), reason: e.to_string() });
                return false;
            }
        };
        let written = out
            .write_all(if entries == 0 { b"\n" } else { b",\n" })
            .map_err(LedgerError::Write)
            .and_then(|()| serde_json::to_writer(&mut *out, &entry).map_err(json));
        if let Err(err) = written {
            failure = Some(err);
            return false;
        }
        entries += 1;
        true
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    out.write_all(b"\n]}\n").map_err(LedgerError::Write)?;
    out.flush().map_err(LedgerError::Write)?;
    Ok(ExportSummary { entries, heads: heads.len() as u64 })
}

fn build_error(err: ProofBuildError<LedgerError>) -> LedgerError {
    match err {
        ProofBuildError::IndexOutOfRange { index, size } => LedgerError::NoSuchEntry { index, size },
        ProofBuildError::SizeBeyondSource { size, available } => LedgerError::NoSuchSize { size, available },
        ProofBuildError::InvalidSizes { size1, size2 } => LedgerError::InvalidSizes { size1, size2 },
        ProofBuildError::Source(err) => err,
    }
}
