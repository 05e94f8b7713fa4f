//! The ledger in SQLite: appending events as entries inside the caller's transaction, signing
//! tree heads, verifying everything stored, building proofs and exporting bundles.
//!
//! Tables (see `migrations/sqlite`): `ledger_entries (idx, leaf_hash, entry)` holds entry `idx`'s
//! canonical bytes and, beside them, their leaf hash; `ledger_heads (size, root, timestamp,
//! signature)` the signed tree heads; `ledger_tree` the compact tree as of the latest head, so a
//! new head reads only the entries appended since. The stored leaf hashes and the compact tree
//! are conveniences for appending, signing and proving: verification never trusts them and
//! recomputes everything from the entries' bytes, checking the stored hashes on the way.
//!
//! Durability: the store runs SQLite in WAL mode with `synchronous = FULL`, so a write
//! transaction (and the entries appended in it) is on disk when its commit returns.
//! [`SqliteStore::append_batch`] and [`GroupCommit`] put many appends in one commit.

mod group_commit;
mod keys;

use std::io::Write;
use std::path::PathBuf;

use lunli_governance::GovernanceError;
use lunli_governance::store::Event;
use lunli_ledger::proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use lunli_ledger::verify::{BUNDLE_FORMAT_VERSION, Change};
use lunli_ledger::{
    CompactTree, Entry, Hash, KeyError, LeafSource, Problem, ProofBuildError, ProofError, Report, SignedTreeHead,
    SigningKey, Timestamp, TreeHead, Verifier, VerifyingKey,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::SqliteStore;

pub use group_commit::GroupCommit;
pub use keys::{LedgerKeys, PUBLIC_KEY_FILE, SIGNING_KEY_FILE, fingerprint};

/// One stored ledger row: the entry's canonical bytes and the leaf hash stored beside them.
/// Verification recomputes the hash from the bytes; the stored hash is never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub index: u64,
    pub leaf_hash: Vec<u8>,
    pub entry: Vec<u8>,
}

/// What can go wrong reading, signing, proving or exporting the ledger. A ledger that does not
/// verify is not an error here: [`SqliteStore::verify_ledger`] returns it as a [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("SQLite failed while {doing} ({}): {source}", path.display())]
    Sqlite {
        doing: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
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
}

impl LedgerError {
    /// The stored ledger was found altered: `lunli` exits with its "ledger invalid" code.
    pub fn is_tampering(&self) -> bool {
        matches!(self, LedgerError::Unreadable { .. } | LedgerError::Tampered { .. } | LedgerError::ProofFailed(_))
    }
}

/// What [`SqliteStore::sign_head`] did.
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

/// What [`SqliteStore::export_bundle`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    pub entries: u64,
    pub heads: u64,
}

fn db(doing: &'static str) -> impl Fn(rusqlite::Error) -> GovernanceError {
    move |e| GovernanceError::storage(format!("SQLite failed while {doing}"), e)
}

/// The index and leaf hash the next entry follows: (0, zero) for an empty ledger.
fn tail(conn: &Connection) -> Result<(u64, Hash), GovernanceError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT idx, leaf_hash FROM ledger_entries ORDER BY idx DESC LIMIT 1")
        .and_then(|mut statement| statement.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(db("reading the ledger's last entry"))?;
    match last {
        None => Ok((0, Hash::ZERO)),
        Some((index, hash)) => {
            let index = crate::sqlite::to_u64(index, "ledger index")?;
            let hash = Hash::try_from(hash.as_slice()).map_err(|e| {
                GovernanceError::storage(format!("ledger entry {index} has a stored leaf hash that is not 32 bytes"), e)
            })?;
            Ok((index + 1, hash))
        }
    }
}

fn insert(conn: &Connection, index: u64, leaf: &Hash, bytes: &[u8]) -> Result<(), GovernanceError> {
    let index = crate::sqlite::to_i64(index)?;
    conn.prepare_cached("INSERT INTO ledger_entries (idx, leaf_hash, entry) VALUES (?1, ?2, ?3)")
        .and_then(|mut statement| statement.execute(params![index, leaf.as_bytes(), bytes]))
        .map_err(db("appending to the ledger"))?;
    Ok(())
}

