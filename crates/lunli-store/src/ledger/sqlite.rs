//! The ledger's tables in SQLite: appends inside the caller's transaction, and the [`Tables`]
//! view the ledger's algorithms run on. Readers get a connection of their own, so verifying or
//! exporting a long log never holds up writers (WAL lets them go on; a reader sees one snapshot).

use std::path::Path;

use lunli_governance::GovernanceError;
use lunli_governance::store::Event;
use lunli_ledger::store::{
    Backend, LeafVisitor, LedgerError, LedgerKeys, RowVisitor, StoredHead, Tables, decode_head, decode_tree,
    encode_peaks,
};
use lunli_ledger::{CompactTree, Hash, SignedTreeHead, WrittenLinks};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::LedgerRow;
use crate::SqliteStore;

/// A SQLite error on the database at `path`, as a ledger error.
fn sqlite_error(doing: &'static str, path: &Path, source: rusqlite::Error) -> LedgerError {
    LedgerError::Database { database: "SQLite", doing, location: path.display().to_string(), source: Box::new(source) }
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

/// Appends `event` after the last entry, chained to its leaf hash. `known_tail` is the tail
/// after this transaction's last append, if it made one: the transaction holds the write lock,
/// so no one else appended since, and a batch of decisions reads the tail once, not per entry.
pub(crate) fn append(
    conn: &Connection,
    known_tail: &mut Option<(u64, Hash)>,
    written: &WrittenLinks,
    event: &Event,
) -> Result<u64, GovernanceError> {
    let (index, prev) = match *known_tail {
        Some(tail) => tail,
        None => tail(conn)?,
    };
    let link = crate::chain::link(index, prev, event, written)?;
    insert(conn, index, &link.leaf, &link.bytes)?;
    *known_tail = Some((index + 1, link.leaf));
    Ok(index)
}

/// Appends `events` in order; an event that cannot become an entry is refused on its own and
/// takes no index.
fn append_many(
    conn: &Connection,
    written: &WrittenLinks,
    events: &[Event],
) -> Result<Vec<Result<u64, GovernanceError>>, GovernanceError> {
    let (mut index, mut prev) = tail(conn)?;
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        match crate::chain::link(index, prev, event, written) {
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

fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

const HEADS: &str = "SELECT size, root, timestamp, signature FROM ledger_heads";

fn read_head(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredHead> {
    let size: i64 = row.get(0)?;
    let root = row.get_ref(1)?.as_blob()?;
    let timestamp: String = row.get(2)?;
    let signature = row.get_ref(3)?.as_blob()?;
    Ok(decode_head(size, root, &timestamp, signature))
}

/// The ledger tables through one SQLite transaction.
struct SqliteTables<'c> {
    conn: &'c Connection,
    path: &'c Path,
}

impl SqliteTables<'_> {
    fn sql(&self, doing: &'static str) -> impl Fn(rusqlite::Error) -> LedgerError + '_ {
        move |source| sqlite_error(doing, self.path, source)
    }
}

impl Tables for SqliteTables<'_> {
    fn size(&mut self) -> Result<u64, LedgerError> {
        ledger_size(self.conn).map_err(|e| LedgerError::Unreadable { what: "ledger".into(), reason: e.to_string() })
    }

    fn heads(&mut self) -> Result<Vec<StoredHead>, LedgerError> {
        let read = || -> rusqlite::Result<Vec<StoredHead>> {
            let mut statement = self.conn.prepare_cached(&format!("{HEADS} ORDER BY size"))?;
            let rows = statement.query_map([], read_head)?;
            rows.collect()
        };
        read().map_err(self.sql("reading tree heads"))
    }

    fn latest_head(&mut self) -> Result<Option<StoredHead>, LedgerError> {
        self.conn
            .query_row(&format!("{HEADS} ORDER BY size DESC LIMIT 1"), [], read_head)
            .optional()
            .map_err(self.sql("reading tree heads"))
    }

    fn head_at(&mut self, size: u64) -> Result<Option<StoredHead>, LedgerError> {
        self.conn
            .query_row(&format!("{HEADS} WHERE size = ?1"), [to_sql(size)], read_head)
            .optional()
            .map_err(self.sql("reading tree heads"))
    }

    fn rows(&mut self, from: u64, each: &mut RowVisitor<'_>) -> Result<(), LedgerError> {
        let mut read = || -> rusqlite::Result<()> {
            let mut statement = self
                .conn
                .prepare_cached("SELECT idx, leaf_hash, entry FROM ledger_entries WHERE idx >= ?1 ORDER BY idx")?;
            let mut rows = statement.query([to_sql(from)])?;
            while let Some(row) = rows.next()? {
                let index = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
                if !each(index, row.get_ref(1)?.as_blob()?, row.get_ref(2)?.as_blob()?) {
                    break;
                }
            }
            Ok(())
        };
        read().map_err(self.sql("reading the ledger"))
    }

    fn leaves(&mut self, start: u64, end: u64, each: &mut LeafVisitor<'_>) -> Result<(), LedgerError> {
        let sql = self.sql("reading leaf hashes");
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT idx, leaf_hash FROM ledger_entries INDEXED BY ledger_leaves \
                 WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )
            .map_err(&sql)?;
        let mut rows = statement.query(params![to_sql(start), to_sql(end)]).map_err(&sql)?;
        while let Some(row) = rows.next().map_err(&sql)? {
            let index = u64::try_from(row.get::<_, i64>(0).map_err(&sql)?).unwrap_or(0);
            let leaf = row.get_ref(1).and_then(|value| Ok(value.as_blob()?)).map_err(&sql)?;
            each(index, leaf)?;
        }
        Ok(())
    }

    fn tree(&mut self) -> Result<Option<CompactTree>, LedgerError> {
        let stored: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row("SELECT size, peaks FROM ledger_tree WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(self.sql("reading the compact tree"))?;
        Ok(stored.and_then(|(size, peaks)| decode_tree(size, &peaks)))
    }

    fn put_tree(&mut self, tree: &CompactTree) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO ledger_tree (id, size, peaks) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET size = excluded.size, peaks = excluded.peaks",
                params![to_sql(tree.size()), encode_peaks(tree)],
            )
            .map_err(self.sql("storing the compact tree"))?;
        Ok(())
    }

    fn put_head(&mut self, head: &SignedTreeHead) -> Result<(), LedgerError> {
        self.conn
            .execute(
                "INSERT INTO ledger_heads (size, root, timestamp, signature) VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_sql(head.head.size),
                    head.head.root.as_bytes(),
                    head.head.timestamp.to_string(),
                    head.signature.to_bytes()
                ],
            )
            .map_err(self.sql("storing a signed tree head"))?;
        Ok(())
    }
}

