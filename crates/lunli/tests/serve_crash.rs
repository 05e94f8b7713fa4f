//! `kill -9` on a loaded gateway: every decision it acknowledged as durable (with a ledger
//! index) is in the ledger afterwards, and the store still opens and reads.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Data;
use common::gateway::{approved_low_tier_system, decide, start_server};
use lunli_ledger::Entry;

#[test]
fn no_acknowledged_decision_is_lost_when_the_gateway_is_killed() {
    let data = Data::new();
    let secret = approved_low_tier_system(&data, &["service"]).remove(0);
    let config = data.dir.path().join("gateway.toml");
    std::fs::write(&config, "durable_tiers = [\"low\"]\nrefresh_millis = 50\n").expect("config");
    let (mut server, addr) = start_server(&data, &config);

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (addr, secret, acknowledged) = (addr.clone(), secret.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let Some(d) = decide(&addr, &secret, &format!("s{}", c * 1_000_000 + i)) else { break };
                    assert_eq!(d["outcome"], "allow", "{d}");
                    let index = d["ledger_index"].as_u64().expect("durable decisions carry their index");
                    acknowledged.lock().expect("lock").push((d["id"].as_str().expect("id").to_string(), index));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().expect("kill -9");
    server.wait().expect("reap");
    for client in clients {
        client.join().expect("client");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > 50, "only {} decisions in {:?}", acknowledged.len(), started.elapsed());

    let store = lunli_store::SqliteStore::open(data.dir.path()).expect("the store opens after the crash");
    let size = store.ledger_size().expect("size");
    let rows = store.ledger_rows(0, size).expect("rows");
    let decisions: std::collections::HashMap<String, u64> = rows
        .iter()
        .map(|r| serde_json::from_slice::<Entry>(&r.entry).expect("entry parses"))
        .filter(|e| e.action == "decision")
        .map(|e| (e.payload["id"].as_str().expect("id").to_string(), e.index))
        .collect();
    for (id, index) in &acknowledged {
        assert_eq!(decisions.get(id), Some(index), "acknowledged decision {id} (ledger index {index}) is missing");
    }
}