/// Appends `event` after the last entry, chained to its leaf hash.
pub(crate) fn append(conn: &Connection, event: &Event) -> Result<u64, GovernanceError> {
    let (index, prev) = tail(conn)?;
    let link = crate::chain::link(index, prev, event)?;
    insert(conn, index, &link.leaf, &link.bytes)?;
    Ok(index)
}

/// Appends `events` in order; an event that cannot become an entry is refused on its own and
/// takes no index.
fn append_many(conn: &Connection, events: &[Event]) -> Result<Vec<Result<u64, GovernanceError>>, GovernanceError> {
    let (mut index, mut prev) = tail(conn)?;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        match crate::chain::link(index, prev, event) {
            Ok(link) => {
                insert(conn, index, &link.leaf, &link.bytes)?;
                out.push(Ok(index));
                index += 1;
                prev = link.leaf;
            }
            Err(err) => out.push(Err(err)),
        }
    }
    Ok(out)
}

/// The index the next entry gets: the number of entries when none is missing (verification
/// checks that). Reads one index entry, where `COUNT(*)` would scan the whole table.
pub(crate) fn ledger_size(conn: &Connection) -> Result<u64, GovernanceError> {
    let n: i64 = conn
        .query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", [], |r| r.get(0))
        .map_err(db("counting ledger entries"))?;
    crate::sqlite::to_u64(n, "ledger size")
}

/// Entries from `from` (inclusive), at most `limit`, in index order.
pub(crate) fn ledger_rows(conn: &Connection, from: u64, limit: u64) -> Result<Vec<LedgerRow>, GovernanceError> {
    let mut statement = conn
        .prepare_cached("SELECT idx, leaf_hash, entry FROM ledger_entries WHERE idx >= ?1 ORDER BY idx LIMIT ?2")
        .map_err(db("reading the ledger"))?;
    let rows = statement
        .query_map(params![crate::sqlite::to_i64(from)?, crate::sqlite::to_i64(limit)?], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(db("reading the ledger"))?;
    let mut out = Vec::new();
    for row in rows {
        let (index, leaf_hash, entry) = row.map_err(db("reading a ledger row"))?;
        out.push(LedgerRow { index: crate::sqlite::to_u64(index, "ledger index")?, leaf_hash, entry });
    }
    Ok(out)
}

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
    let leaf = lunli_ledger::leaf_hash(bytes);
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

/// A head as stored, or the size of a head row that cannot be read back (altered).
fn read_head(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SignedTreeHead, u64>> {
    let size: i64 = row.get(0)?;
    let root: Vec<u8> = row.get(1)?;
    let timestamp: String = row.get(2)?;
    let signature: Vec<u8> = row.get(3)?;
    let size_u64 = u64::try_from(size).unwrap_or(0);
    let parsed = (|| {
        let size = u64::try_from(size).ok()?;
        let root = Hash::try_from(root.as_slice()).ok()?;
        let timestamp = Timestamp::parse(&timestamp).ok()?;
        let signature = <[u8; 64]>::try_from(signature.as_slice()).ok()?;
        Some(SignedTreeHead {
            head: TreeHead { size, root, timestamp },
            signature: ed25519_dalek::Signature::from_bytes(&signature),
        })
    })();
    Ok(parsed.ok_or(size_u64))
}

const HEADS: &str = "SELECT size, root, timestamp, signature FROM ledger_heads";

/// Every stored head, by size; an unreadable row is `Err(size)`.
fn read_heads(conn: &Connection) -> rusqlite::Result<Vec<Result<SignedTreeHead, u64>>> {
    let mut statement = conn.prepare_cached(&format!("{HEADS} ORDER BY size"))?;
    let rows = statement.query_map([], read_head)?;
    rows.collect()
}

fn latest_head(conn: &Connection) -> rusqlite::Result<Option<Result<SignedTreeHead, u64>>> {
    conn.query_row(&format!("{HEADS} ORDER BY size DESC LIMIT 1"), [], read_head).optional()
}

fn head_at(conn: &Connection, size: u64) -> rusqlite::Result<Option<Result<SignedTreeHead, u64>>> {
    conn.query_row(&format!("{HEADS} WHERE size = ?1"), [i64::try_from(size).unwrap_or(i64::MAX)], read_head).optional()
}

fn unreadable_head(size: u64) -> LedgerError {
    LedgerError::Unreadable {
        what: format!("tree head of size {size}"),
        reason: "its root, timestamp or signature is malformed".into(),
    }
}

/// The leaf hashes stored beside the entries, as a [`LeafSource`] for building proofs: a
/// subtree's root is one range query.
struct StoredLeaves<'c> {
    conn: &'c Connection,
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
        let sql = |source| LedgerError::Sqlite { doing: "reading leaf hashes", path: PathBuf::new(), source };
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT idx, leaf_hash FROM ledger_entries INDEXED BY ledger_leaves \
                 WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .map_err(sql)?;
        let mut rows = statement.query(params![to_sql(start), to_sql(end)]).map_err(sql)?;
        let mut tree = CompactTree::new();
        while let Some(row) = rows.next().map_err(sql)? {
            let index: i64 = row.get(0).map_err(sql)?;
            let expected = start + tree.size();
            if u64::try_from(index).ok() != Some(expected) {
                return Err(LedgerError::Unreadable {
                    what: format!("entry {expected}"),
                    reason: format!("it is missing (the next stored index is {index})"),
                });
            }
            let leaf = row.get_ref(1).and_then(|value| Ok(value.as_blob()?)).map_err(sql)?;
            let leaf = Hash::try_from(leaf).map_err(|e| LedgerError::Unreadable {
                what: format!("leaf hash of entry {expected}"),
                reason: e.to_string(),
            })?;
            tree.push(leaf);
        }
        if tree.size() != end - start {
            return Err(LedgerError::Unreadable {
                what: format!("entry {}", start + tree.size()),
                reason: "it is missing".into(),
            });
        }
        Ok(tree.root())
    }
}

fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Rows streamed in index order from `from`, each checked with [`check_row`].
fn stream_rows(
    conn: &Connection,
    from: u64,
    mut each: impl FnMut(u64, Result<CheckedRow, Problem>) -> bool,
) -> rusqlite::Result<()> {
    let mut statement =
        conn.prepare_cached("SELECT idx, leaf_hash, entry FROM ledger_entries WHERE idx >= ?1 ORDER BY idx")?;
    let mut rows = statement.query([to_sql(from)])?;
    while let Some(row) = rows.next()? {
        let index = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
        let leaf = row.get_ref(1)?.as_blob()?;
        let bytes = row.get_ref(2)?.as_blob()?;
        if !each(index, check_row(index, leaf, bytes)) {
            break;
        }
    }
    Ok(())
}

/// Entries handed from the reading thread to the verifying one at a time.
const VERIFY_BATCH: usize = 1024;

/// Verification over a consistent snapshot.
fn verify(conn: &Connection, key: &VerifyingKey) -> rusqlite::Result<Report> {
    let mut heads = Vec::new();
    // An unreadable head row was altered: it counts as a head whose signature fails.
    let mut candidates: Vec<Problem> = Vec::new();
    for head in read_heads(conn)? {
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
        let read = stream_rows(conn, 0, |_, checked| match checked {
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

/// The stored compact tree, when there is one and it can be read.
fn read_tree(conn: &Connection) -> rusqlite::Result<Option<CompactTree>> {
    let stored: Option<(i64, Vec<u8>)> = conn
        .query_row("SELECT size, peaks FROM ledger_tree WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(stored.and_then(|(size, peaks)| {
        let peaks: Option<Vec<Hash>> = peaks.chunks(32).map(|chunk| Hash::try_from(chunk).ok()).collect();
        CompactTree::from_parts(u64::try_from(size).ok()?, peaks?).ok()
    }))
}

fn write_tree(conn: &Connection, tree: &CompactTree) -> rusqlite::Result<()> {
    let peaks: Vec<u8> = tree.peaks().iter().flat_map(|peak| peak.as_bytes().iter().copied()).collect();
    conn.execute(
        "INSERT INTO ledger_tree (id, size, peaks) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, peaks = excluded.peaks",
        params![to_sql(tree.size()), peaks],
    )?;
    Ok(())
}

/// Signs a head over the whole log, inside the caller's write transaction. Starts from the
/// compact tree stored with the latest head when its root is that head's signed root (so only
/// the entries since are read), else from the first entry; checks every entry it reads, and that
/// the log still has the latest head's root at its size, so that no head is ever signed over
/// entries that were altered or over a history that does not extend the heads before.
fn sign(conn: &Connection, key: &SigningKey, now: Timestamp) -> Result<SignOutcome, SignError> {
    let latest = match latest_head(conn)? {
        None => None,
        Some(Ok(head)) => Some(head),
        Some(Err(size)) => return Err(SignError::Ledger(unreadable_head(size))),
    };
    let stored = read_tree(conn)?;
    let mut tree = match (&latest, stored) {
        (Some(latest), Some(tree)) if tree.size() == latest.head.size && tree.root() == latest.head.root => tree,
        _ => CompactTree::new(),
    };
    // The entry before the first one read, whose leaf hash the next entry must record.
    let mut prev = Hash::ZERO;
    if tree.size() > 0 {
        let before = tree.size() - 1;
        let mut found = None;
        stream_rows(conn, before, |index, checked| {
            found = Some((index, checked));
            false
        })?;
        prev = match found {
            Some((index, Ok(row))) if index == before => row.leaf,
            Some((_, Err(problem))) => return Err(SignError::Ledger(LedgerError::Tampered { problem })),
            _ => {
                let problem = Problem::Truncated { index: before, head_size: tree.size() };
                return Err(SignError::Ledger(LedgerError::Tampered { problem }));
            }
        };
    }
    let mut problem = None;
    stream_rows(conn, tree.size(), |index, checked| {
        let expected = tree.size();
        let row = match checked {
            _ if index != expected => Err(Problem::Missing { index: expected, next: index }),
            Ok(row) if row.entry.prev_leaf_hash != prev => Err(Problem::ChainBroken { index }),
            other => other,
        };
        match row {
            Ok(row) => {
                tree.push(row.leaf);
                prev = row.leaf;
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
        return Err(SignError::Ledger(LedgerError::Tampered { problem }));
    }
    if let Some(latest) = latest {
        if latest.head.size == tree.size() {
            return Ok(SignOutcome::AlreadySigned(latest));
        }
        if latest.head.size > tree.size() {
            let problem = Problem::Truncated { index: tree.size(), head_size: latest.head.size };
            return Err(SignError::Ledger(LedgerError::Tampered { problem }));
        }
    }
    let signed = TreeHead { size: tree.size(), root: tree.root(), timestamp: now }.sign(key);
    conn.execute(
        "INSERT INTO ledger_heads (size, root, timestamp, signature) VALUES (?1, ?2, ?3, ?4)",
        params![
            to_sql(signed.head.size),
            signed.head.root.as_bytes(),
            signed.head.timestamp.to_string(),
            signed.signature.to_bytes()
        ],
    )?;
    write_tree(conn, &tree)?;
    Ok(SignOutcome::New(signed))
}

/// Internal: SQLite errors get their context where the store's path is known.
enum SignError {
    Sql(rusqlite::Error),
    Ledger(LedgerError),
}

impl From<rusqlite::Error> for SignError {
    fn from(err: rusqlite::Error) -> Self {
        SignError::Sql(err)
    }
}

impl SqliteStore {
    fn sql(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |source| LedgerError::Sqlite { doing, path: self.path().to_path_buf(), source }
    }

    /// A connection of its own for reading the ledger, so that verifying or exporting a long log
    /// never holds up writers (WAL lets them go on; the reader sees one consistent snapshot).
    fn reader(&self) -> Result<Connection, LedgerError> {
        let conn = Connection::open_with_flags(
            self.path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(self.sql("opening the ledger for reading"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(self.sql("opening the ledger for reading"))?;
        Ok(conn)
    }

    /// Runs `work` in one read transaction on a connection of its own.
    fn snapshot<T>(&self, work: impl FnOnce(&Connection) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let mut conn = self.reader()?;
        let tx = conn.transaction().map_err(self.sql("beginning a read"))?;
        work(&tx)
    }

    /// Runs `work` in one write transaction on the store's connection.
    fn write_ledger<T>(&self, work: impl FnOnce(&Connection) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let mut conn = self.lock().map_err(|_| LedgerError::Poisoned)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("beginning a transaction"))?;
        let value = work(&tx)?;
        tx.commit().map_err(self.sql("committing"))?;
        Ok(value)
    }

    /// The ledger's key files in the data directory.
    pub fn ledger_keys(&self) -> LedgerKeys {
        LedgerKeys::in_dir(self.path().parent().unwrap_or(std::path::Path::new(".")))
    }

    /// The signing key, created (with its public key file) on first use. Creation runs under the
    /// database's write lock, so two processes never create two keys.
    pub fn signing_key(&self) -> Result<SigningKey, LedgerError> {
        let keys = self.ledger_keys();
        if let Some(key) = keys.existing_signing_key()? {
            return Ok(key);
        }
        self.write_ledger(|_| keys.signing_key())
    }

    /// The public key heads are verified with: `ledger-key.pub.pem`, created with the signing
    /// key on first use.
    pub fn verifying_key(&self) -> Result<VerifyingKey, LedgerError> {
        let keys = self.ledger_keys();
        if let Some(key) = keys.existing_verifying_key()? {
            return Ok(key);
        }
        self.write_ledger(|_| keys.signing_key().map(|key| key.verifying_key()))
    }

    /// Signs a head over the whole log at `now`, unless the latest head already covers it.
    /// Refuses ([`LedgerError::Tampered`]) when the entries since the latest head do not check
    /// out, so a head never vouches for altered entries.
    pub fn sign_head(&self, now: Timestamp) -> Result<SignOutcome, LedgerError> {
        let keys = self.ledger_keys();
        self.write_ledger(|conn| {
            let key = keys.signing_key()?;
            sign(conn, &key, now).map_err(|err| match err {
                SignError::Sql(source) => self.sql("signing a tree head")(source),
                SignError::Ledger(err) => err,
            })
        })
    }

    /// Every signed head, smallest size first.
    pub fn heads(&self) -> Result<Vec<SignedTreeHead>, LedgerError> {
        self.snapshot(|conn| {
            read_heads(conn)
                .map_err(self.sql("reading tree heads"))?
                .into_iter()
                .map(|h| h.map_err(unreadable_head))
                .collect()
        })
    }

    /// The signed head with the largest size, if any.
    pub fn latest_head(&self) -> Result<Option<SignedTreeHead>, LedgerError> {
        self.snapshot(|conn| {
            latest_head(conn).map_err(self.sql("reading tree heads"))?.map(|h| h.map_err(unreadable_head)).transpose()
        })
    }

    /// Recomputes the whole tree from the stored entries and checks every signed head with the
    /// data directory's public key. See [`SqliteStore::verify_ledger_with`].
    pub fn verify_ledger(&self) -> Result<Report, LedgerError> {
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
    pub fn verify_ledger_with(&self, key: &VerifyingKey) -> Result<Report, LedgerError> {
        self.snapshot(|conn| verify(conn, key).map_err(self.sql("verifying the ledger")))
    }

    /// The size proofs default to: the latest signed head's, or the whole log when it has none
    /// or `index` is beyond it.
    fn default_size(&self, conn: &Connection, index: Option<u64>) -> Result<u64, LedgerError> {
        let size =
            ledger_size(conn).map_err(|e| LedgerError::Unreadable { what: "ledger".into(), reason: e.to_string() })?;
        let latest = latest_head(conn).map_err(self.sql("reading tree heads"))?.and_then(Result::ok);
        Ok(match latest {
            Some(head) if index.is_none_or(|index| index < head.head.size) && head.head.size <= size => head.head.size,
            _ => size,
        })
    }

    /// The root of the first `size` entries: a signed head's when there is one of that size, else
    /// computed from the stored leaf hashes.
    fn root_at(
        &self,
        conn: &Connection,
        leaves: &StoredLeaves<'_>,
        size: u64,
    ) -> Result<(Hash, Option<SignedTreeHead>), LedgerError> {
        match head_at(conn, size).map_err(self.sql("reading tree heads"))? {
            Some(Ok(head)) => Ok((head.head.root, Some(head))),
            Some(Err(size)) => Err(unreadable_head(size)),
            None => Ok((leaves.subtree_root(0, size)?, None)),
        }
    }

    /// The inclusion proof of entry `index` in the tree of the first `size` entries (default:
    /// the latest signed head, or the whole log), verified against that head's signed root.
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<InclusionProof, LedgerError> {
        self.snapshot(|conn| {
            let available = ledger_size(conn)
                .map_err(|e| LedgerError::Unreadable { what: "ledger".into(), reason: e.to_string() })?;
            let size = match size {
                Some(size) => size,
                None => self.default_size(conn, Some(index))?,
            };
            if size > available {
                return Err(LedgerError::NoSuchSize { size, available });
            }
            if index >= size {
                return Err(LedgerError::NoSuchEntry { index, size });
            }
            let mut found = None;
            stream_rows(conn, index, |at, checked| {
                found = Some((at, checked));
                false
            })
            .map_err(self.sql("reading an entry"))?;
            let row = match found {
                Some((at, Ok(row))) if at == index => row,
                Some((_, Err(problem))) => return Err(LedgerError::Tampered { problem }),
                _ => {
                    return Err(LedgerError::Unreadable {
                        what: format!("entry {index}"),
                        reason: "it is missing".into(),
                    });
                }
            };
            let leaves = StoredLeaves { conn, size };
            let path = inclusion_proof(&leaves, index, size).map_err(build_error)?;
            let (root, head) = self.root_at(conn, &leaves, size)?;
            verify_inclusion(index, size, &row.leaf, &path, root).map_err(LedgerError::ProofFailed)?;
            Ok(InclusionProof { index, size, leaf_hash: row.leaf, root, path, head, entry: row.entry })
        })
    }

    /// The consistency proof between the first `size1` and the first `size2` entries (default:
    /// the latest signed head, or the whole log), verified against their roots.
    pub fn consistency_proof(&self, size1: u64, size2: Option<u64>) -> Result<ConsistencyProof, LedgerError> {
        self.snapshot(|conn| {
            let available = ledger_size(conn)
                .map_err(|e| LedgerError::Unreadable { what: "ledger".into(), reason: e.to_string() })?;
            let size2 = match size2 {
                Some(size) => size,
                None => self.default_size(conn, None)?,
            };
            if size1 == 0 || size1 > size2 {
                return Err(LedgerError::InvalidSizes { size1, size2 });
            }
            if size2 > available {
                return Err(LedgerError::NoSuchSize { size: size2, available });
            }
            let leaves = StoredLeaves { conn, size: size2 };
            let path = consistency_proof(&leaves, size1, size2).map_err(build_error)?;
            let (root1, head1) = self.root_at(conn, &leaves, size1)?;
            let (root2, head2) = self.root_at(conn, &leaves, size2)?;
            verify_consistency(size1, size2, &path, root1, root2).map_err(LedgerError::ProofFailed)?;
            Ok(ConsistencyProof { size1, size2, root1, root2, path, head1, head2 })
        })
    }

    /// Writes the whole ledger as a [`lunli_ledger::Bundle`] in JSON to `out`, streaming: the
    /// entries are never all in memory. The heads are written before the entries (JSON members
    /// are unordered) so that a reader can verify while it reads. Entries are exported as
    /// stored; an entry that cannot be read at all stops the export.
    pub fn export_bundle(&self, out: &mut dyn Write) -> Result<ExportSummary, LedgerError> {
        let key = self.verifying_key()?;
        let pem = lunli_ledger::key::verifying_key_to_pem(&key)?;
        self.snapshot(|conn| {
            let heads: Vec<SignedTreeHead> = read_heads(conn)
                .map_err(self.sql("reading tree heads"))?
                .into_iter()
                .map(|h| h.map_err(unreadable_head))
                .collect::<Result<_, _>>()?;
            let json = |e: serde_json::Error| LedgerError::Write(std::io::Error::other(e));
            write!(out, "{{\"format_version\":{BUNDLE_FORMAT_VERSION},\"public_key_pem\":")
                .map_err(LedgerError::Write)?;
            serde_json::to_writer(&mut *out, &pem).map_err(json)?;
            out.write_all(b",\n\"heads\":").map_err(LedgerError::Write)?;
            serde_json::to_writer(&mut *out, &heads).map_err(json)?;
            out.write_all(b",\n\"entries\":[").map_err(LedgerError::Write)?;
            let mut entries = 0u64;
            let mut failure = None;
            let mut statement = conn
                .prepare("SELECT idx, entry FROM ledger_entries ORDER BY idx")
                .map_err(self.sql("reading the ledger"))?;
            let mut rows = statement.query([]).map_err(self.sql("reading the ledger"))?;
            while let Some(row) = rows.next().map_err(self.sql("reading the ledger"))? {
                let index: i64 = row.get(0).map_err(self.sql("reading the ledger"))?;
                let bytes = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(self.sql("reading the ledger"))?;
                let entry: Entry = match serde_json::from_slice(bytes) {
                    Ok(entry) => entry,
                    Err(e) => {
                        failure =
                            Some(LedgerError::Unreadable { what: format!("entry {index}"), reason: e.to_string() });
                        break;
                    }
                };
                out.write_all(if entries == 0 { b"\n" } else { b",\n" }).map_err(LedgerError::Write)?;
                serde_json::to_writer(&mut *out, &entry).map_err(json)?;
                entries += 1;
            }
            if let Some(failure) = failure {
                return Err(failure);
            }
            out.write_all(b"\n]}\n").map_err(LedgerError::Write)?;
            out.flush().map_err(LedgerError::Write)?;
            Ok(ExportSummary { entries, heads: heads.len() as u64 })
        })
    }

    /// Appends `events` in one transaction — one commit, one fsync — and returns each one's
    /// index, or why that event could not become an entry (it then takes no index and the others
    /// are still appended). The outer error is a failed transaction: then nothing was appended.
    pub fn append_batch(&self, events: &[Event]) -> Result<Vec<Result<u64, GovernanceError>>, GovernanceError> {
        let mut conn = self.lock()?;
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("beginning a transaction"))?;
        let indices = append_many(&tx, events)?;
        tx.commit().map_err(db("committing"))?;
        Ok(indices)
    }
}

fn build_error(err: ProofBuildError<LedgerError>) -> LedgerError {
    match err {
        ProofBuildError::IndexOutOfRange { index, size } => LedgerError::NoSuchEntry { index, size },
        ProofBuildError::SizeBeyondSource { size, available } => LedgerError::NoSuchSize { size, available },
        ProofBuildError::InvalidSizes { size1, size2 } => LedgerError::InvalidSizes { size1, size2 },
        ProofBuildError::Source(err) => err,
    }
}
