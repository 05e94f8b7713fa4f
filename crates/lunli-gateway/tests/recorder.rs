//! The ledger writer under a failing database (issue 15, item 7): a batch whose transaction
//! fails is written again until it commits, so no acknowledged decision is lost and no decision
//! sent to a human is answered before its review item is stored. The store is the real SQLite
//! store; the failures are injected at its `Store` boundary, as a locked or unreachable database
//! would make its transactions fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
}

impl RecorderObserver for Counts {
    fn batch(&self, _: usize) {}
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
    let (recorder, writer) = Recorder::start(store.clone(), catalogue.clone(), counts.clone(), 65_536).expect("writer");
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
