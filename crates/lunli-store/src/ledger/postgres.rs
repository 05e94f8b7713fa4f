//! The ledger's tables in PostgreSQL: the [`Tables`] view the ledger's algorithms run on.
//! Reads run in one REPEATABLE READ, read-only transaction (one snapshot, no locks held against
//! writers); signing reads on such a snapshot first and then takes the store's write lock for
//! the entries appended meanwhile, so heads are signed in turn with appends.
//! Appends themselves go through the store's `Tx::record`.

use lunli_ledger::store::{
    Backend, LeafVisitor, LedgerError, LedgerKeys, RowVisitor, StoredHead, Tables, decode_head, decode_tree,
    encode_peaks,
};
use lunli_ledger::{CompactTree, SignedTreeHead};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{IsolationLevel, Transaction};

use crate::{PostgresError, PostgresStore};

/// A PostgreSQL error at `target` (the server), as a ledger error.
fn postgres_error(doing: &'static str, target: String, source: postgres::Error) -> LedgerError {
    LedgerError::Database { database: "PostgreSQL", doing, location: target, source: Box::new(PostgresError(source)) }
}

fn to_sql(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

const HEADS: &str = "SELECT size, root, timestamp, signature FROM ledger_heads";

fn read_head(row: &postgres::Row) -> Result<StoredHead, postgres::Error> {
    let size: i64 = row.try_get(0)?;
    let root: &[u8] = row.try_get(1)?;
    let timestamp: &str = row.try_get(2)?;
    let signature: &[u8] = row.try_get(3)?;
    Ok(decode_head(size, root, timestamp, signature))
}

/// The ledger tables through one PostgreSQL transaction.
struct PostgresTables<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    target: &'t str,
}

impl PostgresTables<'_, '_> {
    fn pg(&self, doing: &'static str) -> impl Fn(postgres::Error) -> LedgerError + '_ {
        move |source| postgres_error(doing, self.target.to_string(), source)
    }

    /// Streams the rows of `sql` to `each` as they arrive, without collecting them, while it
    /// returns `Ok(true)`.
    fn stream(
        &mut self,
        doing: &'static str,
        sql: &str,
        params: &[i64],
        mut each: impl FnMut(&postgres::Row) -> Result<bool, LedgerError>,
    ) -> Result<(), LedgerError> {
        let target = self.target.to_string();
        let pg = move |source| postgres_error(doing, target.clone(), source);
        let params = params.iter().map(|p| p as &dyn ToSql);
        let mut rows = self.tx.query_raw(sql, params).map_err(&pg)?;
        while let Some(row) = rows.next().map_err(&pg)? {
            if !each(&row)? {
                break;
            }
        }
        Ok(())
    }
}

impl Tables for PostgresTables<'_, '_> {
    fn size(&mut self) -> Result<u64, LedgerError> {
        let size: i64 = self
            .tx
            .query_one("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", &[])
            .and_then(|row| row.try_get(0))
            .map_err(self.pg("counting ledger entries"))?;
        u64::try_from(size)
            .map_err(|_| LedgerError::Unreadable { what: "ledger".into(), reason: "negative index".into() })
    }

    fn heads(&mut self) -> Result<Vec<StoredHead>, LedgerError> {
        let rows = self.tx.query(&format!("{HEADS} ORDER BY size"), &[]).map_err(self.pg("reading tree heads"))?;
        rows.iter().map(|row| read_head(row).map_err(self.pg("reading a tree head"))).collect()
    }

    fn latest_head(&mut self) -> Result<Option<StoredHead>, LedgerError> {
        let row = self
            .tx
            .query_opt(&format!("{HEADS} ORDER BY size DESC LIMIT 1"), &[])
            .map_err(self.pg("reading tree heads"))?;
        row.map(|row| read_head(&row).map_err(self.pg("reading a tree head"))).transpose()
    }

    fn head_at(&mut self, size: u64) -> Result<Option<StoredHead>, LedgerError> {
        let row = self
            .tx
            .query_opt(&format!("{HEADS} WHERE size = $1"), &[&to_sql(size)])
            .map_err(self.pg("reading tree heads"))?;
        row.map(|row| read_head(&row).map_err(self.pg("reading a tree head"))).transpose()
    }

