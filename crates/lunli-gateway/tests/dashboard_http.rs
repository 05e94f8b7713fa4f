//! The dashboard over real HTTP, without a browser: what a browser test cannot easily show —
//! sign-in and form protection, cookies and headers, that a dashboard action and the API see
//! the same state, and that revoking a key ends its session. (The person's path through the
//! pages is `crates/lunli/tests/dashboard_browser.rs`, in headless Chromium.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use lunli_gateway::Gateway;
use lunli_gateway::access::new_key;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::{Governance, Person, System};
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::Value;

use lunli_test_support::records;

const SYSTEM: &str = include_str!("../../../examples/meeting-notes/system.yaml");

fn t0() -> Timestamp {
    "2026-06-01T08:00:00Z".parse().expect("time")
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    catalogue: Arc<Catalogue>,
    base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
}

/// The meeting-notes example registered (owner zhou-qing), served on a loopback port.
async fn setup() -> Setup {
    setup_with(GatewayConfig::default()).await
}

async fn setup_with(config: GatewayConfig) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let gov = Governance::new(&catalogue, &*store);
    let person = Person {
        id: "zhou-qing".into(),
        name: "Zhou Qing".into(),
        email: None,
        roles: vec!["owner".into()],
        training: vec![],
    };
    gov.add_person("admin", person, t0()).expect("person");
    let system: System = serde_yaml_ng::from_str(SYSTEM).expect("system");
    gov.register_system("zhou-qing", system, t0()).expect("register");
    let config = GatewayConfig { refresh_millis: 50, ..config };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let gateway = Gateway::new(store.clone(), catalogue.clone(), config).expect("gateway");
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        // Ends with the test's runtime, or when told to stop.
        let _ = gateway
            .serve(listener, async move {
                let _ = stop.await;
            })
            .await;
    });
    Setup { _dir: dir, store, catalogue, base, shutdown }
}

impl Setup {
    /// A new key, once the running gateway knows it (it was added as the CLI would, beside it).
    async fn key(&self, role: &str, person: Option<&str>) -> (String, String) {
        let (key, secret) = new_key(role, person, vec![role.into()], "test", t0()).expect("key");
        let id = key.id.clone();
        Governance::new(&self.catalogue, &*self.store).add_api_key("admin", key, t0()).expect("key");
        let started = Instant::now();
        loop {
            let whoami = reqwest::Client::new()
                .get(format!("{}/v1/whoami", self.base))
                .bearer_auth(&secret)
                .send()
                .await
                .expect("whoami");
            if whoami.status() != 401 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "the gateway did not pick up the new key");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (id, secret)
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The value a response sets for a cookie, and the whole `Set-Cookie` line.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<(String, String)> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        let value = line.strip_prefix(&format!("{name}="))?.split(';').next()?.to_string();
        Some((value, line.to_string()))
    })
}

/// The value of the first hidden field `name` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
    html[start..].split('"').next().expect("value").to_string()
}

