//! The running gateway signs tree heads itself: one every `head_interval_millis` over what was
//! appended since the last, and a last one when it stops, covering every entry written before
//! it stopped — so proofs reach every decision without anyone running `lunli ledger head`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lunli_gateway::Gateway;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::{Governance, Person};
use lunli_norms::Catalogue;
use lunli_store::{Ledger, SqliteStore};

fn person(n: usize) -> Person {
    Person { id: format!("p{n}"), name: format!("Person {n}"), email: None, roles: vec![], training: vec![] }
}

fn add_people(store: &SqliteStore, catalogue: &Catalogue, range: std::ops::Range<usize>) {
    let gov = Governance::new(catalogue, store);
    for n in range {
        gov.add_person("admin", person(n), jiff::Timestamp::now()).expect("add a person");
    }
}

fn head_size(store: &SqliteStore) -> u64 {
    store.latest_head().expect("read heads").map(|h| h.head.size).unwrap_or(0)
}

async fn serve_until(
    store: &Arc<SqliteStore>,
    catalogue: &Arc<Catalogue>,
    head_interval_millis: u64,
    until: impl std::future::Future<Output = ()>,
) {
    let config = GatewayConfig { head_interval_millis, ..GatewayConfig::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gateway =
        tokio::task::block_in_place(|| Gateway::new(store.clone(), catalogue.clone(), config)).expect("gateway");
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(gateway.serve(listener, async move {
        let _ = stop.await;
    }));
    until.await;
    let _ = shutdown.send(());
    task.await.expect("serve task").expect("serve");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_are_signed_while_running_and_at_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    add_people(&store, &catalogue, 0..3);
    assert_eq!(head_size(&store), 0, "nothing signed before the gateway runs");

    // While it runs, a head comes to cover the entries written before it started.
    let size = store.ledger_size().expect("size");
    serve_until(&store, &catalogue, 50, async {
        let started = Instant::now();
        while head_size(&store) < size {
            assert!(started.elapsed() < Duration::from_secs(20), "no head covered the ledger while the gateway ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // With an interval far longer than the run, only the head signed on the way out covers
    // what was written meanwhile.
    add_people(&store, &catalogue, 3..6);
    let size = store.ledger_size().expect("size");
    assert!(head_size(&store) < size);
    serve_until(&store, &catalogue, 3_600_000, async {}).await;
    assert_eq!(head_size(&store), size, "the last head covers every entry");
    store.verify_ledger().expect("the ledger and its heads verify");
}
