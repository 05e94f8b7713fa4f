//! Tampering with an exported ledger: each kind of change is caught, and the report names the
//! first bad index and what is wrong with it.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use lunli_ledger::verify::Change;
use lunli_ledger::{
    Bundle, CompactTree, Entry, Hash, NewEntry, Problem, SignedTreeHead, SigningKey, Timestamp, TreeHead,
    verify_bundle, verify_entries,
};
use serde_json::json;

const ENTRIES: u64 = 20;
/// Heads are signed at these sizes.
const HEAD_SIZES: [u64; 4] = [0, 5, 10, 20];

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

fn content(i: u64) -> NewEntry {
    NewEntry {
        time: Timestamp::from_unix_millis(1_777_627_800_000 + i as i64 * 1_000).unwrap(),
        actor: format!("user:{}", ["alice", "bob", "chen"][i as usize % 3]),
        action: if i.is_multiple_of(2) { "system.register".into() } else { "decision.record".into() },
        subject: format!("system:credit-scoring-{}", i % 4),
        payload: json!({"seq": i, "note": format!("decision {i}"), "scores": [0.5, i, null], "ok": i.is_multiple_of(3)}),
    }
}

fn entries(n: u64) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for i in 0..n {
        let entry = match out.last() {
            None => Entry::first(content(i)).unwrap(),
            Some(last) => last.next(content(i)).unwrap(),
        };
        out.push(entry);
    }
    out
}

fn heads(entries: &[Entry], sizes: &[u64], key: &SigningKey) -> Vec<SignedTreeHead> {
    let mut tree = CompactTree::new();
    let mut heads = Vec::new();
    for size in 0..=entries.len() as u64 {
        if sizes.contains(&size) {
            let timestamp = Timestamp::from_unix_millis(1_777_700_000_000 + size as i64).unwrap();
            heads.push(TreeHead { size, root: tree.root(), timestamp }.sign(key));
        }
        if let Some(entry) = entries.get(size as usize) {
            tree.push(entry.leaf_hash().unwrap());
        }
    }
    heads
}

fn bundle() -> Bundle {
    let entries = entries(ENTRIES);
    let heads = heads(&entries, &HEAD_SIZES, &key());
    Bundle::new(&key().verifying_key(), entries, heads).unwrap()
}

/// Verifies with the trusted key and returns the problem.
fn problem(bundle: &Bundle) -> Option<Problem> {
    verify_bundle(bundle, &key().verifying_key()).problem
}

/// Rewrites the hash chain from `from` on, as an attacker with database access but no signing
/// key would after changing an entry.
fn rechain(entries: &mut [Entry], from: usize) {
    for i in from.max(1)..entries.len() {
        entries[i].prev_leaf_hash = entries[i - 1].leaf_hash().unwrap();
    }
}

#[test]
fn an_untouched_ledger_verifies() {
    let bundle = bundle();
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.entries_read, ENTRIES);
    assert_eq!(report.size, ENTRIES);
    assert_eq!(report.heads_verified, HEAD_SIZES.len() as u64);
    let leaves: Vec<Hash> = bundle.entries.iter().map(|e| e.leaf_hash().unwrap()).collect();
    assert_eq!(report.root, lunli_ledger::tree::root(&leaves));
}

#[test]
fn the_bundle_survives_a_json_round_trip() {
    let bundle = bundle();
    let json = serde_json::to_string_pretty(&bundle).unwrap();
    let back: Bundle = serde_json::from_str(&json).unwrap();
    assert_eq!(back, bundle);
    assert!(verify_bundle(&back, &key().verifying_key()).is_ok());
}

#[test]
fn one_changed_byte_of_a_payload_is_named() {
    // Change one byte of the exported JSON text inside entry 7's payload: "decision 7" -> "decisioN 7".
    let json = serde_json::to_string(&bundle()).unwrap();
    let tampered = json.replacen("\"decision 7\"", "\"decisioN 7\"", 1);
    assert_eq!(tampered.len(), json.len());
    assert_ne!(tampered, json);
    let bundle: Bundle = serde_json::from_str(&tampered).unwrap();
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert_eq!(report.problem, Some(Problem::Modified { index: 7, change: Change::Payload }));
    assert_eq!(report.first_bad_index(), Some(7));
    assert_eq!(report.size, 7, "entries 0..7 still check out");
}

