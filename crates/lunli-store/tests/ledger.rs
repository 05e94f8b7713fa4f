//! The ledger over a real SQLite file: keys on first use, signed heads, verification from
//! storage, proofs, export, group commit — and tampering with the database file directly, after
//! which `verify_ledger` must name the first bad index.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use lunli_governance::store::{Event, Store};
use lunli_ledger::verify::Change;
use lunli_ledger::{Bundle, Entry, Hash, NewEntry, Problem, Report, Timestamp, TreeHead, verify_bundle};
use lunli_store::{GroupCommit, Ledger as _, LedgerError, SignOutcome, SqliteStore};
use rusqlite::{Connection, params};
use serde_json::json;

const ENTRIES: u64 = 12;

fn event(i: u64) -> Event {
    Event {
        actor: ["user:alice", "user:bob", "user:chen"][i as usize % 3].into(),
        action: if i.is_multiple_of(2) { "system.register" } else { "assessment.signoff" },
        subject: format!("system:credit-scoring-{}", i % 4),
        at: jiff::Timestamp::from_millisecond(1_777_627_800_000 + i as i64 * 1_000).unwrap(),
        payload: json!({"seq": i, "note": format!("change {i}"), "tier": "high", "scores": [0.5, i]}).into(),
    }
}

fn now(i: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_777_700_000_000 + i as i64).unwrap()
}

/// A ledger of `ENTRIES` governance writes, each followed by a signed head (as the CLI does).
fn ledger(dir: &Path) -> SqliteStore {
    let store = SqliteStore::open(dir).unwrap();
    for i in 0..ENTRIES {
        let index = store.write(|tx| tx.record(&event(i))).unwrap();
        assert_eq!(index, i);
        assert!(matches!(store.sign_head(now(i)).unwrap(), SignOutcome::New(_)));
    }
    store
}

fn tamper(dir: &Path, sql: &str, values: impl rusqlite::Params) {
    let conn = Connection::open(dir.join("lunli.db")).unwrap();
    conn.execute(sql, values).unwrap();
}

fn bytes_of(dir: &Path, index: u64) -> Vec<u8> {
    let conn = Connection::open(dir.join("lunli.db")).unwrap();
    conn.query_row("SELECT entry FROM ledger_entries WHERE idx = ?1", [index as i64], |r| r.get(0)).unwrap()
}

fn set_bytes(dir: &Path, index: u64, bytes: &[u8]) {
    tamper(dir, "UPDATE ledger_entries SET entry = ?2 WHERE idx = ?1", params![index as i64, bytes]);
}

fn verify(dir: &Path) -> Report {
    SqliteStore::open(dir).unwrap().verify_ledger().unwrap()
}

fn flip(bytes: &mut [u8], needle: &str) {
    let at = bytes.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap();
    bytes[at + needle.len() - 1] ^= 0x01;
}

#[cfg(unix)]
#[test]
fn the_database_and_its_directory_are_their_owners_only_when_lunli_makes_them() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("state/lunli");
    let store = SqliteStore::open(&dir).unwrap();
    store.write(|tx| tx.record(&event(0))).unwrap();
    assert_eq!(mode(&dir), 0o700, "the data directory lunli made");
    // The database holds feedback contact details: not for other users, nor are its WAL files.
    for file in ["lunli.db", "lunli.db-wal", "lunli.db-shm"] {
        assert_eq!(mode(&dir.join(file)), 0o600, "{file}");
    }
    drop(store);

    // A directory and file that exist keep the mode their owner gave them.
    let chosen = root.path().join("chosen");
    std::fs::create_dir(&chosen).unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::write(chosen.join("lunli.db"), b"").unwrap();
    std::fs::set_permissions(chosen.join("lunli.db"), std::fs::Permissions::from_mode(0o640)).unwrap();
    SqliteStore::open(&chosen).unwrap();
    assert_eq!(mode(&chosen), 0o750);
    assert_eq!(mode(&chosen.join("lunli.db")), 0o640);
}

