//! Verifying a report offline: that its content is the content recorded in the ledger, that the
//! ledger entry is included in the tree a signed head vouches for, and that the head's signature
//! holds. Needs nothing but the report file and, for trust, the ledger's public key (Art. 12:
//! verifiable and traceable; STYLE habit 9: verifiers stand alone, no storage).
//!
//! # How a report is anchored
//!
//! A report document is `{"report": …, "verification": …}`. `verification.content_sha256` is the
//! SHA-256 of the RFC 8785 canonical JSON bytes of the `report` member alone. The ledger entry
//! (`verification.entry`, action `report.issue`) carries that digest in its payload; its leaf
//! hash is proven to be leaf `index` of the tree of `size` entries whose root the signed tree
//! head (`verification.head`) states, by the RFC 9162 audit path `verification.inclusion.path`.

use lunli_ledger::proof::verify_inclusion;
use lunli_ledger::{Entry, Hash, SignedTreeHead, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The anchoring method this crate writes and checks.
pub const ANCHOR_METHOD: &str = "lunli-report-anchor/1";

/// The ledger action that records a report.
pub const REPORT_ACTION: &str = "report.issue";

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the key's 32 bytes follow.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// What a report embeds to prove it was recorded and not altered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Always [`ANCHOR_METHOD`].
    pub method: String,
    /// SHA-256 of the canonical (RFC 8785) bytes of the `report` member.
    pub content_sha256: Hash,
    /// The ledger entry that recorded the report.
    pub entry: Entry,
    pub leaf_hash: Hash,
    pub inclusion: Inclusion,
    /// The signed tree head the inclusion proof leads to.
    pub head: SignedTreeHead,
    /// The ledger's public key as the report's issuer had it (a verifier should bring its own).
    pub public_key_pem: String,
    /// SHA-256 of the DER public key.
    pub key_fingerprint: Hash,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inclusion {
    pub index: u64,
    pub size: u64,
    /// The audit path, lowest level first.
    pub path: Vec<Hash>,
}

/// A report document that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub content_sha256: Hash,
    pub index: u64,
    pub size: u64,
    pub root: Hash,
    pub head_time: String,
    pub key_fingerprint: Hash,
    /// The head was checked with a key the verifier brought, not only the one in the file.
    pub trusted_key: bool,
}

/// Why a report does not verify: each names what does not hold.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VerifyError {
    #[error("the file is not a lunli report document: {0}")]
    Malformed(String),
    #[error("the report was altered: its content hashes to {computed}, but it was recorded as {recorded}")]
    ContentAltered { recorded: Hash, computed: Hash },
    #[error("the ledger entry does not record this report: its payload names {in_entry}, the report states {stated}")]
    EntryMismatch { stated: Hash, in_entry: String },
    #[error("the ledger entry was altered: {0}")]
    EntryAltered(String),
    #[error("the inclusion proof does not lead to the signed head's root: {0}")]
    NotIncluded(String),
    #[error("the tree head's signature does not verify with {which}")]
    BadSignature { which: &'static str },
    #[error(
        "the public key in the report (fingerprint {embedded}) is not the one given (fingerprint {given}): \
         it was signed by another ledger, or the key in the file was replaced"
    )]
    OtherKey { embedded: Hash, given: Hash },
}

/// SHA-256 of the DER public key: the fingerprint `lunli ledger head` prints.
pub fn key_fingerprint(key: &VerifyingKey) -> Hash {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    Hash::sha256(&der)
}

/// SHA-256 of the canonical (RFC 8785) bytes of a report's content.
pub fn content_digest(report: &Value) -> Result<Hash, VerifyError> {
    let bytes = serde_jcs::to_vec(report).map_err(|e| VerifyError::Malformed(format!("cannot canonicalise: {e}")))?;
    Ok(Hash::sha256(&bytes))
}

/// Verifies a report document (HTML reports carry the same document as JSON). With `trusted`,
/// the head must be signed by that key; without, only by the key in the file, which proves the
/// report is internally consistent but not who signed it.
pub fn verify_document(document: &Value, trusted: Option<&VerifyingKey>) -> Result<Verified, VerifyError> {
    let report = document.get("report").ok_or_else(|| VerifyError::Malformed("no `report` member".into()))?;
    let verification: Verification = serde_json::from_value(
        document
            .get("verification")
            .cloned()
            .ok_or_else(|| VerifyError::Malformed("no `verification` member".into()))?,
    )
    .map_err(|e| VerifyError::Malformed(format!("`verification`: {e}")))?;
    if verification.method != ANCHOR_METHOD {
        return Err(VerifyError::Malformed(format!(
            "`verification.method` is `{}`, expected `{ANCHOR_METHOD}`",
            verification.method
        )));
    }
    let computed = content_digest(report)?;
    if computed != verification.content_sha256 {
        return Err(VerifyError::ContentAltered { recorded: verification.content_sha256, computed });
    }
    let entry = &verification.entry;
    let in_entry = entry.payload.get("content_sha256").and_then(Value::as_str).unwrap_or_default();
    if entry.action != REPORT_ACTION || in_entry != computed.to_hex() {
        return Err(VerifyError::EntryMismatch { stated: computed, in_entry: in_entry.to_string() });
    }
    let payload = entry.payload_digest().map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    if payload != entry.payload_sha256 {
        return Err(VerifyError::EntryAltered(format!(
            "its payload hashes to {payload}, the entry states {}",
            entry.payload_sha256
        )));
    }
    let leaf = entry.leaf_hash().map_err(|e| VerifyError::EntryAltered(e.to_string()))?;
    if leaf != verification.leaf_hash {
        return Err(VerifyError::EntryAltered(format!(
            "it hashes to leaf {leaf}, the report states {}",
            verification.leaf_hash
        )));
    }
    let inclusion = &verification.inclusion;
    if inclusion.index != entry.index || inclusion.size != verification.head.head.size {
        return Err(VerifyError::NotIncluded(format!(
            "the proof is for entry {} in a tree of {}, but the entry is {} and the head covers {}",
            inclusion.index, inclusion.size, entry.index, verification.head.head.size
        )));
    }
    verify_inclusion(inclusion.index, inclusion.size, &leaf, &inclusion.path, verification.head.head.root)
        .map_err(|e| VerifyError::NotIncluded(e.to_string()))?;
    let embedded = lunli_ledger::key::verifying_key_from_pem(&verification.public_key_pem)
        .map_err(|e| VerifyError::Malformed(format!("`verification.public_key_pem`: {e}")))?;
    let embedded_fingerprint = key_fingerprint(&embedded);
    if let Some(given) = trusted {
        let given_fingerprint = key_fingerprint(given);
        if given_fingerprint != embedded_fingerprint {
            return Err(VerifyError::OtherKey { embedded: embedded_fingerprint, given: given_fingerprint });
        }
        verification.head.verify(given).map_err(|_| VerifyError::BadSignature { which: "the key given" })?;
    } else {
        verification
            .head
            .verify(&embedded)
            .map_err(|_| VerifyError::BadSignature { which: "the key in the report" })?;
    }
    Ok(Verified {
        content_sha256: computed,
        index: entry.index,
        size: inclusion.size,
        root: verification.head.head.root,
        head_time: verification.head.head.timestamp.to_string(),
        key_fingerprint: embedded_fingerprint,
        trusted_key: trusted.is_some(),
    })
}
