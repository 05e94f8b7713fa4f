//! The gateway under slow and silent clients, over real TCP on loopback: half-sent requests are
//! closed after the header timeout while `/healthz` keeps answering, connections beyond the
//! limit are refused unread, a trickled body gets `408`, and idle connections are closed.
//! Limits are set short here; the only timings asserted are generous upper bounds ("answered
//! at all within 10 s").

use std::sync::Arc;
use std::time::Duration;

use lunli_gateway::Gateway;
use lunli_gateway::config::GatewayConfig;
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Long enough for anything that should happen to have happened on a loaded machine.
const WITHIN: Duration = Duration::from_secs(10);

/// A request cut off in its headers: no blank line ever follows.
const HALF_SENT: &[u8] = b"POST /v1/decisions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n";

struct Server {
    _dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(config: GatewayConfig) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path()).expect("store"));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let gateway = Gateway::new(store, catalogue, config).expect("gateway");
    let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        gateway
            .serve(listener, async move {
                let _ = stop.await;
            })
            .await
            .expect("serve");
    });
    Server { _dir: dir, addr, shutdown, task }
}

impl Server {
    async fn stop(self) {
        let _ = self.shutdown.send(());
        timeout(WITHIN, self.task).await.expect("the gateway stopped").expect("serve task");
    }
}

/// Opens `n` connections that each send half a request and stall.
async fn stall(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut stalled = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(HALF_SENT).await.expect("half a request");
        stalled.push(stream);
    }
    stalled
}

/// One request on a connection of its own; the status code, or `None` if the connection was
/// refused or closed without an answer.
async fn status_of(addr: std::net::SocketAddr, request: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    stream.write_all(request).await.ok()?;
    let mut answer = Vec::new();
    timeout(WITHIN, stream.read_to_end(&mut answer)).await.expect("an answer or a close in time").ok()?;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n";

/// Waits until the server closes the connection (end of stream or reset), without sending.
async fn closed_by_server(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let read = timeout(WITHIN, stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open for {WITHIN:?}");
    rest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_half_sent_requests_leave_healthz_answering_and_are_closed_after_the_header_timeout() {
    // The idle limit is long, so only the header limit can close the stalled connections in time.
    let config = GatewayConfig { header_timeout_millis: 1_000, idle_timeout_millis: 600_000, ..Default::default() };
    let server = start(config).await;
    let mut stalled = stall(server.addr, 300).await;

    let healthz = timeout(WITHIN, status_of(server.addr, HEALTHZ)).await.expect("healthz answered in time");
    assert_eq!(healthz, Some(200), "a fresh connection is served while 300 stall");

    for stream in &mut stalled {
        let rest = closed_by_server(stream).await;
        assert!(!String::from_utf8_lossy(&rest).contains(" 200 "), "a stalled request is not served");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_connection_limit_new_connections_get_503_unread_until_stalled_ones_time_out() {
    let config = GatewayConfig {
        max_connections: 20,
        header_timeout_millis: 3_000,
        idle_timeout_millis: 600_000,
        ..Default::default()
    };
    let server = start(config).await;
    let mut stalled = stall(server.addr, 20).await;

    // The 21st is answered without being read (it sends nothing) and closed.
    let mut extra = TcpStream::connect(server.addr).await.expect("connect");
    let answer = closed_by_server(&mut extra).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert!(answer.contains("too many open connections"), "{answer}");

    // Once the stalled ones time out, /healthz is served again.
    for stream in &mut stalled {
        closed_by_server(stream).await;
    }
    let recovered = timeout(WITHIN, async {
        loop {
            if status_of(server.addr, HEALTHZ).await == Some(200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(recovered.is_ok(), "/healthz did not recover after the stalled connections were closed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_is_closed() {
    let config = GatewayConfig { body_timeout_millis: 500, ..Default::default() };
    let server = start(config).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    // Feedback needs no key, so the handler reads the body at once.
    stream
        .write_all(b"POST /v1/feedback HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"system\":")
        .await
        .expect("headers and part of the body");
    let answer = closed_by_server(&mut stream).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("request_timeout") && answer.contains("within 500 ms"), "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_but_the_header_clock_does_not_run_between_requests() {
    // A header limit shorter than the pause below: a kept-alive connection waiting for its next
    // request is idle, not slow, and must survive the pause.
    let config = GatewayConfig { header_timeout_millis: 300, idle_timeout_millis: 5_000, ..Default::default() };
    let server = start(config).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let keep_alive = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n";
    let mut buf = [0u8; 1024];
    for _ in 0..2 {
        stream.write_all(keep_alive).await.expect("request");
        let n = timeout(WITHIN, stream.read(&mut buf)).await.expect("answered in time").expect("read");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200 "));
        tokio::time::sleep(Duration::from_millis(1_000)).await;
    }
    // Then, with nothing more to do, the idle limit closes it; and a connection that never
    // sends anything is closed too.
    closed_by_server(&mut stream).await;
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    assert!(closed_by_server(&mut silent).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_with_stalled_connections_open_finishes() {
    let config = GatewayConfig { header_timeout_millis: 1_000, ..Default::default() };
    let server = start(config).await;
    let _stalled = stall(server.addr, 10).await;
    assert_eq!(status_of(server.addr, HEALTHZ).await, Some(200));
    // `stop` waits (with a bound) for serve to return, which it does once the stalled
    // connections are gone.
    server.stop().await;
}
