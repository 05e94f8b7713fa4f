//! The ledger's Ed25519 signing key and its public half: generating, writing and reading them.
//!
//! Keys are stored in the standard PEM forms that OpenSSL and every crypto library read:
//! the private key as PKCS#8 (`-----BEGIN PRIVATE KEY-----`, RFC 5208 / RFC 8410) and the
//! public key as SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`, RFC 5280 / RFC 8410).
//! `openssl pkey -in ledger.key -pubout` gives the same public key file, and
//! `openssl pkeyutl -verify -pubin -inkey ledger.pub -rawin -in message -sigfile signature`
//! checks a signed head (see [`crate::head`] for the message).
//!
//! A private key file is created with mode 0600 on Unix and never overwritten: losing the key
//! that signed a log's heads would leave them unverifiable by anyone who has only the new one.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::{Zeroize, Zeroizing};

use crate::error::KeyError;

const PRIVATE: &str = "private key (PKCS#8)";
const PUBLIC: &str = "public key (SubjectPublicKeyInfo)";

/// A new signing key from the operating system's random number generator.
pub fn generate_signing_key() -> Result<SigningKey, KeyError> {
    let mut seed = Zeroizing::new([0u8; ed25519_dalek::SECRET_KEY_LENGTH]);
    getrandom::fill(seed.as_mut_slice()).map_err(|err| KeyError::Randomness { reason: err.to_string() })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The private key as PKCS#8 PEM (wiped from memory when dropped).
///
/// Written as a version 1 PrivateKeyInfo without the optional public key, as
/// `openssl genpkey -algorithm ed25519` writes it: OpenSSL 3.0 cannot read the version 2 form
/// that carries the public key too. Reading accepts both.
pub fn signing_key_to_pem(key: &SigningKey) -> Result<Zeroizing<String>, KeyError> {
    let mut bytes = KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    let pem = bytes.to_pkcs8_pem(LineEnding::LF);
    bytes.secret_key.zeroize();
    pem.map_err(|err| KeyError::Encode { what: PRIVATE, reason: err.to_string() })
}

/// Reads a PKCS#8 PEM private key.
pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|err| KeyError::InvalidPem { what: PRIVATE, reason: err.to_string() })
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn verifying_key_to_pem(key: &VerifyingKey) -> Result<String, KeyError> {
    key.to_public_key_pem(LineEnding::LF).map_err(|err| KeyError::Encode { what: PUBLIC, reason: err.to_string() })
}

/// Reads a SubjectPublicKeyInfo PEM public key.
pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem).map_err(|err| KeyError::InvalidPem { what: PUBLIC, reason: err.to_string() })
}

/// Writes the private key to a new file at `path`, readable by its owner only (mode 0600 on
/// Unix). Refuses to replace an existing file; removes a half-written one.
pub fn write_signing_key(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let pem = signing_key_to_pem(key)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyError::AlreadyExists { path: path.to_path_buf() });
        }
        Err(source) => return Err(KeyError::Io { action: "create", path: path.to_path_buf(), source }),
    };
    if let Err(source) = write_all_synced(&mut file, pem.as_bytes()) {
        drop(file);
        // Best effort: a truncated key file is worse than none. The write error is what matters.
        let _ = fs::remove_file(path);
        return Err(KeyError::Io { action: "write", path: path.to_path_buf(), source });
    }
    Ok(())
}

fn write_all_synced(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads a private key file written by [`write_signing_key`] (or by `openssl genpkey -algorithm ed25519`).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = Zeroizing::new(fs::read_to_string(path).map_err(|source| KeyError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?);
    signing_key_from_pem(&pem)
}

/// Writes the public key to `path` (replacing any file there: a public key is no secret).
pub fn write_verifying_key(path: &Path, key: &VerifyingKey) -> Result<(), KeyError> {
    let pem = verifying_key_to_pem(key)?;
    fs::write(path, pem).map_err(|source| KeyError::Io { action: "write", path: path.to_path_buf(), source })
}

/// Reads a public key file written by [`write_verifying_key`].
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let pem =
        fs::read_to_string(path).map_err(|source| KeyError::Io { action: "read", path: path.to_path_buf(), source })?;
    verifying_key_from_pem(&pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_round_trip_through_pem() {
        let a = generate_signing_key().unwrap();
        let b = generate_signing_key().unwrap();
        assert_ne!(a.to_bytes(), b.to_bytes());
        let pem = signing_key_to_pem(&a).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(signing_key_from_pem(&pem).unwrap().to_bytes(), a.to_bytes());
        let public = verifying_key_to_pem(&a.verifying_key()).unwrap();
        assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(verifying_key_from_pem(&public).unwrap(), a.verifying_key());
    }

    #[test]
    fn private_key_is_written_in_the_version_1_form_openssl_reads() {
        use base64::Engine as _;
        let pem = signing_key_to_pem(&SigningKey::from_bytes(&[9; 32])).unwrap();
        let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
        assert_eq!(der.len(), 48);
        assert_eq!(
            &der[..16],
            &[0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
        );
        assert_eq!(&der[16..], &[9; 32]);
    }

    #[test]
    fn garbage_is_rejected_with_the_key_kind() {
        let err = signing_key_from_pem("hello").unwrap_err();
        assert!(err.to_string().contains("PKCS#8"), "{err}");
        let public = verifying_key_to_pem(&generate_signing_key().unwrap().verifying_key()).unwrap();
        assert!(matches!(signing_key_from_pem(&public), Err(KeyError::InvalidPem { .. })));
    }
}
