//! A scripted OpenAI-compatible chat server, for lunli's tests, the demo and the benchmark: it
//! answers `POST /v1/chat/completions` as a [`Script`] says for the last user message, and
//! counts how often it received each message (`GET /_script/counts` shows the counts).
//!
//! It is a test instrument, not a model: it knows the answers in advance.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lunli_norms::{Probe, ProbeKind};
use serde_json::{Value, json};

/// How the server answers one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A JSON chat completion with this content.
    Text(String),
    /// The same content as server-sent events, a few characters per event.
    Stream(String),
    /// Wait, then answer with the inner reply.
    Slow(Duration, Box<Reply>),
    /// 429 with `Retry-After: <seconds>`.
    RateLimited(u64),
    /// This status code with a short error body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Malformed,
}

/// The answer for a user message, given how many times (1, 2, …) it has been received.
pub type Script = Arc<dyn Fn(&str, u32) -> Reply + Send + Sync>;

#[derive(Clone)]
struct AppState {
    script: Script,
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
}

/// A running scripted server.
pub struct Server {
    pub addr: SocketAddr,
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Listens on `addr` (port 0 for any free port) on the current tokio runtime.
    pub async fn start(addr: SocketAddr, script: Script) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let state = AppState { script, counts: counts.clone() };
        let app = axum::Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/_script/counts", get(show_counts))
            .with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { addr, counts, task })
    }

    /// The base URL to give `--endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// How many times each user message was received.
    pub fn counts(&self) -> BTreeMap<String, u32> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Runs until the task ends (it does not, unless the listener fails).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn show_counts(State(state): State<AppState>) -> Json<BTreeMap<String, u32>> {
    Json(state.counts.lock().map(|c| c.clone()).unwrap_or_default())
}

async fn chat(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "the request is not JSON").into_response();
    };
    let prompt = request
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user")))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let seen = match state.counts.lock() {
        Ok(mut counts) => {
            let count = counts.entry(prompt.clone()).or_default();
            *count += 1;
            *count
        }
        Err(_) => 1,
    };
    let mut reply = (state.script)(&prompt, seen);
    loop {
        match reply {
            Reply::Slow(wait, inner) => {
                tokio::time::sleep(wait).await;
                reply = *inner;
            }
            Reply::Text(text) => {
                return Json(json!({
                    "id": "chatcmpl-script",
                    "object": "chat.completion",
                    "model": request.get("model").cloned().unwrap_or(Value::Null),
                    "choices": [{ "index": 0, "message": { "role": "assistant", "content": text }, "finish_reason": "stop" }],
                }))
                .into_response();
            }
            Reply::Stream(text) => {
                let mut events = String::new();
                let chars: Vec<char> = text.chars().collect();
                for piece in chars.chunks(8) {
                    let piece: String = piece.iter().collect();
                    let event = json!({ "choices": [{ "index": 0, "delta": { "content": piece } }] });
                    events.push_str(&format!("data: {event}\n\n"));
                }
                events.push_str("data: [DONE]\n\n");
                return ([(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"))], events)
                    .into_response();
            }
            Reply::RateLimited(seconds) => {
                return (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds.to_string())], "slow down")
                    .into_response();
            }
            Reply::Status(code) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return (status, "scripted failure").into_response();
            }
            Reply::Malformed => {
                return ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], "{\"choices\": [")
                    .into_response();
            }
        }
    }
}

/// A well-behaved service for the bank: refuses should-refuse questions (all but those whose id
/// is in `lapses`, which it answers), answers the rest, says it is an AI when asked and never
/// reveals planted identifiers. Every answer waits `delay` first.
pub fn bank_script(probes: &[Probe], lapses: &[&str], delay: Duration) -> Script {
    let mut answers: BTreeMap<String, String> = BTreeMap::new();
    for probe in probes {
        let lapse = lapses.iter().any(|l| l.eq_ignore_ascii_case(&probe.id));
        for (prompt, zh) in [(&probe.prompt.zh, true), (&probe.prompt.en, false)] {
            let text = match (probe.kind, zh) {
                (ProbeKind::ShouldRefuse, _) if lapse => {
                    if zh {
                        "好的，下面是具体做法。"
                    } else {
                        "Sure, here is how to do it."
                    }
                }
                (ProbeKind::ShouldRefuse | ProbeKind::PersonalInformation, true) => "抱歉，我无法协助这个请求。",
                (ProbeKind::ShouldRefuse | ProbeKind::PersonalInformation, false) => {
                    "I'm sorry, but I can't help with that request."
                }
                (ProbeKind::Disclosure, true) => "我是一个人工智能助手，不是真人。",
                (ProbeKind::Disclosure, false) => "I am an AI assistant, not a human.",
                (ProbeKind::ShouldNotRefuse | ProbeKind::Bias, true) => "这是一个有帮助的回答，供你参考。",
                (ProbeKind::ShouldNotRefuse | ProbeKind::Bias, false) => "Here is a helpful answer for you.",
            };
            answers.insert(prompt.clone(), text.to_string());
        }
    }
    Arc::new(move |prompt, _| {
        let text = answers.get(prompt).cloned().unwrap_or_else(|| "Here is a helpful answer.".into());
        if delay.is_zero() { Reply::Text(text) } else { Reply::Slow(delay, Box::new(Reply::Text(text))) }
    })
}
