//! `LedgerStatus`, what the dashboard's ledger-health page reads: size, latest signed head and
//! last verification on the embedded store (including a ledger altered behind its back), and
//! the same on the shared PostgreSQL store, with and without a key directory.

use lunli_test_support::backend;

use jiff::Timestamp;
use lunli_governance::store::{Event, Store};
use lunli_store::{Ledger as _, LedgerKeys, LedgerStatus, SqliteStore, VERIFICATION_FILE};

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_767_225_600_000 + ms).expect("time")
}

fn append<S: Store>(store: &S, n: usize) {
    store
        .write(|tx| {
            for i in 0..n {
                tx.record(&Event {
                    actor: "user:t".into(),
                    action: if i % 2 == 0 { "decision" } else { "system.suspend" },
                    subject: format!("system:s{i}"),
                    at: at(i as i64),
                    payload: serde_json::json!({ "i": i }).into(),
                })?;
            }
            Ok(())
        })
        .expect("append");
}

#[test]
fn the_embedded_store_reports_its_head_and_keeps_the_last_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("store");
    let empty = store.ledger_health().expect("health");
    assert_eq!((empty.size, empty.latest_head.is_none(), empty.last_verification.is_none()), (0, true, true));
    assert!(empty.signs_heads);

    append(&store, 5);
    let recent = store.recent_entries(2).expect("recent");
    assert_eq!(recent.iter().map(|e| e.index).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(recent[1].subject, "system:s4");
    assert_eq!(store.recent_entries(100).expect("all").len(), 5);

    let signed = store.sign_head(lunli_ledger::Timestamp::from_unix_millis(1_767_225_700_000).expect("time"));
    let head = signed.expect("sign").head().head;
    append(&store, 2);
    let verified = store.verify_now(at(10_000)).expect("verify");
    assert!(verified.ok && verified.problem.is_none(), "{verified:?}");
    assert_eq!((verified.size, verified.heads_verified), (7, 1));
    let health = store.ledger_health().expect("health");
    assert_eq!(health.size, 7);
    let latest = health.latest_head.expect("a head");
    assert_eq!((latest.size, latest.root.clone()), (5, head.root.to_hex()));
    assert_eq!(latest.signed_at, Timestamp::from_millisecond(1_767_225_700_000).expect("time"));
    assert_eq!(health.last_verification, Some(verified));

    // An entry altered behind the store's back: the next verification says so, and it is kept.
    let conn = rusqlite::Connection::open(dir.path().join(lunli_store::DATABASE_FILE)).expect("open");
    conn.execute("UPDATE ledger_entries SET entry = CAST('{}' AS BLOB) WHERE idx = 3", []).expect("tamper");
    let failed = store.verify_now(at(20_000)).expect("verify");
    assert!(!failed.ok, "{failed:?}");
    assert!(failed.problem.as_deref().is_some_and(|p| p.contains('3')), "{failed:?}");
    assert_eq!(store.ledger_health().expect("health").last_verification, Some(failed));

    // A damaged record of the last verification is an error naming the file, not a guess.
    std::fs::write(dir.path().join(VERIFICATION_FILE), "not json").expect("write");
    let err = store.ledger_health().expect_err("unreadable record");
    assert!(err.to_string().contains(VERIFICATION_FILE), "{err}");
}

#[test]
fn the_shared_store_reports_its_head_and_verifies_with_the_key_directory_it_was_given() {
    let schema = backend::PgSchema::new();
    let keyless = schema.connect();
    append(&keyless, 3);
    let health = keyless.ledger_health().expect("health");
    assert_eq!((health.size, health.signs_heads, health.latest_head.is_none()), (3, false, true));
    let recent = keyless.recent_entries(2).expect("recent");
    assert_eq!(recent.iter().map(|e| e.index).collect::<Vec<_>>(), [1, 2]);
    let err = keyless.verify_now(at(0)).expect_err("no key directory");
    assert!(err.to_string().contains("signing key"), "{err}");

    let keys = tempfile::tempdir().expect("key dir");
    let store = schema.connect().with_ledger_keys(LedgerKeys::in_dir(keys.path()));
    let signed = store.sign_head(lunli_ledger::Timestamp::from_unix_millis(1_767_225_700_000).expect("time"));
    assert_eq!(signed.expect("sign").head().head.size, 3);
    let verified = store.verify_now(at(5)).expect("verify");
    assert!(verified.ok && verified.size == 3 && verified.heads_verified == 1, "{verified:?}");
    let health = store.ledger_health().expect("health");
    assert!(health.signs_heads);
    assert_eq!(health.latest_head.map(|h| h.size), Some(3));
    assert_eq!(health.last_verification, Some(verified));
    assert!(keys.path().join(VERIFICATION_FILE).is_file(), "kept beside the keys");
}
