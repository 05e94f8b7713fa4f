//! Redaction: what replaces a recognised value in a redacted copy.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::entity::Entity;
use crate::error::PiiError;
use crate::mask::mask;

/// How values are replaced.
#[derive(Clone)]
pub enum Mode {
    /// As in reports: `138****5678` (see [`crate::mask`]).
    Mask,
    /// A keyed hash: `mobile:` and the first 16 hex digits of HMAC-SHA256 over the value
    /// without separators. The same value gives the same hash under the same key, so joins and
    /// counts still work; without the key nobody can test a guess.
    Hash(Key),
    /// Coarser values that keep some use: a date of birth becomes its year, a resident ID its
    /// region code (first six digits), an address its city or district, an IPv4 address its /16
    /// network; other entities are masked.
    Generalise,
}

impl Mode {
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Mask => "mask",
            Mode::Hash(_) => "hash",
            Mode::Generalise => "generalise",
        }
    }

    /// The replacement for `value`, recognised as `entity`.
    pub fn replace(&self, entity: Entity, value: &str) -> String {
        match self {
            Mode::Mask => mask(entity, value),
            Mode::Hash(key) => format!("{}:{}", entity.as_str(), key.digest(&normalise(value))),
            Mode::Generalise => generalise(entity, value).unwrap_or_else(|| mask(entity, value)),
        }
    }
}

/// The value without separators, capitals for letters, so `138-1234-5678` and `13812345678`
/// hash alike.
fn normalise(value: &str) -> String {
    value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '·' | '•')).flat_map(char::to_uppercase).collect()
}

fn generalise(entity: Entity, value: &str) -> Option<String> {
    match entity {
        Entity::DateOfBirth => {
            let numbers: Vec<&str> = value.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
            numbers.iter().find(|n| n.len() == 4).map(|y| y.to_string())
        }
        Entity::ResidentId => {
            let digits: String = value.chars().filter(char::is_ascii_digit).take(6).collect();
            (digits.len() == 6).then_some(digits)
        }
        Entity::Address => {
            // Up to and including the first district or county, else the first city.
            let cut = ['区', '县']
                .iter()
                .filter_map(|c| value.find(*c).map(|i| i + c.len_utf8()))
                .min()
                .or_else(|| value.find('市').map(|i| i + '市'.len_utf8()))?;
            Some(value[..cut].to_string())
        }
        Entity::Ipv4 => {
            let mut parts = value.split('.');
            Some(format!("{}.{}.0.0/16", parts.next()?, parts.next()?))
        }
        _ => None,
    }
}

/// A secret key for [`Mode::Hash`], read from a file (its bytes, less a trailing newline).
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl Key {
    /// Keys shorter than this are refused: a short key can be guessed.
    pub const MIN_BYTES: usize = 16;

    pub fn from_bytes(file: &str, bytes: Vec<u8>) -> Result<Key, PiiError> {
        let mut bytes = bytes;
        while bytes.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            bytes.pop();
        }
        if bytes.len() < Self::MIN_BYTES {
            return Err(PiiError::Key {
                file: file.to_string(),
                reason: format!(
                    "the key has {} bytes; a keyed hash needs at least {} (e.g. `head -c 32 /dev/urandom > {file}`)",
                    bytes.len(),
                    Self::MIN_BYTES
                ),
            });
        }
        Ok(Key(bytes))
    }

    pub fn read(path: &Path) -> Result<Key, PiiError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| PiiError::Io { file: file.clone(), source })?;
        Key::from_bytes(&file, bytes)
    }

    fn digest(&self, value: &str) -> String {
        #[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(value.as_bytes());
        let bytes = mac.finalize().into_bytes();
        hex::encode(&bytes[..8])
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let key = Key::from_bytes("k", b"0123456789abcdef\n".to_vec()).expect("a key");
        let hash = Mode::Hash(key.clone());
        assert_eq!(hash.replace(Entity::Mobile, "138-1234-5678"), hash.replace(Entity::Mobile, "13812345678"));
        assert!(hash.replace(Entity::Mobile, "13812345678").starts_with("mobile:"));
        let other = Mode::Hash(Key::from_bytes("k", b"fedcba9876543210".to_vec()).expect("a key"));
        assert_ne!(hash.replace(Entity::Mobile, "13812345678"), other.replace(Entity::Mobile, "13812345678"));
        assert_eq!(Mode::Generalise.replace(Entity::DateOfBirth, "1990-03-07"), "1990");
        assert_eq!(Mode::Generalise.replace(Entity::ResidentId, "11010519491231002X"), "110105");
        assert_eq!(Mode::Generalise.replace(Entity::Address, "北京市朝阳区建国路88号"), "北京市朝阳区");
        assert_eq!(Mode::Generalise.replace(Entity::Ipv4, "192.168.3.4"), "192.168.0.0/16");
        assert!(Key::from_bytes("short.key", b"abc".to_vec()).is_err());
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
