//! The ledger writer under a failing database (issue 15, item 7): a batch whose transaction
//! fails is written again until it commits, so no acknowledged decision is lost and no decision
//! sent to a human is answered before its review item is stored. The store is the real SQLite
//! store; the failures are injected at its `Store` boundary, as a locked or unreachable database
//! would make its transactions fail. And how batches form: a batch nobody waits for lingers for
//! more, one somebody waits for is committed at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lunli_gateway::recorder::{Recorder, RecorderObserver};
use lunli_governance::review::NewReview;
use lunli_governance::runtime::{DecisionRequest, Outcome};
use lunli_governance::store::{Store, Tx};
use lunli_governance::{Governance, GovernanceError, PendingEvent};
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;

/// The real store, whose next `failures` write transactions fail before doing anything.
struct Failing {
    store: SqliteStore,
    failures: AtomicUsize,
    attempts: AtomicUsize,
}

impl Store for Failing {
    fn write<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let fail = self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if fail {
            return Err(GovernanceError::Storage { message: "database is locked".into(), source: None });
        }
        self.store.write(work)
    }

    fn read<T>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, GovernanceError>) -> Result<T, GovernanceError> {
        self.store.read(work)
    }
}

#[derive(Default)]
struct Counts {
    failed: AtomicUsize,
    batches: Mutex<Vec<usize>>,
}

impl RecorderObserver for Counts {
    fn batch(&self, size: usize) {
        self.batches.lock().expect("batches").push(size);
    }
    fn failed(&self, size: usize) {
        self.failed.fetch_add(size, Ordering::SeqCst);
    }
}

fn decision(i: usize) -> PendingEvent {
    let request = DecisionRequest { system: "s".into(), subject: "u".into(), ..Default::default() };
    let at = "2026-06-01T08:00:00Z".parse().expect("time");
    PendingEvent::decision("key:test".into(), at, &format!("d-{i}"), &request, Outcome::Allow, &[])
}

#[test]
fn failed_batches_are_retried_until_committed_and_nothing_is_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Failing {
        store: SqliteStore::open(dir.path()).expect("store"),
        failures: AtomicUsize::new(5),
        attempts: AtomicUsize::new(0),
    });
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let counts = Arc::new(Counts::default());
    let (recorder, writer) =
        Recorder::start(store.clone(), catalogue.clone(), counts.clone(), 65_536, Duration::ZERO).expect("writer");
    for i in 0..2_000 {
        recorder.record_later(decision(i)).expect("queued");
    }
    // A decision sent to a human: its answer waits until the review item is committed.
    let review = NewReview {
        system: "s".into(),
        decision: "d-review".into(),
        subject: "u".into(),
        purpose: None,
        confidence: Some(0.1),
        reasons: vec!["low_confidence".into()],
        created_at: "2026-06-01T08:00:00Z".parse().expect("time"),
    };
    let done = recorder.record_with_review(decision(2_000), review).expect("queued");
    let index = done.blocking_recv().expect("acknowledged once committed");
    let reviews = Governance::new(&catalogue, &store.store).reviews(None).expect("reviews");
    assert_eq!(reviews.len(), 1, "the review item is stored when the decision is acknowledged");
    assert_eq!(reviews[0].decision_index, index);
    drop(recorder);
    writer.join().expect("writer thread");
    assert_eq!(store.store.ledger_size().expect("size"), 2_001, "every queued decision is in the ledger");
    assert!(store.attempts.load(Ordering::SeqCst) > 5, "the failed batches were tried again");
    assert!(counts.failed.load(Ordering::SeqCst) >= 5, "each failure is counted");
}

/// A writer over a fresh SQLite store, holding a batch nobody waits for up to `linger`.
fn lingering(
    linger: Duration,
) -> (tempfile::TempDir, Arc<SqliteStore>, Arc<Counts>, Recorder, std::thread::JoinHandle<()>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let counts = Arc::new(Counts::default());
    let (recorder, writer) = Recorder::start(store.clone(), catalogue, counts.clone(), 65_536, linger).expect("writer");
    (dir, store, counts, recorder, writer)
}

/// Runs `work` on a thread of its own and gives its result, or fails after a minute (the
/// lingers below are an hour: waiting one out would mean the rule under test is broken).
fn within_a_minute<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(work()));
    result.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{what} did not happen within a minute"))
}

#[test]
fn a_decision_somebody_waits_for_ends_the_linger_and_joins_the_batch() {
    let (_dir, store, counts, recorder, writer) = lingering(Duration::from_secs(3600));
    for i in 0..3 {
        recorder.record_later(decision(i)).expect("queued");
    }
    let done = recorder.record(decision(3)).expect("queued");
    let index = within_a_minute("the acknowledgement", move || done.blocking_recv().expect("acknowledged"));
    assert_eq!(index, 3);
    assert_eq!(
        *counts.batches.lock().expect("batches"),
        [4],
        "the three answered before their commit shared its fsync"
    );
    assert_eq!(store.ledger_size().expect("size"), 4);
    drop(recorder);
    within_a_minute("the writer's end", move || writer.join().expect("writer thread"));
}

#[test]
fn stopping_ends_the_linger_and_commits_what_was_gathered() {
    let (_dir, store, counts, recorder, writer) = lingering(Duration::from_secs(3600));
    for i in 0..3 {
        recorder.record_later(decision(i)).expect("queued");
    }
    drop(recorder);
    within_a_minute("the writer's end", move || writer.join().expect("writer thread"));
    assert_eq!(*counts.batches.lock().expect("batches"), [3]);
    assert_eq!(store.ledger_size().expect("size"), 3, "nothing queued is lost when the gateway stops");
}

#[test]
fn a_batch_nobody_waits_for_is_committed_once_the_linger_is_over() {
    let (_dir, store, counts, recorder, writer) = lingering(Duration::from_millis(50));
    recorder.record_later(decision(0)).expect("queued");
    let deadline = Instant::now() + Duration::from_secs(60);
    // The writer counts a batch once it is committed.
    while counts.batches.lock().expect("batches").is_empty() {
        assert!(Instant::now() < deadline, "the decision was not committed within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(*counts.batches.lock().expect("batches"), [1], "committed with the recorder still open");
    assert_eq!(store.ledger_size().expect("size"), 1);
    drop(recorder);
    writer.join().expect("writer thread");
}
