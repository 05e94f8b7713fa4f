//! Paged lists over real HTTP on both stores: `GET /v1/reviews`, `/v1/incidents` and
//! `/v1/alerts` followed page by page through `next` hold every item exactly once, in id order,
//! with filters; the last `next` is null; a bad `limit` or cursor is a 400 that names it.
//!
//! Every test runs on each backend: `sqlite::<test>` and `postgres::<test>` (lunli-test-support's
//! `backend` module: a temporary directory, or a schema of its own on the test PostgreSQL).

use lunli_test_support::backend;
use lunli_test_support::records;

use std::sync::Arc;

use backend::Backend;
use lunli_gateway::Gateway;
use lunli_gateway::access::new_key;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::Governance;
use lunli_governance::incident::{Feedback, FeedbackKind, IncidentStatus, Severity};
use lunli_governance::review::ReviewStatus;
use lunli_norms::Catalogue;
use lunli_store::{Ledger, PostgresStore, SqliteStore};
use serde_json::Value;

/// Each test once per backend. The store is made and dropped outside the async runtime (the
/// PostgreSQL client blocks); the gateway and the requests run inside it.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $test() { super::run::<super::SqliteStore, _>(super::$test) } )*
        }
        mod postgres {
            $( #[test] fn $test() { super::run::<super::PostgresStore, _>(super::$test) } )*
        }
    };
}

fn run<S, F>(test: impl FnOnce(Served) -> F)
where
    S: Backend + Ledger + Send + Sync + 'static,
    F: std::future::Future<Output = ()>,
{
    let place = S::place();
    let store = Arc::new(S::open(&place));
    let key = fill(&*store);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let served = serve(store.clone(), key).await;
        test(served).await;
    });
    drop(runtime);
}

on_every_backend!(lists_are_paged_to_the_end_with_every_item_once, bad_paging_parameters_are_named);

use records::at as t0;

const REVIEWS: usize = 53;
const INCIDENTS: usize = 12;
const ALERTS: usize = 7;
const FEEDBACK: usize = 23;

fn system(n: usize) -> String {
    if n % 4 == 3 { "b".into() } else { "a".into() }
}

/// A gateway over a filled store, and an auditor's key.
struct Served {
    base: String,
    key: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Fills the lists; returns an auditor's key.
fn fill<S: Backend>(store: &S) -> String {
    let catalogue = Catalogue::bundled().expect("catalogue");
    let review_statuses = [ReviewStatus::Open, ReviewStatus::Claimed, ReviewStatus::Resolved];
    let incident_statuses = [IncidentStatus::Open, IncidentStatus::Acknowledged, IncidentStatus::Resolved];
    store
        .write(|tx| {
            for n in 0..REVIEWS {
                tx.add_review(&records::review(n as u64, &system(n), review_statuses[n % 3]))?;
            }
            for n in 0..INCIDENTS {
                tx.add_incident(&records::incident(n as u64, &system(n), Severity::Medium, incident_statuses[n % 3]))?;
            }
            for n in 0..ALERTS {
                tx.add_alert(&records::alert(&system(n)))?;
            }
            for n in 0..FEEDBACK {
                let message = format!("feedback {n}");
                let kind = FeedbackKind::Other;
                let feedback =
                    Feedback { id: 0, system: system(n), kind, message, decision: None, contact: None, at: t0() };
                tx.add_feedback(&feedback)?;
            }
            Ok(())
        })
        .expect("fill the lists");
    let (key, secret) = new_key("audit", None, vec!["auditor".into()], "test", t0()).expect("key");
    Governance::new(&catalogue, store).add_api_key("admin", key, t0()).expect("add key");
    secret
}

async fn serve<S: Backend + Ledger + Send + Sync + 'static>(store: Arc<S>, key: String) -> Served {
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let gateway =
        tokio::task::block_in_place(|| Gateway::new(store, catalogue, GatewayConfig::default())).expect("gateway");
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = gateway
            .serve(listener, async move {
                let _ = stop.await;
            })
            .await;
    });
    Served { base, key, shutdown: Some(shutdown) }
}

