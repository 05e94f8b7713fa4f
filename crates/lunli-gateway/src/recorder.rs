//! Group commit for the ledger: decisions from every request thread are appended by one writer
//! thread, many per transaction, so each commit's fsync is shared. A caller that needs its
//! decision durable before answering waits for its batch to commit; others do not wait. A
//! decision sent to a human carries its review-queue item, stored in the same batch and linked
//! to the decision's ledger index, so escalation costs the decision path no extra write.
//!
//! Every commit costs an fsync, whatever its size, and at tens of thousands of decisions a second
//! that was half the writer's time (mostly in the kernel). So a batch that nobody waits for is
//! held for up to a short `linger` while more events arrive, and committed at once when one
//! arrives that somebody waits for: decisions answered before their commit (the non-durable
//! tiers) share fsyncs many at a time, and those answered after it wait no longer than before.
//! What lingering costs is that window: a crash loses up to `linger` more of the decisions that
//! were answered before their commit.
//!
//! Nothing acknowledged is dropped: a batch whose transaction fails (the database locked, down,
//! or out of connections) is retried, with back-off, until it commits, while callers waiting for
//! it keep waiting and new events queue behind it. The queue is bounded; once it is full, callers
//! are refused at once (the API answers 503 with `Retry-After`) rather than accepted and lost.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use lunli_governance::review::NewReview;
use lunli_governance::store::Store;
use lunli_governance::{Governance, GovernanceError, PendingEvent};
use lunli_norms::Catalogue;
use tokio::sync::oneshot;

/// Most events committed in one transaction.
const MAX_BATCH: usize = 1024;
/// First and longest wait before retrying a failed batch.
const RETRY_FIRST: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(1);

type Ack = oneshot::Sender<u64>;

/// An event, the review it opens (if any) and who waits for its commit (if anyone).
type Item = (PendingEvent, Option<NewReview>, Option<Ack>);

/// Hands events to the writer thread.
#[derive(Clone)]
pub struct Recorder {
    tx: SyncSender<Item>,
    observer: Arc<dyn RecorderObserver>,
    /// Declared after `tx`, so dropped after it: see [`Writer`].
    writer: Writer,
}

/// The writer thread, woken when an event somebody waits for is queued, and when a `Recorder`
/// is dropped (after its sender, so that the last drop is seen). While a batch lingers the
/// writer is parked rather than blocked on the queue: an event nobody waits for then costs its
/// sender no wake-up of the writer (a system call and a context switch each, at tens of
/// thousands a second).
#[derive(Clone)]
struct Writer(std::thread::Thread);

impl Drop for Writer {
    fn drop(&mut self) {
        self.0.unpark();
    }
}

/// Batch sizes, failures and refusals, for metrics.
pub trait RecorderObserver: Send + Sync + 'static {
    fn batch(&self, size: usize);
    fn failed(&self, size: usize);
    /// An event was refused because the queue was full.
    fn overloaded(&self) {}
}

impl Recorder {
    /// Starts the writer thread over `store`, with at most `queue` events (at least one)
    /// waiting for it; beyond that, callers are refused. A batch nobody waits for is held up to
    /// `linger` for more (see the module documentation; zero commits at once). The thread ends,
    /// after writing everything queued, once every clone of the returned `Recorder` is dropped;
    /// join the handle then.
    pub fn start<S: Store + Send + Sync + 'static>(
        store: Arc<S>,
        catalogue: Arc<Catalogue>,
        observer: Arc<dyn RecorderObserver>,
        queue: usize,
        linger: Duration,
    ) -> Result<(Self, std::thread::JoinHandle<()>), std::io::Error> {
        let (tx, rx) = sync_channel(queue.max(1));
        let writer = observer.clone();
        let handle = std::thread::Builder::new()
            .name("lunli-ledger-writer".into())
            .spawn(move || write_loop(&*store, &catalogue, &rx, &*writer, linger))?;
        let writer = Writer(handle.thread().clone());
        Ok((Self { tx, observer, writer }, handle))
    }

    /// Queues an event; the returned receiver resolves with its ledger index once committed.
    pub fn record(&self, event: PendingEvent) -> Result<oneshot::Receiver<u64>, GovernanceError> {
        let (ack, done) = oneshot::channel();
        self.send((event, None, Some(ack)))?;
        Ok(done)
    }

    /// Queues an event without waiting for it.
    pub fn record_later(&self, event: PendingEvent) -> Result<(), GovernanceError> {
        self.send((event, None, None))
    }

    /// Queues a decision together with the review-queue item it opens; the receiver resolves
    /// once both are committed.
    pub fn record_with_review(
        &self,
        event: PendingEvent,
        review: NewReview,
    ) -> Result<oneshot::Receiver<u64>, GovernanceError> {
        let (ack, done) = oneshot::channel();
        self.send((event, Some(review), Some(ack)))?;
        Ok(done)
    }

    /// Queues `item`; one somebody waits for also wakes a lingering writer (see [`Writer`]).
    fn send(&self, item: Item) -> Result<(), GovernanceError> {
        let waited_for = item.2.is_some();
        self.tx.try_send(item).map_err(|e| GovernanceError::Storage {
            message: match e {
                TrySendError::Full(_) => {
                    self.observer.overloaded();
                    "the ledger writer is overloaded; try again".into()
                }
                TrySendError::Disconnected(_) => "the ledger writer has stopped".into(),
            },
            source: None,
        })?;
        if waited_for {
            self.writer.0.unpark();
        }
        Ok(())
    }
}

fn write_loop<S: Store>(
    store: &S,
    catalogue: &Catalogue,
    rx: &Receiver<Item>,
    observer: &dyn RecorderObserver,
    linger: Duration,
) {
    let gov = Governance::new(catalogue, store);
    // Blocks for the first event, then gathers the batch.
    while let Ok(first) = rx.recv() {
        let batch = gather(rx, first, Instant::now() + linger);
        let mut acks = Vec::with_capacity(batch.len());
        let events: Vec<(PendingEvent, Option<NewReview>)> = batch
            .into_iter()
            .map(|(event, review, ack)| {
                acks.push(ack);
                (event, review)
            })
            .collect();
        // A failed transaction stored nothing: write the same batch again until it commits.
        let mut wait = RETRY_FIRST;
        let indices = loop {
            match gov.record_decisions(&events) {
                Ok(indices) => break indices,
                Err(e) => {
                    observer.failed(acks.len());
                    tracing::error!("ledger batch of {} failed; retrying in {wait:?}: {e}", acks.len());
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        };
        observer.batch(acks.len());
        for (ack, index) in acks.into_iter().zip(indices) {
            if let Some(ack) = ack {
                let _ = ack.send(index);
            }
        }
    }
}

/// The batch that starts with `first`: whatever else is queued already and, while nobody in it
/// waits for its commit, whatever arrives until `until`; at most [`MAX_BATCH`] events. Lingering
/// parks the thread (see [`Writer`]); an event somebody waits for, or the last sender gone, ends it.
fn gather(rx: &Receiver<Item>, first: Item, until: Instant) -> Vec<Item> {
    let mut waited_for = first.2.is_some();
    let mut batch = vec![first];
    loop {
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(item) => {
                    waited_for |= item.2.is_some();
                    batch.push(item);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return batch,
            }
        }
        let now = Instant::now();
        if waited_for || batch.len() >= MAX_BATCH || now >= until {
            return batch;
        }
        std::thread::park_timeout(until - now);
    }
}
