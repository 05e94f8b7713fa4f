//! Group commit: many threads append events, one writer thread commits them together.
//!
//! With `synchronous = FULL` every commit waits for an fsync, which caps one writer at a few
//! hundred to a few thousand commits a second. [`GroupCommit`] lets any number of threads call
//! [`GroupCommit::append`]: a writer thread takes whatever requests are waiting (up to a batch
//! limit), appends them all in one transaction with [`SqliteStore::append_batch`], commits once,
//! and only then answers each caller with its entry's index. An answered append is therefore as
//! durable as any other commit; an unanswered one may or may not be in the ledger, exactly as
//! with a single commit interrupted by a crash.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use lunli_governance::GovernanceError;
use lunli_governance::store::Event;

use crate::SqliteStore;

/// The default largest number of events committed together.
pub const DEFAULT_MAX_BATCH: usize = 1024;

struct Request {
    event: Event,
    reply: SyncSender<Result<u64, GovernanceError>>,
}

/// A writer thread that appends events to a store's ledger in batches. Share it between threads
/// (`&GroupCommit` or `Arc<GroupCommit>`); dropping it lets the writer finish what was sent and
/// waits for it.
pub struct GroupCommit {
    sender: Option<Sender<Request>>,
    writer: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the writer thread for `store`, committing at most [`DEFAULT_MAX_BATCH`] events at once.
    pub fn start(store: Arc<SqliteStore>) -> std::io::Result<Self> {
        GroupCommit::with_max_batch(store, DEFAULT_MAX_BATCH)
    }

    /// Starts the writer thread, committing at most `max_batch` events (at least 1) at once.
    pub fn with_max_batch(store: Arc<SqliteStore>, max_batch: usize) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("lunli-ledger-writer".into())
            .spawn(move || write_batches(&store, &receiver, max_batch.max(1)))?;
        Ok(GroupCommit { sender: Some(sender), writer: Some(writer) })
    }

    /// Appends `event` to the ledger and returns its index once the transaction holding it has
    /// committed (and so is on disk).
    pub fn append(&self, event: Event) -> Result<u64, GovernanceError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let stopped =
            || GovernanceError::Storage { message: "the ledger writer thread has stopped".into(), source: None };
        let sender = self.sender.as_ref().ok_or_else(stopped)?;
        sender.send(Request { event, reply }).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        // Closing the channel ends the writer's loop once it has committed what was sent.
        drop(self.sender.take());
        if let Some(writer) = self.writer.take() {
            // A panicked writer has already failed its callers; nothing more to report here.
            let _ = writer.join();
        }
    }
}

fn write_batches(store: &SqliteStore, requests: &Receiver<Request>, max_batch: usize) {
    while let Ok(first) = requests.recv() {
        let (mut events, mut replies) = (vec![first.event], vec![first.reply]);
        while events.len() < max_batch {
            match requests.try_recv() {
                Ok(Request { event, reply }) => {
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.append_batch(&events) {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // A caller that gave up waiting is no reason to stop the others.
                    let _ = reply.send(result);
                }
            }
            Err(err) => {
                let message = format!("the batch of {} ledger appends was not committed: {err}", events.len());
                for reply in replies {
                    let _ = reply.send(Err(GovernanceError::Storage { message: message.clone(), source: None }));
                }
            }
        }
    }
}
