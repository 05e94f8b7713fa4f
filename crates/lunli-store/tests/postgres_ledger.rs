//! The ledger's operations on PostgreSQL, with two stores (standing in for two `lunli serve`
//! instances) sharing one database and one key: heads signed by either verify on both, proofs
//! and the exported bundle check out, tampering under the store is named by its index, and an
//! instance holding another key is refused before it signs.

use lunli_test_support::backend;

use jiff::Timestamp;
use lunli_governance::store::{Event, Store};
use lunli_ledger::{Bundle, Problem, verify_bundle};
use lunli_store::{Ledger as _, LedgerError, LedgerKeys, PostgresStore, SignOutcome};

use backend::PgSchema;

fn event(n: u64) -> Event {
    Event {
        actor: format!("user:instance-{}", n % 2),
        action: "decision.record",
        subject: format!("request:{n}"),
        at: Timestamp::from_millisecond(1_767_225_600_000 + n as i64).expect("time"),
        payload: serde_json::json!({ "n": n, "outcome": if n.is_multiple_of(3) { "deny" } else { "allow" } }).into(),
    }
}

fn now(n: u64) -> lunli_ledger::Timestamp {
    lunli_ledger::Timestamp::from_unix_millis(1_767_300_000_000 + n as i64).expect("time")
}

/// Two stores on one schema sharing one key directory; `n` entries written alternately by
/// each, a head signed after every third by whichever wrote it.
fn two_instances(schema: &PgSchema, keys: &std::path::Path, n: u64) -> [PostgresStore; 2] {
    let stores = [
        schema.connect().with_ledger_keys(LedgerKeys::in_dir(keys)),
        schema.connect().with_ledger_keys(LedgerKeys::in_dir(keys)),
    ];
    for i in 0..n {
        let store = &stores[(i % 2) as usize];
        assert_eq!(store.write(|tx| tx.record(&event(i))).expect("record"), i);
        if i % 3 == 2 {
            assert!(matches!(store.sign_head(now(i)).expect("sign"), SignOutcome::New(_)));
        }
    }
    stores
}

#[test]
fn heads_signed_by_either_instance_verify_on_both() {
    let schema = PgSchema::new();
    let keys = tempfile::tempdir().expect("key dir");
    let [a, b] = two_instances(&schema, keys.path(), 20);
    // 20 entries: heads at 3, 6, …, 18; the last two are not covered yet.
    assert!(matches!(b.sign_head(now(100)).expect("sign"), SignOutcome::New(h) if h.head.size == 20));
    assert!(matches!(a.sign_head(now(101)).expect("sign"), SignOutcome::AlreadySigned(h) if h.head.size == 20));
    for store in [&a, &b] {
        let report = store.verify_ledger().expect("verify");
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.entries_read, 20);
        assert_eq!(report.heads_verified, 7);
        assert_eq!(store.heads().expect("heads").len(), 7);
    }
    assert_eq!(a.latest_head().expect("latest"), b.latest_head().expect("latest"));
}

#[test]
fn proofs_and_the_export_check_out_offline() {
    let schema = PgSchema::new();
    let keys = tempfile::tempdir().expect("key dir");
    let [a, b] = two_instances(&schema, keys.path(), 13);
    let proof = a.inclusion_proof(4, None).expect("inclusion proof");
    // The latest head covers 12 entries; the proof is against its signed root.
    assert_eq!(proof.size, 12);
    assert_eq!(proof.entry.subject, "request:4");
    assert_eq!(proof.root, proof.head.expect("signed head").head.root);
    let proof = b.consistency_proof(3, Some(13)).expect("consistency proof");
    assert!(proof.head1.is_some() && proof.head2.is_none(), "13 has no signed head yet");
    assert!(matches!(a.inclusion_proof(13, None), Err(LedgerError::NoSuchEntry { .. })));

    let mut out = Vec::new();
    let summary = b.export_bundle(&mut out).expect("export");
    assert_eq!((summary.entries, summary.heads), (13, 4));
    let bundle: Bundle = serde_json::from_slice(&out).expect("a bundle");
    let report = verify_bundle(&bundle, &a.verifying_key().expect("key"));
    assert!(report.is_ok(), "{report:?}");
}

#[test]
fn tampering_under_the_store_is_named_and_never_signed_over() {
    let schema = PgSchema::new();
    let keys = tempfile::tempdir().expect("key dir");
    // Heads cover entries 0..9; entry 9 is not covered by any head yet.
    let [a, _b] = two_instances(&schema, keys.path(), 9);
    a.write(|tx| tx.record(&event(9))).expect("record");
    let mut client = schema.client();
    // Someone with database access rewrites a payload, keeping the JSON well formed.
    let mut rewrite = |index: i64| {
        let bytes: Vec<u8> =
            client.query_one("SELECT entry FROM ledger_entries WHERE idx = $1", &[&index]).expect("entry").get(0);
        let altered = String::from_utf8(bytes).expect("utf-8").replace("\"deny\"", "\"allow\"");
        client
            .execute("UPDATE ledger_entries SET entry = $2 WHERE idx = $1", &[&index, &altered.as_bytes()])
            .expect("tamper");
    };
    rewrite(9);
    let problem = a.verify_ledger().expect("verify").problem.expect("the alteration is found");
    assert_eq!(problem.index(), Some(9), "{problem}");
    let err = a.sign_head(now(50)).expect_err("no head over an altered entry");
    assert!(
        err.is_tampering() && matches!(err, LedgerError::Tampered { problem: Problem::Modified { index: 9, .. } }),
        "{err}"
    );

    // An entry a signed head covers: verification names it (signing reads only what is new).
    rewrite(6);
    let problem = a.verify_ledger().expect("verify").problem.expect("the alteration is found");
    assert_eq!(problem.index(), Some(6), "{problem}");
}

#[test]
fn an_instance_with_another_key_is_refused_before_it_signs() {
    let schema = PgSchema::new();
    let keys = tempfile::tempdir().expect("key dir");
    let [a, _b] = two_instances(&schema, keys.path(), 4);
    let other_keys = tempfile::tempdir().expect("other key dir");
    let stranger = schema.connect().with_ledger_keys(LedgerKeys::in_dir(other_keys.path()));
    stranger.write(|tx| tx.record(&event(4))).expect("appending needs no key");
    let err = stranger.sign_head(now(9)).expect_err("another key");
    assert!(matches!(err, LedgerError::ForeignKey { size: 3, .. }), "{err}");
    assert!(err.to_string().contains("same key"), "{err}");
    // The rightful instance signs on, and nothing the stranger did broke the log.
    assert!(matches!(a.sign_head(now(10)).expect("sign"), SignOutcome::New(h) if h.head.size == 5));
    assert!(a.verify_ledger().expect("verify").is_ok());

    let keyless = schema.connect();
    assert!(matches!(keyless.sign_head(now(11)), Err(LedgerError::NoKeyDirectory)));
    assert_eq!(keyless.heads().expect("reading needs no key").len(), 2);
}
