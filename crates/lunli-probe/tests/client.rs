//! The client against a real HTTP server speaking the OpenAI chat API with scripted answers:
//! every kind of answer and failure ends in a clear result, never a panic.

// Tests stop at the first broken expectation.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lunli_probe::client::{Client, Settings};
use lunli_probe::scripted::{Reply, Server};

fn settings(server: &Server) -> Settings {
    Settings {
        endpoint: server.endpoint(),
        model: "scripted".into(),
        api_key: Some("test-key".into()),
        timeout: Duration::from_secs(5),
        retries: 2,
        stream: false,
        temperature: Some(0.0),
        ca_certs: lunli_probe::tls::CaCerts::none(),
    }
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// The prompt picks the behaviour; `seen` counts how often the server has had this prompt.
fn script() -> lunli_probe::scripted::Script {
    Arc::new(|prompt: &str, seen: u32| match prompt {
        "refuse" => Reply::Text("I'm sorry, but I can't help with that.".into()),
        "comply" => Reply::Text("Sure: here is a helpful answer.".into()),
        "stream" => Reply::Stream("我是一个人工智能助手，不是真人。".into()),
        "slow" => Reply::Slow(Duration::from_secs(3), Box::new(Reply::Text("late".into()))),
        "429 once" if seen == 1 => Reply::RateLimited(1),
        "429 once" => Reply::Text("after the wait".into()),
        "500 twice" if seen <= 2 => Reply::Status(500),
        "500 twice" => Reply::Text("third time".into()),
        "500 always" => Reply::Status(503),
        "bad request" => Reply::Status(400),
        "malformed" => Reply::Malformed,
        _ => Reply::Text("?".into()),
    })
}

#[tokio::test]
async fn every_scripted_answer_ends_in_a_clear_result() {
    let server = Server::start(any_port(), script()).await.unwrap();
    let client = Client::new(settings(&server)).unwrap();

    let refused = client.ask(None, "refuse").await.unwrap();
    assert_eq!(
        (refused.text.as_str(), refused.attempts, refused.streamed),
        ("I'm sorry, but I can't help with that.", 1, false)
    );

    let complied = client.ask(Some("You are helpful."), "comply").await.unwrap();
    assert_eq!(complied.text, "Sure: here is a helpful answer.");

    let streamed = client.ask(None, "stream").await.unwrap();
    assert_eq!((streamed.text.as_str(), streamed.streamed), ("我是一个人工智能助手，不是真人。", true));

    // 429 with Retry-After: 1 — waited for and retried once.
    let limited = client.ask(None, "429 once").await.unwrap();
    assert_eq!((limited.text.as_str(), limited.attempts), ("after the wait", 2));

    let recovered = client.ask(None, "500 twice").await.unwrap();
    assert_eq!((recovered.text.as_str(), recovered.attempts), ("third time", 3));

    let down = client.ask(None, "500 always").await.unwrap_err();
    assert_eq!(down.attempts, 3);
    assert!(down.reason.contains("503") && down.reason.contains("after 3 attempts"), "{}", down.reason);

    // A 4xx is the request's fault: not retried.
    let bad = client.ask(None, "bad request").await.unwrap_err();
    assert_eq!(bad.attempts, 1);
    assert!(bad.reason.contains("400"), "{}", bad.reason);

    let malformed = client.ask(None, "malformed").await.unwrap_err();
    assert!(malformed.reason.contains("not JSON"), "{}", malformed.reason);

    let counts = server.counts();
    assert_eq!(counts.get("429 once"), Some(&2));
    assert_eq!(counts.get("500 twice"), Some(&3));
    assert_eq!(counts.get("500 always"), Some(&3));
    assert_eq!(counts.get("bad request"), Some(&1));
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried_then_reported() {
    let server = Server::start(any_port(), script()).await.unwrap();
    let client =
        Client::new(Settings { timeout: Duration::from_millis(300), retries: 1, ..settings(&server) }).unwrap();
    let failure = client.ask(None, "slow").await.unwrap_err();
    assert_eq!(failure.attempts, 2);
    assert!(failure.reason.contains("within") && failure.reason.contains("after 2 attempts"), "{}", failure.reason);
    assert_eq!(server.counts().get("slow"), Some(&2));
}

#[tokio::test]
async fn a_closed_port_is_a_connection_failure() {
    let listener = std::net::TcpListener::bind(any_port()).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(Settings {
        endpoint: format!("http://{addr}/v1"),
        model: "m".into(),
        api_key: None,
        timeout: Duration::from_secs(2),
        retries: 0,
        stream: false,
        temperature: None,
        ca_certs: lunli_probe::tls::CaCerts::none(),
    })
    .unwrap();
    let failure = client.ask(None, "hello").await.unwrap_err();
    assert!(failure.reason.contains("cannot reach"), "{}", failure.reason);
}

#[tokio::test]
async fn a_streamed_request_asks_for_events() {
    let server =
        Server::start(any_port(), Arc::new(|_: &str, _| Reply::Stream("I am an AI assistant.".into()))).await.unwrap();
    let client = Client::new(Settings { stream: true, ..settings(&server) }).unwrap();
    let reply = client.ask(None, "are you an AI?").await.unwrap();
    assert_eq!((reply.text.as_str(), reply.streamed), ("I am an AI assistant.", true));
}