#[test]
fn keys_are_created_once_on_first_use_readable_only_by_their_owner() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let keys = store.ledger_keys();
    assert!(!keys.signing_key_path().exists(), "opening the store makes no key");
    let key = store.signing_key().unwrap();
    assert!(keys.signing_key_path().exists() && keys.public_key_path().exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.signing_key_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is readable by its owner only");
    }
    let pem = std::fs::read_to_string(keys.public_key_path()).unwrap();
    assert_eq!(lunli_ledger::key::verifying_key_from_pem(&pem).unwrap(), key.verifying_key());
    drop(store);
    let again = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(again.signing_key().unwrap().to_bytes(), key.to_bytes(), "the same key after reopening");
    assert_eq!(again.verifying_key().unwrap(), key.verifying_key());
    assert_eq!(lunli_store::fingerprint(&key.verifying_key()).to_hex().len(), 64);

    // A replaced public key file is refused, not silently rewritten.
    let other = lunli_ledger::key::generate_signing_key().unwrap();
    lunli_ledger::key::write_verifying_key(&keys.public_key_path(), &other.verifying_key()).unwrap();
    assert!(matches!(again.signing_key(), Err(LedgerError::KeysDisagree { .. })));
    // A lost signing key is never replaced by a new one behind the auditor's back.
    std::fs::remove_file(keys.signing_key_path()).unwrap();
    assert!(matches!(again.sign_head(now(0)), Err(LedgerError::SigningKeyMissing { .. })));
}

#[test]
fn heads_are_signed_over_the_whole_log_only_when_it_grew() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let empty = store.sign_head(now(0)).unwrap();
    assert!(matches!(empty, SignOutcome::New(h) if h.head.size == 0 && h.head.root == Hash::EMPTY_TREE));
    assert!(matches!(store.sign_head(now(1)).unwrap(), SignOutcome::AlreadySigned(h) if h.head.size == 0));

    let mut entries = Vec::new();
    for i in 0..ENTRIES {
        store.write(|tx| tx.record(&event(i))).unwrap();
        if i % 5 == 4 {
            store.sign_head(now(i)).unwrap();
        }
    }
    let rows = store.ledger_rows(0, 100).unwrap();
    for row in &rows {
        entries.push(serde_json::from_slice::<Entry>(&row.entry).unwrap());
    }
    let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf_hash().unwrap()).collect();
    let head = *store.sign_head(now(99)).unwrap().head();
    assert_eq!(head.head.size, ENTRIES);
    assert_eq!(head.head.root, lunli_ledger::tree::root(&leaves), "the root is the RFC 9162 root of the entries");
    assert_eq!(head.verify(&store.verifying_key().unwrap()), Ok(()));
    let sizes: Vec<u64> = store.heads().unwrap().iter().map(|h| h.head.size).collect();
    assert_eq!(sizes, [0, 5, 10, ENTRIES]);
    assert_eq!(store.latest_head().unwrap(), Some(head));

    // The stored compact tree is a cache: a damaged one is noticed and the root recomputed.
    tamper(dir.path(), "UPDATE ledger_tree SET peaks = zeroblob(64)", []);
    store.write(|tx| tx.record(&event(ENTRIES))).unwrap();
    let next = *store.sign_head(now(100)).unwrap().head();
    let mut all = leaves.clone();
    all.push(Entry::new(ENTRIES, leaves[leaves.len() - 1], new_entry(ENTRIES)).unwrap().leaf_hash().unwrap());
    assert_eq!(next.head.root, lunli_ledger::tree::root(&all));
    assert!(store.verify_ledger().unwrap().is_ok());
}

fn new_entry(i: u64) -> NewEntry {
    let e = event(i);
    NewEntry {
        time: Timestamp::from_unix_millis(e.at.as_millisecond()).unwrap(),
        actor: e.actor,
        action: e.action.into(),
        subject: e.subject,
        payload: e.payload.to_json().unwrap(),
    }
}

#[test]
fn an_untouched_ledger_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let report = store.verify_ledger().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.size, report.entries_read, report.heads_verified), (ENTRIES, ENTRIES, ENTRIES));
    assert_eq!(Some(report.root), store.latest_head().unwrap().map(|h| h.head.root));
    // An auditor's trusted key gives the same verdict; another key does not.
    assert!(store.verify_ledger_with(&store.verifying_key().unwrap()).unwrap().is_ok());
    let stranger = lunli_ledger::key::generate_signing_key().unwrap().verifying_key();
    let report = store.verify_ledger_with(&stranger).unwrap();
    assert_eq!(report.problem, Some(Problem::BadSignature { size: 1 }));
}

