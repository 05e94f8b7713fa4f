//! Not a test: `bench/review.sh` runs this (ignored) function for the load figure of issue 8 —
//! decisions per second and latency percentiles with 10 % of decisions escalated to human
//! review, every decision in the ledger and every escalated one in the review queue. The gateway
//! and the load generator share the process (and this machine's cores), so the figure is a floor
//! for the gateway alone. It checks, without timing anything, that the queue holds exactly the
//! escalated decisions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lunli_gateway::Gateway;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::Governance;
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
#[ignore = "a load figure, not a test; run by bench/review.sh"]
fn decisions_per_second_with_ten_percent_escalated() {
    let dir = std::env::var("LUNLI_DATA_DIR").expect("bench/review.sh sets LUNLI_DATA_DIR");
    let dir = std::path::PathBuf::from(dir);
    let secret = std::fs::read_to_string(dir.join("bench-key")).expect("the bench fixture's key");
    let seconds = env_or("BENCH_SECONDS", 10);
    let connections = env_or("BENCH_CONNECTIONS", 32);
    // One decision in this many is escalated; 0 escalates none (the baseline to compare with).
    let every = env_or("BENCH_ESCALATE_EVERY", 10);
    let store = Arc::new(SqliteStore::open(&dir).expect("store"));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    for system in ["bench-medium", "bench-high"] {
        let queued_before = Governance::new(&catalogue, &*store).reviews(None).expect("reviews").len() as u64;
        let (decisions, escalated, mut latencies, elapsed) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("addr"));
            let gateway = Gateway::new(store.clone(), catalogue.clone(), GatewayConfig::default()).expect("gateway");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(gateway.serve(listener, async move {
                let _ = stopped.await;
            }));
            let client = reqwest::Client::new();
            let counter = Arc::new(AtomicU64::new(0));
            let escalated = Arc::new(AtomicU64::new(0));
            let started = Instant::now();
            let deadline = started + Duration::from_secs(seconds);
            let mut tasks = Vec::new();
            for _ in 0..connections {
                let (client, base, secret) = (client.clone(), base.clone(), secret.clone());
                let (counter, escalated) = (counter.clone(), escalated.clone());
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while Instant::now() < deadline {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        // Every tenth decision (by default) is unsure enough for a human.
                        let confidence = if every > 0 && n % every == 0 { 0.3 } else { 0.9 };
                        let body = serde_json::json!({ "system": system, "subject": format!("s{n}"),
                            "purpose": "support", "confidence": confidence, "impact": "low" });
                        let t = Instant::now();
                        let response =
                            client.post(format!("{base}/v1/decisions")).bearer_auth(&secret).json(&body).send().await;
                        let answer: serde_json::Value = response.expect("send").json().await.expect("a JSON answer");
                        latencies.push(t.elapsed().as_micros() as u64);
                        if answer["outcome"] == "human_review" {
                            escalated.fetch_add(1, Ordering::Relaxed);
                        } else {
                            assert_eq!(answer["outcome"], "allow", "{answer}");
                        }
                    }
                    latencies
                }));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await.expect("load task"));
            }
            let elapsed = started.elapsed();
            let _ = stop.send(());
            server.await.expect("server task").expect("serve");
            (latencies.len() as u64, escalated.load(Ordering::Relaxed), latencies, elapsed)
        });
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)] as f64 / 1000.0;
        let queued = Governance::new(&catalogue, &*store).reviews(None).expect("reviews").len() as u64 - queued_before;
        println!(
            "{system}: {decisions} decisions in {:.1} s = {:.0}/s, {connections} connections; {escalated} escalated \
             ({:.1} %), {queued} queued; latency ms p50 {:.2} p99 {:.2} p999 {:.2}",
            elapsed.as_secs_f64(),
            decisions as f64 / elapsed.as_secs_f64(),
            100.0 * escalated as f64 / decisions as f64,
            pct(0.5),
            pct(0.99),
            pct(0.999),
        );
        assert_eq!(queued, escalated, "every escalated decision is in the review queue, and nothing else");
    }
}
