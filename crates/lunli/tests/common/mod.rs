//! The fixture the CLI tests share: a temporary data directory, the binary run against it as a
//! given person, and the bundled credit-scoring example registered and taken through intake.

#![allow(dead_code)]

pub mod gateway;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example(name: &str) -> String {
    repo().join("examples/credit-scoring").join(name).display().to_string()
}

pub struct Data {
    pub dir: tempfile::TempDir,
    /// PostgreSQL to keep the state in (`LUNLI_DATABASE_URL`); the data directory then holds
    /// only the ledger's keys.
    pub database_url: Option<String>,
}

impl Data {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir"), database_url: None }
    }

    pub fn on_postgres(url: String) -> Self {
        Self { database_url: Some(url), ..Self::new() }
    }

    /// The binary as a plain process (for servers a test starts and stops), run as `actor`.
    pub fn process(&self, actor: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lunli"));
        cmd.env_remove("LUNLI_CATALOGUE")
            .env_remove("LUNLI_FORMAT")
            .env("LANG", "C")
            .env("COLUMNS", "100")
            .env("LUNLI_DATA_DIR", self.dir.path())
            .env("LUNLI_ACTOR", actor)
            .env("LUNLI_LANG", "en");
        match &self.database_url {
            Some(url) => cmd.env("LUNLI_DATABASE_URL", url),
            None => cmd.env_remove("LUNLI_DATABASE_URL"),
        };
        cmd
    }

    pub fn lunli(&self, actor: &str) -> Command {
        Command::from_std(self.process(actor))
    }

    pub fn ok(&self, actor: &str, args: &[&str]) -> String {
        let output = self.lunli(actor).args(args).output().expect("runs");
        assert!(output.status.success(), "lunli {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    pub fn json(&self, actor: &str, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(actor, &all)).expect("JSON output")
    }

    /// People, vendor, the example system and its intake.
    pub fn credit_scoring(&self) {
        for (id, role) in [
            ("wang-fang", "owner"),
            ("li-wei", "data"),
            ("zhao-min", "legal"),
            ("chen-jie", "ethics-committee"),
            ("liu-yang", "management"),
        ] {
            self.ok("admin", &["person", "add", id, "--name", id, "--role", role]);
            self.ok("admin", &["person", "train", id, "--course", "AI ethics", "--completed", "2026-01-05"]);
        }
        self.ok("admin", &["vendor", "add", "pboc-credit-bureau", "--name", "Credit bureau", "--kind", "data"]);
        self.ok("wang-fang", &["system", "add", "--file", &example("system.yaml")]);
        self.ok("wang-fang", &["intake", "credit-scoring", "--answers", &example("intake.yaml")]);
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

/// The low-tier meeting-notes example, approved: registered and taken through intake by its
/// owner zhou-qing, every control met, submitted, and signed off by a second owner, wu-lei.
pub fn meeting_notes_approved(data: &Data) {
    let notes = |name: &str| repo().join("examples/meeting-notes").join(name).display().to_string();
    for id in ["zhou-qing", "wu-lei"] {
        data.ok("admin", &["person", "add", id, "--name", id, "--role", "owner"]);
        data.ok("admin", &["person", "train", id, "--course", "AI ethics", "--completed", "2026-01-05"]);
    }
    data.ok("zhou-qing", &["system", "add", "--file", &notes("system.yaml")]);
    data.ok("zhou-qing", &["intake", "meeting-notes", "--answers", &notes("intake.yaml")]);
    let assessment = data.json("zhou-qing", &["assess", "meeting-notes"]);
    for control in assessment["controls"].as_array().expect("controls") {
        data.ok("zhou-qing", &["control", "set", "meeting-notes", control["control"].as_str().expect("id"), "met"]);
    }
    data.ok("zhou-qing", &["assess", "meeting-notes", "--submit"]);
    data.ok("wu-lei", &["signoff", "meeting-notes", "--role", "owner"]);
}
