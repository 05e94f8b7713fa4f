//! The crate's errors. Each says what was wrong with the input and, where it helps, what to do.
//!
//! A *verification* outcome of a whole ledger is not an error but a [`crate::Report`]; the
//! enums here are for single operations: parsing text, building or checking one proof, turning
//! an entry into bytes, handling keys.

use std::path::PathBuf;

use crate::hash::Hash;

/// Text that does not parse as a hash, signature or timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The value has the wrong length.
    #[error("a {what} must be {expected} long, this one is {found}")]
    WrongLength {
        /// What was being parsed.
        what: &'static str,
        /// The required length (bytes, or characters for text forms).
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// Characters other than hexadecimal digits.
    #[error("the {what} is not hexadecimal: {reason}")]
    InvalidHex {
        /// What was being parsed.
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// Not standard, padded base64.
    #[error("the {what} is not standard padded base64: {reason}")]
    InvalidBase64 {
        /// What was being parsed.
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// A timestamp not written exactly as `YYYY-MM-DDTHH:MM:SS.sssZ`.
    #[error(
        "timestamp {input:?} is not a UTC time written as YYYY-MM-DDTHH:MM:SS.sssZ \
         (RFC 3339 with exactly three fractional digits and a Z), e.g. 2026-05-01T09:30:00.000Z"
    )]
    InvalidTimestamp {
        /// The text given.
        input: String,
    },
    /// A time outside the years 0000–9999 that the text form can carry.
    #[error("a timestamp of {millis} ms since 1970-01-01 lies outside the years 0000–9999")]
    TimestampOutOfRange {
        /// Milliseconds since the Unix epoch.
        millis: i128,
    },
}

/// Why an inclusion or consistency proof was rejected (RFC 9162 §2.1.3.2 and §2.1.4.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// An inclusion proof for a leaf the tree does not have.
    #[error("leaf index {index} is not in a tree of size {size}: an inclusion proof needs index < size")]
    IndexOutOfRange {
        /// The leaf index claimed.
        index: u64,
        /// The tree size claimed.
        size: u64,
    },
    /// The proof has too few or too many hashes for the sizes and index given.
    #[error("the proof has {found} hashes, but these sizes need exactly {expected}")]
    WrongProofLength {
        /// How many hashes the sizes and index call for.
        expected: usize,
        /// How many the proof has.
        found: usize,
    },
    /// A consistency proof asked to go from a bigger tree to a smaller one.
    #[error("the second tree (size {size2}) is smaller than the first (size {size1}); a log only grows")]
    SizesReversed {
        /// The first (older) tree size.
        size1: u64,
        /// The second (newer) tree size.
        size2: u64,
    },
    /// A consistency proof from the empty tree, which proves nothing.
    #[error("a consistency proof from the empty tree proves nothing; the first size must be at least 1")]
    EmptyFirstTree,
    /// Two trees of the same size must have the same root.
    #[error("two trees of the same size {size} have different roots")]
    RootsDiffer {
        /// The common size.
        size: u64,
    },
    /// A root given as bytes that cannot be a SHA-256 root.
    #[error("the {which} root is {len} bytes long; a SHA-256 root is 32 bytes")]
    MalformedRoot {
        /// Which root: "tree", "first" or "second".
        which: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The proof is well formed but leads to another root.
    #[error("the proof leads to the {which} root {computed}, not to the expected {expected}")]
    RootMismatch {
        /// Which root: "tree", "first" or "second".
        which: &'static str,
        /// The root that was expected.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
}

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProofBuildError<E> {
    /// An inclusion proof for a leaf the tree does not have.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size asked for.
        size: u64,
    },
    /// A tree bigger than the leaves the source holds.
    #[error("a tree of size {size} was asked for, but the source holds only {available} leaves")]
    SizeBeyondSource {
        /// The tree size asked for.
        size: u64,
        /// How many leaves the source holds.
        available: u64,
    },
    /// Consistency proofs need `0 < size1 <= size2`.
    #[error("a consistency proof needs 0 < size1 <= size2; got size1 = {size1}, size2 = {size2}")]
    InvalidSizes {
        /// The first size asked for.
        size1: u64,
        /// The second size asked for.
        size2: u64,
    },
    /// The leaf source failed (for a database, the query failed).
    #[error("reading leaf hashes failed: {0}")]
    Source(#[source] E),
}

/// A leaf asked of an in-memory [`crate::LeafSource`] that it does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("leaf {index} was asked for, but only {size} leaves are held")]
pub struct LeafOutOfRange {
    /// The index asked for.
    pub index: u64,
    /// How many leaves are held.
    pub size: u64,
}

/// An entry that cannot be turned into canonical bytes, or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// `actor`, `action` or `subject` is empty.
    #[error("entry {index}: the {field} is empty; every entry names who did what to which thing")]
    EmptyField {
        /// The entry's index.
        index: u64,
        /// The empty field.
        field: &'static str,
    },
    /// An index beyond what a JSON number carries exactly.
    #[error("entry index {index} is above 2^53 - 1, the largest integer a canonical JSON number carries exactly")]
    IndexTooLarge {
        /// The index.
        index: u64,
    },
    /// A payload integer that RFC 8785 would round, so that two payloads would share one hash.
    #[error(
        "entry {index}: the payload number {number} at {pointer} is an integer beyond ±(2^53 - 1); \
         RFC 8785 canonical JSON would round it, so record it as a string"
    )]
    UnsafeNumber {
        /// The entry's index.
        index: u64,
        /// A JSON Pointer (RFC 6901) to the number inside the payload.
        pointer: String,
        /// The number as written.
        number: String,
    },
    /// A payload nested deeper than the canonicaliser accepts.
    #[error("entry {index}: the payload is nested deeper than {limit} levels")]
    PayloadTooDeep {
        /// The entry's index.
        index: u64,
        /// The nesting limit.
        limit: usize,
    },
    /// The JSON canonicaliser refused the value.
    #[error("entry {index} could not be written as canonical JSON: {reason}")]
    Canonicalization {
        /// The entry's index.
        index: u64,
        /// The canonicaliser's explanation.
        reason: String,
    },
}