#[test]
fn a_flipped_byte_is_named_by_its_index() {
    // In the payload, in the actor, and in the JSON structure itself.
    for (needle, index) in [("change 5", 5), ("user:chen", 2), ("{\"action\"", 7)] {
        let dir = tempfile::tempdir().unwrap();
        drop(ledger(dir.path()));
        let mut bytes = bytes_of(dir.path(), index);
        flip(&mut bytes, needle);
        set_bytes(dir.path(), index, &bytes);
        let report = verify(dir.path());
        assert_eq!(report.first_bad_index(), Some(index), "flipping {needle:?}: {:?}", report.problem);
        assert_eq!(report.size, index, "the tree holds the entries before the bad one");
    }
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let mut bytes = bytes_of(dir.path(), 5);
    flip(&mut bytes, "change 5");
    set_bytes(dir.path(), 5, &bytes);
    assert_eq!(verify(dir.path()).problem, Some(Problem::Modified { index: 5, change: Change::Payload }));
}

#[test]
fn an_entry_rewritten_with_its_hashes_is_caught_by_the_chain_and_the_heads() {
    // The attacker fixes the payload digest and the stored leaf hash too: the next entry's
    // prev_leaf_hash and the signed heads still give it away.
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let original: Entry = serde_json::from_slice(&bytes_of(dir.path(), 4)).unwrap();
    let mut forged = original.clone();
    forged.actor = "user:mallory".into();
    let bytes = forged.canonical_bytes().unwrap();
    let leaf = lunli_ledger::leaf_hash(&bytes);
    tamper(
        dir.path(),
        "UPDATE ledger_entries SET entry = ?2, leaf_hash = ?3 WHERE idx = ?1",
        params![4, bytes, leaf.as_bytes()],
    );
    let report = verify(dir.path());
    assert_eq!(report.problem, Some(Problem::Modified { index: 4, change: Change::Content }));
}

#[test]
fn a_deleted_entry_is_named() {
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    tamper(dir.path(), "DELETE FROM ledger_entries WHERE idx = 6", []);
    let report = verify(dir.path());
    assert_eq!(report.problem, Some(Problem::Missing { index: 6, next: 7 }));
    assert_eq!(report.first_bad_index(), Some(6));

    // Cutting off the end is caught by the last head.
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    tamper(dir.path(), "DELETE FROM ledger_entries WHERE idx >= 10", []);
    let report = verify(dir.path());
    assert_eq!(report.problem, Some(Problem::Truncated { index: 10, head_size: 11 }));
    assert_eq!(report.first_bad_index(), Some(10));
}

#[test]
fn an_inserted_entry_is_named() {
    // A well-formed entry slipped in at index 3, chained to entry 2, the later rows renumbered.
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let before: Entry = serde_json::from_slice(&bytes_of(dir.path(), 2)).unwrap();
    let forged = before.next(new_entry(99)).unwrap();
    let bytes = forged.canonical_bytes().unwrap();
    let conn = Connection::open(dir.path().join("lunli.db")).unwrap();
    conn.execute_batch(
        "UPDATE ledger_entries SET idx = idx + 1000000 WHERE idx >= 3;
         UPDATE ledger_entries SET idx = idx - 999999 WHERE idx >= 1000000;",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO ledger_entries (idx, leaf_hash, entry) VALUES (3, ?1, ?2)",
        params![lunli_ledger::leaf_hash(&bytes).as_bytes(), bytes],
    )
    .unwrap();
    drop(conn);
    let report = verify(dir.path());
    assert_eq!(report.first_bad_index(), Some(3), "{:?}", report.problem);
    assert!(matches!(report.problem, Some(Problem::Inserted { claimed: 3, .. })), "{:?}", report.problem);

    // A copy of an old entry added at the end claims an index that is taken.
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let conn = Connection::open(dir.path().join("lunli.db")).unwrap();
    conn.execute(
        "INSERT INTO ledger_entries (idx, leaf_hash, entry) SELECT ?1, leaf_hash, entry FROM ledger_entries WHERE idx = 1",
        [ENTRIES as i64],
    )
    .unwrap();
    drop(conn);
    let report = verify(dir.path());
    assert_eq!(report.problem, Some(Problem::Inserted { claimed: 1, first: 1, second: ENTRIES }));
}

