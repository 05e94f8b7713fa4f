//! The gateway over real HTTP on loopback, backed by a real SQLite store: every endpoint and
//! role, the decision rules in order, bad requests, and two instances sharing one store.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_gateway::Gateway;
use lunli_gateway::access::new_key;
use lunli_gateway::config::{GatewayConfig, MetricsAccess};
use lunli_governance::incident::{NewIncident, Severity};
use lunli_governance::intake::{Answer, Answers};
use lunli_governance::{Actor, ControlStatus, Governance, Person, System, Training};
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;
use serde_json::{Value, json};

const SYSTEM: &str = include_str!("../../../examples/credit-scoring/system.yaml");
const ANSWERS: &str = include_str!("../../../examples/credit-scoring/intake.yaml");

fn t0() -> Timestamp {
    "2026-06-01T08:00:00Z".parse().expect("time")
}

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    catalogue: Arc<Catalogue>,
}

impl Fixture {
    /// The credit-scoring example, approved, plus an unapproved and a prohibited system.
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
        let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
        let f = Self { dir, store, catalogue };
        let gov = f.gov();
        let training = Training {
            course: "AI ethics".into(),
            completed: Date::constant(2026, 1, 1),
            expires: Date::constant(2027, 1, 1),
        };
        for (id, roles) in [
            ("wang-fang", vec!["owner"]),
            ("sun-li", vec!["owner"]),
            ("li-wei", vec!["data"]),
            ("zhao-min", vec!["legal"]),
            ("chen-jie", vec!["ethics-committee"]),
            ("liu-yang", vec!["management"]),
            ("op", vec![]),
        ] {
            let person = Person {
                id: id.into(),
                name: id.into(),
                email: None,
                roles: roles.into_iter().map(String::from).collect(),
                training: vec![training.clone()],
            };
            gov.add_person("admin", person, t0()).expect("person");
        }
        gov.add_vendor(
            "admin",
            lunli_governance::Vendor {
                id: "pboc-credit-bureau".into(),
                name: "bureau".into(),
                kind: lunli_governance::VendorKind::Data,
                due_diligence: Default::default(),
            },
            t0(),
        )
        .expect("vendor");
        let answers = Answers::from_yaml(ANSWERS, &f.catalogue).expect("answers");
        for id in ["credit-scoring", "draft", "banned"] {
            let mut system: System = serde_yaml_ng::from_str(SYSTEM).expect("system");
            system.id = id.into();
            gov.register_system("wang-fang", system, t0()).expect("register");
            let mut answers = answers.clone();
            if id == "banned" {
                let question = f.catalogue.question("Q-PROHIBITED-PURPOSE").expect("question");
                answers.insert("Q-PROHIBITED-PURPOSE", Answer::Choices(vec![question.options[0].id.clone()]));
            }
            gov.intake("wang-fang", id, &answers, t0()).expect("intake");
        }
        // Approve credit-scoring: every control met, submitted, five different signers.
        let assessment = gov.open_assessment("wang-fang", "credit-scoring", t0()).expect("assess");
        for state in &assessment.controls {
            gov.set_control("wang-fang", "credit-scoring", &state.control, ControlStatus::Met, "", "", t0())
                .expect("met");
        }
        gov.submit("wang-fang", "credit-scoring", t0()).expect("submit");
        for (person, role) in [
            ("sun-li", "owner"),
            ("li-wei", "data"),
            ("zhao-min", "legal"),
            ("chen-jie", "ethics-committee"),
            ("liu-yang", "management"),
        ] {
            gov.sign_off(person, "credit-scoring", role, "", t0()).expect("sign");
        }
        f
    }

    fn gov(&self) -> Governance<'_, SqliteStore> {
        Governance::new(&self.catalogue, &self.store)
    }

    fn key(&self, roles: &[&str], person: Option<&str>) -> String {
        let roles = roles.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        let (key, secret) = new_key(&format!("{roles:?}"), person, roles, "test", t0()).expect("key");
        self.gov().add_api_key("admin", key, t0()).expect("key");
        secret
    }
}

struct Server {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(f: &Fixture) -> Self {
        Self::start_with(f.store.clone(), f.catalogue.clone(), GatewayConfig::default()).await
    }

