//! Running the real `lunli serve` binary for tests: the approved low-tier example and API keys
//! set up through the CLI, servers started on ephemeral ports, requests over raw HTTP/1.1. On the
//! embedded store or on PostgreSQL, whichever the [`Data`] names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::{Data, meeting_notes_approved};

/// The meeting-notes example approved, and a key's secret for each role asked for (`service`,
/// `operator`, …), in order.
pub fn approved_low_tier_system(data: &Data, roles: &[&str]) -> Vec<String> {
    meeting_notes_approved(data);
    roles
        .iter()
        .map(|role| {
            let key = data.json("admin", &["key", "add", "--name", role, "--role", role]);
            key["secret"].as_str().expect("secret").to_string()
        })
        .collect()
}

/// Starts `lunli serve` on an ephemeral port; returns the child and its `host:port`.
pub fn start_server(data: &Data, config: &Path) -> (Child, String) {
    let mut child = data
        .process("gateway")
        .args(["serve", "--listen", "127.0.0.1:0", "--config", &config.display().to_string()])
        .env("LUNLI_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lunli serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the server says where it listens");
    let addr = line.trim().rsplit("http://").next().expect("address").to_string();
    (child, addr)
}

/// One POST over a raw HTTP/1.1 connection: the status and JSON body; `None` once the server
/// is gone.
pub fn post(addr: &str, secret: &str, path: &str, body: &str) -> Option<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {secret}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (_, json) = response.split_once("\r\n\r\n")?;
    Some((status, serde_json::from_str(json).ok()?))
}

/// A decision on the meeting-notes system for `subject`.
pub fn decide(addr: &str, secret: &str, subject: &str) -> Option<serde_json::Value> {
    let body = format!(r#"{{"system":"meeting-notes","subject":"{subject}","purpose":"summarise"}}"#);
    post(addr, secret, "/v1/decisions", &body).map(|(_, json)| json)
}
