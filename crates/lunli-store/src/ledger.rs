//! The ledger's table: appending an event as the next entry inside the caller's transaction,
//! and reading entries back in index order for verification and export.

use lunli_governance::GovernanceError;
use lunli_governance::store::Event;
use lunli_ledger::{Entry, Hash, NewEntry};
use rusqlite::{Connection, OptionalExtension, params};

/// One stored ledger row: the entry's canonical bytes and the leaf hash stored beside them.
/// Verification recomputes the hash from the bytes; the stored hash is never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub index: u64,
    pub leaf_hash: Vec<u8>,
    pub entry: Vec<u8>,
}

fn db(doing: &'static str) -> impl Fn(rusqlite::Error) -> GovernanceError {
    move |e| GovernanceError::storage(format!("SQLite failed while {doing}"), e)
}

/// Appends `event` after the last entry, chained to its leaf hash.
pub(crate) fn append(conn: &Connection, event: &Event) -> Result<u64, GovernanceError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .query_row("SELECT idx, leaf_hash FROM ledger_entries ORDER BY idx DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(db("reading the ledger's last entry"))?;
    let (index, prev) = match last {
        None => (0, Hash::ZERO),
        Some((index, hash)) => {
            let index = crate::sqlite::to_u64(index, "ledger index")?;
            let bytes: [u8; 32] = hash.as_slice().try_into().map_err(|_| GovernanceError::Storage {
                message: format!("ledger entry {index} has a stored leaf hash of {} bytes, not 32", hash.len()),
                source: None,
            })?;
            (index + 1, Hash::from_bytes(bytes))
        }
    };
    let time = lunli_ledger::Timestamp::from_unix_millis(event.at.as_millisecond())
        .map_err(|e| GovernanceError::storage("the event's time cannot be recorded", e))?;
    let entry = Entry::new(
        index,
        prev,
        NewEntry {
            time,
            actor: event.actor.clone(),
            action: event.action.clone(),
            subject: event.subject.clone(),
            payload: event.payload.clone(),
        },
    )
    .map_err(|e| GovernanceError::storage("the event cannot be made a ledger entry", e))?;
    let bytes = entry.canonical_bytes().map_err(|e| GovernanceError::storage("canonicalising a ledger entry", e))?;
    let leaf = lunli_ledger::leaf_hash(&bytes);
    conn.execute(
        "INSERT INTO ledger_entries (idx, leaf_hash, entry) VALUES (?1, ?2, ?3)",
        params![crate::sqlite::to_i64(index)?, leaf.as_bytes().as_slice(), bytes],
    )
    .map_err(db("appending to the ledger"))?;
    Ok(index)
}

/// Number of entries in the ledger.
pub(crate) fn ledger_size(conn: &Connection) -> Result<u64, GovernanceError> {
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM ledger_entries", [], |r| r.get(0))
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