/// A payload written member by member ([`crate::CanonicalObject`]) whose member names would not
/// make canonical JSON: a mistake in the code that names them, refused rather than written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// A name given after one it sorts before (or equal to).
    #[error("the payload member {name:?} was given after {after:?}; canonical JSON needs the names in sorted order")]
    NameOutOfOrder {
        /// The name given.
        name: &'static str,
        /// The name before it.
        after: &'static str,
    },
    /// A name other than lower-case ASCII letters, digits and `_`.
    #[error("the payload member name {name:?} is not plain (a-z, 0-9, _)")]
    NameNotPlain {
        /// The name given.
        name: &'static str,
    },
}

/// A problem creating, reading or writing a signing or verifying key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system gave no randomness for a new key.
    #[error("could not gather randomness for a new signing key: {reason}")]
    Randomness {
        /// The operating system's explanation.
        reason: String,
    },
    /// The text is not the PEM form of an Ed25519 key.
    #[error("this is not a PEM-encoded Ed25519 {what}: {reason}")]
    InvalidPem {
        /// "private key (PKCS#8)" or "public key (SubjectPublicKeyInfo)".
        what: &'static str,
        /// The decoder's explanation.
        reason: String,
    },
    /// The key could not be written as PEM.
    #[error("could not encode the {what} as PEM: {reason}")]
    Encode {
        /// Which key.
        what: &'static str,
        /// The encoder's explanation.
        reason: String,
    },
    /// A signing key file is already there; it is never overwritten.
    #[error("{} already exists; a signing key is never overwritten — move the old one away first", path.display())]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// Reading or writing a key file failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done: "read", "create", "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// A signed tree head whose signature does not verify with the key given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the signature on the tree head of size {size} does not verify with this public key: \
     the head was altered or signed by another key"
)]
pub struct BadSignature {
    /// The size the head claims.
    pub size: u64,
}

/// A compact tree rebuilt from stored parts that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// The number of peaks must equal the number of one bits in the size.
    #[error("a tree of size {size} has {expected} peaks, but {found} were given")]
    WrongPeakCount {
        /// The tree size.
        size: u64,
        /// Peaks a tree of that size has.
        expected: usize,
        /// Peaks given.
        found: usize,
    },
    /// A size no log reaches, reserved so that counting never overflows.
    #[error("a tree size of {size} is beyond the supported 2^63 - 1")]
    SizeTooLarge {
        /// The size given.
        size: u64,
    },
}
