//! What only the shared store has to show: several stores (standing in for several `lunli serve`
//! instances) on one PostgreSQL database append to one ledger at once without forking it, see
//! each other's changes at once, and migrate a fresh schema together without tripping.
//! The workflow tests in `workflow.rs` run on PostgreSQL too.

use lunli_test_support::backend;

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use jiff::Timestamp;
use lunli_governance::GovernanceError;
use lunli_governance::runtime::Suspension;
use lunli_governance::store::{Event, Store};
use lunli_ledger::{Entry, Hash};
use lunli_store::{PostgresStore, StoreError};

use backend::PgSchema;

const STORES: usize = 2;
const THREADS_PER_STORE: usize = 4;
const WRITES_PER_THREAD: usize = 30;

fn event(thread: usize, write: usize, n: usize) -> Event {
    Event {
        actor: format!("user:thread-{thread}"),
        action: "decision.record",
        subject: format!("request:{thread}-{write}-{n}"),
        at: Timestamp::from_millisecond(1_767_225_600_000 + (write as i64)).expect("time"),
        payload: serde_json::json!({ "thread": thread, "write": write, "n": n }).into(),
    }
}

fn suspension(thread: usize, write: usize) -> Suspension {
    Suspension {
        system: format!("system-{thread}"),
        purpose: Some(format!("purpose-{write}")),
        reason: "load test".into(),
        by: "admin".into(),
        at: Timestamp::from_millisecond(1_767_225_600_000).expect("time"),
    }
}

/// Reads the whole ledger back and checks it the way an auditor would: indices 0..n with no gap
/// or duplicate, every stored leaf hash that of its bytes, every entry chained to the one before
/// and its payload digest intact (lunli_ledger's verifier). Returns the entries.
fn verified_ledger(store: &PostgresStore) -> Vec<Entry> {
    let size = store.ledger_size().expect("ledger size");
    let rows = store.ledger_rows(0, size + 100).expect("ledger rows");
    assert_eq!(rows.len() as u64, size, "as many rows as the size says");
    let mut entries = Vec::new();
    let mut prev = Hash::ZERO;
    for (position, row) in rows.iter().enumerate() {
        assert_eq!(row.index, position as u64, "indices are gap-free and in order");
        let leaf = lunli_ledger::leaf_hash(&row.entry);
        assert_eq!(row.leaf_hash, leaf.as_bytes().to_vec(), "stored leaf hash of entry {position}");
        let entry: Entry = serde_json::from_slice(&row.entry).expect("an entry");
        assert_eq!(entry.index, row.index);
        assert_eq!(entry.prev_leaf_hash, prev, "entry {position} names its predecessor");
        assert_eq!(entry.canonical_bytes().expect("canonical"), row.entry, "stored bytes are canonical");
        prev = leaf;
        entries.push(entry);
    }
    let key = lunli_ledger::SigningKey::from_bytes(&[42; 32]).verifying_key();
    let report = lunli_ledger::verify_entries(entries.iter().cloned().map(Ok::<_, ()>), &[], &key).expect("report");
    assert!(report.is_ok(), "the ledger verifies: {report:?}");
    assert_eq!(report.size, size);
    entries
}

#[test]
fn concurrent_writers_on_two_stores_never_fork_the_ledger() {
    let schema = PgSchema::new();
    let stores: Vec<Arc<PostgresStore>> = (0..STORES).map(|_| Arc::new(schema.connect())).collect();
    let start = Arc::new(Barrier::new(STORES * THREADS_PER_STORE));
    let mut threads = Vec::new();
    for thread in 0..STORES * THREADS_PER_STORE {
        let store = Arc::clone(&stores[thread % STORES]);
        let start = Arc::clone(&start);
        threads.push(std::thread::spawn(move || {
            start.wait();
            let mut recorded = Vec::new();
            for write in 0..WRITES_PER_THREAD {
                // One to three entries per transaction, as the gateway's decisions are; every
                // fourth write changes state beside them (whose trigger takes a row lock of its
                // own, so most writes must not, or that lock alone would serialise them).
                let count = 1 + (thread + write) % 3;
                let indices = store
                    .write(|tx| {
                        if write % 4 == 0 {
                            tx.put_suspension(&suspension(thread, write))?;
                        }
                        (0..count).map(|n| tx.record(&event(thread, write, n))).collect::<Result<Vec<_>, _>>()
                    })
                    .expect("write");
                let first = indices[0];
                assert_eq!(indices, (first..first + count as u64).collect::<Vec<_>>(), "one write's entries adjoin");
                recorded.extend(indices.into_iter().enumerate().map(|(n, index)| (index, event(thread, write, n))));
            }
            recorded
        }));
    }
    let recorded: Vec<(u64, Event)> =
        threads.into_iter().flat_map(|t| t.join().expect("a writer thread panicked")).collect();

    let total = recorded.len() as u64;
    let indices: BTreeSet<u64> = recorded.iter().map(|(index, _)| *index).collect();
    assert_eq!(indices.len() as u64, total, "no index was given twice");
    assert_eq!(indices, (0..total).collect(), "indices 0..{total}");
    let entries = verified_ledger(&stores[0]);
    assert_eq!(entries.len() as u64, total, "every acknowledged entry is stored, and nothing else");
    for (index, event) in &recorded {
        let entry = &entries[*index as usize];
        assert_eq!(
            (&entry.subject, &entry.payload),
            (&event.subject, &event.payload.to_json().expect("json")),
            "entry {index}"
        );
    }
    // Every state change is there too, and each bumped the runtime version once.
    let writes = (STORES * THREADS_PER_STORE * WRITES_PER_THREAD.div_ceil(4)) as u64;
    let (suspensions, version) =
        stores[1].read(|tx| Ok((tx.suspensions()?.len() as u64, tx.runtime_version()?))).expect("read");
    assert_eq!(suspensions, writes);
    assert_eq!(version, writes);
}

