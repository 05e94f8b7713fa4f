//! Signing a head in two phases, on SQLite and on PostgreSQL: the entries since the latest head
//! are read on a snapshot, then, under the write lock, only those appended meanwhile. What other
//! writers do between the phases — append, tamper, sign a head of their own — is driven
//! deterministically through `sign_head_pausing`, which runs a closure just before the lock.

use lunli_test_support::backend;

use std::cell::Cell;

use jiff::Timestamp;
use lunli_governance::store::{Event, Store};
use lunli_ledger::store::Backend;
use lunli_ledger::verify::Change;
use lunli_ledger::{Entry, Problem};
use lunli_store::{Ledger, LedgerError, LedgerKeys, PostgresStore, SignOutcome, SqliteStore};

use backend::PgSchema;

/// Entries covered by the first head.
const SIGNED: u64 = 5;
/// Entries in the log when signing starts: those after `SIGNED` are read by the first phase.
const BEFORE: u64 = 9;

fn event(n: u64) -> Event {
    Event {
        actor: format!("user:writer-{}", n % 3),
        action: "decision.record",
        subject: format!("request:{n}"),
        at: Timestamp::from_millisecond(1_767_225_600_000 + n as i64).expect("time"),
        payload: serde_json::json!({ "n": n, "outcome": if n.is_multiple_of(3) { "deny" } else { "allow" } }).into(),
    }
}

fn now(n: u64) -> lunli_ledger::Timestamp {
    lunli_ledger::Timestamp::from_unix_millis(1_767_300_000_000 + n as i64).expect("time")
}

/// Where a test's ledger lives, with a way to open stores on it (several may share it, as
/// several `lunli serve` instances do) and to alter rows underneath them.
trait Place: Sized {
    type Store: Ledger + Store;
    fn new() -> Self;
    fn open(&self) -> Self::Store;
    fn entry_bytes(&self, index: u64) -> Vec<u8>;
    /// Overwrites entry `index`'s bytes, and its stored leaf hash when `leaf` is given.
    fn rewrite(&self, index: u64, bytes: &[u8], leaf: Option<&[u8]>);
    fn delete_from(&self, index: u64);
}

struct SqlitePlace(tempfile::TempDir);

impl SqlitePlace {
    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.0.path().join(lunli_store::DATABASE_FILE)).expect("open the database file")
    }
}

impl Place for SqlitePlace {
    type Store = SqliteStore;

    fn new() -> Self {
        SqlitePlace(tempfile::tempdir().expect("a temporary directory"))
    }

    fn open(&self) -> SqliteStore {
        SqliteStore::open(self.0.path()).expect("open the SQLite store")
    }

    fn entry_bytes(&self, index: u64) -> Vec<u8> {
        self.conn()
            .query_row("SELECT entry FROM ledger_entries WHERE idx = ?1", [index as i64], |r| r.get(0))
            .expect("entry")
    }

    fn rewrite(&self, index: u64, bytes: &[u8], leaf: Option<&[u8]>) {
        let conn = self.conn();
        conn.execute("UPDATE ledger_entries SET entry = ?2 WHERE idx = ?1", rusqlite::params![index as i64, bytes])
            .expect("tamper");
        if let Some(leaf) = leaf {
            conn.execute(
                "UPDATE ledger_entries SET leaf_hash = ?2 WHERE idx = ?1",
                rusqlite::params![index as i64, leaf],
            )
            .expect("tamper");
        }
    }

    fn delete_from(&self, index: u64) {
        self.conn().execute("DELETE FROM ledger_entries WHERE idx >= ?1", [index as i64]).expect("delete");
    }
}

struct PgPlace {
    schema: PgSchema,
    keys: tempfile::TempDir,
}

impl Place for PgPlace {
    type Store = PostgresStore;

    fn new() -> Self {
        PgPlace { schema: PgSchema::new(), keys: tempfile::tempdir().expect("key dir") }
    }

    fn open(&self) -> PostgresStore {
        self.schema.connect().with_ledger_keys(LedgerKeys::in_dir(self.keys.path()))
    }

    fn entry_bytes(&self, index: u64) -> Vec<u8> {
        self.schema
            .client()
            .query_one("SELECT entry FROM ledger_entries WHERE idx = $1", &[&(index as i64)])
            .expect("entry")
            .get(0)
    }

