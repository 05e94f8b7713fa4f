//! `lunli review|incident|feedback|playbook` against a real data directory: the same rules as
//! the gateway, the same ledger, exit codes for refusals and bad files.

mod common;

use common::{Data, meeting_notes_approved, write};
use lunli_governance::review::NewReview;
use lunli_governance::runtime::{DecisionRequest, Outcome};
use lunli_governance::{Governance, PendingEvent};
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;
use serde_json::json;

fn exit_code(data: &Data, actor: &str, args: &[&str]) -> (i32, String) {
    let output = data.lunli(actor).args(args).output().expect("runs");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn playbooks_are_set_from_yaml_shown_and_validated() {
    let data = Data::new();
    data.credit_scoring();
    let file = write(
        data.dir.path(),
        "playbook.yaml",
        "may_pause: [wang-fang]\nsuspend_on: [critical]\nreview: {below_confidence: 0.8}\n\
         monitors:\n  - {metric: error-rate, threshold: 0.05, window: 100, min_count: 20, incident: high}\n",
    );
    data.ok("wang-fang", &["playbook", "set", "credit-scoring", &file]);
    let shown = data.json("li-wei", &["playbook", "show", "credit-scoring"]);
    assert_eq!(shown["suspend_on"], json!(["critical"]));
    assert_eq!(shown["monitors"][0]["metric"], "error-rate");
    let table = data.ok("li-wei", &["playbook", "show", "credit-scoring"]);
    assert!(table.contains("May pause it: wang-fang") && table.contains("error-rate > 0.05"), "{table}");
    let system = data.ok("li-wei", &["system", "show", "credit-scoring"]);
    assert!(system.contains("Playbook of credit-scoring"), "the system's record shows its playbook: {system}");

    let typo = write(data.dir.path(), "typo.yaml", "suspend_on: [critical]\npause: [x]\n");
    let (code, stderr) = exit_code(&data, "wang-fang", &["playbook", "set", "credit-scoring", &typo]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("typo.yaml:2") && stderr.contains("unknown field `pause`"), "{stderr}");
    let range = write(data.dir.path(), "range.yaml", "review: {below_confidence: 2}\n");
    let (code, stderr) = exit_code(&data, "wang-fang", &["playbook", "set", "credit-scoring", &range]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("playbook.review.below_confidence"), "{stderr}");
}

#[test]
fn only_the_owner_changes_a_playbook_and_loosening_an_approved_one_shows_in_status() {
    let data = Data::new();
    meeting_notes_approved(&data);
    let looser = write(
        data.dir.path(),
        "looser.yaml",
        "review: {below_confidence: 0}
",
    );
    // The second owner signed the approval but does not own the system.
    let (code, stderr) = exit_code(&data, "wu-lei", &["playbook", "set", "meeting-notes", &looser]);
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("only the owner of meeting-notes (zhou-qing)"), "{stderr}");
    let status = data.ok("zhou-qing", &["status"]);
    assert!(!status.contains("weakens human control"), "{status}");
    data.ok("zhou-qing", &["playbook", "set", "meeting-notes", &looser]);
    let status = data.ok("wu-lei", &["status"]);
    assert!(
        status.contains(
            "meeting-notes's playbook weakens human control since approval: review below confidence default → 0"
        ),
        "{status}"
    );
    let rows = data.json("wu-lei", &["status"]);
    assert_eq!(rows[0]["playbook_loosened"][0]["kind"], "review-confidence", "{rows}");
    // The system's report says so under "Needs attention", in both languages.
    let html = data.dir.path().join("notes.html").display().to_string();
    data.ok("wu-lei", &["--lang", "both", "report", "meeting-notes", "--out", &html]);
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.contains("The playbook weakens human control since approval:"), "no loosening in the report");
    assert!(page.contains("预案自批准以来放松了人工控制") && page.contains("review below confidence default → 0"));
}

#[test]
fn incidents_are_opened_acknowledged_resolved_and_a_critical_one_suspends() {
    let data = Data::new();
    data.credit_scoring();
    let file = write(data.dir.path(), "playbook.yaml", "suspend_on: [critical]\n");
    data.ok("wang-fang", &["playbook", "set", "credit-scoring", &file]);
    let opened = data.json(
        "li-wei",
        &[
            "incident",
            "open",
            "--system",
            "credit-scoring",
            "--title",
            "区域评分异常",
            "--severity",
            "critical",
            "--control",
            "C-17-01",
        ],
    );
    assert_eq!((opened["suspended_system"].as_bool(), opened["owner"].as_str()), (Some(true), Some("wang-fang")));
    let id = opened["id"].as_u64().expect("id").to_string();
    let list = data.json("li-wei", &["incident", "list", "--open"]);
    assert_eq!(list.as_array().expect("rows").len(), 1);
    assert!(list[0].get("overdue").is_none(), "{list}");
    data.ok("wang-fang", &["incident", "ack", &id, "--note", "looking"]);
    let (code, stderr) = exit_code(&data, "li-wei", &["incident", "resolve", &id, "--note", "fixed"]);
    assert_eq!(code, 6, "whoever opened a suspending incident does not resolve it alone: {stderr}");
    data.ok("wang-fang", &["incident", "resolve", &id, "--note", "feature rolled back"]);
    let shown = data.ok("li-wei", &["incident", "show", &id]);
    assert!(shown.contains("Incident 1: 区域评分异常") && shown.contains("feature rolled back"), "{shown}");
    assert!(data.json("li-wei", &["incident", "list", "--open"]).as_array().expect("rows").is_empty());
    let (code, _) = exit_code(&data, "li-wei", &["incident", "show", "99"]);
    assert_eq!(code, 4);
}

