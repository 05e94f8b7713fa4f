//! How fast the ledger is on a real SQLite file with fsync on every commit:
//!
//! * appends per second, one writer, one transaction (one fsync) per append — what every CLI
//!   command and every governance write does;
//! * appends per second, 8 threads through [`GroupCommit`] (one fsync per batch);
//! * loading N entries in batches of 10,000, signing the first head over them (a full scan)
//!   while another thread appends one entry per commit (how long those appends wait), then
//!   signing an incremental head after 1,000 more;
//! * verifying the N entries from SQLite, an inclusion proof at size N, and an export.
//!
//! `cargo bench -p lunli-store --bench ledger_store` (N = 1,000,000; a few minutes), or
//! `cargo bench -p lunli-store --bench ledger_store -- --entries 10000000 --dir /some/disk`.
//! A plain program, not criterion: each figure is one run of a long operation.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lunli_governance::store::{Event, Store};
use lunli_ledger::Timestamp;
use lunli_store::{GroupCommit, Ledger as _, SqliteStore};
use serde_json::json;

fn event(i: u64) -> Event {
    Event {
        actor: format!("service:credit-app-{}", i % 7),
        action: "decision.record",
        subject: format!("system:credit-scoring/request:{i}"),
        at: jiff::Timestamp::from_millisecond(1_777_627_800_000 + i as i64).unwrap(),
        payload: json!({
            "decision": if i.is_multiple_of(5) { "review" } else { "allow" },
            "purpose": "credit-limit",
            "model": "scorer-v3",
            "score": (i % 1000) as f64 / 1000.0,
            "reasons": ["income", "history"],
            "subject_ref": format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            "human_review": i.is_multiple_of(5),
        })
        .into(),
    }
}

fn rate(n: u64, elapsed: Duration) -> String {
    format!("{:>10.0}/s", n as f64 / elapsed.as_secs_f64())
}

fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now()).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let entries: u64 = arg("--entries").map_or(1_000_000, |n| n.parse().unwrap());
    let base = arg("--dir").map(std::path::PathBuf::from);
    let tempdir = match &base {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    println!("data directory {} (WAL, synchronous = FULL)", tempdir.path().display());

    // 1. One writer, one commit per append.
    {
        let dir = tempfile::tempdir_in(tempdir.path()).unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let n = 2_000;
        let start = Instant::now();
        for i in 0..n {
            store.write(|tx| tx.record(&event(i))).unwrap();
        }
        let elapsed = start.elapsed();
        println!("single writer, 1 commit per append     {n:>9} appends {elapsed:>10.2?} {}", rate(n, elapsed));
    }

    // 2. Group commit from 8 threads.
    {
        let dir = tempfile::tempdir_in(tempdir.path()).unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let writer = Arc::new(GroupCommit::start(Arc::clone(&store)).unwrap());
        let (threads, each) = (8u64, 5_000u64);
        let start = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let writer = Arc::clone(&writer);
                std::thread::spawn(move || {
                    for i in 0..each {
                        writer.append(event(t * each + i)).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let elapsed = start.elapsed();
        let n = threads * each;
        println!("group commit, 8 threads                {n:>9} appends {elapsed:>10.2?} {}", rate(n, elapsed));
        drop(writer);
        assert!(store.verify_ledger().unwrap().is_ok());
    }

    // 3. A big log.
    let dir = tempfile::tempdir_in(tempdir.path()).unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let start = Instant::now();
    let batch = 10_000;
    let mut i = 0;
    while i < entries {
        let events: Vec<Event> = (i..(i + batch).min(entries)).map(event).collect();
        store.append_batch(&events).unwrap();
        i += events.len() as u64;
    }
    let elapsed = start.elapsed();
    let db_bytes = std::fs::metadata(store.path()).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(store.path().with_extension("db-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "load in batches of {batch}              {entries:>9} entries {elapsed:>10.2?} {}  ({:.0} MB on disk)",
        rate(entries, elapsed),
        db_bytes as f64 / 1e6
    );

    // The first head, while another thread appends one entry per commit: how long a write waits
    // while a head is signed over many entries.
    let signing = AtomicBool::new(true);
    let (elapsed, mut waits) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut waits = Vec::new();
            let mut i = entries;
            while signing.load(Ordering::Relaxed) {
                let start = Instant::now();
                store.write(|tx| tx.record(&event(i))).unwrap();
                waits.push(start.elapsed());
                i += 1;
            }
            waits
        });
        let start = Instant::now();
        store.sign_head(now()).unwrap();
        let elapsed = start.elapsed();
        signing.store(false, Ordering::Relaxed);
        (elapsed, writer.join().unwrap())
    });
    println!("first head (full scan)                 {entries:>9} entries {elapsed:>10.2?}");
    waits.sort_unstable();
    let median = waits.get(waits.len() / 2).copied().unwrap_or_default();
    let longest = waits.last().copied().unwrap_or_default();
    println!(
        "  appends meanwhile, 1 commit each     {:>9} appends median {median:.2?}, longest {longest:.2?}",
        waits.len()
    );
    let more: Vec<Event> = (entries..entries + 1_000).map(event).collect();
    store.append_batch(&more).unwrap();
    let start = Instant::now();
    store.sign_head(now()).unwrap();
    println!("next head (incremental)                     1000 entries {:>10.2?}", start.elapsed());
    let total = store.ledger_size().unwrap();

    let start = Instant::now();
    let report = store.verify_ledger().unwrap();
    let elapsed = start.elapsed();
    assert!(report.is_ok(), "{report:?}");
    println!("verify_ledger from SQLite              {total:>9} entries {elapsed:>10.2?} {}", rate(total, elapsed));

    let start = Instant::now();
    let proof = store.inclusion_proof(total / 3, None).unwrap();
    println!("inclusion proof, {} hashes             tree {total:>9}   {:>10.2?}", proof.path.len(), start.elapsed());

    let start = Instant::now();
    let out = tempdir.path().join("bundle.json");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    store.export_bundle(&mut file).unwrap();
    drop(file);
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "export bundle                          {total:>9} entries {:>10.2?}  ({:.0} MB)",
        start.elapsed(),
        size as f64 / 1e6
    );
}