impl Served {
    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path_and_query}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Follows `next` from the first page of `path` (which has a query already); returns the ids
    /// of each page's items.
    async fn walk(&self, list: &str, query: &str) -> Vec<Vec<u64>> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let cursor = after.as_ref().map(|c| format!("&after={c}")).unwrap_or_default();
            let (status, body) = self.get(&format!("/v1/{list}?{query}{cursor}")).await;
            assert_eq!(status, 200, "{body}");
            let items = body[list].as_array().unwrap_or_else(|| panic!("no `{list}` in {body}"));
            pages.push(items.iter().map(|i| i["id"].as_u64().expect("id")).collect::<Vec<_>>());
            match &body["next"] {
                Value::Null => return pages,
                Value::String(next) => after = Some(next.clone()),
                other => panic!("`next` is a string or null, not {other}"),
            }
            assert!(pages.len() < 100, "paging does not end");
        }
    }

    fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn ids(range: impl Iterator<Item = usize>, keep: impl Fn(usize) -> bool) -> Vec<u64> {
    range.filter(|n| keep(*n)).map(|n| n as u64 + 1).collect()
}

async fn lists_are_paged_to_the_end_with_every_item_once(s: Served) {
    // The default page is 50: 53 reviews are two pages.
    let pages = s.walk("reviews", "").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 3]);
    assert_eq!(pages.concat(), ids(0..REVIEWS, |_| true));
    // Several pages, a filter, and a list that ends exactly on a page boundary (18 open).
    let pages = s.walk("reviews", "limit=6&status=open").await;
    assert_eq!(pages.concat(), ids(0..REVIEWS, |n| n % 3 == 0));
    assert_eq!(pages.len(), 3, "18 open items by 6: no empty fourth page");
    let pages = s.walk("reviews", "limit=4&system=b&status=resolved").await;
    assert_eq!(pages.concat(), ids(0..REVIEWS, |n| n % 4 == 3 && n % 3 == 2));
    let pages = s.walk("incidents", "limit=5").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);
    assert_eq!(pages.concat(), ids(0..INCIDENTS, |_| true));
    let pages = s.walk("incidents", "limit=2&status=acknowledged&system=a").await;
    assert_eq!(pages.concat(), ids(0..INCIDENTS, |n| n % 3 == 1 && n % 4 != 3));
    let pages = s.walk("alerts", "limit=2&system=a").await;
    assert_eq!(pages.concat(), ids(0..ALERTS, |n| n % 4 != 3));
    assert_eq!(s.walk("alerts", "system=nobody").await, [Vec::<u64>::new()]);
    // Feedback comes newest first; its pages go on below the last id, past ids 9 and 10.
    let pages = s.walk("feedback", "limit=5").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 5, 5, 3]);
    assert_eq!(pages.concat(), ids((0..FEEDBACK).rev(), |_| true));
    let pages = s.walk("feedback", "limit=4&system=b").await;
    assert_eq!(pages.concat(), ids((0..FEEDBACK).rev(), |n| n % 4 == 3));
    // Incidents keep their overdue flag in pages.
    let (_, body) = s.get("/v1/incidents?limit=1").await;
    assert_eq!(body["incidents"][0]["overdue"], "acknowledge", "{body}");
    s.stop();
}

async fn bad_paging_parameters_are_named(s: Served) {
    for limit in ["0", "501", "-1", "many"] {
        let (status, body) = s.get(&format!("/v1/reviews?limit={limit}")).await;
        assert_eq!(status, 400, "{body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains("`limit`") && message.contains("1 to 500"), "{message}");
    }
    let (_, first) = s.get("/v1/reviews?limit=1").await;
    let review_cursor = first["next"].as_str().expect("a next page").to_string();
    for (path, list) in [
        ("/v1/reviews?after=not-a-cursor".to_string(), "reviews"),
        (format!("/v1/incidents?after={review_cursor}"), "incidents"),
        (format!("/v1/alerts?after={review_cursor}"), "alerts"),
        (format!("/v1/feedback?after={review_cursor}"), "feedback"),
    ] {
        let (status, body) = s.get(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains("`after`") && message.contains(list), "{message}");
    }
    let (status, body) = s.get("/v1/alerts?status=open").await;
    assert_eq!(status, 400, "alerts have no status: {body}");
    let (status, body) = s.get("/v1/reviews?page=2").await;
    assert_eq!(status, 400, "unknown parameters are refused: {body}");
    s.stop();
}