#[test]
fn reviews_are_claimed_and_resolved_and_feedback_is_listed() {
    let data = Data::new();
    data.credit_scoring();
    {
        // A decision the gateway sent to a human, queued as the gateway's writer does.
        let store = SqliteStore::open(data.dir.path()).expect("store");
        let catalogue = Catalogue::bundled().expect("catalogue");
        let at = "2026-06-01T00:00:00Z".parse().expect("time");
        let request = DecisionRequest { system: "credit-scoring".into(), subject: "u1".into(), ..Default::default() };
        let event = PendingEvent::decision("key:svc".into(), at, "d-1", &request, Outcome::HumanReview, &[]);
        let review = NewReview {
            system: "credit-scoring".into(),
            decision: "d-1".into(),
            subject: "u1".into(),
            purpose: None,
            confidence: Some(0.2),
            reasons: vec!["low_confidence".into()],
            created_at: at,
        };
        Governance::new(&catalogue, &store).record_decisions(&[(event, Some(review))]).expect("queue");
    }
    let queue = data.ok("li-wei", &["review", "list", "--status", "open"]);
    assert!(queue.contains("d-1") && queue.contains("low_confidence"), "{queue}");
    let (code, stderr) = exit_code(&data, "wang-fang", &["review", "claim", "1"]);
    assert_eq!(code, 6, "the owner does not review: {stderr}");
    data.ok("li-wei", &["review", "claim", "1"]);
    let (code, stderr) = exit_code(&data, "li-wei", &["review", "resolve", "1", "--outcome", "reject"]);
    assert_eq!(code, 3, "a rejection needs a note: {stderr}");
    let done = data.json("li-wei", &["review", "resolve", "1", "--outcome", "reject", "--note", "收入无法核实"]);
    assert_eq!(done["resolution"]["outcome"], "reject");
    assert!(done["resolution"]["ledger_index"].as_u64().expect("index") > done["decision_index"].as_u64().expect("d"));

    data.ok(
        "li-wei",
        &["feedback", "submit", "--system", "credit-scoring", "--kind", "flaw", "--message", "phone line"],
    );
    let list = data.json("li-wei", &["feedback", "list"]);
    assert_eq!((list[0]["kind"].as_str(), list[0]["message"].as_str()), (Some("flaw"), Some("phone line")));
    let (code, _) = exit_code(&data, "li-wei", &["feedback", "submit", "--system", "ghost", "--message", "x"]);
    assert_eq!(code, 4);
}

#[test]
fn a_playbook_in_lunli_yaml_is_checked_with_the_system() {
    let data = Data::new();
    let manifest = std::fs::read_to_string(common::example("lunli.yaml")).expect("example");
    let with = |playbook: &str| manifest.replacen("system:\n", &format!("system:\n  playbook:\n{playbook}"), 1);
    let good = write(
        data.dir.path(),
        "good.yaml",
        &with("    suspend_on: [critical]\n    review:\n      below_confidence: 0.7\n"),
    );
    let (code, stderr) = exit_code(&data, "ci", &["check", &good]);
    assert_eq!(code, 5, "valid, and still unmet controls as without a playbook: {stderr}");
    let bad = write(data.dir.path(), "bad.yaml", &with("    review:\n      below_confidence: 1.5\n"));
    let (code, stderr) = exit_code(&data, "ci", &["check", &bad]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("bad.yaml:9") && stderr.contains("playbook.review.below_confidence"), "{stderr}");
}

#[test]
fn stored_text_reaches_the_terminal_escaped() {
    let data = Data::new();
    data.credit_scoring();
    // What anyone may send as feedback: retitle the window, clear the screen, fake a row, and
    // reverse the text after it.
    let hostile = "\x1b]0;pwned\x07\x1b[2J";
    let message = format!("{hostile}real\nfake row\u{202e}gnp.exe");
    data.ok("li-wei", &["feedback", "submit", "--system", "credit-scoring", "--message", &message]);
    let wide = |args: &[&str]| {
        let output = data.lunli("li-wei").env("COLUMNS", "240").args(args).output().expect("runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let table = wide(&["feedback", "list"]);
    assert!(!table.contains(['\x1b', '\x07', '\u{202e}']), "raw control characters in:\n{table}");
    assert!(table.contains(r"\x1b]0;pwned\x07\x1b[2Jreal\nfake row\u{202e}gnp.exe"), "{table}");
    assert!(!table.lines().any(|l| l.trim_start_matches(['│', ' ']).starts_with("fake row")), "{table}");
    // Scripts get the text as stored; JSON escapes it in its own way.
    let list = data.json("li-wei", &["feedback", "list"]);
    assert_eq!(list[0]["message"].as_str(), Some(message.as_str()));

    // An operator's system name, in the overview and in the system's own page.
    let system = std::fs::read_to_string(common::example("system.yaml")).expect("example");
    let system = system
        .replace("name: 个人信贷评分模型 Consumer credit scoring", "name: \"\\e]0;pwned\\a\\e[2J\\r个人信贷评分模型\"");
    let file = write(data.dir.path(), "renamed.yaml", &system);
    data.ok("wang-fang", &["system", "update", "credit-scoring", "--file", &file]);
    for args in [&["status"][..], &["system", "show", "credit-scoring"]] {
        let shown = wide(args);
        assert!(!shown.contains(['\x1b', '\x07', '\r']), "raw control characters in {args:?}:\n{shown}");
        assert!(shown.contains(r"\x1b]0;pwned\x07\x1b[2J\r个人信贷评分模型"), "{args:?}:\n{shown}");
    }
}
