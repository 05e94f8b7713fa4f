//! RFC 6962 / RFC 9162 hashing: the 32-byte [`Hash`](struct@Hash), and the two domain-separated hashes a
//! Merkle log is built from.
//!
//! * a leaf is `SHA-256(0x00 || leaf bytes)` — [`leaf_hash`];
//! * an interior node is `SHA-256(0x01 || left || right)` — [`node_hash`];
//! * the root of the empty tree is `SHA-256("")` — [`Hash::EMPTY_TREE`].
//!
//! The one-byte prefixes keep a leaf from ever being mistaken for a node (RFC 9162 §2.1.1), so
//! no one can present two leaf hashes as one leaf's bytes.
//!
//! A [`Hash`](struct@Hash) prints and parses as 64 lowercase hexadecimal digits (the form used in entries,
//! signed heads and bundles); base64 is there for test vectors and tools that speak it.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::ParseError;

/// The length of a SHA-256 digest in bytes.
pub const HASH_LEN: usize = 32;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 digest: a leaf hash, a node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash([u8; HASH_LEN]);

impl Hash {
    /// Thirty-two zero bytes. The `prev_leaf_hash` of entry 0, which has no predecessor.
    pub const ZERO: Hash = Hash([0; HASH_LEN]);

    /// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1),
    /// `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`.
    pub const EMPTY_TREE: Hash = Hash([
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae,
        0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ]);

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Hash(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Plain SHA-256 of `data`, without a domain prefix (used for `payload_sha256`).
    pub fn sha256(data: &[u8]) -> Self {
        Hash(Sha256::digest(data).into())
    }

    /// 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        self.hex(&mut [0; 2 * HASH_LEN]).to_string()
    }

    /// The 64 digits of [`Hash::to_hex`], written into `out`: two of them go into every ledger
    /// entry the writer makes, and `hex::encode` builds its `String` a character at a time.
    pub(crate) fn hex<'a>(&self, out: &'a mut [u8; 2 * HASH_LEN]) -> &'a str {
        // Neither can fail: 32 bytes fill 64 digits exactly, and hex digits are ASCII.
        let _ = hex::encode_to_slice(self.0, out);
        std::str::from_utf8(out).unwrap_or_default()
    }

    /// Parses 64 hexadecimal digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, ParseError> {
        if text.len() != 2 * HASH_LEN {
            return Err(ParseError::WrongLength {
                what: "hex SHA-256 hash",
                expected: 2 * HASH_LEN,
                found: text.len(),
            });
        }
        let mut bytes = [0u8; HASH_LEN];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|err| ParseError::InvalidHex { what: "SHA-256 hash", reason: err.to_string() })?;
        Ok(Hash(bytes))
    }

    /// Standard base64 with padding (RFC 4648 §4), as in the transparency-dev test vectors.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses standard, padded base64 that decodes to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, ParseError> {
        let bytes = BASE64
            .decode(text)
            .map_err(|err| ParseError::InvalidBase64 { what: "SHA-256 hash", reason: err.to_string() })?;
        Hash::try_from(bytes.as_slice())
    }
}

/// `SHA-256(0x00 || data)`: the hash of one leaf (RFC 9162 §2.1.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(bytes: [u8; HASH_LEN]) -> Self {
        Hash(bytes)
    }
}

impl TryFrom<&[u8]> for Hash {
    type Error = ParseError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; HASH_LEN]>::try_from(bytes).map(Hash).map_err(|_| ParseError::WrongLength {
            what: "SHA-256 hash",
            expected: HASH_LEN,
            found: bytes.len(),
        })
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex(&mut [0; 2 * HASH_LEN]))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Hash::from_hex(text)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.hex(&mut [0; 2 * HASH_LEN]))
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(Hash::sha256(b""), Hash::EMPTY_TREE);
        assert_eq!(Hash::EMPTY_TREE.to_base64(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn leaf_and_node_hashes_match_rfc6962_reference_values() {
        // Leaf hash of the empty leaf and of 0x00, from Certificate Transparency's test data.
        assert_eq!(leaf_hash(b"").to_hex(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_eq!(leaf_hash(&[0x00]).to_hex(), "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7");
        // Root of the two-leaf tree [ "", 00 ].
        let root = node_hash(&leaf_hash(b""), &leaf_hash(&[0x00]));
        assert_eq!(root.to_hex(), "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
    }

    #[test]
    fn hex_and_base64_round_trip() {
        let hash = leaf_hash(b"lunli");
        assert_eq!(Hash::from_hex(&hash.to_hex()), Ok(hash));
        assert_eq!(Hash::from_hex(&hash.to_hex().to_uppercase()), Ok(hash));
        assert_eq!(Hash::from_base64(&hash.to_base64()), Ok(hash));
        assert_eq!(hash.to_string().parse::<Hash>(), Ok(hash));
        assert_eq!(format!("{hash:?}"), format!("Hash({hash})"));
    }

    #[test]
    fn malformed_text_is_rejected_with_a_reason() {
        assert!(matches!(Hash::from_hex("abcd"), Err(ParseError::WrongLength { found: 4, .. })));
        assert!(matches!(Hash::from_hex(&"zz".repeat(32)), Err(ParseError::InvalidHex { .. })));
        assert!(matches!(Hash::from_hex("é".repeat(32).as_str()), Err(ParseError::InvalidHex { .. })));
        assert!(matches!(Hash::from_base64("ZG9uJ3QgY2FyZSAy"), Err(ParseError::WrongLength { found: 12, .. })));
        assert!(matches!(Hash::from_base64("not base64!"), Err(ParseError::InvalidBase64 { .. })));
        assert!(matches!(Hash::try_from(&[0u8; 31][..]), Err(ParseError::WrongLength { found: 31, .. })));
    }

    #[test]
    fn serde_uses_hex() {
        let hash = leaf_hash(b"x");
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{hash}\""));
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), hash);
        assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
    }
}
