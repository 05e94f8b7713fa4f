//! Not a test: `bench/hardening.sh` runs these (ignored) functions for the figures of issue 15,
//! items 5–7 — the p99 of durable decisions while 300,000 reviews are open and the dashboard's
//! inventory is loaded four at a time, while consents change among 300,000, and while the
//! database is locked under the ledger writer. The gateway and the load generator share the
//! process and this machine's cores, so the figures are a floor for the gateway alone. Checks,
//! without timing anything, that every answered decision is in the ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lunli_gateway::Gateway;
use lunli_gateway::access::new_key;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::Governance;
use lunli_governance::review::{NewReview, ReviewStatus};
use lunli_governance::runtime::{Consent, Mode};
use lunli_governance::store::Store;
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Bench {
    dir: std::path::PathBuf,
    store: Arc<SqliteStore>,
    catalogue: Arc<Catalogue>,
    service: String,
    seconds: u64,
}

impl Bench {
    fn new() -> Self {
        let dir = std::path::PathBuf::from(std::env::var("LUNLI_DATA_DIR").expect("bench/hardening.sh sets it"));
        let service = std::fs::read_to_string(dir.join("bench-key")).expect("the bench fixture's key");
        let store = Arc::new(SqliteStore::open(&dir).expect("store"));
        let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
        Self { dir, store, catalogue, service, seconds: env_or("BENCH_SECONDS", 10) }
    }

    fn gov(&self) -> Governance<'_, SqliteStore> {
        Governance::new(&self.catalogue, &*self.store)
    }
}

/// Peak resident memory of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn percentiles(mut micros: Vec<u64>) -> String {
    if micros.is_empty() {
        return "none".into();
    }
    micros.sort_unstable();
    let pct = |p: f64| micros[((micros.len() as f64 * p) as usize).min(micros.len() - 1)] as f64 / 1000.0;
    format!("n {} p50 {:.2} ms p99 {:.2} ms max {:.2} ms", micros.len(), pct(0.5), pct(0.99), pct(1.0))
}

/// Decisions for `system` from 16 tasks for `seconds`, while `side` runs; returns the answered
/// decisions' latencies, how many were answered 2xx and how many otherwise, and `side`'s output.
async fn decisions_while<F>(
    base: &str,
    secret: &str,
    system: &'static str,
    seconds: u64,
    side: F,
) -> (Vec<u64>, u64, u64, F::Output)
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let client = reqwest::Client::new();
    let counter = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let side = tokio::spawn(side);
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, base, secret, counter, failed) =
            (client.clone(), base.to_string(), secret.to_string(), counter.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body = serde_json::json!({ "system": system, "subject": format!("s{}", n % 1000),
                    "purpose": "support", "confidence": 0.9, "impact": "low" });
                let t = Instant::now();
                let response =
                    client.post(format!("{base}/v1/decisions")).bearer_auth(&secret).json(&body).send().await;
                match response {
                    Ok(r) if r.status().is_success() => latencies.push(t.elapsed().as_micros() as u64),
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("load task"));
    }
    let side = side.await.expect("side task");
    let ok = latencies.len() as u64;
    (latencies, ok, failed.load(Ordering::Relaxed), side)
}

async fn start(bench: &Bench) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let gateway =
        Gateway::new(bench.store.clone(), bench.catalogue.clone(), GatewayConfig::default()).expect("gateway");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        gateway
            .serve(listener, async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
    });
    (base, stop, server)
}

/// Signs in to the dashboard with a key; returns the session cookie's value.
async fn sign_in(base: &str, secret: &str) -> String {
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let page = c.get(format!("{base}/ui/login")).send().await.expect("login page");
    let cookie = |headers: &reqwest::header::HeaderMap, name: &str| {
        headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|l| Some(l.strip_prefix(&format!("{name}="))?.split(';').next()?.to_string()))
            .expect("cookie")
    };
    let login = cookie(page.headers(), "lunli_login");
    let html = page.text().await.expect("html");
    let marker = "name=\"form\" value=\"";
    let start = html.find(marker).expect("form token") + marker.len();
    let form = html[start..].split('"').next().expect("token").to_string();
    let response = c
        .post(format!("{base}/ui/login"))
        .header("cookie", format!("lunli_login={login}"))
        .form(&[("form", form.as_str()), ("key", secret), ("next", "/ui/")])
        .send()
        .await
        .expect("sign in");
    cookie(response.headers(), "lunli_session")
}

