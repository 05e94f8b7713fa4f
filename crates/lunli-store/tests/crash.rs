//! Durability under `kill -9`: a child process appends from several threads through group
//! commit (and signs heads meanwhile), printing each index only once its commit returned; it is
//! killed at a random moment, several times over. Every acknowledged entry must be there with
//! the content it was acknowledged for, and the ledger must still verify.
//!
//! The child is this test binary itself, run again with `LUNLI_CRASH_CHILD` naming the data
//! directory; without it, the child test does nothing.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use lunli_governance::store::Event;
use lunli_ledger::{Entry, Timestamp};
use lunli_store::{GroupCommit, Ledger as _, SqliteStore};

const CHILD_ENV: &str = "LUNLI_CRASH_CHILD";
const ROUNDS: usize = 6;
const WRITERS: u64 = 4;

fn event(writer: u64, seq: u64) -> Event {
    Event {
        actor: format!("user:writer-{writer}"),
        action: "decision.record",
        subject: format!("request:{writer}-{seq}"),
        at: jiff::Timestamp::now(),
        payload: serde_json::json!({"writer": writer, "seq": seq, "outcome": "allow"}).into(),
    }
}

/// The child: append until killed (or for a minute at most, should the parent be gone).
#[test]
fn child_appends_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let store = Arc::new(SqliteStore::open(std::path::Path::new(&dir)).unwrap());
    let writer = Arc::new(GroupCommit::start(Arc::clone(&store)).unwrap());
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let started = Instant::now();
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let (writer, stdout) = (Arc::clone(&writer), Arc::clone(&stdout));
        threads.push(std::thread::spawn(move || {
            let mut seq = 0;
            while started.elapsed() < Duration::from_secs(60) {
                let event = event(w, seq);
                let index = writer.append(event.clone()).unwrap();
                // Acknowledged: the commit holding it has returned.
                let mut out = stdout.lock().unwrap();
                writeln!(out, "ack {index} {}", event.subject).unwrap();
                out.flush().unwrap();
                seq += 1;
            }
        }));
    }
    while started.elapsed() < Duration::from_secs(60) {
        store.sign_head(Timestamp::from_system_time(SystemTime::now()).unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(15));
    }
    for thread in threads {
        thread.join().unwrap();
    }
}

/// xorshift64: enough randomness for kill times, without a dependency.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn acknowledged_appends_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    println!("seed {seed}");
    let mut acknowledged: Vec<(u64, String)> = Vec::new();
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_appends_until_killed", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            // A line cut off by the kill has no newline: it was not (fully) acknowledged.
            while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                let text = String::from_utf8_lossy(&line).into_owned();
                if let Some(rest) = text.strip_prefix("ack ").and_then(|rest| rest.strip_suffix('\n')) {
                    let (index, subject) = rest.split_once(' ').unwrap();
                    acks.push((index.parse::<u64>().unwrap(), subject.to_string()));
                }
                line.clear();
            }
            acks
        });
        let wait = 200 + next(&mut seed) % 600;
        std::thread::sleep(Duration::from_millis(wait));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        println!("round {round}: killed after {wait} ms, {} appends acknowledged", acks.len());
        acknowledged.extend(acks);
    }
    assert!(acknowledged.len() > 10, "the child made progress before being killed");

    let store = SqliteStore::open(dir.path()).unwrap();
    let size = store.ledger_size().unwrap();
    for (index, subject) in &acknowledged {
        assert!(*index < size, "acknowledged entry {index} is in the ledger of {size}");
        let row = store.ledger_rows(*index, 1).unwrap().pop().unwrap();
        let entry: Entry = serde_json::from_slice(&row.entry).unwrap();
        assert_eq!((entry.index, &entry.subject), (*index, subject), "entry {index} is the one acknowledged");
    }
    let report = store.verify_ledger().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.size, size);
    assert!(report.heads_verified > 0, "heads signed by the killed writers verify");
}