#[test]
fn swapped_entries_are_named_by_the_first_position() {
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let conn = Connection::open(dir.path().join("lunli.db")).unwrap();
    conn.execute_batch(
        "UPDATE ledger_entries SET idx = 1000 WHERE idx = 4;
         UPDATE ledger_entries SET idx = 4 WHERE idx = 8;
         UPDATE ledger_entries SET idx = 8 WHERE idx = 1000;",
    )
    .unwrap();
    drop(conn);
    let report = verify(dir.path());
    assert_eq!(report.problem, Some(Problem::Reordered { index: 4, found: 8 }));
    assert_eq!(report.first_bad_index(), Some(4));
}

#[test]
fn an_altered_head_is_named_by_its_size() {
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    tamper(dir.path(), "UPDATE ledger_heads SET root = zeroblob(32) WHERE size = 7", []);
    assert_eq!(verify(dir.path()).problem, Some(Problem::BadSignature { size: 7 }));

    // Re-signed with the real key (the attacker has it too): the root no longer matches the entries.
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let key = store.signing_key().unwrap();
    drop(store);
    let forged = TreeHead { size: 7, root: Hash::sha256(b"forged"), timestamp: now(7) }.sign(&key);
    tamper(
        dir.path(),
        "UPDATE ledger_heads SET root = ?2, signature = ?3, timestamp = ?4 WHERE size = ?1",
        params![7, forged.head.root.as_bytes(), forged.signature.to_bytes(), forged.head.timestamp.to_string()],
    );
    let report = verify(dir.path());
    assert!(matches!(report.problem, Some(Problem::RootMismatch { size: 7, since: 6, .. })), "{:?}", report.problem);

    // A head row that cannot even be read back.
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    tamper(dir.path(), "UPDATE ledger_heads SET timestamp = 'yesterday' WHERE size = 3", []);
    assert_eq!(verify(dir.path()).problem, Some(Problem::BadSignature { size: 3 }));
}

#[test]
fn stored_leaf_hashes_and_non_canonical_bytes_are_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    tamper(dir.path(), "UPDATE ledger_entries SET leaf_hash = zeroblob(32) WHERE idx = 9", []);
    let report = verify(dir.path());
    assert!(matches!(&report.problem, Some(Problem::Malformed { index: 9, reason }) if reason.contains("leaf hash")));

    let dir = tempfile::tempdir().unwrap();
    drop(ledger(dir.path()));
    let entry: Entry = serde_json::from_slice(&bytes_of(dir.path(), 3)).unwrap();
    set_bytes(dir.path(), 3, serde_json::to_string_pretty(&entry).unwrap().as_bytes());
    let report = verify(dir.path());
    assert!(matches!(&report.problem, Some(Problem::Malformed { index: 3, reason }) if reason.contains("canonical")));
}

#[test]
fn no_head_is_signed_over_altered_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    store.write(|tx| tx.record(&event(ENTRIES))).unwrap();
    drop(store);
    let mut bytes = bytes_of(dir.path(), ENTRIES);
    flip(&mut bytes, "change");
    set_bytes(dir.path(), ENTRIES, &bytes);
    let store = SqliteStore::open(dir.path()).unwrap();
    let err = store.sign_head(now(1000)).unwrap_err();
    assert!(matches!(err, LedgerError::Tampered { .. }), "{err}");
    assert!(err.is_tampering());
    assert_eq!(store.latest_head().unwrap().map(|h| h.head.size), Some(ENTRIES));
}

