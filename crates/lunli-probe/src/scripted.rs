//! A scripted OpenAI-compatible chat server, for lunli's tests, the demo and the benchmark: it
//! answers `POST /v1/chat/completions` as a [`Script`] says for the last user message, and
//! counts how often it received each message (`GET /_script/counts` shows the counts).
//!
//! It serves plain HTTP ([`Server::start`]) or HTTPS with a given certificate
//! ([`Server::start_tls`]), so the client's TLS is tested against a real TLS server.
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
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

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
    scheme: &'static str,
    counts: Arc<Mutex<BTreeMap<String, u32>>>,
    task: tokio::task::JoinHandle<()>,
    /// The TLS listener's accepting task, when serving HTTPS.
    accept: Option<tokio::task::JoinHandle<()>>,
}

/// A certificate chain and its private key, both PEM, for [`Server::start_tls`].
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert_chain_pem: String,
    pub key_pem: String,
}

fn router(script: Script) -> (axum::Router, Arc<Mutex<BTreeMap<String, u32>>>) {
    let counts = Arc::new(Mutex::new(BTreeMap::new()));
    let state = AppState { script, counts: counts.clone() };
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/_script/counts", get(show_counts))
        .with_state(state);
    (app, counts)
}

impl Server {
    /// Listens on `addr` (port 0 for any free port) on the current tokio runtime.
    pub async fn start(addr: SocketAddr, script: Script) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (app, counts) = router(script);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { addr, scheme: "http", counts, task, accept: None })
    }

    /// Like [`Server::start`], over TLS with `identity` (rustls, ring provider).
    pub async fn start_tls(addr: SocketAddr, script: Script, identity: &Identity) -> std::io::Result<Server> {
        let invalid = |what: &str, e: &dyn std::fmt::Display| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("the server's {what}: {e}"))
        };
        let certs = CertificateDer::pem_slice_iter(identity.cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("certificate chain", &e))?;
        let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(|e| invalid("private key", &e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid("TLS versions", &e))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| invalid("certificate", &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let tcp = tokio::net::TcpListener::bind(addr).await?;
        let addr = tcp.local_addr()?;
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        // Handshakes run in their own tasks, so a client that stalls or rejects the certificate
        // holds up no other connection.
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    // Out of file descriptors or the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (acceptor, sender) = (acceptor.clone(), sender.clone());
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await;
                    if let Ok(Ok(stream)) = handshake {
                        let _ = sender.send((stream, peer)).await;
                    }
                });
            }
        });
        let (app, counts) = router(script);
        let task = tokio::spawn(async move {
            let _ = axum::serve(TlsListener { receiver, addr }, app).await;
        });
        Ok(Server { addr, scheme: "https", counts, task, accept: Some(accept) })
    }

    /// The base URL to give `--endpoint`.
    pub fn endpoint(&self) -> String {
        format!("{}://{}/v1", self.scheme, self.addr)
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
        if let Some(accept) = &self.accept {
            accept.abort();
        }
    }
}

/// Connections that completed the TLS handshake.
struct TlsListener {
    receiver: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.receiver.recv().await {
            Some(connection) => connection,
            // The accepting task ended (the server is being dropped): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
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
