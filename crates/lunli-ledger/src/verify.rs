//! The offline verifier: given entries, signed heads and the public key an auditor trusts, it
//! recomputes everything and names the first thing that is wrong.
//!
//! For each entry, in order, [`Verifier`] checks that
//! 1. its `index` is the next one (0, 1, 2, …) — otherwise an entry is **missing** (its index
//!    never comes), **reordered** (it comes later) or **inserted** (two entries claim one index);
//! 2. its payload still hashes to its `payload_sha256` — otherwise it was **modified**;
//! 3. its canonical bytes can be formed (see [`crate::entry`]) — otherwise it is **malformed**;
//! 4. its `prev_leaf_hash` is the leaf hash of the entry before it — otherwise the **chain is
//!    broken**; when the entry after it chains correctly, the break is pinned on the entry before
//!    (it was modified after the next entry recorded its hash);
//!
//! and for each signed head, when the entries reach its size, that its signature verifies
//! (**bad signature**) and that its root is the Merkle root recomputed from the entries
//! (**root mismatch** — some entry since the last good head was changed). A head whose size is
//! beyond the last entry means entries were cut off the end (**truncated**).
//!
//! Memory is O(log n + number of heads) whatever the number of entries: feed a store's rows to
//! [`Verifier::push`] (or [`verify_entries`]) one at a time. [`verify_bundle`] does the same for an
//! exported [`Bundle`], whose JSON form is
//!
//! ```json
//! {"format_version": 1,
//!  "public_key_pem": "-----BEGIN PUBLIC KEY-----\n…\n-----END PUBLIC KEY-----\n",
//!  "entries": [{"action": …, "v": 1}, …],
//!  "heads": [{"size": 20, "root": "64 hex digits", "timestamp": "2026-05-01T09:30:00.000Z",
//!             "signature": "128 hex digits"}, …]}
//! ```
//!
//! with entries as in [`crate::entry`] and heads as in [`crate::head`]. Unknown members are
//! refused rather than ignored, so nothing unverified travels inside a bundle.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::error::KeyError;
use crate::hash::Hash;
use crate::head::SignedTreeHead;
use crate::key::{VerifyingKey, verifying_key_from_pem, verifying_key_to_pem};
use crate::tree::CompactTree;

/// The bundle format this crate writes and reads.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;

/// An export of the ledger that an auditor can check with nothing but this crate and a public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// [`BUNDLE_FORMAT_VERSION`] when written by this crate.
    pub format_version: u32,
    /// The public key the heads claim to be signed with (SubjectPublicKeyInfo PEM). Informative:
    /// verification uses the key the auditor trusts, and reports a bundle naming another.
    pub public_key_pem: String,
    /// The entries, in index order.
    pub entries: Vec<Entry>,
    /// Signed tree heads, in any order.
    pub heads: Vec<SignedTreeHead>,
}

impl Bundle {
    /// A bundle of the current format.
    pub fn new(key: &VerifyingKey, entries: Vec<Entry>, heads: Vec<SignedTreeHead>) -> Result<Bundle, KeyError> {
        Ok(Bundle { format_version: BUNDLE_FORMAT_VERSION, public_key_pem: verifying_key_to_pem(key)?, entries, heads })
    }
}

/// How an entry was found to have changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The payload no longer hashes to the entry's `payload_sha256`.
    Payload,
    /// The entry no longer hashes to the `prev_leaf_hash` the next entry recorded.
    Content,
}