    async fn start_with(store: Arc<SqliteStore>, catalogue: Arc<Catalogue>, mut config: GatewayConfig) -> Self {
        config.refresh_millis = 100;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let gateway = Gateway::new(store, catalogue, config).expect("gateway");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            gateway
                .serve(listener, async move {
                    let _ = rx.await;
                })
                .await
                .expect("serve");
        });
        Self { base, shutdown: Some(tx), task }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn call(method: reqwest::Method, url: String, key: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn decide(server: &Server, key: &str, body: Value) -> (u16, Value) {
    call(reqwest::Method::POST, format!("{}/v1/decisions", server.base), Some(key), Some(body)).await
}

fn request(subject: &str) -> Value {
    json!({ "system": "credit-scoring", "subject": subject, "purpose": "credit-application", "confidence": 0.9, "impact": "low" })
}

fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["code"].as_str().expect("code").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_follow_the_rules_in_order() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let operator = f.key(&["operator"], Some("op"));
    let server = Server::start(&f).await;

    let (status, d) = decide(&server, &service, request("u1")).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["outcome"], "allow", "{d}");
    assert!(d["disclosure"]["zh"].as_str().expect("zh").contains("人工智能"));
    assert!(d["ledger_index"].is_u64(), "a high-tier decision is durable before the answer: {d}");
    assert!(d.get("human_alternative").is_none());

    // Review thresholds.
    let (_, d) = decide(
        &server,
        &service,
        json!({ "system": "credit-scoring", "subject": "u1", "purpose": "credit-application", "confidence": 0.3 }),
    )
    .await;
    assert_eq!((d["outcome"].as_str(), codes(&d)), (Some("human_review"), vec!["low_confidence".to_string()]));
    let (_, d) = decide(
        &server,
        &service,
        json!({ "system": "credit-scoring", "subject": "u1", "purpose": "credit-application", "impact": "high" }),
    )
    .await;
    assert_eq!(codes(&d), ["high_impact"]);
    assert!(d["human_alternative"]["en"].is_string());
    // Purpose.
    let (_, d) =
        decide(&server, &service, json!({ "system": "credit-scoring", "subject": "u1", "purpose": "marketing" })).await;
    assert_eq!(codes(&d), ["outside_purpose"]);
    // Labels for generated content.
    let (_, d) = decide(
        &server,
        &service,
        json!({ "system": "credit-scoring", "subject": "u1", "purpose": "limit-review", "content": "text" }),
    )
    .await;
    assert_eq!(d["labels"]["explicit"]["zh"], "本内容由人工智能生成");
    assert_eq!(d["labels"]["implicit"]["AIGC"]["ProduceID"], d["id"]);
    // Unapproved, prohibited and unknown systems.
    let (_, d) =
        decide(&server, &service, json!({ "system": "draft", "subject": "u1", "purpose": "credit-application" })).await;
    assert_eq!(codes(&d), ["not_approved"]);
    let (_, d) =
        decide(&server, &service, json!({ "system": "banned", "subject": "u1", "purpose": "credit-application" }))
            .await;
    assert_eq!(codes(&d), ["prohibited"]);
    let (_, d) = decide(&server, &service, json!({ "system": "ghost", "subject": "u1" })).await;
    assert_eq!(codes(&d), ["unknown_system"]);

    // Opt-out is one call and outranks the allow at once (Art. 16, Art. 19).
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/v1/systems/credit-scoring/consents/u2/withdraw", server.base),
        Some(&service),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, d) = decide(&server, &service, request("u2")).await;
    assert_eq!((d["outcome"].as_str(), codes(&d)), (Some("deny"), vec!["opted_out".to_string()]));
    let (status, c) = call(
        reqwest::Method::PUT,
        format!("{}/v1/systems/credit-scoring/consents/u3", server.base),
        Some(&service),
        Some(json!({ "given": true, "mode": "human" })),
    )
    .await;
    assert_eq!((status, c["mode"].as_str()), (200, Some("human")));
    let (_, d) = decide(&server, &service, request("u3")).await;
    assert_eq!(codes(&d), ["human_mode"]);
    let (status, c) = call(
        reqwest::Method::GET,
        format!("{}/v1/systems/credit-scoring/consents/u2", server.base),
        Some(&service),
        None,
    )
    .await;
    assert_eq!((status, c["given"].as_bool()), (200, Some(false)));

    // The kill switch: a purpose, then the whole system; it outranks everything.
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/v1/systems/credit-scoring/suspend", server.base),
        Some(&operator),
        Some(json!({ "reason": "limit model drifting", "purpose": "limit-review" })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, d) =
        decide(&server, &service, json!({ "system": "credit-scoring", "subject": "u1", "purpose": "limit-review" }))
            .await;
    assert_eq!(codes(&d), ["purpose_suspended"]);
    let (_, d) = decide(&server, &service, request("u1")).await;
    assert_eq!(d["outcome"], "allow", "other purposes still run");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/v1/systems/credit-scoring/suspend", server.base),
        Some(&operator),
        Some(json!({ "reason": "incident 7" })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, d) = decide(&server, &service, request("u1")).await;
    assert_eq!(codes(&d), ["suspended"]);
    assert!(d["reasons"][0]["text"]["en"].as_str().expect("text").contains("incident 7"));
    server.stop().await;

    // Every decision is in the ledger.
    let size = f.store.ledger_size().expect("size");
    let rows = f.store.ledger_rows(0, size).expect("rows");
    let decisions =
        rows.iter().filter(|r| String::from_utf8_lossy(&r.entry).contains("\"action\":\"decision\"")).count();
    assert_eq!(decisions, 13, "including those not awaited: shutdown flushes the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_who_may_do_what_and_refusals_are_logged() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let operator = f.key(&["operator"], Some("op"));
    let owner = f.key(&["owner"], Some("wang-fang"));
    let other_owner = f.key(&["owner"], Some("sun-li"));
    let auditor = f.key(&["auditor"], None);
    let admin = f.key(&["admin"], Some("liu-yang"));
    let server = Server::start(&f).await;
    let url = |path: &str| format!("{}{path}", server.base);
    let suspend = json!({ "reason": "review" });

    assert_eq!(call(reqwest::Method::POST, url("/v1/decisions"), None, Some(request("u"))).await.0, 401);
    assert_eq!(call(reqwest::Method::POST, url("/v1/decisions"), Some("lk_nope"), Some(request("u"))).await.0, 401);
    assert_eq!(decide(&server, &auditor, request("u")).await.0, 403);
    let (status, body) =
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/suspend"), Some(&service), Some(suspend.clone()))
            .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().expect("message").contains("may not system.suspend"));
    assert_eq!(call(reqwest::Method::GET, url("/v1/systems/credit-scoring/state"), Some(&auditor), None).await.0, 200);
    let (_, who) = call(reqwest::Method::GET, url("/v1/whoami"), Some(&owner), None).await;
    assert_eq!(who["person"], "wang-fang");

    // Suspend as the owner; the operator may not resume, nor may the same owner (four eyes).
    assert_eq!(
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/suspend"), Some(&owner), Some(suspend.clone()))
            .await
            .0,
        200
    );
    assert_eq!(
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/resume"), Some(&operator), Some(suspend.clone()))
            .await
            .0,
        403
    );
    let (status, body) =
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/resume"), Some(&owner), Some(suspend.clone()))
            .await;
    assert_eq!(status, 403);
    assert!(body["error"]["message"].as_str().expect("message").contains("cannot also resume"));
    assert_eq!(
        call(
            reqwest::Method::POST,
            url("/v1/systems/credit-scoring/resume"),
            Some(&other_owner),
            Some(suspend.clone())
        )
        .await
        .0,
        200
    );
    // Resuming what is not suspended is a conflict; an admin may resume their own suspension.
    assert_eq!(
        call(
            reqwest::Method::POST,
            url("/v1/systems/credit-scoring/resume"),
            Some(&other_owner),
            Some(suspend.clone())
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/suspend"), Some(&admin), Some(suspend.clone()))
            .await
            .0,
        200
    );
    assert_eq!(
        call(reqwest::Method::POST, url("/v1/systems/credit-scoring/resume"), Some(&admin), Some(suspend.clone()))
            .await
            .0,
        200
    );
    // A suspension needs a reason.
    assert_eq!(
        call(
            reqwest::Method::POST,
            url("/v1/systems/credit-scoring/suspend"),
            Some(&owner),
            Some(json!({ "reason": " " }))
        )
        .await
        .0,
        400
    );
    server.stop().await;

    let size = f.store.ledger_size().expect("size");
    let rows = f.store.ledger_rows(0, size).expect("rows");
    let refused = rows.iter().filter(|r| String::from_utf8_lossy(&r.entry).contains("access.refused")).count();
    assert_eq!(refused, 4, "every refused action is in the ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_4xx_bodies() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let server = Server::start(&f).await;
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(format!("{}/v1/decisions", server.base))
            .bearer_auth(&service)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = post("{not json".into()).await.expect("send");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "bad_request");
    let response =
        post(json!({ "system": "credit-scoring", "subject": "u", "colour": "red" }).to_string()).await.expect("send");
    assert_eq!(response.status(), 400);
    assert!(response.text().await.expect("text").contains("unknown field `colour`"));
    let big = json!({ "system": "credit-scoring", "subject": "x".repeat(20_000) }).to_string();
    assert_eq!(post(big).await.expect("send").status(), 413);
    let response = post(json!({ "system": "credit-scoring", "subject": "" }).to_string()).await.expect("send");
    assert_eq!(response.status(), 400);
    let response = client
        .post(format!("{}/v1/decisions", server.base))
        .bearer_auth(&service)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400, "a body without a JSON content type");
    assert_eq!(client.get(format!("{}/v2/nothing", server.base)).send().await.expect("send").status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_the_openapi_document() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let operator = f.key(&["operator"], None);
    let server = Server::start(&f).await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.base)).send();
    assert_eq!(get("/healthz").await.expect("healthz").text().await.expect("text"), "ok");
    assert_eq!(get("/readyz").await.expect("readyz").status(), 200);
    decide(&server, &service, request("u1")).await;
    // By default the metrics need a key granted `metrics.read` (operator, auditor, admin).
    assert_eq!(get("/metrics").await.expect("metrics").status(), 401);
    let scrape = |key: &str| client.get(format!("{}/metrics", server.base)).bearer_auth(key).send();
    assert_eq!(scrape(&service).await.expect("metrics").status(), 403);
    let metrics = scrape(&operator).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("lunli_decisions_total{outcome=\"allow\"} 1"), "{metrics}");
    // Every outcome's series is there from the start, at zero until one is decided.
    assert!(metrics.contains("lunli_decisions_total{outcome=\"deny\"} 0"), "{metrics}");
    assert!(metrics.contains("lunli_decisions_total{outcome=\"human_review\"} 0"), "{metrics}");
    assert!(
        metrics.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).all(|l| l.starts_with("lunli_")),
        "{metrics}"
    );
    let served: Value = get("/openapi.json").await.expect("openapi").json().await.expect("json");
    let repo: Value = serde_json::from_str(lunli_gateway::api::OPENAPI).expect("repo copy");
    assert_eq!(served, repo);
    for path in served["paths"].as_object().expect("paths").keys() {
        let concrete = path.replace("{system}", "credit-scoring").replace("{subject}", "u1").replace("{id}", "1");
        let status = get(&concrete).await.expect("get").status().as_u16();
        assert_ne!(status, 404, "{path} is documented but not routed");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_on_one_instance_is_obeyed_by_another_within_a_second() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let operator = f.key(&["operator"], Some("op"));
    // Two gateways, each with its own connection to the same store file.
    let other = Arc::new(SqliteStore::open(f.dir.path()).expect("second connection"));
    let a = Server::start(&f).await;
    let b = Server::start_with(other, f.catalogue.clone(), GatewayConfig::default()).await;
    assert_eq!(decide(&b, &service, request("u1")).await.1["outcome"], "allow");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/v1/systems/credit-scoring/suspend", a.base),
        Some(&operator),
        Some(json!({ "reason": "stop everywhere" })),
    )
    .await;
    assert_eq!(status, 200);
    let pulled = Instant::now();
    loop {
        let (_, d) = decide(&b, &service, request("u1")).await;
        if d["outcome"] == "deny" {
            assert_eq!(codes(&d), ["suspended"]);
            break;
        }
        assert!(pulled.elapsed() < Duration::from_secs(1), "instance b still allows after a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.stop().await;
    b.stop().await;
}

// ── oversight: reviews, feedback, incidents, outcomes, playbooks (issue 8) ──────────────────

/// The metrics, read with a key granted `metrics.read`.
async fn scrape(server: &Server, key: &str) -> String {
    let response = reqwest::Client::new().get(url(server, "/metrics")).bearer_auth(key).send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    response.text().await.expect("text")
}

fn url(server: &Server, path: &str) -> String {
    format!("{}{path}", server.base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_confidence_decision_is_queued_and_its_resolution_links_the_decision_in_the_ledger() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let reviewer = f.key(&["reviewer"], Some("li-wei"));
    let owner_as_reviewer = f.key(&["reviewer"], Some("wang-fang"));
    let reviewer_service = f.key(&["reviewer"], None);
    let auditor = f.key(&["auditor"], None);
    let server = Server::start(&f).await;
    use reqwest::Method;

    let (_, allowed) = decide(&server, &service, request("u1")).await;
    assert_eq!(allowed["outcome"], "allow");
    let (_, d) = decide(
        &server,
        &service,
        json!({ "system": "credit-scoring", "subject": "u9", "purpose": "credit-application", "confidence": 0.3 }),
    )
    .await;
    assert_eq!(d["outcome"], "human_review", "{d}");
    let decision_index = d["ledger_index"].as_u64().expect("a high-tier decision is durable");

    let (status, _) = call(Method::GET, url(&server, "/v1/reviews"), Some(&service), None).await;
    assert_eq!(status, 403, "a service does not read the queue");
    let (status, queue) = call(Method::GET, url(&server, "/v1/reviews?status=open"), Some(&reviewer), None).await;
    assert_eq!(status, 200, "{queue}");
    let items = queue["reviews"].as_array().expect("reviews");
    assert_eq!(items.len(), 1, "only the escalated decision is queued: {queue}");
    assert_eq!(items[0]["decision"], d["id"]);
    assert_eq!(items[0]["decision_index"], decision_index);
    assert_eq!(items[0]["reasons"], json!(["low_confidence"]));
    let id = items[0]["id"].as_u64().expect("id");

    let claim_url = url(&server, &format!("/v1/reviews/{id}/claim"));
    let claim = |key: String| {
        let u = claim_url.clone();
        async move { call(Method::POST, u, Some(&key), None).await }
    };
    let (status, body) = claim(reviewer_service.clone()).await;
    assert_eq!(status, 403, "a review is a person's: {body}");
    let (status, body) = claim(owner_as_reviewer.clone()).await;
    assert_eq!(status, 409, "the owner does not review their own system: {body}");
    assert!(body["error"]["message"].as_str().expect("message").contains("owner"), "{body}");
    let (status, body) = claim(reviewer.clone()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("claimed")), "{body}");
    let resolve_url = url(&server, &format!("/v1/reviews/{id}/resolve"));
    let resolve = |key: String, body: Value| {
        let u = resolve_url.clone();
        async move { call(Method::POST, u, Some(&key), Some(body)).await }
    };
    let (status, body) = resolve(owner_as_reviewer.clone(), json!({ "outcome": "approve" })).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = resolve(reviewer.clone(), json!({ "outcome": "reject", "note": "income not verified" })).await;
    assert_eq!(status, 200, "{body}");
    let resolution_index = body["resolution"]["ledger_index"].as_u64().expect("resolution index");
    assert!(resolution_index > decision_index);
    let metrics = scrape(&server, &auditor).await;
    assert!(metrics.contains("lunli_reviews_queued_total 1"), "{metrics}");
    server.stop().await;

    // The ledger links both: the resolution's entry names the decision's index, and that entry is
    // the decision.
    let entry = |index: u64| -> Value {
        let row = f.store.ledger_rows(index, 1).expect("row").pop().expect("entry");
        serde_json::from_slice(&row.entry).expect("json entry")
    };
    let resolution = entry(resolution_index);
    assert_eq!(resolution["action"], "review.resolve", "{resolution}");
    assert_eq!(resolution["payload"]["decision_index"], decision_index);
    assert_eq!(resolution["payload"]["outcome"], "reject");
    let decision = entry(decision_index);
    assert_eq!((decision["action"].as_str(), &decision["payload"]["id"]), (Some("decision"), &d["id"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_is_public_but_size_limited_and_rate_limited_per_client() {
    let f = Fixture::new();
    let reviewer = f.key(&["reviewer"], Some("li-wei"));
    // Metrics open to anyone, as for a scraper on a private network.
    let config = GatewayConfig {
        feedback_burst: 3,
        feedback_per_minute: 1,
        feedback_max_bytes: 1024,
        metrics: MetricsAccess::Open,
        ..Default::default()
    };
    let server = Server::start_with(f.store.clone(), f.catalogue.clone(), config).await;
    use reqwest::Method;
    let post = |body: Value| call(Method::POST, url(&server, "/v1/feedback"), None, Some(body));

    let (status, body) =
        post(json!({ "system": "credit-scoring", "kind": "unfair", "message": "x".repeat(2000) })).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert!(body["error"]["message"].as_str().expect("message").contains("limited to 1024 bytes"), "{body}");
    let (status, body) =
        post(json!({ "system": "credit-scoring", "kind": "unfair", "message": "我被拒绝了，理由不明" })).await;
    assert_eq!(status, 201, "no key needed: {body}");
    assert!(body["message"]["zh"].is_string() && body["id"].is_u64());
    let (status, body) = post(json!({ "system": "ghost", "message": "?" })).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = post(json!({ "system": "credit-scoring", "message": "again" })).await;
    assert_eq!(status, 429, "the burst of 3 is spent: {body}");
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert!(body["error"]["message"].as_str().expect("message").contains("at most 1 a minute"), "{body}");

    let client = reqwest::Client::new();
    let response =
        client.post(url(&server, "/v1/feedback")).json(&json!({ "system": "credit-scoring", "message": "m" }));
    let retry = response.send().await.expect("send");
    assert_eq!(retry.status().as_u16(), 429);
    assert!(retry.headers().get("retry-after").is_some());

    let (status, list) =
        call(Method::GET, url(&server, "/v1/feedback?system=credit-scoring"), Some(&reviewer), None).await;
    assert_eq!(status, 200, "{list}");
    let items = list["feedback"].as_array().expect("feedback");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["kind"], "unfair");
    let (status, _) = call(Method::GET, url(&server, "/v1/feedback"), None, None).await;
    assert_eq!(status, 401, "reading feedback needs a key");
    let metrics = reqwest::get(url(&server, "/metrics")).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("lunli_feedback_refused_total{reason=\"rate\"} 2"), "{metrics}");
    assert!(metrics.contains("lunli_feedback_refused_total{reason=\"size\"} 1"), "{metrics}");
    server.stop().await;
}

/// Posts feedback with an `X-Forwarded-For` header; returns the status.
async fn feedback_from(server: &Server, forwarded_for: &str) -> u16 {
    reqwest::Client::new()
        .post(url(server, "/v1/feedback"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "system": "credit-scoring", "message": "m" }))
        .send()
        .await
        .expect("send")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feedback_limit_keys_on_the_client_a_trusted_proxy_forwards_for_and_ignores_spoofing() {
    let f = Fixture::new();
    let limits = GatewayConfig { feedback_burst: 2, feedback_per_minute: 1, ..Default::default() };
    // No trusted proxy: every request is the peer's (127.0.0.1), whatever it claims.
    let direct = Server::start_with(f.store.clone(), f.catalogue.clone(), limits.clone()).await;
    assert_eq!(feedback_from(&direct, "203.0.113.1").await, 201);
    assert_eq!(feedback_from(&direct, "203.0.113.2").await, 201);
    assert_eq!(feedback_from(&direct, "203.0.113.3").await, 429, "a spoofed header does not buy a new bucket");
    direct.stop().await;
    // Behind a trusted proxy on loopback: each forwarded client has its own bucket.
    let trusted = vec![lunli_gateway::forwarded::parse_cidr("127.0.0.0/8").expect("cidr")];
    let config = GatewayConfig { trusted_proxies: trusted, ..limits };
    let proxied = Server::start_with(f.store.clone(), f.catalogue.clone(), config).await;
    for _ in 0..2 {
        assert_eq!(feedback_from(&proxied, "198.51.100.7, 203.0.113.1").await, 201);
    }
    let (status, body) = {
        let response = reqwest::Client::new()
            .post(url(&proxied, "/v1/feedback"))
            .header("x-forwarded-for", "198.51.100.8, 203.0.113.1")
            .json(&json!({ "system": "credit-scoring", "message": "m" }))
            .send()
            .await
            .expect("send");
        (response.status().as_u16(), response.text().await.expect("body"))
    };
    assert_eq!(status, 429, "only the right-most untrusted address counts: {body}");
    assert!(body.contains("203.0.113.1"), "the refusal names the client: {body}");
    assert_eq!(feedback_from(&proxied, "203.0.113.2").await, 201, "another client behind the proxy");
    // A malformed header is the proxy's own request, not a panic and not a new client.
    assert_eq!(feedback_from(&proxied, "bogus").await, 201);
    assert_eq!(feedback_from(&proxied, "999.0.0.1, ").await, 201);
    assert_eq!(feedback_from(&proxied, "not an address").await, 429, "all three were the proxy's");
    proxied.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_past_its_acknowledgement_target_shows_as_overdue() {
    let f = Fixture::new();
    let operator = f.key(&["operator"], Some("op"));
    // Opened at t0 (months ago) with the default targets: long past its acknowledgement target.
    let new = |title: &str| NewIncident {
        system: "credit-scoring".into(),
        title: title.into(),
        description: String::new(),
        severity: Severity::High,
        owner: None,
        decisions: vec![],
        controls: vec![],
        feedback: None,
    };
    let old = f.gov().open_incident(&Actor::person("op"), new("old"), t0()).expect("incident");
    let server = Server::start(&f).await;
    use reqwest::Method;
    let (status, fresh) = call(
        Method::POST,
        url(&server, "/v1/incidents"),
        Some(&operator),
        Some(json!({ "system": "credit-scoring", "title": "fresh", "severity": "high", "controls": ["C-17-01"] })),
    )
    .await;
    assert_eq!(status, 201, "{fresh}");
    assert_eq!(fresh["owner"], "wang-fang");
    let (_, list) = call(Method::GET, url(&server, "/v1/incidents"), Some(&operator), None).await;
    let rows = list["incidents"].as_array().expect("incidents");
    let row = |id: u64| rows.iter().find(|r| r["id"] == id).expect("row").clone();
    assert_eq!(row(old.id)["overdue"], "acknowledge", "{list}");
    assert!(row(fresh["id"].as_u64().expect("id")).get("overdue").is_none(), "{list}");
    let ack = format!("/v1/incidents/{}/acknowledge", old.id);
    let (status, body) =
        call(Method::POST, url(&server, &ack), Some(&operator), Some(json!({ "note": "on it" }))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("acknowledged")), "{body}");
    let (_, shown) = call(Method::GET, url(&server, &format!("/v1/incidents/{}", old.id)), Some(&operator), None).await;
    assert_eq!(shown["overdue"], "resolve", "acknowledged late, and now past its resolve target too: {shown}");
    let (status, body) = call(
        Method::POST,
        url(&server, &format!("/v1/incidents/{}/resolve", old.id)),
        Some(&operator),
        Some(json!({ "note": "" })),
    )
    .await;
    assert_eq!(status, 400, "a resolution says what was done: {body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_incident_suspends_its_system_when_the_playbook_says_so() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let operator = f.key(&["operator"], Some("op"));
    let owner = f.key(&["owner"], Some("wang-fang"));
    let server = Server::start(&f).await;
    use reqwest::Method;
    let playbook = url(&server, "/v1/systems/credit-scoring/playbook");
    let (status, body) =
        call(Method::PUT, playbook.clone(), Some(&operator), Some(json!({ "suspend_on": ["critical"] }))).await;
    assert_eq!(status, 403, "an operator may not change the playbook: {body}");
    let (status, body) =
        call(Method::PUT, playbook.clone(), Some(&owner), Some(json!({ "suspend_on": ["critical"] }))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        call(Method::PUT, playbook.clone(), Some(&owner), Some(json!({ "review": { "below_confidence": 3 } }))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().expect("message").contains("playbook.review.below_confidence"));
    let (_, shown) = call(Method::GET, playbook, Some(&operator), None).await;
    assert_eq!(shown["suspend_on"], json!(["critical"]));

    // A playbook change keeps the approval: the system still serves.
    let (_, d) = decide(&server, &service, request("u1")).await;
    assert_eq!(d["outcome"], "allow", "{d}");
    let open = |severity: &str| {
        call(
            Method::POST,
            url(&server, "/v1/incidents"),
            Some(&operator),
            Some(json!({ "system": "credit-scoring", "title": "scores inverted", "severity": severity })),
        )
    };
    let (status, high) = open("high").await;
    assert_eq!((status, high["suspended_system"].as_bool()), (201, Some(false)), "{high}");
    assert_eq!(decide(&server, &service, request("u1")).await.1["outcome"], "allow");
    let (status, critical) = open("critical").await;
    assert_eq!((status, critical["suspended_system"].as_bool()), (201, Some(true)), "{critical}");
    let (_, d) = decide(&server, &service, request("u1")).await;
    assert_eq!(codes(&d), ["suspended"], "obeyed on the next decision: {d}");
    assert!(d["reasons"][0]["text"]["en"].as_str().expect("text").contains("critical"), "{d}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_growing_disparity_raises_an_alert_at_the_threshold_and_not_before() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let owner = f.key(&["owner"], Some("wang-fang"));
    let server = Server::start(&f).await;
    use reqwest::Method;
    let monitor = json!({ "monitors": [{ "metric": "selection-rate-difference", "attribute": "region",
                                         "threshold": 0.25, "window": 200, "min_count": 20, "incident": "medium" }] });
    let (status, body) =
        call(Method::PUT, url(&server, "/v1/systems/credit-scoring/playbook"), Some(&owner), Some(monitor)).await;
    assert_eq!(status, 200, "{body}");
    // Batches of 20 per region; north is always selected 12 of 20 times, south's share falls by
    // one per batch: the difference grows 0.05 at a time — 0.10, 0.15, 0.20 (cumulative over the
    // window), crossing 0.25 only at the batch that takes it beyond.
    let mut differences = Vec::new();
    let mut raised_at = None;
    for batch in 0..8 {
        let south_selected = 9 - batch;
        let outcomes: Vec<Value> = (0..20)
            .flat_map(|i| {
                [
                    json!({ "groups": { "region": "north" }, "selected": i < 12 }),
                    json!({ "groups": { "region": "south" }, "selected": i < south_selected }),
                ]
            })
            .collect();
        let (status, r) = call(
            Method::POST,
            url(&server, "/v1/outcomes"),
            Some(&service),
            Some(json!({ "system": "credit-scoring", "outcomes": outcomes })),
        )
        .await;
        assert_eq!(status, 200, "{r}");
        let value = r["readings"][0]["value"].as_f64().expect("value");
        let raised = r["raised"].as_array().expect("raised").len();
        if raised_at.is_none() && raised > 0 {
            raised_at = Some((batch, value));
            assert_eq!(r["incidents"][0]["severity"], "medium", "{r}");
        } else {
            assert_eq!(raised, 0, "one alert per crossing: {r}");
        }
        differences.push(value);
    }
    let (batch, value) = raised_at.expect("an alert once the disparity passed the threshold");
    assert!(value > 0.25, "raised beyond the threshold: {value}");
    assert!(differences[..batch].iter().all(|d| *d <= 0.25 + 1e-12), "not before: {differences:?}");
    // Windowed cumulative difference: north 0.6; south over all batches so far in the window.
    let south = |b: usize| (0..=b).map(|k| 9 - k).sum::<usize>() as f64 / (20.0 * (b + 1) as f64);
    for (b, d) in differences.iter().enumerate().take(5) {
        assert!((d - (0.6 - south(b))).abs() < 1e-9, "batch {b}: {d}");
    }
    let (_, alerts) = call(Method::GET, url(&server, "/v1/alerts?system=credit-scoring"), Some(&owner), None).await;
    assert_eq!(alerts["alerts"].as_array().expect("alerts").len(), 1, "{alerts}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playbooks_review_thresholds_override_the_gateways_on_the_next_decision() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let owner = f.key(&["owner"], Some("wang-fang"));
    let server = Server::start(&f).await;
    assert_eq!(decide(&server, &service, request("u1")).await.1["outcome"], "allow", "0.9 is above the default 0.6");
    let (status, body) = call(
        reqwest::Method::PUT,
        url(&server, "/v1/systems/credit-scoring/playbook"),
        Some(&owner),
        Some(json!({ "review": { "below_confidence": 0.95 } })),
    )
    .await;
    assert_eq!((status, body["version"].as_u64()), (200, Some(2)), "{body}");
    let (_, d) = decide(&server, &service, request("u1")).await;
    assert_eq!((d["outcome"].as_str(), codes(&d)), (Some("human_review"), vec!["low_confidence".to_string()]), "{d}");
    assert!(d["reasons"][0]["text"]["en"].as_str().expect("text").contains("0.95"), "{d}");
    server.stop().await;
}

// ── hardening (issue 15): an attacker holding a valid key of each role ─────────────────────

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_takes_over_a_playbook_or_resumes_its_own_suspension_through_another_instance() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let owner = f.key(&["owner"], Some("wang-fang"));
    let intruder = f.key(&["owner"], Some("sun-li"));
    let admin = f.key(&["admin"], Some("liu-yang"));
    let other = Arc::new(SqliteStore::open(f.dir.path()).expect("second connection"));
    let a = Server::start(&f).await;
    let b = Server::start_with(other, f.catalogue.clone(), GatewayConfig::default()).await;
    use reqwest::Method;
    let playbook = |server: &Server| url(server, "/v1/systems/credit-scoring/playbook");

    // An owner of nothing here: neither seizing the kill switch nor dropping human review lands.
    for takeover in [json!({ "may_pause": ["sun-li"] }), json!({ "review": { "below_confidence": 0 } })] {
        let (status, body) = call(Method::PUT, playbook(&a), Some(&intruder), Some(takeover)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body["error"]["message"].as_str().expect("message").contains("only the owner"), "{body}");
    }
    let mut unsure = request("u");
    unsure["confidence"] = json!(0.01);
    let (_, d) = decide(&a, &service, unsure).await;
    assert_eq!(d["outcome"], "human_review", "the default threshold still holds: {d}");
    // The owner locks the switch to themself: an admin is still never locked out.
    let (status, body) =
        call(Method::PUT, playbook(&a), Some(&owner), Some(json!({ "may_pause": ["wang-fang"] }))).await;
    assert_eq!(status, 200, "{body}");
    let stop = json!({ "reason": "admin stop" });
    let (status, body) =
        call(Method::POST, url(&b, "/v1/systems/credit-scoring/suspend"), Some(&admin), Some(stop.clone())).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(Method::POST, url(&a, "/v1/systems/credit-scoring/resume"), Some(&owner), Some(stop)).await;
    assert_eq!(status, 200, "the owner resumes the admin's suspension");

    // The owner suspends on one instance and tries to resume on the other, and both at once.
    let body = json!({ "reason": "drift" });
    let (status, _) =
        call(Method::POST, url(&a, "/v1/systems/credit-scoring/suspend"), Some(&owner), Some(body.clone())).await;
    assert_eq!(status, 200);
    for server in [&b, &a] {
        let (status, answer) =
            call(Method::POST, url(server, "/v1/systems/credit-scoring/resume"), Some(&owner), Some(body.clone()))
                .await;
        assert_eq!(status, 403, "{answer}");
    }
    let (_, admin_resumed) =
        call(Method::POST, url(&a, "/v1/systems/credit-scoring/resume"), Some(&admin), Some(body.clone())).await;
    assert!(admin_resumed["resumed"].is_object(), "{admin_resumed}");
    for _ in 0..10 {
        let suspend =
            call(Method::POST, url(&a, "/v1/systems/credit-scoring/suspend"), Some(&owner), Some(body.clone()));
        let resume = call(Method::POST, url(&b, "/v1/systems/credit-scoring/resume"), Some(&owner), Some(body.clone()));
        let ((suspended, _), (resumed, answer)) = tokio::join!(suspend, resume);
        assert_eq!(suspended, 200);
        assert!(resumed == 403 || resumed == 409, "the suspender resumed their own suspension: {resumed} {answer}");
        let (status, _) =
            call(Method::POST, url(&a, "/v1/systems/credit-scoring/resume"), Some(&admin), Some(body.clone())).await;
        assert_eq!(status, 200);
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_sent_to_a_human_is_answered_only_once_its_review_item_is_durable() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    // No tier is durable: allow decisions are answered before their commit, reviews never are.
    let config = GatewayConfig { durable_tiers: vec![], ..GatewayConfig::default() };
    let server = Server::start_with(f.store.clone(), f.catalogue.clone(), config).await;
    let (_, allowed) = decide(&server, &service, request("u1")).await;
    assert_eq!(allowed["outcome"], "allow");
    assert!(allowed.get("ledger_index").is_none(), "{allowed}");
    let mut unsure = request("u2");
    unsure["confidence"] = json!(0.1);
    let (_, sent) = decide(&server, &service, unsure).await;
    assert_eq!(sent["outcome"], "human_review", "{sent}");
    let index = sent["ledger_index"].as_u64().expect("answered after the commit, with its ledger index");
    // Read at once, through another connection: the item is already there.
    let other = SqliteStore::open(f.dir.path()).expect("second connection");
    let queued = Governance::new(&f.catalogue, &other).reviews(None).expect("reviews");
    assert!(queued.iter().any(|r| r.decision_index == index && r.decision == sent["id"]), "{queued:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_holes_stay_closed() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let owner = f.key(&["owner"], Some("wang-fang"));
    let server = Server::start(&f).await;
    use reqwest::Method;
    // whoami with a service key answers without a false refusal in the ledger.
    let before = f.store.ledger_size().expect("size");
    let (status, who) = call(Method::GET, url(&server, "/v1/whoami"), Some(&service), None).await;
    assert_eq!((status, who["roles"].clone()), (200, json!(["service"])), "{who}");
    // The subject limit counts characters: 200 Chinese characters pass, 201 do not.
    let (status, d) = decide(&server, &service, request(&"张".repeat(200))).await;
    assert_eq!(status, 200, "{d}");
    let (status, d) = decide(&server, &service, request(&"张".repeat(201))).await;
    assert_eq!(status, 400, "{d}");
    // Ids past what a store gives name nothing: 404, not 503.
    for path in ["/v1/reviews/18446744073709551615", "/v1/incidents/9223372036854775808"] {
        let (status, body) = call(Method::GET, url(&server, path), Some(&owner), None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, body) =
        call(Method::POST, url(&server, "/v1/incidents/9223372036854775808/acknowledge"), Some(&owner), None).await;
    assert_eq!(status, 404, "{body}");
    // Decision ids are UUIDv7: unique across restarts and instances, ordered by time.
    let (_, first) = decide(&server, &service, request("u1")).await;
    server.stop().await;
    let again = Server::start(&f).await;
    let (_, second) = decide(&again, &service, request("u1")).await;
    again.stop().await;
    let ids: Vec<&str> = [&first, &second].iter().map(|d| d["id"].as_str().expect("id")).collect();
    assert!(ids.iter().all(|id| id.len() == 36 && id.as_bytes()[14] == b'7'), "{ids:?}");
    assert!(ids[0] < ids[1], "{ids:?}");
    let rows = f.store.ledger_rows(before, 1_000).expect("rows");
    assert!(!rows.iter().any(|r| String::from_utf8_lossy(&r.entry).contains("access.refused")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consent_withdrawn_on_one_instance_is_obeyed_here_at_once_and_there_within_a_second() {
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    // Consents already stored when an instance starts are loaded from the feed.
    f.gov()
        .set_consent("svc", "credit-scoring", "early", false, lunli_governance::runtime::Mode::Human, t0())
        .expect("consent");
    let other = Arc::new(SqliteStore::open(f.dir.path()).expect("second connection"));
    let a = Server::start(&f).await;
    let b = Server::start_with(other, f.catalogue.clone(), GatewayConfig::default()).await;
    assert_eq!(codes(&decide(&b, &service, request("early")).await.1), ["opted_out"]);
    assert_eq!(decide(&b, &service, request("u9")).await.1["outcome"], "allow");
    let (status, _) = call(
        reqwest::Method::POST,
        format!("{}/v1/systems/credit-scoring/consents/u9/withdraw", a.base),
        Some(&service),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(decide(&a, &service, request("u9")).await.1["outcome"], "deny", "obeyed at once where it was made");
    let withdrawn = Instant::now();
    loop {
        let (_, d) = decide(&b, &service, request("u9")).await;
        if d["outcome"] == "deny" {
            assert_eq!(codes(&d), ["opted_out"]);
            break;
        }
        assert!(withdrawn.elapsed() < Duration::from_secs(1), "instance b still allows after a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// Above the ledger writer's capacity (here: the database locked by another process, so it
/// commits nothing), decisions beyond `ledger_queue` are answered 503 with Retry-After, never
/// accepted into an unbounded queue; every decision answered 200 is in the ledger once the
/// database is free again, and the gateway answers normally again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_answered_503_and_nothing_answered_is_lost() {
    const QUEUE: usize = 4;
    let f = Fixture::new();
    let service = f.key(&["service"], None);
    let metrics = f.key(&["operator"], Some("op"));
    // Answer before the commit (no durable tier), so that answers do not wait for the lock.
    let config = GatewayConfig { ledger_queue: QUEUE, durable_tiers: Vec::new(), ..GatewayConfig::default() };
    let server = Server::start_with(f.store.clone(), f.catalogue.clone(), config).await;
    let before = f.store.ledger_size().expect("size");

    // Another process's write transaction: the ledger writer waits on it and commits nothing.
    let locker = rusqlite::Connection::open(f.dir.path().join(lunli_store::DATABASE_FILE)).expect("open");
    locker.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    let mut refused = 0;
    for i in 0..20 {
        let response = client
            .post(format!("{}/v1/decisions", server.base))
            .bearer_auth(&service)
            .json(&request(&format!("o{i}")))
            .send()
            .await
            .expect("send");
        match response.status().as_u16() {
            200 => {
                assert_eq!(refused, 0, "once full, the queue stays full while the database is locked");
                let d: Value = response.json().await.expect("decision");
                accepted.push(d["id"].as_str().expect("id").to_string());
            }
            503 => {
                assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
                let body: Value = response.json().await.expect("error body");
                assert_eq!(body["error"]["code"], "unavailable", "{body}");
                assert!(body["error"]["message"].as_str().expect("message").contains("overloaded"), "{body}");
                refused += 1;
            }
            other => panic!("decision {i}: status {other}"),
        }
    }
    // The queue holds QUEUE entries and the writer the batch it took before the lock stopped it.
    assert!(accepted.len() > QUEUE && accepted.len() < 20, "{} accepted, {refused} refused", accepted.len());
    assert_eq!(accepted.len() + refused, 20);
    let (status, scrape) = call(reqwest::Method::GET, format!("{}/metrics", server.base), Some(&metrics), None).await;
    assert_eq!(status, 200);
    let scrape = scrape.as_str().expect("text").to_string();
    assert!(scrape.contains(&format!("lunli_ledger_overloaded_total {refused}")), "{scrape}");

    // The database free again: every accepted decision reaches the ledger, and new ones pass.
    locker.execute_batch("COMMIT").expect("unlock");
    let freed = Instant::now();
    loop {
        let size = f.store.ledger_size().expect("size");
        let rows = f.store.ledger_rows(before, size - before).expect("rows");
        let text: Vec<String> = rows.iter().map(|r| String::from_utf8_lossy(&r.entry).into_owned()).collect();
        if accepted.iter().all(|id| text.iter().any(|t| t.contains(id.as_str()))) {
            break;
        }
        assert!(freed.elapsed() < Duration::from_secs(60), "accepted decisions missing from the ledger");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, d) = decide(&server, &service, request("after")).await;
    assert_eq!((status, d["outcome"].as_str()), (200, Some("allow")), "{d}");
    server.stop().await;
}
