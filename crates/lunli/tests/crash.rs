//! A writer killed at any moment (`kill -9`) leaves the database consistent: every change that was
//! acknowledged is there with its ledger entry, nothing is half-written, and the ledger's chain
//! and Merkle tree still verify.

use std::process::{Command as Process, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assert_cmd::cargo::CommandCargoExt;
use lunli_ledger::Entry;
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;

/// A cheap, seedless spread of delays; the point is variety, not statistics.
fn jitter(i: u64) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    Duration::from_micros((u64::from(nanos) ^ (i * 7919)) % 150_000)
}

#[test]
fn killed_writers_leave_a_consistent_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acknowledged = Vec::new();
    let mut killed = 0;
    for i in 0..60u64 {
        let id = format!("p{i}");
        let mut child = Process::cargo_bin("lunli")
            .expect("binary")
            .args(["person", "add", &id, "--name", &id])
            .env("LUNLI_DATA_DIR", dir.path())
            .env("LUNLI_ACTOR", "crash-test")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lunli");
        std::thread::sleep(jitter(i));
        match child.try_wait().expect("poll") {
            Some(status) => {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                assert!(status.success(), "lunli person add {id} failed on its own: {stderr}");
                acknowledged.push(id);
            }
            None => {
                child.kill().expect("kill -9");
                let status = child.wait().expect("reap");
                // It may have finished between the poll and the kill.
                if status.success() {
                    acknowledged.push(id);
                } else {
                    killed += 1;
                }
            }
        }
    }
    eprintln!("{} writers acknowledged, {killed} killed", acknowledged.len());
    assert!(killed > 0, "no writer was killed mid-way; the test proved nothing");

    let store = SqliteStore::open(dir.path()).expect("the database opens after the crashes");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let people = lunli_governance::Governance::new(&catalogue, &store).people().expect("people");
    for id in &acknowledged {
        assert!(people.iter().any(|p| &p.id == id), "acknowledged {id} was lost");
    }
    let size = store.ledger_size().expect("size");
    let rows = store.ledger_rows(0, size).expect("rows");
    assert_eq!(rows.len() as u64, size);
    let entries: Vec<Entry> =
        rows.iter().map(|r| serde_json::from_slice(&r.entry).expect("each stored entry parses")).collect();
    // One ledger entry per stored person: the change and its record were stored together.
    assert_eq!(entries.iter().filter(|e| e.action == "person.add").count(), people.len());
    for (i, (row, entry)) in rows.iter().zip(&entries).enumerate() {
        assert_eq!(row.index, i as u64, "no gap in the ledger");
        assert_eq!(entry.leaf_hash().expect("hash").as_bytes().as_slice(), row.leaf_hash, "entry {i} intact");
        if i > 0 {
            assert_eq!(entry.prev_leaf_hash.as_bytes().as_slice(), rows[i - 1].leaf_hash, "chain unbroken at {i}");
        }
    }
}
