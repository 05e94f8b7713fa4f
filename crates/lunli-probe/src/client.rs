//! An OpenAI-compatible chat-completions client (`POST …/chat/completions`), the same for
//! OpenAI, vLLM, llama.cpp's server and any other service speaking that API.
//!
//! One question is one call of [`Client::ask`]: it retries connection errors, timeouts, 429
//! (waiting as long as `Retry-After` says, at most [`MAX_RETRY_AFTER`]) and 5xx with exponential
//! backoff, and accepts a JSON answer or a stream of server-sent events. Whatever happens it
//! returns a result naming what went wrong, never panics.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};
use tower_service::Service as _;
use url::Url;

use crate::ProbeError;
use crate::tls::{self, CaCerts};

/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// The first backoff; it doubles with each retry up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How to reach the service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL (`http://host:8000/v1`, `https://…`) or the full `…/chat/completions` URL.
    pub endpoint: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Per HTTP request, from sending to the last byte of the answer.
    pub timeout: Duration,
    /// Retries after the first request.
    pub retries: u32,
    /// Ask for a streamed (server-sent events) answer.
    pub stream: bool,
    pub temperature: Option<f64>,
    /// CA certificates trusted for an `https` endpoint besides the system's.
    pub ca_certs: CaCerts,
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub text: String,
    /// The API's `refusal` field was set.
    pub api_refusal: bool,
    pub streamed: bool,
    pub attempts: u32,
}

/// No answer, after every retry.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub reason: String,
    pub attempts: u32,
}

type Connector = HttpsConnector<HttpConnector>;

pub struct Client {
    http: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    connector: Connector,
    url: Url,
    uri: http::Uri,
    settings: Settings,
}

/// What one request came to.
enum Attempt {
    Done(Reply),
    /// Worth trying again, after at least this long.
    Retry(String, Option<Duration>),
    Fail(String),
}