    fn rows(&mut self, from: u64, each: &mut RowVisitor<'_>) -> Result<(), LedgerError> {
        let sql = "SELECT idx, leaf_hash, entry FROM ledger_entries WHERE idx >= $1 ORDER BY idx";
        self.stream("reading the ledger", sql, &[to_sql(from)], |row| {
            let read = || -> Result<(i64, &[u8], &[u8]), postgres::Error> {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            };
            let (index, leaf, bytes) =
                read().map_err(|source| postgres_error("reading a ledger row", String::new(), source))?;
            Ok(each(u64::try_from(index).unwrap_or(0), leaf, bytes))
        })
    }

    fn leaves(&mut self, start: u64, end: u64, each: &mut LeafVisitor<'_>) -> Result<(), LedgerError> {
        let sql = "SELECT idx, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx";
        self.stream("reading leaf hashes", sql, &[to_sql(start), to_sql(end)], |row| {
            let read = || -> Result<(i64, &[u8]), postgres::Error> { Ok((row.try_get(0)?, row.try_get(1)?)) };
            let (index, leaf) =
                read().map_err(|source| postgres_error("reading a leaf hash", String::new(), source))?;
            each(u64::try_from(index).unwrap_or(0), leaf)?;
            Ok(true)
        })
    }

    fn tree(&mut self) -> Result<Option<CompactTree>, LedgerError> {
        let row = self
            .tx
            .query_opt("SELECT size, peaks FROM ledger_tree WHERE id = 1", &[])
            .map_err(self.pg("reading the compact tree"))?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> Result<(i64, Vec<u8>), postgres::Error> { Ok((row.try_get(0)?, row.try_get(1)?)) };
        let (size, peaks) = read().map_err(self.pg("reading the compact tree"))?;
        Ok(decode_tree(size, &peaks))
    }

    fn put_tree(&mut self, tree: &CompactTree) -> Result<(), LedgerError> {
        self.tx
            .execute(
                "INSERT INTO ledger_tree (id, size, peaks) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET size = excluded.size, peaks = excluded.peaks",
                &[&to_sql(tree.size()), &encode_peaks(tree)],
            )
            .map_err(self.pg("storing the compact tree"))?;
        Ok(())
    }

    fn put_head(&mut self, head: &SignedTreeHead) -> Result<(), LedgerError> {
        self.tx
            .execute(
                "INSERT INTO ledger_heads (size, root, timestamp, signature) VALUES ($1, $2, $3, $4)",
                &[
                    &to_sql(head.head.size),
                    &head.head.root.as_bytes().as_slice(),
                    &head.head.timestamp.to_string(),
                    &head.signature.to_bytes().as_slice(),
                ],
            )
            .map_err(self.pg("storing a signed tree head"))?;
        Ok(())
    }
}

impl PostgresStore {
    /// Maps a driver error to a ledger error naming what was being done, on this server.
    fn ledger_error(&self, doing: &'static str) -> impl Fn(postgres::Error) -> LedgerError + '_ {
        move |source| postgres_error(doing, self.target().to_string(), source)
    }
}

impl Backend for PostgresStore {
    fn ledger_keys(&self) -> Result<LedgerKeys, LedgerError> {
        self.configured_ledger_keys().cloned().ok_or(LedgerError::NoKeyDirectory)
    }

    fn snapshot<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let (target, pg) = (self.target(), |doing| self.ledger_error(doing));
        let mut client = self.client().map_err(|e| LedgerError::Store(Box::new(e)))?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg("beginning a read"))?;
        let value = work(&mut PostgresTables { tx: &mut tx, target });
        // A read never commits; a failed rollback means a broken connection the pool discards.
        let _ = tx.rollback();
        value
    }

    fn write_ledger<T>(&self, work: impl FnOnce(&mut dyn Tables) -> Result<T, LedgerError>) -> Result<T, LedgerError> {
        let (target, pg) = (self.target(), |doing| self.ledger_error(doing));
        let mut client = self.client().map_err(|e| LedgerError::Store(Box::new(e)))?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(pg("beginning a transaction"))?;
        // The same lock every writer takes first (see `Store for PostgresStore`).
        tx.batch_execute(self.write_lock_sql()).map_err(pg("waiting for the write lock"))?;
        let value = work(&mut PostgresTables { tx: &mut tx, target })?;
        tx.commit().map_err(pg("committing"))?;
        Ok(value)
    }

    fn written_links(&self) -> Option<&lunli_ledger::WrittenLinks> {
        Some(&self.written)
    }
}
