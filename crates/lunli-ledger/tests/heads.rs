//! Signed tree heads and the key files behind them.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use lunli_ledger::key::{
    generate_signing_key, read_signing_key, read_verifying_key, write_signing_key, write_verifying_key,
};
use lunli_ledger::{BadSignature, Hash, KeyError, SignedTreeHead, SigningKey, Timestamp, TreeHead};

fn head() -> TreeHead {
    TreeHead {
        size: 8,
        root: Hash::from_base64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=").unwrap(),
        timestamp: Timestamp::parse("2026-05-01T09:30:00.250Z").unwrap(),
    }
}

#[test]
fn the_signed_message_is_exactly_the_documented_text() {
    assert_eq!(
        head().signed_message(),
        "lunli-sth-v1\n8\n5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n2026-05-01T09:30:00.250Z"
    );
}

#[test]
fn a_head_verifies_only_with_its_own_key_and_its_own_content() {
    let key = generate_signing_key().unwrap();
    let other = generate_signing_key().unwrap();
    let signed = head().sign(&key);
    assert_eq!(signed.verify(&key.verifying_key()), Ok(()));

    // Signed by another key.
    assert_eq!(head().sign(&other).verify(&key.verifying_key()), Err(BadSignature { size: 8 }));
    // Size, root or time changed after signing.
    let mut changed = signed;
    changed.head.size = 9;
    assert!(changed.verify(&key.verifying_key()).is_err());
    let mut changed = signed;
    changed.head.root = Hash::EMPTY_TREE;
    assert!(changed.verify(&key.verifying_key()).is_err());
    let mut changed = signed;
    changed.head.timestamp = Timestamp::parse("2026-05-01T09:30:00.251Z").unwrap();
    assert!(changed.verify(&key.verifying_key()).is_err());
    // A signature from another head.
    let mut borrowed = signed;
    borrowed.signature = TreeHead { size: 9, ..head() }.sign(&key).signature;
    assert!(borrowed.verify(&key.verifying_key()).is_err());
}

#[test]
fn signed_heads_travel_as_json() {
    let key = SigningKey::from_bytes(&[3; 32]);
    let signed = head().sign(&key);
    let json = serde_json::to_value(signed).unwrap();
    assert_eq!(json["size"], 8);
    assert_eq!(json["root"], "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    assert_eq!(json["timestamp"], "2026-05-01T09:30:00.250Z");
    assert_eq!(json["signature"].as_str().unwrap().len(), 128);
    let back: SignedTreeHead = serde_json::from_value(json).unwrap();
    assert_eq!(back.verify(&key.verifying_key()), Ok(()));
}

#[test]
fn key_files_round_trip_and_the_private_one_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("ledger.key");
    let public = dir.path().join("ledger.pub");
    let key = generate_signing_key().unwrap();
    write_signing_key(&private, &key).unwrap();
    write_verifying_key(&public, &key.verifying_key()).unwrap();

    assert_eq!(read_signing_key(&private).unwrap().to_bytes(), key.to_bytes());
    assert_eq!(read_verifying_key(&public).unwrap(), key.verifying_key());
    assert!(std::fs::read_to_string(&private).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(std::fs::read_to_string(&public).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "private key mode is {:o}", mode & 0o777);
    }
}

#[test]
fn a_signing_key_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("ledger.key");
    let first = generate_signing_key().unwrap();
    write_signing_key(&private, &first).unwrap();
    let err = write_signing_key(&private, &generate_signing_key().unwrap()).unwrap_err();
    assert!(matches!(err, KeyError::AlreadyExists { .. }), "{err}");
    assert!(err.to_string().contains("never overwritten"));
    assert_eq!(read_signing_key(&private).unwrap().to_bytes(), first.to_bytes());
}

#[test]
fn unreadable_or_wrong_key_files_say_which_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.key");
    let err = read_signing_key(&missing).unwrap_err();
    assert!(matches!(err, KeyError::Io { action: "read", .. }));
    assert!(err.to_string().contains("absent.key"), "{err}");

    let public = dir.path().join("ledger.pub");
    write_verifying_key(&public, &generate_signing_key().unwrap().verifying_key()).unwrap();
    assert!(matches!(read_signing_key(&public), Err(KeyError::InvalidPem { .. })));
}