impl Client {
    /// Fails on a bad endpoint, or on an `https` one when no trusted CA certificate can be
    /// loaded (neither from the system nor from `ca_certs`).
    pub fn new(settings: Settings) -> Result<Client, ProbeError> {
        let url = chat_url(&settings.endpoint)?;
        let bad = |reason: String| ProbeError::Endpoint { url: settings.endpoint.clone(), reason };
        let uri: http::Uri = url.as_str().parse().map_err(|e| bad(format!("not a usable URI ({e})")))?;
        let config = if url.scheme() == "https" { tls::client_config(&settings.ca_certs) } else { tls::plain_config() }
            .map_err(|e| bad(e.to_string()))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(settings.timeout.min(Duration::from_secs(10))));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector.clone());
        Ok(Client { http: client, connector, url, uri, settings })
    }

    /// The URL questions are posted to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// For an `https` endpoint: opens one connection and completes the TLS handshake, sending no
    /// request, so that a certificate the client does not trust stops a run before any question
    /// is marked as sent. Other connection problems are left to each question's retries.
    pub async fn check_certificate(&self) -> Result<(), ProbeError> {
        if self.url.scheme() != "https" {
            return Ok(());
        }
        let mut connector = self.connector.clone();
        let connect = async {
            std::future::poll_fn(|cx| connector.poll_ready(cx)).await?;
            connector.call(self.uri.clone()).await
        };
        match tokio::time::timeout(self.settings.timeout, connect).await {
            Ok(Err(e)) => match tls::certificate_problem(&*e) {
                Some(problem) => {
                    Err(ProbeError::Untrusted { url: self.url.to_string(), reason: tls::describe(&problem) })
                }
                None => Ok(()),
            },
            Ok(Ok(_)) | Err(_) => Ok(()),
        }
    }

    /// Asks one question, with the system message first when there is one.
    pub async fn ask(&self, system: Option<&str>, prompt: &str) -> Result<Reply, Failure> {
        let mut messages = Vec::new();
        if let Some(system) = system {
            messages.push(json!({ "role": "system", "content": system }));
        }
        messages.push(json!({ "role": "user", "content": prompt }));
        let mut body = json!({ "model": self.settings.model, "messages": messages, "stream": self.settings.stream });
        if let (Some(t), Some(map)) = (self.settings.temperature, body.as_object_mut()) {
            map.insert("temperature".into(), json!(t));
        }
        let body = Bytes::from(body.to_string());
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(body.clone()).await {
                Attempt::Done(reply) => return Ok(Reply { attempts, ..reply }),
                Attempt::Fail(reason) => return Err(Failure { reason, attempts }),
                Attempt::Retry(reason, wait) => {
                    if attempts > self.settings.retries {
                        return Err(Failure { reason: format!("{reason} (after {attempts} attempts)"), attempts });
                    }
                    tokio::time::sleep(wait.unwrap_or(backoff)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn attempt(&self, body: Bytes) -> Attempt {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream");
        if let Some(key) = &self.settings.api_key {
            let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {key}")) else {
                return Attempt::Fail("the API key holds characters an HTTP header cannot carry".into());
            };
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        let request = match request.body(Full::new(body)) {
            Ok(request) => request,
            Err(e) => return Attempt::Fail(format!("cannot build the request: {e}")),
        };
        // One deadline for the whole exchange, from sending to the last byte of the answer.
        let deadline = Instant::now() + self.settings.timeout;
        let response = match timeout_at(deadline, self.http.request(request)).await {
            Err(_) => return Attempt::Retry(format!("no answer within {:?}", self.settings.timeout), None),
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                // A certificate the client does not trust will not become trusted by asking again.
                if let Some(problem) = tls::certificate_problem(&e) {
                    return Attempt::Fail(tls::describe(&problem));
                }
                return Attempt::Retry(format!("cannot reach {}: {}", self.url, error_chain(&e)), None);
            }
        };
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
            return Attempt::Retry("the service is rate limiting (429 Too Many Requests)".into(), wait);
        }
        let streamed = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        loop {
            match timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(chunk) = frame.into_data() {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    return Attempt::Retry(
                        format!(
                            "the answer did not finish within {:?} ({} bytes read)",
                            self.settings.timeout,
                            bytes.len()
                        ),
                        None,
                    );
                }
                Ok(Some(Err(e))) => {
                    return Attempt::Retry(format!("the answer was cut off: {}", error_chain(&e)), None);
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if status.is_server_error() {
            return Attempt::Retry(format!("the service failed ({status}): {}", clip(&text, 200)), None);
        }
        if !status.is_success() {
            return Attempt::Fail(format!("the service refused the request ({status}): {}", clip(&text, 300)));
        }
        let parsed = if streamed || text.trim_start().starts_with("data:") {
            parse_events(&text).map(|(text, refusal)| Reply { text, api_refusal: refusal, streamed: true, attempts: 0 })
        } else {
            parse_json(&text).map(|(text, refusal)| Reply { text, api_refusal: refusal, streamed: false, attempts: 0 })
        };
        match parsed {
            Ok(reply) => Attempt::Done(reply),
            Err(reason) => Attempt::Fail(reason),
        }
    }
}

/// `…/chat/completions` from what the user gave; `http` or `https`.
fn chat_url(endpoint: &str) -> Result<Url, ProbeError> {
    let bad = |reason: String| ProbeError::Endpoint { url: endpoint.to_string(), reason };
    let mut url = Url::parse(endpoint).map_err(|e| bad(format!("not a URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(bad(format!("scheme `{other}` is neither http nor https"))),
    }
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/chat/completions") {
        url.set_path(&format!("{path}/chat/completions"));
    }
    Ok(url)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn clip(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out.replace('\n', " ")
}

/// The content of `choices[0].message` and whether its `refusal` field is set.
fn parse_json(text: &str) -> Result<(String, bool), String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the answer is not JSON ({e}): {}", clip(text, 120)))?;
    let message = value
        .pointer("/choices/0/message")
        .ok_or_else(|| format!("the answer has no choices[0].message: {}", clip(text, 120)))?;
    let refusal = message.get("refusal").and_then(Value::as_str).filter(|r| !r.is_empty());
    let content = message.get("content").and_then(Value::as_str);
    match (content, refusal) {
        (Some(content), _) => Ok((content.to_string(), refusal.is_some())),
        (None, Some(refusal)) => Ok((refusal.to_string(), true)),
        (None, None) => Err(format!("choices[0].message has no content: {}", clip(text, 120))),
    }
}

/// Concatenates `choices[0].delta.content` of every `data:` event up to `[DONE]`.
fn parse_events(text: &str) -> Result<(String, bool), String> {
    let mut content = String::new();
    let mut refusal = false;
    let mut events = 0;
    for line in text.lines() {
        let Some(data) = line.strip_prefix("data:") else { continue };
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        events += 1;
        let value: Value = serde_json::from_str(data)
            .map_err(|e| format!("event {events} of the streamed answer is not JSON ({e}): {}", clip(data, 120)))?;
        let delta = value.pointer("/choices/0/delta");
        if let Some(piece) = delta.and_then(|d| d.get("content")).and_then(Value::as_str) {
            content.push_str(piece);
        }
        if let Some(piece) = delta.and_then(|d| d.get("refusal")).and_then(Value::as_str) {
            refusal = true;
            content.push_str(piece);
        }
    }
    if events == 0 {
        return Err("the streamed answer holds no data events".into());
    }
    Ok((content, refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_become_chat_urls() {
        let url = |e: &str| chat_url(e).map(|u| u.to_string()).map_err(|e| e.to_string());
        assert_eq!(url("http://127.0.0.1:8000/v1"), Ok("http://127.0.0.1:8000/v1/chat/completions".into()));
        assert_eq!(url("http://h/v1/chat/completions"), Ok("http://h/v1/chat/completions".into()));
        assert_eq!(url("https://api.example.com/v1"), Ok("https://api.example.com/v1/chat/completions".into()));
        assert!(url("ftp://h/v1").is_err_and(|e| e.contains("neither http nor https")));
        assert!(url("not a url").is_err_and(|e| e.contains("not a URL")));
    }

    #[test]
    fn answers_are_read_from_json_and_events() {
        assert_eq!(parse_json(r#"{"choices":[{"message":{"content":"hi"}}]}"#), Ok(("hi".into(), false)));
        assert_eq!(parse_json(r#"{"choices":[{"message":{"content":null,"refusal":"no"}}]}"#), Ok(("no".into(), true)));
        assert!(parse_json("{oops").is_err_and(|e| e.contains("not JSON")));
        let events = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n";
        assert_eq!(parse_events(events), Ok(("ab".into(), false)));
        assert!(parse_events("data: {bad\n").is_err());
    }
}
