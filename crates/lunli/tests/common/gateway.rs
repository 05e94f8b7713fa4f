//! Running the real `lunli serve` binary for tests: an approved low-tier system and a service
//! key set up through the CLI, servers started on ephemeral ports, requests over raw HTTP/1.1.
//! `database_url` is `None` for the embedded store, or a PostgreSQL URL shared by instances.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;

fn example(name: &str) -> String {
    super::repo().join("examples/meeting-notes").join(name).display().to_string()
}

fn command(data: &Path, database_url: Option<&str>, actor: &str) -> Process {
    let mut cmd = Process::cargo_bin("lunli").expect("binary");
    cmd.env("LUNLI_DATA_DIR", data).env("LUNLI_ACTOR", actor).env("LUNLI_FORMAT", "json").env_remove("LUNLI_CATALOGUE");
    match database_url {
        Some(url) => cmd.env("LUNLI_DATABASE_URL", url),
        None => cmd.env_remove("LUNLI_DATABASE_URL"),
    };
    cmd
}

/// Runs the CLI as `actor`, asserting success; its standard output.
pub fn lunli_as(data: &Path, database_url: Option<&str>, actor: &str, args: &[&str]) -> String {
    let output = command(data, database_url, actor).args(args).output().expect("run lunli");
    assert!(output.status.success(), "lunli {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The low-tier meeting-notes example, approved by a second owner; returns a secret for each
/// of the roles asked for (`service`, `operator`, …), in order.
pub fn approved_low_tier_system(data: &Path, database_url: Option<&str>, roles: &[&str]) -> Vec<String> {
    let run = |args: &[&str]| lunli_as(data, database_url, "zhou-qing", args);
    for id in ["zhou-qing", "wu-lei"] {
        run(&["person", "add", id, "--name", id, "--role", "owner"]);
        run(&["person", "train", id, "--course", "AI ethics", "--completed", "2026-01-05"]);
    }
    run(&["system", "add", "--file", &example("system.yaml")]);
    run(&["intake", "meeting-notes", "--answers", &example("intake.yaml")]);
    let assessment: serde_json::Value = serde_json::from_str(&run(&["assess", "meeting-notes"])).expect("json");
    for control in assessment["controls"].as_array().expect("controls") {
        run(&["control", "set", "meeting-notes", control["control"].as_str().expect("id"), "met"]);
    }
    run(&["assess", "meeting-notes", "--submit"]);
    lunli_as(data, database_url, "wu-lei", &["signoff", "meeting-notes", "--role", "owner"]);
    roles
        .iter()
        .map(|role| {
            let key: serde_json::Value =
                serde_json::from_str(&run(&["key", "add", "--name", role, "--role", role])).expect("json");
            key["secret"].as_str().expect("secret").to_string()
        })
        .collect()
}

/// Starts `lunli serve` on an ephemeral port; returns the child and its `host:port`.
pub fn start_server(data: &Path, database_url: Option<&str>, config: &Path) -> (Child, String) {
    let mut child = command(data, database_url, "gateway")
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
