//! Connections: the accept loop that holds every connection to time limits and caps how many
//! are open, so that slow or silent clients cannot take the file descriptors that `/healthz` and
//! the services calling the gateway need. A client that starts a request has
//! `header_timeout_millis` to send its headers ([`HeaderWatch`]) and then `body_timeout_millis`
//! for its body (`408`, [`BodyDeadline`]); a connection with no request under way is closed after
//! `idle_timeout_millis` (hyper's read timer); beyond `max_connections` a new one is answered `503`
//! and closed unread.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::GatewayError;
use crate::config::GatewayConfig;

/// The answer to a connection beyond `max_connections`, written without reading its request.
const BUSY_BODY: &str =
    r#"{"error":{"code":"unavailable","message":"the gateway has too many open connections; retry shortly"}}"#;

/// Accepts connections until `shutdown`, then waits for those open to finish their requests.
pub(crate) async fn accept(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    config: &GatewayConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let limits = ConnectionLimits {
        header: Duration::from_millis(config.header_timeout_millis),
        body: Duration::from_millis(config.body_timeout_millis),
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's own read timer runs from the moment a connection waits for a request, so it is
    // the idle limit; the header limit, which starts at a request's first byte, is `HeaderWatch`.
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_millis(config.idle_timeout_millis));
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let busy = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BUSY_BODY}",
        BUSY_BODY.len()
    );
    let mut full = false;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // pause rather than spin, then go on.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            if !std::mem::replace(&mut full, true) {
                tracing::warn!(max_connections = config.max_connections, "connection limit reached; refusing new ones");
            }
            // Never blocks: the reply fits an empty socket buffer, and the connection is closed
            // either way.
            let _ = stream.try_write(busy.as_bytes());
            continue;
        };
        full = false;
        let watch = Arc::new(HeaderWatch::new(limits.header));
        let io = TokioIo::new(Watched { stream, watch: watch.clone() });
        let service = connection_service(router.clone(), peer, watch.clone(), limits.body);
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                done = connection => if let Err(e) = done {
                    tracing::debug!(%peer, "connection ended: {e}");
                },
                () = watch.expired() => tracing::debug!(%peer, "closed: the request's headers did not arrive in time"),
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[derive(Clone, Copy)]
struct ConnectionLimits {
    header: Duration,
    body: Duration,
}

/// One connection's requests through the router: the peer's address for
/// [`forwarded`](crate::forwarded), the body's deadline, and the header watch told when each
/// request's headers are in and when its answer is ready.
fn connection_service(
    router: axum::Router,
    peer: SocketAddr,
    watch: Arc<HeaderWatch>,
    body_timeout: Duration,
) -> impl hyper::service::Service<
    Request<hyper::body::Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl std::future::Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        watch.headers_in();
        let (mut router, watch) = (router.clone(), watch.clone());
        async move {
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let late = Arc::new(AtomicBool::new(false));
            let body = Body::new(BodyDeadline {
                body: Body::new(body),
                deadline: Box::pin(tokio::time::sleep(body_timeout)),
                late: late.clone(),
            });
            let response = tower_service::Service::call(&mut router, Request::from_parts(parts, body)).await;
            watch.request_done();
            if late.load(Ordering::Relaxed) {
                return Ok(request_timeout(body_timeout));
            }
            response
        }
    })
}

/// `408`, and the connection closed: the rest of the body may still be on its way.
fn request_timeout(limit: Duration) -> Response<Body> {
    let body = serde_json::json!({ "error": {
        "code": "request_timeout",
        "message": format!("the request body did not arrive within {} ms; send it at once", limit.as_millis()),
    }});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline passes while the handler still waits for it,
/// and says so through `late`; a body already in is never cut short.
struct BodyDeadline {
    body: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

impl http_body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.late.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("the request body did not arrive in time"))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The header limit of one connection. It is armed while the connection waits for a request;
/// the first bytes read then start the clock, and the request's headers being in stops it.
/// (hyper's own header timer starts when the connection starts waiting, so it cannot tell a
/// slow client from an idle one; it serves as the idle limit instead.)
struct HeaderWatch {
    opened: Instant,
    limit: Duration,
    armed: AtomicBool,
    /// Milliseconds after `opened` by which the headers must be in; 0 while no clock runs.
    deadline: AtomicU64,
    started: tokio::sync::Notify,
}

impl HeaderWatch {
    fn new(limit: Duration) -> Self {
        Self {
            opened: Instant::now(),
            limit,
            armed: AtomicBool::new(true),
            deadline: AtomicU64::new(0),
            started: tokio::sync::Notify::new(),
        }
    }

    fn bytes_read(&self) {
        if self.armed.swap(false, Ordering::AcqRel) {
            let due = self.opened.elapsed().saturating_add(self.limit).as_millis();
            self.deadline.store(u64::try_from(due).unwrap_or(u64::MAX).max(1), Ordering::Release);
            self.started.notify_one();
        }
    }

    fn headers_in(&self) {
        self.armed.store(false, Ordering::Release);
        self.deadline.store(0, Ordering::Release);
    }

    fn request_done(&self) {
        self.armed.store(true, Ordering::Release);
    }

    /// Resolves once a request's headers are late.
    async fn expired(&self) {
        loop {
            let due = self.deadline.load(Ordering::Acquire);
            if due == 0 {
                self.started.notified().await;
                continue;
            }
            tokio::time::sleep_until((self.opened + Duration::from_millis(due)).into()).await;
            if self.deadline.load(Ordering::Acquire) == due {
                return;
            }
        }
    }
}

/// A connection's socket, telling its [`HeaderWatch`] when bytes arrive.
struct Watched {
    stream: TcpStream,
    watch: Arc<HeaderWatch>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
