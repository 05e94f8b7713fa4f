//! `kill -9` on a loaded gateway: every decision it acknowledged as durable (with a ledger
//! index) is in the ledger afterwards, and the store still opens and reads.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use lunli_ledger::Entry;

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/meeting-notes").join(name).display().to_string()
}

fn lunli(data: &Path, args: &[&str]) -> String {
    let output = Process::cargo_bin("lunli")
        .expect("binary")
        .args(args)
        .env("LUNLI_DATA_DIR", data)
        .env("LUNLI_ACTOR", "zhou-qing")
        .env("LUNLI_FORMAT", "json")
        .output()
        .expect("run lunli");
    assert!(output.status.success(), "lunli {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The low-tier example, approved by a second owner, and a service key.
fn approved_low_tier_system(data: &Path) -> String {
    for id in ["zhou-qing", "wu-lei"] {
        lunli(data, &["person", "add", id, "--name", id, "--role", "owner"]);
        lunli(data, &["person", "train", id, "--course", "AI ethics", "--completed", "2026-01-05"]);
    }
    lunli(data, &["system", "add", "--file", &example("system.yaml")]);
    lunli(data, &["intake", "meeting-notes", "--answers", &example("intake.yaml")]);
    let assessment: serde_json::Value = serde_json::from_str(&lunli(data, &["assess", "meeting-notes"])).expect("json");
    for control in assessment["controls"].as_array().expect("controls") {
        lunli(data, &["control", "set", "meeting-notes", control["control"].as_str().expect("id"), "met"]);
    }
    lunli(data, &["assess", "meeting-notes", "--submit"]);
    let output = Process::cargo_bin("lunli")
        .expect("binary")
        .args(["signoff", "meeting-notes", "--role", "owner", "--format", "json"])
        .env("LUNLI_DATA_DIR", data)
        .env("LUNLI_ACTOR", "wu-lei")
        .output()
        .expect("signoff");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let key: serde_json::Value =
        serde_json::from_str(&lunli(data, &["key", "add", "--name", "app", "--role", "service"])).expect("json");
    key["secret"].as_str().expect("secret").to_string()
}

fn start_server(data: &Path, config: &Path) -> (Child, String) {
    let mut child = Process::cargo_bin("lunli")
        .expect("binary")
        .args(["serve", "--listen", "127.0.0.1:0", "--config", &config.display().to_string()])
        .env("LUNLI_DATA_DIR", data)
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

/// One decision over a raw HTTP/1.1 connection; `None` once the server is gone.
fn decide(addr: &str, secret: &str, subject: usize) -> Option<serde_json::Value> {
    let body = format!(r#"{{"system":"meeting-notes","subject":"s{subject}","purpose":"summarise"}}"#);
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "POST /v1/decisions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {secret}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (_, json) = response.split_once("\r\n\r\n")?;
    serde_json::from_str(json).ok()
}

#[test]
fn no_acknowledged_decision_is_lost_when_the_gateway_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let secret = approved_low_tier_system(data);
    let config = data.join("gateway.toml");
    std::fs::write(&config, "durable_tiers = [\"low\"]\nrefresh_millis = 50\n").expect("config");
    let (mut server, addr) = start_server(data, &config);

    let acknowledged = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (addr, secret, acknowledged) = (addr.clone(), secret.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for i in 0.. {
                    let Some(d) = decide(&addr, &secret, c * 1_000_000 + i) else { break };
                    assert_eq!(d["outcome"], "allow", "{d}");
                    let index = d["ledger_index"].as_u64().expect("durable decisions carry their index");
                    acknowledged.lock().expect("lock").push((d["id"].as_str().expect("id").to_string(), index));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().expect("kill -9");
    server.wait().expect("reap");
    for client in clients {
        client.join().expect("client");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > 50, "only {} decisions in {:?}", acknowledged.len(), started.elapsed());

    let store = lunli_store::SqliteStore::open(data).expect("the store opens after the crash");
    let size = store.ledger_size().expect("size");
    let rows = store.ledger_rows(0, size).expect("rows");
    let decisions: std::collections::HashMap<String, u64> = rows
        .iter()
        .map(|r| serde_json::from_slice::<Entry>(&r.entry).expect("entry parses"))
        .filter(|e| e.action == "decision")
        .map(|e| (e.payload["id"].as_str().expect("id").to_string(), e.index))
        .collect();
    for (id, index) in &acknowledged {
        assert_eq!(decisions.get(id), Some(index), "acknowledged decision {id} (ledger index {index}) is missing");
    }
}
