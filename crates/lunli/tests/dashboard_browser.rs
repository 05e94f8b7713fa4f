//! The dashboard in a real browser: headless Chromium driven through WebDriver (chromedriver)
//! against the real `lunli serve` binary on a loopback port, over a store set up with the CLI.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages (or any chromedriver and Chromium on
//! PATH; `CHROMEDRIVER` and `CHROMIUM` name other binaries). Without them the test fails and
//! says what to install; it never skips. Set `LUNLI_SCREENSHOTS=DIR` to keep a PNG of each step.

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::Data;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// A program on PATH, or the one an environment variable names.
fn program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// A child process this test started, ended when the test ends.
struct Owned(Child);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver in a process group of its own, with the Chromium it starts: the whole group
/// ends with the test, even when a failed step leaves the browser session open.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Process::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// chromedriver on a free loopback port, and a headless Chromium session through it.
async fn browser() -> (Driver, Client) {
    const INSTALL: &str = "install Debian's packages: apt-get install chromium chromium-driver";
    let driver = program("CHROMEDRIVER", &["chromedriver"])
        .unwrap_or_else(|| panic!("chromedriver is not on PATH (nor named by CHROMEDRIVER); {INSTALL}"));
    let chromium = program("CHROMIUM", &["chromium", "chromium-browser", "google-chrome"])
        .unwrap_or_else(|| panic!("Chromium is not on PATH (nor named by CHROMIUM); {INSTALL}"));
    let port = free_port();
    let child = Process::new(&driver)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", driver.display()));
    let child = Driver(child);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=en-US"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start Chromium ({}): {e}", chromium.display()));
    (child, client)
}

/// `lunli serve` on a free loopback port over the data directory.
fn serve(data: &Data) -> (Owned, String) {
    let mut child = Process::cargo_bin("lunli")
        .expect("binary")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("LUNLI_DATA_DIR", data.dir.path())
        .env("LUNLI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lunli serve");
    let stdout = child.stdout.take().expect("stdout");
    let child = Owned(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the server says where it listens");
    let base = line.trim().rsplit(' ').next().expect("address").to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "unexpected first line: {line}");
    (child, base)
}

fn key(data: &Data, person: Option<&str>, role: &str) -> String {
    let mut args = vec!["key", "add", "--name", role, "--role", role];
    if let Some(person) = person {
        args.extend(["--person", person]);
    }
    data.json("admin", &args)["secret"].as_str().expect("secret").to_string()
}

/// A decision from the gateway's API, over real HTTP.
async fn decide(base: &str, key: &str) -> Value {
    decide_with(base, key, 0.9).await
}

async fn decide_with(base: &str, key: &str, confidence: f64) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/v1/decisions"))
        .bearer_auth(key)
        .json(
            &json!({ "system": "meeting-notes", "subject": "u-42", "purpose": "summarise", "confidence": confidence }),
        )
        .send()
        .await
        .expect("decision request")
        .json()
        .await
        .expect("decision JSON")
}

struct Steps {
    client: Client,
    shots: Option<PathBuf>,
    n: usize,
}