#[test]
fn a_change_on_one_store_is_seen_by_another_at_once() {
    let schema = PgSchema::new();
    let (one, two) = (schema.connect(), schema.connect());
    let before = two.read(|tx| tx.runtime_version()).expect("version");
    let kill = Suspension { purpose: None, ..suspension(1, 1) };
    one.write(|tx| {
        tx.put_suspension(&kill)?;
        tx.record(&event(1, 1, 0))
    })
    .expect("suspend");
    let (version, suspensions) = two.read(|tx| Ok((tx.runtime_version()?, tx.suspensions()?))).expect("read");
    assert!(version > before, "the runtime version moved: {before} -> {version}");
    assert_eq!(suspensions, std::slice::from_ref(&kill));
    let lifted = two.write(|tx| tx.remove_suspension("system-1", None)).expect("resume");
    assert_eq!(lifted, Some(kill));
    assert!(one.read(|tx| tx.suspensions()).expect("read").is_empty());
    assert!(one.read(|tx| tx.runtime_version()).expect("version") > version, "lifting bumps it too");
    assert_eq!(two.write(|tx| tx.remove_suspension("system-1", None)).expect("again"), None);
}

#[test]
fn a_failed_write_leaves_no_entry_and_no_gap() {
    let schema = PgSchema::new();
    let store = schema.connect();
    store.write(|tx| tx.record(&event(0, 0, 0))).expect("first");
    // The work fails after appending: nothing of it is kept.
    let err = store
        .write(|tx| {
            tx.record(&event(0, 1, 0))?;
            tx.put_suspension(&suspension(0, 1))?;
            Err::<(), _>(GovernanceError::Refused { reason: "changed my mind".into() })
        })
        .expect_err("refused");
    assert!(matches!(err, GovernanceError::Refused { .. }));
    // The database refuses midway (no such system version for the intake): nothing is kept.
    let intake = lunli_governance::store::IntakeRecord {
        id: 0,
        system: "ghost".into(),
        version: 1,
        answers: serde_json::json!({}),
        tiering: serde_json::json!({}),
        tier: lunli_norms::Tier::Low,
        ruleset_version: "1".into(),
        ruleset_digest: "0".into(),
        by: "admin".into(),
        at: Timestamp::from_millisecond(0).expect("time"),
    };
    let err = store
        .write(|tx| {
            tx.record(&event(0, 2, 0))?;
            tx.add_intake(&intake)
        })
        .expect_err("foreign key");
    assert!(matches!(err, GovernanceError::Storage { .. }), "{err}");
    assert!(std::error::Error::source(&err).is_some_and(|s| s.to_string().contains("foreign key")), "{err:?}");
    assert_eq!(store.ledger_size().expect("size"), 1);
    assert!(store.read(|tx| tx.suspensions()).expect("read").is_empty());
    // The next append takes the next index.
    assert_eq!(store.write(|tx| tx.record(&event(0, 3, 0))).expect("next"), 1);
    verified_ledger(&store);
}

#[test]
fn reads_are_read_only_snapshots() {
    let schema = PgSchema::new();
    let store = schema.connect();
    let err = store.read(|tx| tx.put_suspension(&suspension(0, 0))).expect_err("a read cannot write");
    assert!(matches!(err, GovernanceError::Storage { .. }), "{err}");
    assert!(store.read(|tx| tx.suspensions()).expect("read").is_empty());
}

#[test]
fn instances_starting_together_migrate_a_fresh_schema_once() {
    let schema = Arc::new(PgSchema::new());
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (schema, start) = (Arc::clone(&schema), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let store = schema.connect();
                store.schema_version().expect("version")
            })
        })
        .collect();
    // The migrations on disk: V<n>__name.sql.
    let versions: Vec<u32> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("migrations directory")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix('V')?.split("__").next()?.parse().ok())
        .collect();
    let newest = versions.iter().copied().max().expect("some migration");
    for thread in threads {
        assert_eq!(thread.join().expect("connect"), newest);
    }
    let mut client = schema.client();
    let applied: i64 = client.query_one("SELECT COUNT(*) FROM refinery_schema_history", &[]).expect("history").get(0);
    assert_eq!(applied, versions.len() as i64, "each migration applied once");
}

#[test]
fn commits_are_synchronous_whatever_the_connection_asks() {
    let schema = PgSchema::new();
    // A connection string (or, alike, a server default) that turns durability off…
    let url = backend::with_options(&backend::postgres_url(), "-c synchronous_commit=off -c lock_timeout=0");
    let store = PostgresStore::connect_with(&url, &schema.options()).expect("connect");
    // …is overridden for every session of the store: a commit returns once its WAL is flushed.
    assert_eq!(store.setting("synchronous_commit").expect("setting"), "on");
    assert_eq!(store.setting("lock_timeout").expect("setting"), "30s");
    assert_eq!(store.setting("search_path").expect("setting"), schema.name());
    store.write(|tx| tx.record(&event(0, 0, 0))).expect("write");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let err = PostgresStore::connect("host=127.0.0.1 port=1 user=lunli dbname=gov connect_timeout=5")
        .expect_err("nothing listens there");
    let message = err.to_string();
    assert!(matches!(err, StoreError::Postgres { .. }), "{message}");
    assert!(message.contains("lunli@127.0.0.1:1/gov") && message.contains("connecting"), "{message}");
    assert!(message.to_lowercase().contains("refused"), "the cause is named: {message}");
}