#[test]
#[ignore = "a load figure, not a test; run by bench/hardening.sh"]
fn durable_decisions_while_300k_reviews_are_open_and_the_inventory_loads() {
    let bench = Bench::new();
    let open = env_or("BENCH_OPEN_REVIEWS", 300_000);
    let at = jiff::Timestamp::now();
    let started = Instant::now();
    for chunk in 0..open.div_ceil(10_000) {
        bench
            .store
            .write(|tx| {
                for i in 0..10_000.min(open - chunk * 10_000) {
                    let new = NewReview {
                        system: if i % 2 == 0 { "bench-high" } else { "bench-medium" }.into(),
                        decision: format!("seed-{chunk}-{i}"),
                        subject: "u".into(),
                        purpose: None,
                        confidence: Some(0.1),
                        reasons: vec!["low_confidence".into()],
                        created_at: at,
                    };
                    let item = lunli_governance::review::ReviewItem { status: ReviewStatus::Open, ..new.into_item(0) };
                    tx.add_review(&item)?;
                }
                Ok(())
            })
            .expect("seed reviews");
    }
    println!("bench-reviews: seeded {open} open reviews in {:.1} s", started.elapsed().as_secs_f64());
    let (key, admin) = new_key("bench-admin", Some("owner-a"), vec!["admin".into()], "bench", at).expect("key");
    bench.gov().add_api_key("bench", key, at).expect("admin key");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let (base, stop, server) = start(&bench).await;
        let session = sign_in(&base, &admin).await;
        let rss_before = peak_rss_mib();
        let (ui_base, seconds) = (base.clone(), bench.seconds);
        // Four dashboard users reloading the inventory for the whole run.
        let inventory = async move {
            let client = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut loaders = Vec::new();
            for _ in 0..4 {
                let (client, base, session) = (client.clone(), ui_base.clone(), session.clone());
                loaders.push(tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        let page = client
                            .get(format!("{base}/ui/"))
                            .header("cookie", format!("lunli_session={session}"))
                            .send()
                            .await
                            .expect("inventory");
                        assert!(page.status().is_success(), "{}", page.status());
                        let html = page.text().await.expect("html");
                        assert!(html.contains("bench-high"));
                        latencies.push(t.elapsed().as_micros() as u64);
                    }
                    latencies
                }));
            }
            let mut all = Vec::new();
            for l in loaders {
                all.extend(l.await.expect("loader"));
            }
            all
        };
        let (latencies, ok, failed, ui) =
            decisions_while(&base, &bench.service, "bench-high", bench.seconds, inventory).await;
        println!("bench-reviews: durable decisions {} ; {ok} answered 2xx, {failed} not", percentiles(latencies));
        println!("bench-reviews: /ui/ inventory loads (4 in parallel) {}", percentiles(ui));
        println!("bench-reviews: peak RSS {:.0} MiB before the run, {:.0} MiB after", rss_before, peak_rss_mib());
        let _ = stop.send(());
        server.await.expect("server");
    });
    let _ = &bench.dir;
}

#[test]
#[ignore = "a load figure, not a test; run by bench/hardening.sh"]
fn durable_decisions_while_consents_change_among_300k() {
    let bench = Bench::new();
    let count = env_or("BENCH_CONSENTS", 300_000);
    let at = jiff::Timestamp::now();
    for chunk in 0..count.div_ceil(10_000) {
        bench
            .store
            .write(|tx| {
                for i in 0..10_000.min(count - chunk * 10_000) {
                    let consent = Consent {
                        system: "bench-high".into(),
                        subject: format!("c{chunk}-{i}"),
                        given: true,
                        mode: Mode::Ai,
                        at,
                    };
                    tx.put_consent(&consent)?;
                }
                Ok(())
            })
            .expect("seed consents");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let t = Instant::now();
        let (base, stop, server) = start(&bench).await;
        println!("bench-consents: {count} consents loaded at start in {:.2} s", t.elapsed().as_secs_f64());
        let (changer_base, secret, seconds) = (base.clone(), bench.service.clone(), bench.seconds);
        // One product withdrawing and giving consent 20 times a second for the whole run.
        let changes = async move {
            let client = reqwest::Client::new();
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let path = format!("{changer_base}/v1/systems/bench-high/consents/c0-{}/withdraw", n % 10_000);
                let r = client.post(path).bearer_auth(&secret).send().await.expect("withdraw");
                assert!(r.status().is_success(), "{}", r.status());
                latencies.push(t.elapsed().as_micros() as u64);
                n += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            latencies
        };
        let (latencies, ok, failed, consent) =
            decisions_while(&base, &bench.service, "bench-high", bench.seconds, changes).await;
        println!("bench-consents: durable decisions {} ; {ok} answered 2xx, {failed} not", percentiles(latencies));
        println!("bench-consents: consent withdrawals (20/s) {}", percentiles(consent));
        let _ = stop.send(());
        server.await.expect("server");
    });
}

#[test]
#[ignore = "a load figure, not a test; run by bench/hardening.sh"]
fn decisions_while_the_database_is_locked() {
    let bench = Bench::new();
    let lock_seconds = env_or("BENCH_LOCK_SECONDS", 5);
    let before = bench.store.ledger_size().expect("size");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (ok, failed, latencies) = runtime.block_on(async {
        let (base, stop, server) = start(&bench).await;
        // Another process's long write transaction: the ledger writer cannot commit meanwhile.
        let path = bench.dir.join(lunli_store::DATABASE_FILE);
        let locker = tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_secs(1));
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute_batch("BEGIN EXCLUSIVE").expect("lock");
            std::thread::sleep(Duration::from_secs(lock_seconds));
            conn.execute_batch("COMMIT").expect("unlock");
        });
        // Medium tier: answered before the commit; the entry follows.
        let (latencies, ok, failed, locked) =
            decisions_while(&base, &bench.service, "bench-medium", bench.seconds, locker).await;
        locked.expect("locker");
        let _ = stop.send(());
        server.await.expect("server");
        (ok, failed, latencies)
    });
    let written = bench.store.ledger_size().expect("size") - before;
    println!(
        "bench-lock: database locked {lock_seconds} s during {} s: {ok} decisions answered 2xx, {failed} not; \
         {written} in the ledger after shutdown; latency {}",
        bench.seconds,
        percentiles(latencies)
    );
    assert!(written >= ok, "every answered decision is in the ledger ({written} < {ok})");
}
