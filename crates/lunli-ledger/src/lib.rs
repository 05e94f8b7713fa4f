//! The pure core of lunli's tamper-evident ledger (Art. 12 of the norms asks for verifiable,
//! auditable, supervisable and traceable AI; Art. 3(5) for accountability that cannot be
//! evaded): every change and decision becomes an [`Entry`], entries are the leaves of an
//! RFC 6962 / RFC 9162 Merkle tree, and the tree's size and root are signed as
//! [`SignedTreeHead`]s with Ed25519. From the entries, the heads and a public key alone,
//! [`verify_bundle`] (or the streaming [`Verifier`]) recomputes everything and names the first
//! entry that was modified, deleted, inserted or reordered, or the first head that does not hold.
//!
//! This crate is hashing, proofs, canonical bytes, keys and verification — nothing else. It has no
//! database, no clock and no network, prints nothing and reads no environment; a store (SQLite,
//! PostgreSQL) feeds it entries and leaf hashes in index order, one at a time, through
//! [`CompactTree`], [`LeafSource`] and [`Verifier`], so memory stays O(log n) for any log size.
//! Auditors can use the verifier and [`proof`] without anything else from lunli. The ledger's
//! operations over a database's tables — signing heads, verifying, proofs, export — are written
//! once in [`store`] against a small table interface a store crate implements.
//!
//! Start from [`Entry`] (what is logged and its canonical bytes, documented in [`entry`]),
//! [`CompactTree`] (roots while appending), [`TreeHead::sign`] and [`verify_bundle`].
//!
//! | module     | what it holds |
//! |------------|---------------|
//! | [`hash`]   | [`Hash`](struct@Hash), [`leaf_hash`], [`node_hash`] |
//! | [`tree`]   | [`tree::root`], [`CompactTree`] |
//! | [`proof`]  | inclusion and consistency proofs: build from a [`LeafSource`], verify from hashes |
//! | [`entry`]  | [`Entry`] and its canonical JSON (RFC 8785) form |
//! | [`payload`] | [`CanonicalPayload`]: a payload made canonical ahead of its entry, by [`CanonicalObject`] |
//! | [`time`]   | [`Timestamp`], the one spelling of time that is hashed and signed |
//! | [`key`]    | Ed25519 keys and their PEM files |
//! | [`head`]   | [`TreeHead`], [`SignedTreeHead`] and the exact signed message |
//! | [`verify`] | [`Bundle`], [`Verifier`], [`Report`], [`Problem`] |
//! | [`store`]  | [`store::Ledger`] over any database's [`store::Tables`]: sign, verify, prove, export; key files |
//! | [`written`] | [`WrittenLinks`]: the entries this process wrote, recognised by hash when a head is signed |

pub mod entry;
mod error;
pub mod hash;
pub mod head;
pub mod key;
pub mod payload;
pub mod proof;
pub mod store;
pub mod time;
pub mod tree;
pub mod verify;
pub mod written;

pub use entry::{Entry, EntryContent, NewEntry, PreparedContent, canonical_entry, canonical_prepared_entry};
pub use error::{
    BadSignature, EntryError, KeyError, LeafOutOfRange, ParseError, PayloadError, ProofBuildError, ProofError,
    TreeError,
};
pub use hash::{Hash, leaf_hash, node_hash};
pub use head::{SignedTreeHead, TreeHead};
pub use key::{SigningKey, VerifyingKey};
pub use payload::{CanonicalObject, CanonicalPayload};
pub use proof::LeafSource;
pub use time::Timestamp;
pub use tree::CompactTree;
pub use verify::{Bundle, Problem, Report, Verifier, verify_bundle, verify_entries};
pub use written::{WrittenLink, WrittenLinks};