/// The first thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The bundle is of a format this verifier does not read.
    UnsupportedFormat {
        /// The bundle's `format_version`.
        found: u32,
    },
    /// The bundle names a public key other than the trusted one.
    KeyMismatch {
        /// What the bundle names instead.
        detail: String,
    },
    /// An entry that cannot be hashed (see [`crate::EntryError`]).
    Malformed {
        /// The entry's index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// An entry whose content changed after it was written.
    Modified {
        /// The entry's index.
        index: u64,
        /// What shows it.
        change: Change,
    },
    /// An entry that is not there; the ones after it are.
    Missing {
        /// The index of the missing entry.
        index: u64,
        /// The index of the entry found in its place.
        next: u64,
    },
    /// Entries cut off the end: a signed head covers more entries than there are.
    Truncated {
        /// The first index that is missing (the number of entries present).
        index: u64,
        /// The size the signed head covers.
        head_size: u64,
    },
    /// An entry that comes later than its index says.
    Reordered {
        /// The index expected at this position, which turns up later.
        index: u64,
        /// The index found in its place.
        found: u64,
    },
    /// Two entries claiming the same index: one of them was inserted.
    Inserted {
        /// The index both claim.
        claimed: u64,
        /// Where (counting from 0) the first of them stands.
        first: u64,
        /// Where the second stands.
        second: u64,
    },
    /// An entry whose `prev_leaf_hash` is not the leaf hash of the entry before it, in a way that
    /// does not single out one changed entry.
    ChainBroken {
        /// The entry whose link is wrong.
        index: u64,
    },
    /// A signed head whose signature does not verify with the trusted key.
    BadSignature {
        /// The size the head claims.
        size: u64,
    },
    /// A signed head whose root is not the root of the entries it covers.
    RootMismatch {
        /// The head's size.
        size: u64,
        /// The size of the last head that matched (0 if none): the change lies in `since..size`.
        since: u64,
        /// The root the head carries.
        signed: Hash,
        /// The root of entries `0..size` as exported.
        computed: Hash,
    },
}

impl Problem {
    /// The index of the first bad entry, when the problem pins one down.
    pub fn index(&self) -> Option<u64> {
        match self {
            Problem::Malformed { index, .. }
            | Problem::Modified { index, .. }
            | Problem::Missing { index, .. }
            | Problem::Truncated { index, .. }
            | Problem::Reordered { index, .. }
            | Problem::ChainBroken { index } => Some(*index),
            Problem::Inserted { first, .. } => Some(*first),
            Problem::UnsupportedFormat { .. }
            | Problem::KeyMismatch { .. }
            | Problem::BadSignature { .. }
            | Problem::RootMismatch { .. } => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnsupportedFormat { found } => write!(
                f,
                "the bundle is format version {found}, but this verifier reads version {BUNDLE_FORMAT_VERSION}; \
                 use a lunli release that reads it"
            ),
            Problem::KeyMismatch { detail } => {
                write!(f, "the bundle was not exported for the public key you trust: {detail}")
            }
            Problem::Malformed { index, reason } => write!(f, "entry {index} cannot be hashed: {reason}"),
            Problem::Modified { index, change: Change::Payload } => {
                write!(f, "entry {index} was modified: its payload no longer matches its payload_sha256")
            }
            Problem::Modified { index, change: Change::Content } => write!(
                f,
                "entry {index} was modified: it no longer hashes to the prev_leaf_hash that entry {} recorded",
                index.saturating_add(1)
            ),
            Problem::Missing { index, next } => {
                write!(
                    f,
                    "entry {index} is missing (deleted): entry {next} stands in its place and {index} never comes"
                )
            }
            Problem::Truncated { index, head_size } => write!(
                f,
                "entries from {index} on are missing: a signed head covers {head_size} entries, the export ends at {index}"
            ),
            Problem::Reordered { index, found } => {
                write!(f, "entry {index} is out of order: entry {found} stands in its place and {index} comes later")
            }
            Problem::Inserted { claimed, first, second } => write!(
                f,
                "an entry was inserted: the entries at positions {first} and {second} both claim index {claimed}"
            ),
            Problem::ChainBroken { index: 0 } => {
                write!(f, "entry 0 was altered: its prev_leaf_hash must be 64 zeros")
            }
            Problem::ChainBroken { index } => write!(
                f,
                "entry {index} does not follow entry {}: its prev_leaf_hash is not that entry's leaf hash \
                 (one of them was altered, or entries between them were replaced)",
                index - 1
            ),
            Problem::BadSignature { size } => write!(
                f,
                "the signed head of size {size} does not verify with the trusted key: it was altered or signed by another key"
            ),
            Problem::RootMismatch { size, since, signed, computed } => write!(
                f,
                "the signed head of size {size} has root {signed}, but entries 0..{size} hash to {computed}: \
                 an entry from {since} to {} was changed, or the history was rewritten",
                size.saturating_sub(1)
            ),
        }
    }
}