    fn rewrite(&self, index: u64, bytes: &[u8], leaf: Option<&[u8]>) {
        let mut client = self.schema.client();
        client
            .execute("UPDATE ledger_entries SET entry = $2 WHERE idx = $1", &[&(index as i64), &bytes])
            .expect("tamper");
        if let Some(leaf) = leaf {
            client
                .execute("UPDATE ledger_entries SET leaf_hash = $2 WHERE idx = $1", &[&(index as i64), &leaf])
                .expect("tamper");
        }
    }

    fn delete_from(&self, index: u64) {
        self.schema.client().execute("DELETE FROM ledger_entries WHERE idx >= $1", &[&(index as i64)]).expect("delete");
    }
}

/// A store whose latest head covers `SIGNED` entries, with `BEFORE - SIGNED` more after it.
fn ledger<P: Place>(place: &P) -> P::Store {
    let store = place.open();
    for i in 0..BEFORE {
        assert_eq!(store.write(|tx| tx.record(&event(i))).expect("record"), i);
        if i + 1 == SIGNED {
            assert!(matches!(store.sign_head(now(i)).expect("sign"), SignOutcome::New(h) if h.head.size == SIGNED));
        }
    }
    store
}

fn append(store: &impl Store, from: u64, to: u64) {
    for i in from..to {
        assert_eq!(store.write(|tx| tx.record(&event(i))).expect("record"), i);
    }
}

/// A payload rewritten, the JSON kept well formed (the stored leaf hash then no longer matches).
fn rewrite_payload<P: Place>(place: &P, index: u64) {
    let bytes = String::from_utf8(place.entry_bytes(index)).expect("utf-8");
    let altered = bytes.replace(&format!("\"n\":{index}"), &format!("\"n\":{}", index + 1000));
    assert_ne!(altered, bytes, "the payload was found and changed");
    place.rewrite(index, altered.as_bytes(), None);
}

/// An entry rewritten as a well-formed entry with its stored leaf hash recomputed: it checks out
/// on its own and only differs in hashing from what it was.
fn rewrite_whole<P: Place>(place: &P, index: u64) {
    let mut entry: Entry = serde_json::from_slice(&place.entry_bytes(index)).expect("an entry");
    entry.actor = "user:mallory".into();
    let bytes = entry.canonical_bytes().expect("canonical");
    place.rewrite(index, &bytes, Some(lunli_ledger::leaf_hash(&bytes).as_bytes()));
}

fn latest_size(store: &impl Ledger) -> Option<u64> {
    store.latest_head().expect("latest head").map(|h| h.head.size)
}

fn entries_appended_between_the_phases_are_covered<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    let mut calls = 0;
    let outcome = store
        .sign_head_pausing(now(100), &mut || {
            calls += 1;
            // The write lock is free between the phases: these appends go through at once.
            append(&store, BEFORE, BEFORE + 3);
        })
        .expect("sign");
    assert_eq!(calls, 1);
    let SignOutcome::New(head) = outcome else { panic!("a new head, got {outcome:?}") };
    assert_eq!(head.head.size, BEFORE + 3, "the entries appended after the snapshot are covered too");
    let report = store.verify_ledger().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.size, report.heads_verified), (BEFORE + 3, 2));
    assert_eq!(report.root, head.head.root);
    // Nothing new since: the second call signs nothing, even with nothing in between.
    assert!(matches!(store.sign_head(now(101)).expect("sign"), SignOutcome::AlreadySigned(h) if h == head));
}

fn tampering_before_the_snapshot_is_refused_before_the_lock<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    rewrite_payload(&place, SIGNED + 2);
    let called = Cell::new(false);
    let err = store.sign_head_pausing(now(100), &mut || called.set(true)).expect_err("refused");
    assert!(
        matches!(err, LedgerError::Tampered { problem: Problem::Modified { index, change: Change::Payload } } if index == SIGNED + 2),
        "{err}"
    );
    assert!(!called.get(), "the first phase found it, before the write lock");
    assert_eq!(latest_size(&store), Some(SIGNED));
}

