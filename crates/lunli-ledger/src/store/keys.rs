//! The ledger's key pair in the data directory: `ledger-key.pem` (the Ed25519 signing key,
//! PKCS#8, mode 0600, never overwritten) and `ledger-key.pub.pem` (its public key, the file an
//! auditor is given).

use std::path::{Path, PathBuf};

use crate::key::{generate_signing_key, read_signing_key, read_verifying_key, write_signing_key, write_verifying_key};
use crate::{Hash, KeyError, SigningKey, VerifyingKey};

use super::LedgerError;

/// The signing key's file name in the data directory.
pub const SIGNING_KEY_FILE: &str = "ledger-key.pem";
/// The public key's file name in the data directory.
pub const PUBLIC_KEY_FILE: &str = "ledger-key.pub.pem";

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING (33 bytes, 0 unused bits) }, followed by the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// A public key's fingerprint: SHA-256 of its DER SubjectPublicKeyInfo, in hex — what
/// `openssl pkey -pubin -in ledger-key.pub.pem -outform DER | sha256sum` prints.
pub fn fingerprint(key: &VerifyingKey) -> Hash {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    Hash::sha256(&der)
}

/// Where a data directory keeps the ledger's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerKeys {
    dir: PathBuf,
}

impl LedgerKeys {
    pub fn in_dir(data_dir: &Path) -> Self {
        LedgerKeys { dir: data_dir.to_path_buf() }
    }

    pub fn signing_key_path(&self) -> PathBuf {
        self.dir.join(SIGNING_KEY_FILE)
    }

    pub fn public_key_path(&self) -> PathBuf {
        self.dir.join(PUBLIC_KEY_FILE)
    }

    /// The signing key if it exists, with its public key file written if missing and checked
    /// against it if present.
    pub(crate) fn existing_signing_key(&self) -> Result<Option<SigningKey>, LedgerError> {
        let (private, public) = (self.signing_key_path(), self.public_key_path());
        if !private.exists() {
            if public.exists() {
                return Err(LedgerError::SigningKeyMissing { private, public });
            }
            return Ok(None);
        }
        let key = read_signing_key(&private)?;
        self.check_public(&key)?;
        Ok(Some(key))
    }

    /// The public key if the pair exists.
    pub(crate) fn existing_verifying_key(&self) -> Result<Option<VerifyingKey>, LedgerError> {
        Ok(self.existing_signing_key()?.map(|key| key.verifying_key()))
    }

    /// The signing key, creating the pair if there is none. The caller holds the database's
    /// write lock, so no other lunli process is creating one at the same time.
    pub(crate) fn signing_key(&self) -> Result<SigningKey, LedgerError> {
        if let Some(key) = self.existing_signing_key()? {
            return Ok(key);
        }
        let key = generate_signing_key()?;
        match write_signing_key(&self.signing_key_path(), &key) {
            Ok(()) => {}
            // Someone not holding the lock (a copy of lunli of another version?) made one: use it.
            Err(KeyError::AlreadyExists { .. }) => {
                return read_signing_key(&self.signing_key_path()).map_err(LedgerError::from);
            }
            Err(err) => return Err(err.into()),
        }
        write_verifying_key(&self.public_key_path(), &key.verifying_key())?;
        Ok(key)
    }

    /// Writes the public key file when it is missing; refuses a public key file that is not the
    /// signing key's public half.
    fn check_public(&self, key: &SigningKey) -> Result<(), LedgerError> {
        let public = self.public_key_path();
        if !public.exists() {
            write_verifying_key(&public, &key.verifying_key())?;
            return Ok(());
        }
        if read_verifying_key(&public)? != key.verifying_key() {
            return Err(LedgerError::KeysDisagree { private: self.signing_key_path(), public });
        }
        Ok(())
    }
}
