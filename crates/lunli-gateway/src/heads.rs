//! Signed tree heads while the gateway runs. Every `head_interval_millis` a head is signed over
//! the decisions appended since the last one, and a last one when the gateway stops, so an
//! auditor's proofs reach every decision (Art. 12). Signing reads the new entries on a snapshot
//! and holds writers up only briefly (see `Ledger::sign_head`); it runs on a thread of its own
//! because the stores block.
//!
//! Checking the new entries is a burst of CPU that lands on the cores answering requests: about
//! 7 µs an entry in full, 0.35 µs for an entry this gateway wrote itself (`lunli_ledger::written`),
//! still a tenth of a second of one core every ten at 30,000 decisions a second. The thread runs
//! at a lower priority (nice [`NICE`]), so the request threads and the ledger writer come first
//! and a head waits for idle time instead (bench/gateway.sh rate, 20,000 decisions a second, when
//! every entry was checked in full: p99 122 ms at the requests' priority, see docs/gateway.md).

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
            if let Err(e) = yield_to_requests() {
                tracing::debug!("the head signer keeps the requests' priority: {e}");
            }
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

/// The head signer's nice value: a thread at nice 10 weighs about a tenth of one at 0.
const NICE: i32 = 10;

/// Lowers the calling thread's priority to [`NICE`] unless it is lower already (on Linux;
/// elsewhere it stays as it is).
fn yield_to_requests() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let me = Some(rustix::thread::gettid());
        let now = rustix::process::getpriority_process(me)?;
        if now < NICE {
            rustix::process::setpriority_process(me, NICE)?;
        }
    }
    Ok(())
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The signer's thread, and only it, runs at the lower priority.
    #[test]
    fn the_signer_yields_and_the_rest_do_not() {
        let me = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("priority");
        let before = me();
        let lowered = std::thread::spawn(move || {
            yield_to_requests().expect("lowering a thread's priority needs no privilege");
            me()
        })
        .join()
        .expect("thread");
        assert_eq!(lowered, NICE.max(before));
        assert_eq!(me(), before, "the calling thread keeps its priority");
    }
}