fn tampering_with_entries_appended_meanwhile_is_refused<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    let err = store
        .sign_head_pausing(now(100), &mut || {
            append(&store, BEFORE, BEFORE + 3);
            rewrite_payload(&place, BEFORE + 1);
        })
        .expect_err("refused");
    assert!(
        matches!(err, LedgerError::Tampered { problem: Problem::Modified { index, .. } } if index == BEFORE + 1),
        "{err}"
    );
    assert_eq!(latest_size(&store), Some(SIGNED), "no head was stored");
}

fn the_last_entry_read_first_is_read_again_under_the_lock<P: Place>() {
    // Rewritten whole between the phases, hashes and all: it checks out on its own, but no
    // longer hashes as it did when the first phase folded it in.
    let place = P::new();
    let store = ledger(&place);
    let err = store.sign_head_pausing(now(100), &mut || rewrite_whole(&place, BEFORE - 1)).expect_err("refused");
    assert!(
        matches!(err, LedgerError::Tampered { problem: Problem::Modified { index, change: Change::Content } } if index == BEFORE - 1),
        "{err}"
    );
    // Cut off between the phases: no head over entries that are gone.
    let err = store.sign_head_pausing(now(101), &mut || place.delete_from(SIGNED + 1)).expect_err("refused");
    assert!(matches!(err, LedgerError::Tampered { problem: Problem::Truncated { .. } }), "{err}");
    assert_eq!(latest_size(&store), Some(SIGNED), "no head was stored");
}

fn a_head_signed_by_another_instance_meanwhile_is_built_on<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    let other = place.open();
    // The other instance appends, signs, and more is appended after its head.
    let outcome = store
        .sign_head_pausing(now(100), &mut || {
            append(&other, BEFORE, BEFORE + 2);
            assert!(
                matches!(other.sign_head(now(99)).expect("sign"), SignOutcome::New(h) if h.head.size == BEFORE + 2)
            );
            append(&other, BEFORE + 2, BEFORE + 3);
        })
        .expect("sign");
    assert!(matches!(outcome, SignOutcome::New(h) if h.head.size == BEFORE + 3), "{outcome:?}");
    let sizes: Vec<u64> = store.heads().expect("heads").iter().map(|h| h.head.size).collect();
    assert_eq!(sizes, [SIGNED, BEFORE + 2, BEFORE + 3]);
    let report = store.verify_ledger().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.heads_verified, 3);

    // The other instance's head covers everything: nothing more to sign.
    let outcome = store
        .sign_head_pausing(now(200), &mut || {
            append(&other, BEFORE + 3, BEFORE + 4);
            assert!(matches!(other.sign_head(now(199)).expect("sign"), SignOutcome::New(_)));
        })
        .expect("sign");
    assert!(matches!(outcome, SignOutcome::AlreadySigned(h) if h.head.size == BEFORE + 4), "{outcome:?}");
    assert!(store.verify_ledger().expect("verify").is_ok());

    // Tampering behind the other instance's head is still refused by the fallback.
    let err = store
        .sign_head_pausing(now(300), &mut || {
            append(&other, BEFORE + 4, BEFORE + 6);
            assert!(matches!(other.sign_head(now(299)).expect("sign"), SignOutcome::New(_)));
            append(&other, BEFORE + 6, BEFORE + 7);
            rewrite_payload(&place, BEFORE + 6);
        })
        .expect_err("refused");
    assert!(
        matches!(err, LedgerError::Tampered { problem: Problem::Modified { index, .. } } if index == BEFORE + 6),
        "{err}"
    );
}

fn a_long_backlog_is_read_in_snapshot_rounds<P: Place>() {
    // More than one snapshot round reads (1,024), written in one transaction to keep it quick.
    let place = P::new();
    let store = ledger(&place);
    let backlog = 1_500;
    store
        .write(|tx| {
            for i in BEFORE..BEFORE + backlog {
                tx.record(&event(i))?;
            }
            Ok(())
        })
        .expect("record");
    let outcome = store.sign_head_pausing(now(100), &mut || append(&store, BEFORE + backlog, BEFORE + backlog + 2));
    assert!(matches!(outcome, Ok(SignOutcome::New(h)) if h.head.size == BEFORE + backlog + 2), "{outcome:?}");
    let report = store.verify_ledger().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.heads_verified, 2);
}

