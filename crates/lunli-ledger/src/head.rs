//! Signed tree heads: the log's size and root at a moment, signed with Ed25519.
//!
//! # The signed message
//!
//! A [`TreeHead`] is signed over these UTF-8 bytes, four lines joined by `\n` (0x0A), with no
//! trailing newline and no other whitespace:
//!
//! ```text
//! lunli-sth-v1
//! {size, decimal, no leading zeros}
//! {root, 64 lowercase hex digits}
//! {timestamp, YYYY-MM-DDTHH:MM:SS.sssZ}
//! ```
//!
//! for example `"lunli-sth-v1\n3\n5dc9…4328\n2026-05-01T09:30:00.000Z"`. The first line
//! separates the ledger's signatures from anything else the same key might ever sign. The
//! signature is plain Ed25519 (RFC 8032, no pre-hashing) over those bytes, checked with the
//! strict verification that rejects non-canonical and small-order encodings.
//!
//! In JSON a signed head is `{"size":…,"root":"hex","timestamp":"…","signature":"128 hex digits"}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use ed25519_dalek::Signature;
use ed25519_dalek::Signer as _;

use crate::error::{BadSignature, ParseError};
use crate::hash::Hash;
use crate::key::{SigningKey, VerifyingKey};
use crate::time::Timestamp;

/// The first line of every signed message.
pub const HEAD_CONTEXT: &str = "lunli-sth-v1";

/// What a signed head asserts: the log had `size` entries with Merkle root `root` at `timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeHead {
    /// Number of entries covered.
    pub size: u64,
    /// The Merkle root of those entries.
    pub root: Hash,
    /// When the head was made.
    pub timestamp: Timestamp,
}

impl TreeHead {
    /// The exact bytes that are signed (see the module documentation).
    pub fn signed_message(&self) -> String {
        format!("{HEAD_CONTEXT}\n{}\n{}\n{}", self.size, self.root, self.timestamp)
    }

    /// Signs the head.
    pub fn sign(&self, key: &SigningKey) -> SignedTreeHead {
        SignedTreeHead { head: *self, signature: key.sign(self.signed_message().as_bytes()) }
    }
}

/// A [`TreeHead`] with its Ed25519 signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedTreeHead {
    /// What is asserted.
    pub head: TreeHead,
    /// The signature over [`TreeHead::signed_message`].
    pub signature: Signature,
}

impl SignedTreeHead {
    /// Checks the signature against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), BadSignature> {
        key.verify_strict(self.head.signed_message().as_bytes(), &self.signature)
            .map_err(|_| BadSignature { size: self.head.size })
    }

    /// The signature as 128 lowercase hex digits.
    pub fn signature_hex(&self) -> String {
        hex::encode(self.signature.to_bytes())
    }
}

fn signature_from_hex(text: &str) -> Result<Signature, ParseError> {
    let mut bytes = [0u8; ed25519_dalek::SIGNATURE_LENGTH];
    if text.len() != 2 * bytes.len() {
        return Err(ParseError::WrongLength {
            what: "hex Ed25519 signature",
            expected: 2 * bytes.len(),
            found: text.len(),
        });
    }
    hex::decode_to_slice(text, &mut bytes)
        .map_err(|err| ParseError::InvalidHex { what: "Ed25519 signature", reason: err.to_string() })?;
    Ok(Signature::from_bytes(&bytes))
}

#[derive(Serialize)]
struct SignedRef<'a> {
    size: u64,
    root: &'a Hash,
    timestamp: &'a Timestamp,
    signature: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedOwned {
    size: u64,
    root: Hash,
    timestamp: Timestamp,
    signature: String,
}

impl Serialize for SignedTreeHead {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SignedRef {
            size: self.head.size,
            root: &self.head.root,
            timestamp: &self.head.timestamp,
            signature: self.signature_hex(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SignedTreeHead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let SignedOwned { size, root, timestamp, signature } = SignedOwned::deserialize(deserializer)?;
        let signature = signature_from_hex(&signature).map_err(serde::de::Error::custom)?;
        Ok(SignedTreeHead { head: TreeHead { size, root, timestamp }, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn head() -> TreeHead {
        TreeHead {
            size: 3,
            root: Hash::sha256(b"root"),
            timestamp: Timestamp::parse("2026-05-01T09:30:00.000Z").unwrap(),
        }
    }

    #[test]
    fn signed_message_is_pinned() {
        assert_eq!(
            head().signed_message(),
            format!("lunli-sth-v1\n3\n{}\n2026-05-01T09:30:00.000Z", Hash::sha256(b"root").to_hex())
        );
    }

    #[test]
    fn signature_verifies_only_for_the_same_head_and_key() {
        let signed = head().sign(&key(1));
        assert_eq!(signed.verify(&key(1).verifying_key()), Ok(()));
        assert_eq!(signed.verify(&key(2).verifying_key()), Err(BadSignature { size: 3 }));
        let mut bigger = signed;
        bigger.head.size = 4;
        assert_eq!(bigger.verify(&key(1).verifying_key()), Err(BadSignature { size: 4 }));
    }

    #[test]
    fn json_round_trips_and_rejects_bad_signatures_text() {
        let signed = head().sign(&key(1));
        let json = serde_json::to_string(&signed).unwrap();
        assert!(json.starts_with(r#"{"size":3,"root":""#), "{json}");
        assert_eq!(serde_json::from_str::<SignedTreeHead>(&json).unwrap(), signed);
        let short = json.replace(&signed.signature_hex(), "abcd");
        assert!(serde_json::from_str::<SignedTreeHead>(&short).unwrap_err().to_string().contains("128"));
    }
}