#[test]
fn proofs_from_storage_verify_against_the_signed_heads() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    for index in 0..ENTRIES {
        let proof = store.inclusion_proof(index, None).unwrap();
        assert_eq!((proof.index, proof.size), (index, ENTRIES));
        assert!(proof.head.is_some(), "checked against the latest signed head");
        assert_eq!(proof.entry.index, index);
        for size in index + 1..=ENTRIES {
            let proof = store.inclusion_proof(index, Some(size)).unwrap();
            lunli_ledger::proof::verify_inclusion(index, size, &proof.leaf_hash, &proof.path, proof.root).unwrap();
        }
    }
    for size1 in 1..=ENTRIES {
        let proof = store.consistency_proof(size1, None).unwrap();
        assert_eq!(proof.size2, ENTRIES);
        for size2 in size1..=ENTRIES {
            let proof = store.consistency_proof(size1, Some(size2)).unwrap();
            assert!(proof.head1.is_some() && proof.head2.is_some());
            lunli_ledger::proof::verify_consistency(size1, size2, &proof.path, proof.root1, proof.root2).unwrap();
        }
    }
    assert!(matches!(store.inclusion_proof(ENTRIES, None), Err(LedgerError::NoSuchEntry { .. })));
    assert!(matches!(store.inclusion_proof(0, Some(ENTRIES + 1)), Err(LedgerError::NoSuchSize { .. })));
    assert!(matches!(store.consistency_proof(0, None), Err(LedgerError::InvalidSizes { .. })));
    assert!(matches!(store.consistency_proof(5, Some(4)), Err(LedgerError::InvalidSizes { .. })));

    // Proofs are built from the stored leaf hashes and checked against the signed root, so an
    // altered stored hash cannot yield a proof.
    drop(store);
    tamper(dir.path(), "UPDATE ledger_entries SET leaf_hash = zeroblob(32) WHERE idx = 9", []);
    let store = SqliteStore::open(dir.path()).unwrap();
    let err = store.inclusion_proof(2, None).unwrap_err();
    assert!(matches!(err, LedgerError::ProofFailed(_)), "{err}");
    assert!(matches!(store.consistency_proof(3, None), Err(LedgerError::ProofFailed(_))));
}

#[test]
fn an_export_is_a_bundle_that_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let store = ledger(dir.path());
    let mut out = Vec::new();
    let summary = store.export_bundle(&mut out).unwrap();
    assert_eq!((summary.entries, summary.heads), (ENTRIES, ENTRIES));
    let bundle: Bundle = serde_json::from_slice(&out).unwrap();
    assert_eq!(bundle.entries.len() as u64, ENTRIES);
    let report = verify_bundle(&bundle, &store.verifying_key().unwrap());
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.heads_verified, ENTRIES);
}

#[test]
fn batches_and_group_commit_number_every_append_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let mut bad = event(0);
    bad.actor = String::new();
    let results = store.append_batch(&[event(0), bad, event(1)]).unwrap();
    assert_eq!(results[0].as_ref().ok(), Some(&0));
    assert!(results[1].is_err(), "an event with no actor is refused on its own");
    assert_eq!(results[2].as_ref().ok(), Some(&1));

    let writer = Arc::new(GroupCommit::start(Arc::clone(&store)).unwrap());
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                (0..25u64).map(|i| writer.append(event(t * 100 + i)).unwrap()).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut indices: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    indices.sort_unstable();
    assert_eq!(indices, (2..202).collect::<Vec<_>>(), "every index handed out once, none skipped");
    drop(writer);
    store.sign_head(now(0)).unwrap();
    let report = store.verify_ledger().unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.size, 202);
}

/// Several entries appended in one transaction (a group commit of decisions) read the chain's
/// tail once and chain each entry to the one before it: consecutive indices, a ledger that
/// verifies, and the next transaction continuing after them. A transaction that fails part way
/// stores none of its entries, and the next one takes the indices it would have taken.
#[test]
fn entries_appended_in_one_transaction_chain_to_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store.write(|tx| tx.record(&event(0))).unwrap();
    let batch = store.write(|tx| (1..6).map(|i| tx.record(&event(i))).collect::<Result<Vec<_>, _>>()).unwrap();
    assert_eq!(batch, vec![1, 2, 3, 4, 5]);
    let failed: Result<(), _> = store.write(|tx| {
        tx.record(&event(6))?;
        tx.record(&event(7))?;
        Err(lunli_governance::GovernanceError::Storage { message: "stop".into(), source: None })
    });
    assert!(failed.is_err());
    let next = store.write(|tx| (6..8).map(|i| tx.record(&event(i))).collect::<Result<Vec<_>, _>>()).unwrap();
    assert_eq!(next, vec![6, 7]);
    assert!(matches!(store.sign_head(now(0)).unwrap(), SignOutcome::New(_)));
    let report = verify(dir.path());
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.size, 8);
}
