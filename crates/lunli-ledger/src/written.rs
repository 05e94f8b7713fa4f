//! The entries this process wrote, remembered by their leaf hash and the predecessor they name,
//! so that signing a head can recognise them without parsing and re-canonicalising each one.
//!
//! A head must never vouch for a row altered in the database after it was written, so signing
//! checks every new row (`check_row` in [`crate::store`]): it parses the stored bytes, writes
//! them out again in canonical form, compares and hashes — about 10 µs an entry, a third of a
//! core at 30,000 entries a second. For a row this process wrote, hashing the stored bytes is
//! enough: when they hash to the leaf hash the writer computed from the canonical bytes it made
//! for that index, they are those bytes, so they are a canonical entry with that index naming
//! the remembered predecessor. A row that does not hash to what was remembered (altered, moved,
//! written by another instance, or never remembered) gets the full check, so the guarantee is the
//! same; only the work is less. What a writer remembers of an append that rolled back is harmless
//! for the same reason: it still describes a well-formed entry, and a different row at that index
//! does not match it.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::hash::Hash;

/// Entries remembered at most (64 bytes each, 32 MiB in all): at 30,000 entries a second, half a
/// minute of appends between two heads. Past it the oldest are forgotten and signing checks them
/// in full.
pub const REMEMBERED: usize = 1 << 19;

/// What the writer made of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenLink {
    /// The leaf hash of the entry's canonical bytes.
    pub leaf: Hash,
    /// The leaf hash the entry records as its predecessor's (`prev_leaf_hash`).
    pub prev: Hash,
}

/// The most recent run of consecutive entries this process wrote (see the module documentation).
#[derive(Debug, Default)]
pub struct WrittenLinks {
    run: Mutex<Run>,
}

#[derive(Debug, Default)]
struct Run {
    /// The index of `links[0]`.
    first: u64,
    links: VecDeque<WrittenLink>,
}

impl WrittenLinks {
    /// Remembers that the entry at `index` was written as `link`. Indices normally come one after
    /// the other; the same index again (a batch retried after a rollback) replaces what was
    /// remembered, and a gap (entries appended by another instance) starts a new run.
    pub fn record(&self, index: u64, link: WrittenLink) {
        let mut run = self.lock();
        let end = run.first + run.links.len() as u64;
        if index == end && run.links.len() < REMEMBERED {
            run.links.push_back(link);
        } else if index == end {
            run.links.pop_front();
            run.first += 1;
            run.links.push_back(link);
        } else if index >= run.first && index < end {
            let at = (index - run.first) as usize;
            run.links[at] = link;
            // What followed it was written on top of the old entry and is stale now.
            run.links.truncate(at + 1);
        } else {
            run.links.clear();
            run.first = index;
            run.links.push_back(link);
        }
    }

    /// What this process wrote at `index`, if it still remembers.
    pub fn get(&self, index: u64) -> Option<WrittenLink> {
        let run = self.lock();
        let at = usize::try_from(index.checked_sub(run.first)?).ok()?;
        run.links.get(at).copied()
    }

    /// Forgets the entries before `index`: a head covers them, and signing reads only what
    /// follows the latest head.
    pub fn forget_before(&self, index: u64) {
        let mut run = self.lock();
        let drop = index.saturating_sub(run.first).min(run.links.len() as u64);
        run.links.drain(..drop as usize);
        run.first += drop;
    }

    /// How many entries are remembered.
    pub fn len(&self) -> usize {
        self.lock().links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Run> {
        // The run holds plain values, consistent after every statement: a panic elsewhere while
        // it was locked leaves nothing half-done.
        self.run.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(n: u8) -> WrittenLink {
        WrittenLink { leaf: Hash::from([n; 32]), prev: Hash::from([n.wrapping_sub(1); 32]) }
    }

    #[test]
    fn remembers_a_run_and_forgets_what_a_head_covers() {
        let written = WrittenLinks::default();
        for i in 0..5u8 {
            written.record(10 + u64::from(i), link(i));
        }
        assert_eq!(written.get(9), None);
        assert_eq!(written.get(10), Some(link(0)));
        assert_eq!(written.get(14), Some(link(4)));
        assert_eq!(written.get(15), None);
        written.forget_before(13);
        assert_eq!((written.get(12), written.get(13), written.len()), (None, Some(link(3)), 2));
        written.forget_before(100);
        assert!(written.is_empty());
        // Forgetting everything keeps the place: the next entry continues the run.
        written.record(15, link(5));
        assert_eq!(written.get(15), Some(link(5)));
    }

    #[test]
    fn a_rewritten_index_replaces_the_old_and_drops_what_followed() {
        let written = WrittenLinks::default();
        for i in 0..4u8 {
            written.record(u64::from(i), link(i));
        }
        written.record(1, link(9));
        assert_eq!(written.get(1), Some(link(9)));
        assert_eq!(written.get(2), None, "entry 2 named the old entry 1");
        assert_eq!(written.len(), 2);
    }

    #[test]
    fn a_gap_starts_a_new_run() {
        let written = WrittenLinks::default();
        written.record(0, link(0));
        written.record(1, link(1));
        written.record(7, link(7));
        assert_eq!((written.get(0), written.get(1), written.get(7)), (None, None, Some(link(7))));
        written.record(3, link(3));
        assert_eq!((written.get(3), written.get(7)), (Some(link(3)), None));
    }

    #[test]
    fn holds_at_most_remembered_links() {
        let written = WrittenLinks::default();
        let extra = 3;
        for i in 0..(REMEMBERED as u64 + extra) {
            written.record(i, link(i as u8));
        }
        assert_eq!(written.len(), REMEMBERED);
        assert_eq!(written.get(extra - 1), None);
        assert_eq!(written.get(extra), Some(link(extra as u8)));
    }
}
