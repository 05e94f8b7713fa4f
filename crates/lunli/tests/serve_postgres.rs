//! Two `lunli serve` processes on one PostgreSQL database, as two instances on two machines
//! would run: a suspension pulled through one is obeyed by the other within a second, a resume
//! likewise, and afterwards `lunli ledger verify` on PostgreSQL finds every decision, suspension
//! and head in one intact ledger. Needs the PostgreSQL server `.ci/run` provides
//! (`LUNLI_TEST_POSTGRES`); fails, never skips, without one.

mod common;

use std::time::{Duration, Instant};

use common::Data;
use common::gateway::{approved_low_tier_system, decide, post, start_server};
use lunli_test_support::backend::PgSchema;

/// Asks `addr` for decisions until `want` comes back, for at most a second; how long it took.
fn until_outcome(addr: &str, secret: &str, want: &str) -> Duration {
    let started = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let decision = decide(addr, secret, &format!("poll-{n}")).expect("the instance answers");
        if decision["outcome"] == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "instance {addr} still says {decision} after a second");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_suspension_through_one_instance_is_obeyed_by_another_on_postgresql() {
    let schema = PgSchema::new();
    let url = schema.url_with_search_path();
    // One data directory for both: on PostgreSQL it holds only the ledger's key pair, which
    // every instance signing heads must share.
    let data = Data::on_postgres(url);
    let secrets = approved_low_tier_system(&data, &["service", "operator", "owner"]);
    let [service, operator, owner] = [&secrets[0], &secrets[1], &secrets[2]];
    let config = data.dir.path().join("gateway.toml");
    std::fs::write(&config, "refresh_millis = 100\ndurable_tiers = [\"low\"]\n").expect("config");
    let (mut a, addr_a) = start_server(&data, &config);
    let (mut b, addr_b) = start_server(&data, &config);

    assert_eq!(decide(&addr_b, service, "before").expect("answer")["outcome"], "allow");
    let (status, body) =
        post(&addr_a, operator, "/v1/systems/meeting-notes/suspend", r#"{"reason":"drill: wrong summaries"}"#)
            .expect("suspend");
    assert_eq!(status, 200, "{body}");
    until_outcome(&addr_b, service, "deny");
    let denied = decide(&addr_b, service, "during").expect("answer");
    assert!(denied.to_string().contains("suspend"), "the reason names the suspension: {denied}");

    let (status, body) =
        post(&addr_b, owner, "/v1/systems/meeting-notes/resume", r#"{"reason":"fixed"}"#).expect("resume");
    assert_eq!(status, 200, "{body}");
    until_outcome(&addr_a, service, "allow");

    for child in [&mut a, &mut b] {
        // SIGTERM: a graceful stop writes what is queued and signs a last head.
        let _ = std::process::Command::new("kill").arg(child.id().to_string()).status();
        child.wait().expect("stops");
    }
    let verified = data.json("auditor", &["ledger", "verify"]);
    assert_eq!(verified["ok"], true, "{verified}");
    let exported = data.dir.path().join("bundle.json");
    data.ok("auditor", &["ledger", "export", "--out", &exported.display().to_string()]);
    let bundle: lunli_ledger::Bundle =
        serde_json::from_slice(&std::fs::read(&exported).expect("bundle")).expect("a bundle");
    let actions: Vec<&str> = bundle.entries.iter().map(|e| e.action.as_str()).collect();
    for action in ["system.suspend", "system.resume", "decision"] {
        assert!(actions.contains(&action), "{action} is in the ledger: {actions:?}");
    }
}