/// What verification found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Entries read. Verification stops reading once the first problem is settled.
    pub entries_read: u64,
    /// How many entries, from index 0, the recomputed tree holds: those read before the first
    /// problem showed (when no problem, all of them).
    pub size: u64,
    /// The Merkle root of those `size` entries; with no problem, the root of the whole log.
    pub root: Hash,
    /// Signed heads whose signature and root checked out.
    pub heads_verified: u64,
    /// The first problem, or `None` if everything checked out.
    pub problem: Option<Problem>,
}

impl Report {
    /// Everything checked out.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }

    /// The index of the first bad entry, when the problem pins one down.
    pub fn first_bad_index(&self) -> Option<u64> {
        self.problem.as_ref().and_then(Problem::index)
    }
}

/// Where the verifier stands.
#[derive(Clone, Debug)]
enum State {
    /// Every entry so far checked out.
    Checking,
    /// A head at the current size had another root; the next entry may show that the last entry
    /// was the one changed.
    RootMismatched(Problem),
    /// Entry `index` does not chain to the entry before it; the entry after it decides whether the
    /// entry before was changed.
    ChainBreak { index: u64, leaf: Hash, otherwise: Option<Problem> },
    /// Entry `index` was not where expected, entry `found` stood there; watching whether
    /// `index` comes later (reordered) and whether `found` comes again (inserted).
    Gap { index: u64, found: u64, seen_later: bool },
    /// Settled.
    Done(Problem),
}

/// Streaming verification: push entries in the order stored, then [`Verifier::finish`].
#[derive(Clone, Debug)]
pub struct Verifier {
    key: VerifyingKey,
    /// Heads not yet reached, biggest size first (so the next one is at the end).
    heads: Vec<SignedTreeHead>,
    tree: CompactTree,
    prev_leaf: Hash,
    last_good_head: u64,
    heads_verified: u64,
    entries_read: u64,
    state: State,
}

impl Verifier {
    /// A verifier for a log whose heads are `heads` (any order), trusting `key`.
    pub fn new(key: &VerifyingKey, heads: &[SignedTreeHead]) -> Verifier {
        let mut heads = heads.to_vec();
        heads.sort_by_key(|signed| std::cmp::Reverse(signed.head.size));
        let mut verifier = Verifier {
            key: *key,
            heads,
            tree: CompactTree::new(),
            prev_leaf: Hash::ZERO,
            last_good_head: 0,
            heads_verified: 0,
            entries_read: 0,
            state: State::Checking,
        };
        verifier.state = verifier.check_heads();
        verifier
    }

    /// The verdict cannot change any more: further entries are ignored, and a caller may stop
    /// reading.
    pub fn is_decided(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &Entry) {
        // Where this entry stands in what was read; the tree holds only the entries that checked out.
        let here = self.entries_read;
        self.entries_read = self.entries_read.saturating_add(1);
        let position = self.tree.size();
        self.state = match std::mem::replace(&mut self.state, State::Checking) {
            State::Done(problem) => State::Done(problem),
            State::Gap { index, found, .. } if entry.index == found => {
                State::Done(Problem::Inserted { claimed: found, first: index, second: here })
            }
            State::Gap { index, found, seen_later } => {
                State::Gap { index, found, seen_later: seen_later || entry.index == index }
            }
            State::ChainBreak { index, leaf, otherwise } => {
                if entry.index == index + 1 && entry.prev_leaf_hash == leaf {
                    // The entry after the break still chains: the break is the entry before it.
                    State::Done(Problem::Modified { index: index.saturating_sub(1), change: Change::Content })
                } else {
                    State::Done(otherwise.unwrap_or(Problem::ChainBroken { index }))
                }
            }
            State::RootMismatched(mismatch) => {
                let breaks_chain = entry.index == position && entry.prev_leaf_hash != self.prev_leaf;
                match breaks_chain.then(|| entry.leaf_hash()) {
                    Some(Ok(leaf)) => State::ChainBreak { index: position, leaf, otherwise: Some(mismatch) },
                    _ => State::Done(mismatch),
                }
            }
            State::Checking => self.check(position, entry),
        };
    }

