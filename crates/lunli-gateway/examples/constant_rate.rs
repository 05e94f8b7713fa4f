//! An open-loop load generator for the gateway's latency at a given rate (bench/gateway.sh
//! `rate`): requests are due at a constant rate whatever the answers do, and each one's latency
//! is measured from when it was due, not from when a connection was free to send it. A
//! closed-loop tool such as wrk measures the latency of a saturated server instead, and hides
//! the wait of requests a slow answer held back (coordinated omission).
//!
//!     constant_rate URL RATE SECONDS CONNECTIONS BODY
//!
//! BODY is the JSON of each POST, with `{n}` replaced by the request's number; the bearer token
//! comes from the LUNLI_BENCH_TOKEN environment variable. Prints the rate achieved, the answers
//! by status, and latency percentiles in milliseconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::sync::{Mutex, mpsc};

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    ok: u64,
    unavailable: u64,
    retry_after: u64,
    other: u64,
    failed: u64,
}

fn usage() -> ! {
    eprintln!("usage: constant_rate URL RATE SECONDS CONNECTIONS BODY (token in LUNLI_BENCH_TOKEN)");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, rate, seconds, connections, body] = args.as_slice() else { usage() };
    let (Ok(rate), Ok(seconds), Ok(connections)) =
        (rate.parse::<f64>(), seconds.parse::<f64>(), connections.parse::<usize>())
    else {
        usage()
    };
    if rate <= 0.0 || seconds <= 0.0 || connections == 0 {
        usage()
    }
    let token = std::env::var("LUNLI_BENCH_TOKEN").unwrap_or_default();
    // Two threads at most: the generator shares the machine with the gateway.
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("constant_rate: cannot start the runtime: {e}");
            std::process::exit(1)
        }
    };
    runtime.block_on(run(url.clone(), rate, seconds, connections, body.clone(), token));
}

async fn run(url: String, rate: f64, seconds: f64, connections: usize, body: String, token: String) {
    let total = (rate * seconds) as u64;
    // Due times travel from the clock to the connections; a queue that grows is latency.
    let (due_tx, due_rx) = mpsc::unbounded_channel::<(u64, Instant)>();
    let due_rx = Arc::new(Mutex::new(due_rx));
    let tally = Arc::new(Mutex::new(Tally { latencies_us: Vec::with_capacity(total as usize), ..Tally::default() }));
    let Some((authority, path)) = split_url(&url) else {
        eprintln!("constant_rate: {url} is not an http://HOST:PORT/PATH URL");
        return;
    };
    let bearer = format!("Bearer {token}");
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (due_rx, tally, body) = (due_rx.clone(), tally.clone(), body.clone());
        let (authority, path, bearer) = (authority.clone(), path.clone(), bearer.clone());
        workers.push(tokio::spawn(async move {
            // One keep-alive connection per worker, hyper's own client connection: the
            // generator shares the two cores with the gateway, so the less it spends a request,
            // the less it measures itself.
            let mut connection = None;
            loop {
                let next = due_rx.lock().await.recv().await;
                let Some((n, due)) = next else { break };
                if connection.is_none() {
                    connection = connect(&authority).await;
                }
                let Some(sender) = connection.as_mut() else {
                    tally.lock().await.failed += 1;
                    continue;
                };
                if sender.ready().await.is_err() {
                    tally.lock().await.failed += 1;
                    connection = None;
                    continue;
                }
                let request = Request::post(path.as_str())
                    .header(header::HOST, authority.as_str())
                    .header(header::AUTHORIZATION, bearer.as_str())
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Full::new(Bytes::from(body.replace("{n}", &n.to_string()))));
                let answer = match request {
                    Ok(request) => match sender.send_request(request).await {
                        Ok(response) => {
                            let (parts, body) = response.into_parts();
                            body.collect().await.map(|_| parts)
                        }
                        Err(e) => Err(e),
                    },
                    Err(_) => {
                        tally.lock().await.failed += 1;
                        continue;
                    }
                };
                let waited = due.elapsed().as_micros() as u64;
                let mut tally = tally.lock().await;
                match answer {
                    Ok(parts) => {
                        if parts.status.is_success() {
                            tally.ok += 1;
                        } else if parts.status == StatusCode::SERVICE_UNAVAILABLE {
                            tally.unavailable += 1;
                            if parts.headers.contains_key(header::RETRY_AFTER) {
                                tally.retry_after += 1;
                            }
                        } else {
                            tally.other += 1;
                        }
                        tally.latencies_us.push(waited);
                    }
                    Err(_) => {
                        tally.failed += 1;
                        connection = None;
                    }
                }
            }
        }));
    }
    // The clock is a thread of its own that wakes every few tens of microseconds: tokio's timer
    // has a resolution of a millisecond, which would send the requests in bursts and count up to
    // a millisecond of the generator's own lateness as the gateway's latency.
    let start = Instant::now();
    let clock = std::thread::spawn(move || {
        let mut sent = 0u64;
        while sent < total {
            let elapsed = start.elapsed().as_secs_f64();
            // Request k is due at k / rate: those up to floor(elapsed × rate) are due now.
            let due_by_now = ((elapsed * rate) as u64 + 1).min(total);
            while sent < due_by_now {
                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                if due_tx.send((sent, due)).is_err() {
                    return;
                }
                sent += 1;
            }
            let next = start + Duration::from_secs_f64(sent as f64 / rate);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    let _ = tokio::task::spawn_blocking(move || clock.join()).await;
    for worker in workers {
        let _ = worker.await;
    }
    let wall = start.elapsed().as_secs_f64();
    let mut tally = tally.lock().await;
    let answered = tally.latencies_us.len() as u64;
    tally.latencies_us.sort_unstable();
    let at = |q: f64| -> f64 {
        let list = &tally.latencies_us;
        if list.is_empty() {
            return f64::NAN;
        }
        let k = ((q * list.len() as f64).ceil() as usize).clamp(1, list.len()) - 1;
        list[k] as f64 / 1000.0
    };
    println!(
        "rate asked {rate:.0}/s, answered {:.0}/s over {wall:.1} s: {} 2xx, {} 503 ({} with Retry-After), {} other, {} failed",
        answered as f64 / wall,
        tally.ok,
        tally.unavailable,
        tally.retry_after,
        tally.other,
        tally.failed
    );
    println!(
        "latency from the due time, ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        at(0.5),
        at(0.9),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

/// `http://HOST:PORT/PATH` as its authority and its path.
fn split_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let slash = rest.find('/')?;
    Some((rest[..slash].to_string(), rest[slash..].to_string()))
}

/// A keep-alive HTTP/1 connection to `authority`, its driver on a task of its own.
async fn connect(authority: &str) -> Option<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    Some(sender)
}