/// A way of altering rows underneath a store.
type Tamper<P> = fn(&P);

/// Rows this store wrote are recognised by their hash when a head is signed (it remembers what
/// it wrote); each way of altering such a row underneath it is still refused, and nothing is
/// signed.
fn rows_this_store_wrote_are_still_checked_when_altered<P: Place>() {
    let tampers: [(&str, Tamper<P>); 5] = [
        ("its stored leaf hash alone", |place| {
            place.rewrite(SIGNED + 1, &place.entry_bytes(SIGNED + 1), Some(&[7; 32]))
        }),
        ("its payload", |place| rewrite_payload(place, SIGNED + 1)),
        ("rewritten whole, hashes and all", |place| rewrite_whole(place, SIGNED + 1)),
        ("the next row's bytes and hash copied over it", |place| {
            let next = place.entry_bytes(SIGNED + 2);
            place.rewrite(SIGNED + 1, &next, Some(lunli_ledger::leaf_hash(&next).as_bytes()));
        }),
        ("its bytes re-spaced, hash recomputed", |place| {
            let bytes = String::from_utf8(place.entry_bytes(SIGNED + 1)).expect("utf-8").replacen(",", ", ", 1);
            place.rewrite(SIGNED + 1, bytes.as_bytes(), Some(lunli_ledger::leaf_hash(bytes.as_bytes()).as_bytes()));
        }),
    ];
    for (what, tamper) in tampers {
        let place = P::new();
        let store = ledger(&place);
        let remembered = store.written_links().expect("the store remembers what it wrote");
        assert!(remembered.get(SIGNED + 1).is_some(), "{what}: the altered row is one the store remembers");
        tamper(&place);
        let err = store.sign_head(now(100)).expect_err(what);
        assert!(matches!(err, LedgerError::Tampered { .. }), "{what}: {err}");
        assert_eq!(latest_size(&store), Some(SIGNED), "{what}: no head was stored");
    }
}

/// The tail's stored leaf hash altered between two transactions: the writer chains the next
/// entry to the altered hash (it reads the tail from the database), and signing refuses.
fn a_writer_chained_to_an_altered_tail_is_refused<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    place.rewrite(BEFORE - 1, &place.entry_bytes(BEFORE - 1), Some(&[7; 32]));
    append(&store, BEFORE, BEFORE + 2);
    let err = store.sign_head(now(100)).expect_err("refused");
    assert!(matches!(err, LedgerError::Tampered { .. }), "{err}");
    assert_eq!(latest_size(&store), Some(SIGNED));
}

/// What a head covers is forgotten once it is signed; what follows is remembered.
fn a_signed_head_lets_the_store_forget_what_it_covers<P: Place>() {
    let place = P::new();
    let store = ledger(&place);
    let remembered = store.written_links().expect("the store remembers what it wrote");
    assert_eq!(remembered.len() as u64, BEFORE - SIGNED);
    assert!(matches!(store.sign_head(now(100)).expect("sign"), SignOutcome::New(h) if h.head.size == BEFORE));
    assert!(remembered.is_empty());
    append(&store, BEFORE, BEFORE + 2);
    assert_eq!((remembered.get(BEFORE - 1), remembered.len()), (None, 2));
    assert!(matches!(store.sign_head(now(101)).expect("sign"), SignOutcome::New(h) if h.head.size == BEFORE + 2));
    let report = store.verify_ledger().expect("verify");
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.heads_verified, 3);
}

lunli_test_support::on_every_backend!(
    SqlitePlace, PgPlace:
    entries_appended_between_the_phases_are_covered,
    tampering_before_the_snapshot_is_refused_before_the_lock,
    tampering_with_entries_appended_meanwhile_is_refused,
    the_last_entry_read_first_is_read_again_under_the_lock,
    a_head_signed_by_another_instance_meanwhile_is_built_on,
    a_long_backlog_is_read_in_snapshot_rounds,
    rows_this_store_wrote_are_still_checked_when_altered,
    a_writer_chained_to_an_altered_tail_is_refused,
    a_signed_head_lets_the_store_forget_what_it_covers,
);