impl Backend for SqliteStore {
    /// The key files sit in the data directory, beside the database.
    fn ledger_keys(&self) -> Result<LedgerKeys, LedgerError> {
        Ok(SqliteStore::ledger_keys(self))
    }

    fn snapshot<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let sql = |doing| move |source| sqlite_error(doing, self.path(), source);
        let mut conn = Connection::open_with_flags(
            self.path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(sql("opening the ledger for reading"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(sql("opening the ledger for reading"))?;
        let tx = conn.transaction().map_err(sql("beginning a read"))?;
        work(&mut SqliteTables { conn: &tx, path: self.path() })
    }

    fn write_ledger<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let sql = |doing| move |source| sqlite_error(doing, self.path(), source);
        let mut conn = self.lock().map_err(|_| LedgerError::Poisoned)?;
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("beginning a transaction"))?;
        let value = work(&mut SqliteTables { conn: &tx, path: self.path() })?;
        tx.commit().map_err(sql("committing"))?;
        Ok(value)
    }

    fn written_links(&self) -> Option<&WrittenLinks> {
        Some(&self.written)
    }
}

impl SqliteStore {
    /// The ledger's key files in the data directory.
    pub fn ledger_keys(&self) -> LedgerKeys {
        LedgerKeys::in_dir(self.path().parent().unwrap_or(Path::new(".")))
    }

    /// Appends `events` in one transaction — one commit, one fsync — and returns each one's
    /// index, or why that event could not become an entry (it then takes no index and the others
    /// are still appended). The outer error is a failed transaction: then nothing was appended.
    pub fn append_batch(&self, events: &[Event]) -> Result<Vec<Result<u64, GovernanceError>>, GovernanceError> {
        let mut conn = self.lock()?;
        let tx =
            conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("beginning a transaction"))?;
        let indices = append_many(&tx, &self.written, events)?;
        tx.commit().map_err(db("committing"))?;
        Ok(indices)
    }
}