/// Signs in with a key through the real form; returns the session cookie.
async fn sign_in(base: &str, secret: &str) -> String {
    let c = client();
    let page = c.get(format!("{base}/ui/login")).send().await.expect("login page");
    let (login, _) = set_cookie(page.headers(), "lunli_login").expect("login cookie");
    let form = field(&page.text().await.expect("html"), "form");
    let response = c
        .post(format!("{base}/ui/login"))
        .header("cookie", format!("lunli_login={login}"))
        .form(&[("form", form.as_str()), ("key", secret), ("next", "/ui/systems/meeting-notes")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
    assert_eq!(response.headers()[LOCATION], "/ui/systems/meeting-notes");
    let (session, line) = set_cookie(response.headers(), "lunli_session").expect("session cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict") && line.contains("Path=/ui"), "{line}");
    assert!(line.contains("Max-Age=43200"), "the cookie lasts no longer than a session can (12 h): {line}");
    session
}

async fn get(base: &str, path: &str, session: &str) -> reqwest::Response {
    client()
        .get(format!("{base}{path}"))
        .header("cookie", format!("lunli_session={session}"))
        .send()
        .await
        .expect("get")
}

async fn state(base: &str, key: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/v1/systems/meeting-notes/state"))
        .bearer_auth(key)
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session_and_sign_in_needs_the_form_from_this_browser() {
    let s = setup().await;
    let (_, owner) = s.key("owner", Some("zhou-qing")).await;
    let c = client();
    let root = c.get(format!("{}/", s.base)).send().await.expect("root");
    assert_eq!((root.status().as_u16(), &root.headers()[LOCATION]), (303, &"/ui/".parse().expect("value")));
    let inventory = c.get(format!("{}/ui/", s.base)).send().await.expect("inventory");
    assert_eq!(inventory.status(), 303);
    assert_eq!(inventory.headers()[LOCATION], "/ui/login?next=%2Fui%2F");
    // A sign-in form posted from elsewhere (no login cookie) is refused, even with a good key.
    let forged = c
        .post(format!("{}/ui/login", s.base))
        .form(&[("form", "x"), ("key", owner.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(forged.headers(), "lunli_session").is_none());
    // The real form signs in; pages then carry a strict content policy and are not cached.
    let session = sign_in(&s.base, &owner).await;
    let page = get(&s.base, "/ui/systems/meeting-notes", &session).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_string();
    assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.expect("html");
    assert!(html.contains("会议纪要助手 Meeting notes assistant"), "{html}");
    // The chosen language is the cookie's, whatever the browser asks for.
    let zh = client()
        .get(format!("{}/ui/", s.base))
        .header("cookie", format!("lunli_session={session}; lunli_lang=zh"))
        .header("accept-language", "en-US")
        .send()
        .await
        .expect("get");
    assert!(zh.text().await.expect("html").contains("AI 系统清单"));
    let _ = s.shutdown.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_or_back_with_control_characters_redirects_to_the_inventory() {
    let s = setup().await;
    let (_, owner) = s.key("owner", Some("zhou-qing")).await;
    let session = sign_in(&s.base, &owner).await;
    for path in [
        "/ui/lang/en?back=/ui/%0d%0aSet-Cookie:%20x=1",
        "/ui/lang/zh?back=/ui/%00",
        "/ui/lang/en?back=/ui/systems/%7f",
        "/ui/login?next=/ui/%0d%0a",
    ] {
        let response = get(&s.base, path, &session).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()[LOCATION], "/ui/", "{path}");
        assert!(set_cookie(response.headers(), "x").is_none(), "{path}");
    }
    // The same through the sign-in form.
    let c = client();
    let page = c.get(format!("{}/ui/login", s.base)).send().await.expect("login page");
    let (login, _) = set_cookie(page.headers(), "lunli_login").expect("login cookie");
    let form = field(&page.text().await.expect("html"), "form");
    let response = c
        .post(format!("{}/ui/login", s.base))
        .header("cookie", format!("lunli_login={login}"))
        .form(&[("form", form.as_str()), ("key", owner.as_str()), ("next", "/ui/\r\n\0")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()[LOCATION], "/ui/");
    assert!(set_cookie(response.headers(), "lunli_session").is_some());
    let _ = s.shutdown.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_action_needs_the_session_csrf_token_and_the_api_sees_its_effect() {
    let s = setup().await;
    let (_, owner) = s.key("owner", Some("zhou-qing")).await;
    let (_, auditor) = s.key("auditor", None).await;
    let session = sign_in(&s.base, &owner).await;
    let page = get(&s.base, "/ui/systems/meeting-notes/suspend", &session).await.text().await.expect("html");
    let csrf = field(&page, "csrf");
    let post = |token: String| {
        let (base, session) = (s.base.clone(), session.clone());
        async move {
            client()
                .post(format!("{base}/ui/systems/meeting-notes/suspend"))
                .header("cookie", format!("lunli_session={session}"))
                .form(&[("csrf", token.as_str()), ("purpose", ""), ("reason", "privacy complaint")])
                .send()
                .await
                .expect("post")
        }
    };
    let forged = post("0".repeat(64)).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(state(&s.base, &auditor).await["suspensions"], Value::Array(vec![]), "nothing changed");
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", s.base))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("lunli_refused_requests_total{action=\"dashboard.form\"} 1"), "{metrics}");

    let done = post(csrf).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/ui/systems/meeting-notes?done=suspended");
    let seen = state(&s.base, &auditor).await;
    assert_eq!(seen["suspensions"][0]["reason"], "privacy complaint", "{seen}");
    assert_eq!(seen["suspensions"][0]["by"], "zhou-qing", "{seen}");
    // Four eyes, as in the API: the person who suspended may not resume.
    let page = get(&s.base, "/ui/systems/meeting-notes/resume", &session).await.text().await.expect("html");
    let resume = client()
        .post(format!("{}/ui/systems/meeting-notes/resume", s.base))
        .header("cookie", format!("lunli_session={session}"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("purpose", ""), ("reason", "handled")])
        .send()
        .await
        .expect("post");
    assert_eq!(resume.status(), 403);
    let html = resume.text().await.expect("html");
    assert!(html.contains("cannot also resume it") && html.contains("handled"), "{html}");
    let _ = s.shutdown.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_key_ends_its_sessions() {
    let s = setup().await;
    let (id, owner) = s.key("owner", Some("zhou-qing")).await;
    let session = sign_in(&s.base, &owner).await;
    assert_eq!(get(&s.base, "/ui/", &session).await.status(), 200);
    Governance::new(&s.catalogue, &*s.store).revoke_api_key("admin", &id, t0()).expect("revoke");
    // Another process's change reaches the gateway within its refresh interval (50 ms here).
    let started = Instant::now();
    loop {
        let response = get(&s.base, "/ui/", &session).await;
        if response.status() == 303 {
            assert!(response.headers()[LOCATION].to_str().expect("location").starts_with("/ui/login"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "the revoked key's session still works");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = s.shutdown.send(());
}

/// The ids of the items (`id="<kind>-N"`) a dashboard page shows, and its next-page link.
fn items_and_next(html: &str, kind: &str) -> (Vec<u64>, Option<String>) {
    let marker = format!("id=\"{kind}-");
    let ids = html
        .match_indices(&marker)
        .map(|(at, _)| html[at + marker.len()..].split('"').next().expect("id").parse().expect("numeric id"))
        .collect();
    let next = html.find("class=\"next-page\" href=\"").map(|at| {
        let rest = &html[at + "class=\"next-page\" href=\"".len()..];
        rest.split('"').next().expect("href").replace("&amp;", "&")
    });
    (ids, next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_queue_and_incidents_are_paged_with_next_page_links() {
    use lunli_governance::incident::{IncidentStatus, Severity};
    use lunli_governance::review::ReviewStatus;
    use lunli_governance::store::Store;
    let s = setup().await;
    let (_, auditor) = s.key("auditor", None).await;
    s.store
        .write(|tx| {
            for n in 0..61 {
                tx.add_review(&records::review(n, "meeting-notes", ReviewStatus::Open))?;
            }
            for n in 0..51 {
                let severity = if n % 2 == 0 { Severity::Low } else { Severity::High };
                tx.add_incident(&records::incident(n, "meeting-notes", severity, IncidentStatus::Open))?;
            }
            Ok(())
        })
        .expect("queue");
    let session = sign_in(&s.base, &auditor).await;
    for (list, kind, total) in [("reviews", "review", 61), ("incidents", "incident", 51)] {
        let mut seen = Vec::new();
        let mut path = format!("/ui/{list}?show=all&system=meeting-notes");
        let mut pages = 0;
        loop {
            let page = get(&s.base, &path, &session).await;
            assert_eq!(page.status(), 200, "{path}");
            let html = page.text().await.expect("html");
            let (ids, next) = items_and_next(&html, kind);
            assert!(ids.len() <= 50, "{path}: {} items", ids.len());
            seen.extend(ids);
            pages += 1;
            match next {
                Some(next) => {
                    assert!(html.contains("下一页"), "the link is in the page's language");
                    assert!(next.contains("show=all") && next.contains("system=meeting-notes"), "{next}");
                    path = next;
                }
                None => {
                    assert!(html.contains("class=\"first-page\""), "the last page links back to the first");
                    break;
                }
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=total).collect::<Vec<u64>>(), "{list}: every item once");
        assert_eq!(pages, 2, "{list}");
    }
    // The inventory counts what is unresolved, past the first page.
    let inventory = get(&s.base, "/ui/", &session).await.text().await.expect("html");
    assert!(inventory.contains("61 项待复核") && inventory.contains("51 个未解决事件"), "{inventory}");
    // The pending tab pages too, and a cursor that is not one is a clear 400.
    let html = get(&s.base, "/ui/reviews", &session).await.text().await.expect("html");
    assert_eq!(items_and_next(&html, "review").0.len(), 50);
    let bad = get(&s.base, "/ui/incidents?after=zz", &session).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.expect("html").contains("`after`"));
    let _ = s.shutdown.send(());
}

/// The `Set-Cookie` lines of the sign-in page, fetched with `X-Forwarded-Proto` when given.
async fn login_cookie(base: &str, proto: Option<&str>) -> String {
    let mut request = client().get(format!("{base}/ui/login"));
    if let Some(proto) = proto {
        request = request.header("x-forwarded-proto", proto);
    }
    let page = request.send().await.expect("login page");
    let (_, line) = set_cookie(page.headers(), "lunli_login").expect("login cookie");
    assert!(line.contains("HttpOnly") && line.contains("SameSite=Strict"), "{line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_when_served_over_https_and_only_a_trusted_proxy_can_say_so() {
    // Plain HTTP, no proxy: no `Secure`, and a client's own X-Forwarded-Proto changes nothing.
    let plain = setup().await;
    assert!(!login_cookie(&plain.base, None).await.contains("Secure"));
    assert!(!login_cookie(&plain.base, Some("https")).await.contains("Secure"), "untrusted header");
    let _ = plain.shutdown.send(());
    // Behind a trusted proxy (loopback): `Secure` exactly when it says the browser used HTTPS.
    let trusted = vec![lunli_gateway::forwarded::parse_cidr("127.0.0.1").expect("cidr")];
    let proxied = setup_with(GatewayConfig { trusted_proxies: trusted, ..GatewayConfig::default() }).await;
    assert!(login_cookie(&proxied.base, Some("https")).await.contains("; Secure"));
    assert!(!login_cookie(&proxied.base, Some("http")).await.contains("Secure"));
    assert!(!login_cookie(&proxied.base, None).await.contains("Secure"));
    // Every cookie of the sign-in, the session's too, and the language switch's.
    let (_, secret) = proxied.key("auditor", None).await;
    let c = client();
    let page = c.get(format!("{}/ui/login", proxied.base)).header("x-forwarded-proto", "https").send().await;
    let page = page.expect("login page");
    let (login, _) = set_cookie(page.headers(), "lunli_login").expect("login cookie");
    let form = field(&page.text().await.expect("html"), "form");
    let signed_in = c
        .post(format!("{}/ui/login", proxied.base))
        .header("cookie", format!("lunli_login={login}"))
        .header("x-forwarded-proto", "https")
        .form(&[("form", form.as_str()), ("key", secret.as_str()), ("next", "/ui/")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303);
    let (_, session) = set_cookie(signed_in.headers(), "lunli_session").expect("session cookie");
    assert!(session.contains("; Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    let lang = c.get(format!("{}/ui/lang/en?back=/ui/", proxied.base)).header("x-forwarded-proto", "https");
    let lang = lang.send().await.expect("switch");
    assert!(set_cookie(lang.headers(), "lunli_lang").expect("lang cookie").1.contains("; Secure"));
    let _ = proxied.shutdown.send(());
    // `secure_cookies` (serve --secure-cookies): always, with no proxy header at all.
    let forced = setup_with(GatewayConfig { secure_cookies: true, ..GatewayConfig::default() }).await;
    assert!(login_cookie(&forced.base, None).await.contains("; Secure"));
    let _ = forced.shutdown.send(());
}
