//! The demo's runtime part: the gateway serving the approved meeting-notes assistant over real
//! HTTP on the loopback interface — an allowed decision with its disclosure and content labels, a
//! low-confidence one sent to a human, a subject who withdrew consent, the system suspended and
//! resumed by people with the right roles, and the unapproved credit model refused — and then,
//! unless asked not to, left running.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use lunli_gateway::Gateway;
use lunli_gateway::access::new_key;
use lunli_gateway::config::GatewayConfig;
use lunli_governance::Governance;
use lunli_store::SqliteStore;
use serde_json::{Value, json};

use crate::context::{Context, now};
use crate::output::Out;

/// The keys the demo makes: one per part a person or service plays.
pub struct Keys {
    pub service: String,
    pub operator: String,
    pub owner: String,
    pub admin: String,
}

pub fn keys(ctx: &Context, store: &SqliteStore) -> Result<Keys> {
    let gov = Governance::new(&ctx.catalogue, store);
    let make = |name: &str, person: Option<&str>, role: &str| -> Result<String> {
        let (key, secret) = new_key(name, person, vec![role.into()], super::DEMO_ACTOR, now())?;
        gov.add_api_key(super::DEMO_ACTOR, key, now())?;
        Ok(secret)
    };
    Ok(Keys {
        service: make("loan-app", None, "service")?,
        operator: make("ops-desk", Some("zhou-qing"), "operator")?,
        owner: make("owner", Some("wu-lei"), "owner")?,
        admin: make("dashboard-admin", Some("liu-yang"), "admin")?,
    })
}

/// One request the demo sends, and what it shows.
struct Step {
    zh: &'static str,
    en: &'static str,
    outcome: String,
    reason: String,
}

/// Serves the example on `listen`, sends the demo's requests, and returns the bound address
/// with the gateway still running on `runtime` (stopped by `stop`).
pub struct Running {
    pub addr: SocketAddr,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub done: tokio::task::JoinHandle<Result<(), lunli_gateway::GatewayError>>,
}

impl Running {
    /// Stops taking requests and waits until every queued ledger entry is written.
    pub fn stop(self, runtime: &tokio::runtime::Runtime) -> Result<()> {
        let _ = self.stop.send(());
        runtime.block_on(self.done).context("stopping the gateway")??;
        Ok(())
    }
}

pub fn start(
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    store: Arc<SqliteStore>,
    listen: SocketAddr,
) -> Result<Running> {
    let catalogue = Arc::new(ctx.catalogue.clone());
    // Every decision durable before its answer, so the reports that follow count them all.
    let durable = vec![lunli_norms::Tier::Low, lunli_norms::Tier::Medium, lunli_norms::Tier::High];
    let config = GatewayConfig { listen, durable_tiers: durable, ..GatewayConfig::default() };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => listener,
            // The default port may be taken (another lunli, say): any free one will do.
            Err(_) if listen.port() != 0 => tokio::net::TcpListener::bind(SocketAddr::new(listen.ip(), 0))
                .await
                .with_context(|| format!("cannot listen on {}", listen.ip()))?,
            Err(e) => return Err(e).with_context(|| format!("cannot listen on {listen}")),
        };
        let addr = listener.local_addr().context("reading the bound address")?;
        let gateway = tokio::task::block_in_place(|| Gateway::new(store, catalogue, config))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(gateway.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Running { addr, stop, done })
    })
}

/// Sends the demo's requests over HTTP and prints what came back.
pub fn exercise(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
    keys: &Keys,
    notes: &str,
    blocked: &str,
    out: &mut Out,
) -> Result<()> {
    let base = format!("http://{addr}");
    let steps = runtime.block_on(async {
        let client = reqwest::Client::new();
        let call = |method: reqwest::Method, path: String, key: &str, body: Value| {
            let request = client.request(method, format!("{base}{path}")).bearer_auth(key).json(&body);
            async move {
                let response = request.send().await.with_context(|| format!("calling {path}"))?;
                let status = response.status();
                let body: Value = response.json().await.with_context(|| format!("reading the answer of {path}"))?;
                anyhow::ensure!(status.is_success(), "{path} answered {status}: {body}");
                Ok::<Value, anyhow::Error>(body)
            }
        };
        let decide = |system: &str, subject: &str, purpose: &str, confidence: f64| {
            let body = json!({ "system": system, "subject": subject, "purpose": purpose,
                               "confidence": confidence, "channel": "app", "content": "text" });
            call(reqwest::Method::POST, "/v1/decisions".into(), &keys.service, body)
        };
        let mut steps = Vec::new();
        let mut push = |zh, en, decision: Value| {
            let outcome = decision["outcome"].as_str().unwrap_or("?").to_string();
            let reason = decision["reasons"][0]["text"]["en"]
                .as_str()
                .or_else(|| decision["disclosure"]["en"].as_str())
                .unwrap_or("")
                .to_string();
            steps.push(Step { zh, en, outcome, reason });
        };
        push(
            "员工 A 请求纪要，模型置信度 0.92",
            "Staff member A asks for notes, model confidence 0.92",
            decide(notes, "staff-a", "summarise", 0.92).await?,
        );
        push(
            "员工 B，置信度 0.41（低于复核阈值）",
            "Staff member B, confidence 0.41 (below the review threshold)",
            decide(notes, "staff-b", "summarise", 0.41).await?,
        );
        let path = format!("/v1/systems/{notes}/consents/staff-c/withdraw");
        call(reqwest::Method::POST, path, &keys.service, json!({})).await?;
        push(
            "员工 C 撤回同意、选择人工之后（第十六条）",
            "Staff member C, after withdrawing consent (Art. 16)",
            decide(notes, "staff-c", "summarise", 0.9).await?,
        );
        let path = format!("/v1/systems/{notes}/suspend");
        let reason = "Drill: summaries misattribute action items 演练：纪要错记待办事项";
        call(reqwest::Method::POST, path, &keys.operator, json!({ "reason": reason })).await?;
        push(
            "运营人员按下暂停之后（第三条第四项）",
            "After an operator pulled the kill switch (Art. 3(4))",
            decide(notes, "staff-d", "summarise", 0.95).await?,
        );
        let path = format!("/v1/systems/{notes}/resume");
        call(reqwest::Method::POST, path, &keys.owner, json!({ "reason": "Checked and fixed 已核查修复" })).await?;
        push(
            "另一位负责人恢复之后",
            "After another owner resumed it",
            decide(notes, "staff-d", "summarise", 0.95).await?,
        );
        push(
            "信贷评分模型（公平性审计未通过，未获批准）",
            "The credit model (failed its fairness audit, not approved)",
            decide(blocked, "applicant-e", "credit-application", 0.95).await?,
        );
        Ok::<Vec<Step>, anyhow::Error>(steps)
    })?;
    let mut table = out.table(vec![
        out.label("请求", "Request"),
        out.label("结果", "Outcome"),
        out.label("原因或告知", "Reason or disclosure"),
    ]);
    for step in &steps {
        let request = out.label(step.zh, step.en);
        table.add_row(vec![request, step.outcome.clone(), step.reason.clone()]);
    }
    out.push_table(&table);
    Ok(())
}