impl Steps {
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => {
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                let page = self.client.source().await.unwrap_or_default();
                panic!("no `{css}` on {url}: {e}\n{page}")
            }
        }
    }

    async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.expect("text")
    }

    /// Clicks something that loads a new page, and waits until the old page is gone, so the
    /// next look is at the new one.
    async fn click(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.expect("a page");
        self.element(css).await.click().await.expect("click");
        let started = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(started.elapsed() < Duration::from_secs(10), "clicking `{css}` loaded no new page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks something on the page that loads nothing (a radio button).
    async fn choose(&self, css: &str) {
        self.element(css).await.click().await.expect("click");
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no `{css}`: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        format!("{}{}", url.path(), url.query().map(|q| format!("?{q}")).unwrap_or_default())
    }

    /// Keeps a screenshot when LUNLI_SCREENSHOTS names a directory.
    async fn shot(&mut self, name: &str) {
        let Some(dir) = &self.shots else { return };
        self.n += 1;
        // Tall enough for a whole page, then back to the size the steps run at.
        self.client.set_window_size(1280, 2400).await.expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client.set_window_size(1280, 1000).await.expect("resize");
        std::fs::write(dir.join(format!("{:02}-{name}.png", self.n)), png).expect("write screenshot");
    }

    async fn sign_in(&mut self, key: &str) {
        self.fill("#api-key", key).await;
        self.click("#sign-in").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_suspend_resume_review_and_handle_incidents_in_a_browser() {
    let data = Data::new();
    data.credit_scoring();
    common::meeting_notes_approved(&data);
    let operator = key(&data, Some("zhou-qing"), "operator");
    let owner = key(&data, Some("wu-lei"), "owner");
    let service = key(&data, None, "service");
    let reviewer = key(&data, Some("li-wei"), "reviewer");
    data.ok(
        "admin",
        &[
            "incident",
            "open",
            "--system",
            "meeting-notes",
            "--title",
            "Action items assigned to absent staff",
            "--severity",
            "low",
        ],
    );
    let (_server, base) = serve(&data);
    assert_eq!(decide(&base, &service).await["outcome"], "allow", "the approved system is allowed before");

    let (_driver, client) = browser().await;
    let shots = std::env::var_os("LUNLI_SCREENSHOTS").map(PathBuf::from);
    let mut s = Steps { client, shots, n: 0 };

    // Signed out, the root leads to the sign-in page; a service key is refused there.
    s.client.goto(&format!("{base}/")).await.expect("open");
    assert!(s.path().await.starts_with("/ui/login"), "{}", s.path().await);
    s.shot("sign-in").await;
    s.sign_in(&service).await;
    let refused = s.text(".banner.error").await;
    assert!(refused.contains("may not state.read"), "{refused}");
    s.sign_in(&operator).await;
    assert_eq!(s.text("h1").await, "AI systems");
    let inventory = s.text("#inventory").await;
    assert!(inventory.contains("credit-scoring") && inventory.contains("1 open incident"), "{inventory}");
    s.shot("inventory").await;

    // Find the system, open it.
    s.fill("#q", "meeting").await;
    s.click("#apply-filters").await;
    let table = s.text("#inventory tbody").await;
    assert!(table.contains("meeting-notes") && !table.contains("credit-scoring"), "{table}");
    s.click("a.system-link").await;
    assert_eq!(s.path().await, "/ui/systems/meeting-notes");
    assert!(s.text("#runtime-state").await.contains("running"));
    assert!(s.text("#controls").await.contains("met"));
    let playbook = s.text("dl.playbook").await;
    assert!(playbook.contains("anyone the access policy allows") && playbook.contains("below 0.6"), "{playbook}");
    s.shot("system").await;

    // Suspend: a blank reason is refused by the same rule as the API; then a real one.
    s.click("#suspend").await;
    s.shot("confirm-suspend").await;
    s.fill("#reason", "   ").await;
    s.click("#confirm").await;
    let blank = s.text(".banner.error").await;
    assert!(blank.contains("say why the system is suspended"), "{blank}");
    let reason = "Notes quoted a confidential item; paused while we investigate.";
    s.fill("#reason", reason).await;
    s.click("#confirm").await;
    assert!(s.text(".banner.ok").await.starts_with("Suspended."));
    assert!(s.text("#runtime-state").await.contains("suspended"));
    let suspensions = s.text("#suspensions").await;
    assert!(suspensions.contains(reason) && suspensions.contains("zhou-qing"), "{suspensions}");
    s.shot("suspended").await;

    // The decision endpoint, over real HTTP, now denies.
    let decision = decide(&base, &service).await;
    assert_eq!(decision["outcome"], "deny", "{decision}");
    assert_eq!(decision["reasons"][0]["code"], "suspended", "{decision}");

    // The operator may not resume: refused, shown, recorded.
    s.click("a.resume").await;
    s.fill("#reason", "I think it is fine now.").await;
    s.click("#confirm").await;
    let refusal = s.text(".banner.error").await;
    assert!(refusal.contains("Refused") && refusal.contains("may not system.resume"), "{refusal}");
    s.shot("refused").await;

    // The owner signs in and resumes it.
    s.click("#sign-out").await;
    assert!(s.path().await.starts_with("/ui/login"));
    s.client.goto(&format!("{base}/ui/systems/meeting-notes")).await.expect("open");
    s.sign_in(&owner).await;
    assert_eq!(s.path().await, "/ui/systems/meeting-notes", "sign-in returns to the page asked for");
    s.click("a.resume").await;
    s.fill("#reason", "Leak traced to one transcript; removed and checked.").await;
    s.click("#confirm").await;
    assert!(s.text(".banner.ok").await.starts_with("Resumed."));
    assert!(s.text("#runtime-state").await.contains("running"));
    // The chart counts the two decisions so far from the ledger: the allow, then the deny.
    let chart = s.text("p.caption").await;
    assert!(chart.ends_with(": 2"), "{chart}");
    assert_eq!(decide(&base, &service).await["outcome"], "allow");

    // The owner acknowledges the open incident.
    s.click("header nav a[href='/ui/incidents']").await;
    assert!(s.text(".item h2").await.contains("Action items assigned to absent staff"));
    s.fill("form.note-action textarea", "Looking into the attendee list.").await;
    s.click("button.acknowledge").await;
    assert_eq!(s.text(".banner.ok").await, "Incident acknowledged.");
    assert!(s.text(".item .incident-status").await.contains("acknowledged"));
    s.shot("incident").await;

    // A low-confidence decision goes to a human; a reviewer claims it and rejects the proposal.
    let escalated = decide_with(&base, &service, 0.2).await;
    assert_eq!(escalated["outcome"], "human_review", "{escalated}");
    s.click("#sign-out").await;
    s.sign_in(&reviewer).await;
    s.click("header nav a[href='/ui/reviews']").await;
    let item = s.text(".item").await;
    assert!(item.contains(escalated["id"].as_str().expect("decision id")), "{item}");
    s.click("button.claim").await;
    assert!(s.text(".banner.ok").await.starts_with("Claimed."));
    s.shot("review-claimed").await;
    s.choose("input[value='reject']").await;
    s.fill("form.resolve textarea", "Summary attributes a decision to someone who was not there.").await;
    s.click("button.record").await;
    assert!(s.text(".banner.ok").await.starts_with("Outcome recorded"));
    assert!(s.text(".item .resolution").await.contains("reject the model's proposal"));
    s.shot("review-resolved").await;
    let reviews: Value = reqwest::Client::new()
        .get(format!("{base}/v1/reviews"))
        .bearer_auth(&reviewer)
        .send()
        .await
        .expect("reviews")
        .json()
        .await
        .expect("JSON");
    let resolved = &reviews["reviews"][0];
    assert_eq!(
        (resolved["status"].as_str(), resolved["resolution"]["outcome"].as_str()),
        (Some("resolved"), Some("reject"))
    );
    assert_eq!(resolved["resolution"]["by"], "li-wei");

    // Switch language: everything reads in Chinese, and the choice stays.
    s.click("#lang-zh").await;
    assert_eq!(s.path().await, "/ui/reviews?show=all");
    assert_eq!(s.text("h1").await, "人工复核队列");
    assert!(s.text(".item .resolution").await.contains("驳回模型建议"));
    s.shot("reviews-zh").await;
    s.client.goto(&format!("{base}/ui/systems/meeting-notes")).await.expect("open");
    assert!(s.text("section.control-panel h2").await.contains("人工控制"));
    s.shot("system-zh").await;
    s.client.goto(&format!("{base}/ui/")).await.expect("open");
    assert_eq!(s.text("h1").await, "AI 系统清单");

    // Ledger health: verify everything now.
    s.client.goto(&format!("{base}/ui/ledger")).await.expect("open");
    s.click("#verify-now").await;
    assert!(s.text(".banner.ok").await.contains("账本完好"));
    assert_eq!(s.text("#verification-result").await, "通过");
    s.shot("ledger-zh").await;
    s.click("#lang-en").await;
    assert_eq!(s.text("#verification-result").await, "verified");
    s.client.close().await.expect("close the browser");

    // The ledger holds the suspension, the refusal and the resumption, by name.
    let bundle = data.dir.path().join("bundle.json");
    data.ok("admin", &["ledger", "export", "--out", &bundle.display().to_string()]);
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).expect("bundle")).expect("JSON");
    let entries = bundle["entries"].as_array().expect("entries");
    let find = |action: &str, actor: &str| {
        entries.iter().any(|e| e["action"] == action && e["actor"] == actor && e["subject"] != "")
    };
    assert!(find("system.suspend", "zhou-qing"));
    assert!(find("access.refused", "zhou-qing"));
    assert!(find("system.resume", "wu-lei"));
    assert!(find("incident.acknowledge", "wu-lei"));
    assert!(find("review.resolve", "li-wei"));
}
