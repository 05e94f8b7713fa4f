//! Signed tree heads while the gateway runs. Every `head_interval_millis` a head is signed over
//! the decisions appended since the last one, and a last one when the gateway stops, so an
//! auditor's proofs reach every decision (Art. 12). Signing reads the new entries on a snapshot
//! and holds writers up only briefly (see `Ledger::sign_head`); it runs on a thread of its own
//! because the stores block.

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use lunli_ledger::store::{Ledger, SignOutcome};

/// The thread that signs heads; stopped by [`HeadSigner::finish`].
pub(crate) struct HeadSigner {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl HeadSigner {
    pub fn start<S: Ledger + Send + Sync + 'static>(store: Arc<S>, every: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new().name("lunli-heads".into()).spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                sign_head(&*store);
            }
            // Stopped: a last head over everything written, the final group commit included.
            sign_head(&*store);
        })?;
        Ok(HeadSigner { stop, thread })
    }

    /// Stops the periodic signing after one last head; returns when it is signed (or failed,
    /// which is logged: the entries are durable either way and the next run signs them).
    pub fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Signs a head over the whole ledger unless the latest one covers it; logs what happened.
pub fn sign_head<S: Ledger>(store: &S) {
    let now = lunli_ledger::Timestamp::from_system_time(SystemTime::now());
    match now.map(|now| store.sign_head(now)) {
        Ok(Ok(SignOutcome::New(head))) => tracing::info!(size = head.head.size, "signed a tree head"),
        Ok(Ok(SignOutcome::AlreadySigned(_))) => {}
        Ok(Err(e)) => tracing::warn!("cannot sign a tree head: {e}"),
        Err(e) => tracing::warn!("cannot read the clock for a tree head: {e}"),
    }
}