#[test]
fn a_changed_payload_with_its_hash_recomputed_is_named_by_the_chain() {
    let mut bundle = bundle();
    let entry = &mut bundle.entries[7];
    entry.payload["note"] = json!("approved after all");
    entry.payload_sha256 = entry.payload_digest().unwrap();
    assert_eq!(problem(&bundle), Some(Problem::Modified { index: 7, change: Change::Content }));
}

#[test]
fn a_changed_actor_just_before_a_signed_head_is_still_named() {
    // Entry 9 is the last one head 10 covers: the head's root fails first, and the chain at
    // entries 10 and 11 pins the change on entry 9.
    let mut bundle = bundle();
    bundle.entries[9].actor = "user:mallory".into();
    assert_eq!(problem(&bundle), Some(Problem::Modified { index: 9, change: Change::Content }));
}

#[test]
fn a_changed_last_entry_is_caught_by_the_head_covering_it() {
    let mut bundle = bundle();
    bundle.entries[19].subject = "system:other".into();
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert!(matches!(report.problem, Some(Problem::RootMismatch { size: 20, since: 10, .. })), "{:?}", report.problem);
    assert_eq!(report.first_bad_index(), None);
}

#[test]
fn rewritten_history_is_caught_by_the_signed_heads() {
    let mut bundle = bundle();
    bundle.entries[12].action = "decision.erase".into();
    rechain(&mut bundle.entries, 13);
    assert!(matches!(problem(&bundle), Some(Problem::RootMismatch { size: 20, since: 10, .. })));
    // Without heads the chain alone cannot tell; with a head at 15 the range narrows.
    let heads = heads(&entries(ENTRIES), &[15], &key());
    let narrowed = Bundle::new(&key().verifying_key(), bundle.entries.clone(), heads).unwrap();
    assert!(matches!(problem(&narrowed), Some(Problem::RootMismatch { size: 15, since: 0, .. })));
}

#[test]
fn a_deleted_entry_is_named() {
    let mut bundle = bundle();
    bundle.entries.remove(4);
    assert_eq!(problem(&bundle), Some(Problem::Missing { index: 4, next: 5 }));
}

#[test]
fn a_deleted_entry_with_the_rest_renumbered_is_named() {
    let mut bundle = bundle();
    bundle.entries.remove(4);
    for entry in &mut bundle.entries[4..] {
        entry.index -= 1;
    }
    assert_eq!(problem(&bundle), Some(Problem::ChainBroken { index: 4 }));
}

#[test]
fn deleted_entries_at_the_end_are_caught_by_a_head() {
    let mut bundle = bundle();
    bundle.entries.truncate(17);
    assert_eq!(problem(&bundle), Some(Problem::Truncated { index: 17, head_size: 20 }));
}

#[test]
fn an_inserted_entry_is_named() {
    let mut bundle = bundle();
    // A well-formed forgery that claims index 6 and chains to entry 5.
    let forged = bundle.entries[5].next(content(99)).unwrap();
    assert_eq!(forged.index, 6);
    bundle.entries.insert(6, forged);
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert_eq!(report.problem, Some(Problem::Inserted { claimed: 6, first: 6, second: 7 }));
    assert_eq!(report.first_bad_index(), Some(6));
}

#[test]
fn an_inserted_entry_claiming_a_later_index_is_named() {
    let mut bundle = bundle();
    let mut forged = bundle.entries[15].clone();
    forged.actor = "user:mallory".into();
    bundle.entries.insert(5, forged);
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert_eq!(report.problem, Some(Problem::Inserted { claimed: 15, first: 5, second: 16 }));
    assert_eq!(report.first_bad_index(), Some(5));
}

#[test]
fn a_duplicated_entry_is_named() {
    let mut bundle = bundle();
    let copy = bundle.entries[3].clone();
    bundle.entries.insert(4, copy);
    assert_eq!(problem(&bundle), Some(Problem::Inserted { claimed: 3, first: 3, second: 4 }));
}