    /// Checks an entry while everything before it checked out.
    fn check(&mut self, position: u64, entry: &Entry) -> State {
        if entry.index > position {
            return State::Gap { index: position, found: entry.index, seen_later: false };
        }
        if entry.index < position {
            // Every entry before checked out, so the first claimant stands at its own index.
            return State::Done(Problem::Inserted { claimed: entry.index, first: entry.index, second: position });
        }
        let index = entry.index;
        let malformed = |err: crate::EntryError| State::Done(Problem::Malformed { index, reason: err.to_string() });
        match entry.payload_digest() {
            Ok(digest) if digest == entry.payload_sha256 => {}
            Ok(_) => return State::Done(Problem::Modified { index, change: Change::Payload }),
            Err(err) => return malformed(err),
        }
        let leaf = match entry.leaf_hash() {
            Ok(leaf) => leaf,
            Err(err) => return malformed(err),
        };
        if entry.prev_leaf_hash != self.prev_leaf {
            if index == 0 {
                return State::Done(Problem::ChainBroken { index });
            }
            return State::ChainBreak { index, leaf, otherwise: None };
        }
        self.tree.push(leaf);
        self.prev_leaf = leaf;
        self.check_heads()
    }

    /// Checks the heads whose size the entries have just reached.
    fn check_heads(&mut self) -> State {
        let size = self.tree.size();
        while self.heads.last().is_some_and(|next| next.head.size == size) {
            let Some(signed) = self.heads.pop() else { break };
            if signed.verify(&self.key).is_err() {
                return State::Done(Problem::BadSignature { size });
            }
            let computed = self.tree.root();
            if signed.head.root != computed {
                let mismatch =
                    Problem::RootMismatch { size, since: self.last_good_head, signed: signed.head.root, computed };
                return if size == 0 { State::Done(mismatch) } else { State::RootMismatched(mismatch) };
            }
            self.heads_verified += 1;
            self.last_good_head = size;
        }
        State::Checking
    }

    /// The verdict once every entry has been pushed.
    pub fn finish(self) -> Report {
        let problem = match self.state {
            State::Done(problem) | State::RootMismatched(problem) => Some(problem),
            State::Gap { index, found, seen_later: true } => Some(Problem::Reordered { index, found }),
            State::Gap { index, found, seen_later: false } => Some(Problem::Missing { index, next: found }),
            State::ChainBreak { index, otherwise, .. } => Some(otherwise.unwrap_or(Problem::ChainBroken { index })),
            State::Checking => self.heads.last().map(|beyond| {
                let head_size = beyond.head.size;
                match beyond.verify(&self.key) {
                    Err(_) => Problem::BadSignature { size: head_size },
                    Ok(()) => Problem::Truncated { index: self.tree.size(), head_size },
                }
            }),
        };
        Report {
            entries_read: self.entries_read,
            size: self.tree.size(),
            root: self.tree.root(),
            heads_verified: self.heads_verified,
            problem,
        }
    }
}

/// Verifies entries streamed from a store, in the order stored. Stops reading once the first
/// problem is settled; a read error is returned as it is.
pub fn verify_entries<I, E>(entries: I, heads: &[SignedTreeHead], key: &VerifyingKey) -> Result<Report, E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    let mut verifier = Verifier::new(key, heads);
    for entry in entries {
        verifier.push(&entry?);
        if verifier.is_decided() {
            break;
        }
    }
    Ok(verifier.finish())
}

/// Verifies an exported bundle against the public key the auditor trusts.
pub fn verify_bundle(bundle: &Bundle, key: &VerifyingKey) -> Report {
    let mut verifier = Verifier::new(key, &bundle.heads);
    for entry in &bundle.entries {
        verifier.push(entry);
        if verifier.is_decided() {
            break;
        }
    }
    let mut report = verifier.finish();
    let bundle_problem = if bundle.format_version != BUNDLE_FORMAT_VERSION {
        Some(Problem::UnsupportedFormat { found: bundle.format_version })
    } else {
        match verifying_key_from_pem(&bundle.public_key_pem) {
            Ok(named) if named == *key => None,
            Ok(named) => {
                Some(Problem::KeyMismatch { detail: format!("it names the key {}", hex::encode(named.to_bytes())) })
            }
            Err(err) => Some(Problem::KeyMismatch { detail: err.to_string() }),
        }
    };
    if bundle_problem.is_some() {
        report.problem = bundle_problem;
    }
    report
}
