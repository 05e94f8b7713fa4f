//! How fast the ledger's core is on one core: hashing a million leaves into a root, proving one
//! of them, and turning entries into leaves.
//!
//! `cargo bench -p lunli-ledger --bench ledger` (about a minute once built). Each million-leaf
//! figure is the time for the whole million.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lunli_ledger::proof::{inclusion_proof, verify_inclusion};
use lunli_ledger::{
    CanonicalObject, CompactTree, Entry, EntryContent, Hash, NewEntry, PreparedContent, SigningKey, Timestamp,
    TreeHead, Verifier, canonical_entry, canonical_prepared_entry, leaf_hash, tree,
};
use serde_json::json;

const LEAVES: usize = 1_000_000;
/// Roughly the size of a canonical entry with a small payload.
const LEAF_BYTES: usize = 256;

/// A pseudo-random buffer to slice leaf data from (xorshift; no randomness crate needed).
fn buffer() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Leaf `i`'s data: a window into the buffer.
fn leaf_data(buffer: &[u8], i: usize) -> &[u8] {
    let start = i.wrapping_mul(7919) % (buffer.len() - LEAF_BYTES);
    &buffer[start..start + LEAF_BYTES]
}

fn million_leaves(c: &mut Criterion) {
    let buffer = buffer();
    let hashes: Vec<Hash> = (0..LEAVES).map(|i| leaf_hash(leaf_data(&buffer, i))).collect();
    let mut group = c.benchmark_group("1M leaves");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));

    group.bench_function("leaf hashing + streaming root", |b| {
        b.iter(|| {
            let mut tree = CompactTree::new();
            for i in 0..LEAVES {
                tree.push(leaf_hash(leaf_data(&buffer, i)));
            }
            black_box(tree.root())
        })
    });
    group.bench_function("streaming root of leaf hashes", |b| {
        b.iter(|| black_box(hashes.iter().copied().collect::<CompactTree>().root()))
    });
    group.bench_function("recursive root of leaf hashes", |b| b.iter(|| black_box(tree::root(&hashes))));

    let root = tree::root(&hashes);
    let index = 765_432u64;
    group.bench_function("inclusion proof build + verify", |b| {
        b.iter(|| {
            let proof = inclusion_proof(hashes.as_slice(), index, LEAVES as u64).unwrap();
            verify_inclusion(index, LEAVES as u64, &hashes[index as usize], &proof, root).unwrap();
            black_box(proof)
        })
    });
    group.finish();

    let proof = inclusion_proof(hashes.as_slice(), index, LEAVES as u64).unwrap();
    c.bench_function("inclusion proof verify (1M-leaf tree)", |b| {
        b.iter(|| verify_inclusion(index, LEAVES as u64, &hashes[index as usize], black_box(&proof), root))
    });
}

fn entries(c: &mut Criterion) {
    let content = |i: u64| NewEntry {
        time: Timestamp::from_unix_millis(1_777_627_800_000 + i as i64).unwrap(),
        actor: "user:alice".into(),
        action: "decision.record".into(),
        subject: "system:credit-scoring".into(),
        payload: json!({"request": format!("req-{i}"), "outcome": "approved", "score": 0.8125, "reviewed": false}),
    };
    let first = Entry::first(content(0)).unwrap();
    c.bench_function("entry: canonical bytes + leaf hash", |b| b.iter(|| black_box(first.leaf_hash().unwrap())));
    c.bench_function("entry: build the next entry", |b| {
        b.iter_batched(|| content(1), |next| black_box(first.next(next).unwrap()), BatchSize::SmallInput)
    });
    // What a writer needs of an event: its canonical bytes. Building the entry first canonicalises
    // the payload twice (its digest, then inside the entry) and copies the content.
    let next = content(1);
    let prev = first.leaf_hash().unwrap();
    c.bench_function("writer: entry built, then canonical bytes", |b| {
        b.iter(|| black_box(Entry::new(1, prev, next.clone()).unwrap().canonical_bytes().unwrap()))
    });
    c.bench_function("writer: canonical_entry (one pass)", |b| {
        let borrowed = EntryContent {
            time: next.time,
            actor: &next.actor,
            action: &next.action,
            subject: &next.subject,
            payload: &next.payload,
        };
        b.iter(|| black_box(canonical_entry(1, &prev, borrowed).unwrap()))
    });
    // The gateway's decisions: the payload written member by member on the request's thread,
    // and the writer placing its bytes.
    let reasons = ["low_confidence", "high_impact"];
    let decision_payload = || {
        let mut object = CanonicalObject::new();
        object
            .optional_string("channel", Some("app"))
            .optional_number("confidence", Some(0.42))
            .string("id", "0193a5b2-7c1e-7f00-8000-000000000001")
            .optional_string("impact", Some("high"))
            .string("outcome", "human_review")
            .optional_string("purpose", Some("credit-limit"))
            .strings("reasons", reasons)
            .string("subject", "applicant-7");
        object.finish().unwrap()
    };
    c.bench_function("request: decision payload written member by member", |b| {
        b.iter(|| black_box(decision_payload()))
    });
    let decision_json: serde_json::Value = serde_json::from_slice(decision_payload().bytes()).unwrap();
    let (actor, action, subject) = (next.actor.as_str(), "decision", "system:credit-scoring");
    c.bench_function("writer: decision entry from its JSON value", |b| {
        let content = EntryContent { time: next.time, actor, action, subject, payload: &decision_json };
        b.iter(|| black_box(canonical_entry(1, &prev, content).unwrap()))
    });
    let prepared = decision_payload();
    c.bench_function("writer: decision entry from its prepared payload", |b| {
        let content = PreparedContent { time: next.time, actor, action, subject, payload: &prepared };
        b.iter(|| black_box(canonical_prepared_entry(1, &prev, content).unwrap()))
    });
    // What signing a head does per stored row: in full (parse, write out again, compare, hash),
    // or, for a row this process wrote and remembers, hash the bytes alone.
    let stored = first.canonical_bytes().unwrap();
    c.bench_function("head: row checked in full", |b| {
        b.iter(|| {
            let entry: Entry = serde_json::from_slice(black_box(&stored)).unwrap();
            assert_eq!(entry.canonical_bytes().unwrap(), stored);
            black_box(leaf_hash(&stored))
        })
    });
    c.bench_function("head: row this process wrote (hash only)", |b| {
        b.iter(|| black_box(leaf_hash(black_box(&stored))))
    });

    // Streaming verification of 10,000 entries under one signed head: divide by 10,000 for the
    // cost of one row when a store verifies millions.
    let key = SigningKey::from_bytes(&[1; 32]);
    let mut log = vec![first];
    for i in 1..10_000 {
        let next = log[log.len() - 1].next(content(i)).unwrap();
        log.push(next);
    }
    let tree: CompactTree = log.iter().map(|entry| entry.leaf_hash().unwrap()).collect();
    let head = TreeHead { size: tree.size(), root: tree.root(), timestamp: Timestamp::from_unix_millis(0).unwrap() };
    let heads = [head.sign(&key)];
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.bench_function("10k entries, streaming", |b| {
        b.iter(|| {
            let mut verifier = Verifier::new(&key.verifying_key(), &heads);
            for entry in &log {
                verifier.push(entry);
            }
            let report = verifier.finish();
            assert!(report.is_ok());
            black_box(report)
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = million_leaves, entries
}
criterion_main!(benches);