#[test]
fn two_swapped_entries_are_named() {
    let mut bundle = bundle();
    bundle.entries.swap(3, 8);
    assert_eq!(problem(&bundle), Some(Problem::Reordered { index: 3, found: 8 }));

    let mut adjacent = self::bundle();
    adjacent.entries.swap(11, 12);
    assert_eq!(problem(&adjacent), Some(Problem::Reordered { index: 11, found: 12 }));
}

#[test]
fn swapped_contents_with_indices_kept_are_named() {
    let mut bundle = bundle();
    bundle.entries.swap(3, 8);
    bundle.entries[3].index = 3;
    bundle.entries[8].index = 8;
    assert_eq!(problem(&bundle), Some(Problem::ChainBroken { index: 3 }));
}

#[test]
fn a_first_entry_that_claims_a_predecessor_is_named() {
    let mut bundle = bundle();
    bundle.entries[0].prev_leaf_hash = Hash::sha256(b"an older log");
    assert_eq!(problem(&bundle), Some(Problem::ChainBroken { index: 0 }));
}

#[test]
fn an_entry_that_cannot_be_canonicalised_is_named() {
    let mut bundle = bundle();
    bundle.entries[2].payload = json!({"id": 12_345_678_901_234_567_890u64});
    let report = verify_bundle(&bundle, &key().verifying_key());
    assert!(matches!(&report.problem, Some(Problem::Malformed { index: 2, reason }) if reason.contains("/id")));
}

#[test]
fn heads_signed_by_another_key_or_altered_are_rejected() {
    let other = SigningKey::from_bytes(&[7; 32]);
    let mut bundle = bundle();
    bundle.heads[2] = bundle.heads[2].head.sign(&other);
    assert_eq!(problem(&bundle), Some(Problem::BadSignature { size: 10 }));

    let mut resized = self::bundle();
    resized.heads[1].head.size = 6; // signature kept
    assert_eq!(problem(&resized), Some(Problem::BadSignature { size: 6 }));

    let mut rerooted = self::bundle();
    rerooted.heads[1].head.root = Hash::sha256(b"another root"); // signature kept
    assert_eq!(problem(&rerooted), Some(Problem::BadSignature { size: 5 }));

    let mut beyond = self::bundle();
    beyond.heads.push(TreeHead { size: 25, root: Hash::ZERO, timestamp: beyond.heads[0].head.timestamp }.sign(&other));
    assert_eq!(problem(&beyond), Some(Problem::BadSignature { size: 25 }));
}

#[test]
fn a_head_signed_over_a_wrong_root_is_a_root_mismatch() {
    let mut bundle = bundle();
    let head = TreeHead { root: Hash::sha256(b"not the root"), ..bundle.heads[1].head };
    bundle.heads[1] = head.sign(&key());
    assert!(matches!(problem(&bundle), Some(Problem::RootMismatch { size: 5, since: 0, .. })));
}

#[test]
fn a_bundle_for_another_key_or_format_is_reported() {
    let other = SigningKey::from_bytes(&[7; 32]);
    let mut bundle = bundle();
    bundle.public_key_pem = lunli_ledger::key::verifying_key_to_pem(&other.verifying_key()).unwrap();
    assert!(matches!(problem(&bundle), Some(Problem::KeyMismatch { .. })));
    // And the auditor's key decides: a bundle signed by another key fails whatever it names.
    let report = verify_bundle(&self::bundle(), &other.verifying_key());
    assert!(matches!(report.problem, Some(Problem::KeyMismatch { .. })));

    let mut future = self::bundle();
    future.format_version = 2;
    assert_eq!(problem(&future), Some(Problem::UnsupportedFormat { found: 2 }));
}

#[test]
fn problems_read_as_sentences() {
    let text = Problem::Missing { index: 4, next: 5 }.to_string();
    assert_eq!(text, "entry 4 is missing (deleted): entry 5 stands in its place and 4 never comes");
    let json = serde_json::to_value(Problem::Modified { index: 7, change: Change::Payload }).unwrap();
    assert_eq!(json, json!({"kind": "modified", "index": 7, "change": "payload"}));
}

#[test]
fn streaming_verification_stops_reading_once_decided_and_passes_read_errors_through() {
    let mut entries = entries(50);
    let heads = heads(&entries, &[25, 50], &key());
    let verifying = key().verifying_key();

    let ok = verify_entries(entries.iter().cloned().map(Ok::<_, String>), &heads, &verifying).unwrap();
    assert!(ok.is_ok() && ok.entries_read == 50 && ok.heads_verified == 2);

    entries[10].payload = json!("changed");
    let mut read = 0;
    let stream = entries.iter().cloned().inspect(|_| read += 1).map(Ok::<_, String>);
    let report = verify_entries(stream, &heads, &verifying).unwrap();
    assert_eq!(report.problem, Some(Problem::Modified { index: 10, change: Change::Payload }));
    assert_eq!(read, 11, "stopped right after entry 10");

    let failing = entries.iter().cloned().enumerate().map(|(i, e)| if i == 3 { Err("disk") } else { Ok(e) });
    assert_eq!(verify_entries(failing, &heads, &verifying), Err("disk"));
}

#[test]
fn ten_thousand_entries_stream_through() {
    let key = key();
    let mut tree = CompactTree::new();
    let mut last: Option<Entry> = None;
    let mut produced = Vec::with_capacity(10_000);
    for i in 0..10_000u64 {
        let entry = match &last {
            None => Entry::first(content(i)).unwrap(),
            Some(prev) => prev.next(content(i)).unwrap(),
        };
        tree.push(entry.leaf_hash().unwrap());
        produced.push(entry.clone());
        last = Some(entry);
    }
    let head = TreeHead { size: tree.size(), root: tree.root(), timestamp: Timestamp::from_unix_millis(0).unwrap() };
    let report =
        verify_entries(produced.into_iter().map(Ok::<_, ()>), &[head.sign(&key)], &key.verifying_key()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert_eq!(report.size, 10_000);
}

mod any_single_change {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Tamper {
        Payload(usize),
        Actor(usize),
        Delete(usize),
        InsertCopy { of: usize, at: usize },
        Swap(usize, usize),
    }

    fn tamper() -> impl Strategy<Value = Tamper> {
        let n = ENTRIES as usize;
        prop_oneof![
            (0..n).prop_map(Tamper::Payload),
            (0..n).prop_map(Tamper::Actor),
            (0..n).prop_map(Tamper::Delete),
            (0..n, 0..=n).prop_map(|(of, at)| Tamper::InsertCopy { of, at }),
            (0..n, 0..n).prop_filter("two different entries", |(i, j)| i != j).prop_map(|(i, j)| Tamper::Swap(i, j)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// With a signed head over the whole log, every single change is caught, and the first bad
        /// index named is never after the change.
        #[test]
        fn is_caught_and_located(change in tamper()) {
            let mut bundle = bundle();
            let (expected, at_most) = match change {
                Tamper::Payload(k) => {
                    bundle.entries[k].payload["note"] = json!("rewritten");
                    (Some(Problem::Modified { index: k as u64, change: Change::Payload }), k)
                }
                Tamper::Actor(k) => {
                    bundle.entries[k].actor = "user:mallory".into();
                    (None, k + 1)
                }
                Tamper::Delete(k) => {
                    bundle.entries.remove(k);
                    let problem = if k + 1 == ENTRIES as usize {
                        Problem::Truncated { index: k as u64, head_size: ENTRIES }
                    } else {
                        Problem::Missing { index: k as u64, next: k as u64 + 1 }
                    };
                    (Some(problem), k)
                }
                Tamper::InsertCopy { of, at } => {
                    let copy = bundle.entries[of].clone();
                    bundle.entries.insert(at, copy);
                    (None, at)
                }
                Tamper::Swap(i, j) => {
                    bundle.entries.swap(i, j);
                    let (low, high) = (i.min(j) as u64, i.max(j) as u64);
                    (Some(Problem::Reordered { index: low, found: high }), low as usize)
                }
            };
            let report = verify_bundle(&bundle, &key().verifying_key());
            prop_assert!(!report.is_ok(), "{:?} went unnoticed", change);
            if let Some(expected) = expected {
                prop_assert_eq!(report.problem.clone(), Some(expected));
            }
            if let Some(first) = report.first_bad_index() {
                prop_assert!(first <= at_most as u64, "{:?}: first bad index {} reported", change, first);
            }
        }
    }
}
