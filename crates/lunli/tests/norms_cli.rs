//! `lunli norms …` and `lunli demo` as a user runs them: the real binary, its output, its exit
//! codes. What a person reads is pinned by snapshots; what a script reads must round-trip into
//! the catalogue's own types.

use std::path::Path;

use assert_cmd::Command;
use lunli_norms::{Article, Catalogue, Control, Principle, SearchHit, Tier};
use serde::Deserialize;

fn lunli() -> Command {
    let mut cmd = Command::cargo_bin("lunli").expect("the lunli binary is built");
    // Output must not depend on the machine running the tests.
    cmd.env_remove("LUNLI_LANG")
        .env_remove("LUNLI_FORMAT")
        .env_remove("LUNLI_CATALOGUE")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("COLUMNS", "100");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let output = lunli().args(args).output().expect("lunli runs");
    assert!(output.status.success(), "lunli {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

fn catalogue() -> Catalogue {
    Catalogue::bundled().expect("bundled catalogue")
}

#[test]
fn show_article_16_in_both_languages() {
    let text = stdout_of(&["norms", "show", "16", "--lang", "both"]);
    let article = catalogue().article(16).cloned().expect("article 16");
    // The text is wrapped for the terminal; without whitespace it is the full article.
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let zh: String = article.text.zh.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(squeezed.contains(&zh), "the full Chinese text of Art. 16 is printed");
    assert!(text.contains("Article 16 · Protect the rights and interests of users"));
    for control in catalogue().controls_for_article(16) {
        assert!(text.contains(&control.id), "{} is listed", control.id);
    }
    insta::assert_snapshot!("show_16_both", text);
}

#[test]
fn show_article_in_one_language_prints_only_that_language() {
    let zh = stdout_of(&["norms", "show", "第十三条", "--lang", "zh"]);
    assert!(zh.contains("第十三条 避免偏见歧视"));
    assert!(!zh.contains("Avoid bias"), "no English in --lang zh");
    insta::assert_snapshot!("show_13_zh", zh);
    let en = stdout_of(&["norms", "show", "art13", "--lang", "en"]);
    assert!(en.contains("Article 13 · Avoid bias and discrimination"));
    assert!(!en.contains("避免偏见歧视"), "no Chinese in --lang en");
    insta::assert_snapshot!("show_13_en", en);
}

#[test]
fn list_shows_every_article_by_chapter() {
    let zh = stdout_of(&["norms", "list", "--lang", "zh"]);
    let en = stdout_of(&["norms", "list", "--lang", "en"]);
    for article in catalogue().articles() {
        assert!(zh.contains(&article.title.zh), "article {} in the Chinese list", article.number);
    }
    assert!(zh.contains("第六章 组织实施") && en.contains("Chapter 6. Organization and Implementation"));
    insta::assert_snapshot!("list_zh", zh);
    insta::assert_snapshot!("list_en", en);
}

#[test]
fn show_control_and_principle() {
    let control = catalogue().controls_for_article(16)[0].clone();
    let text = stdout_of(&["norms", "show", &control.id.to_lowercase(), "--lang", "both"]);
    assert!(text.contains(&control.title.zh) && text.contains(&control.title.en));
    insta::assert_snapshot!("show_control_both", text);
    let text = stdout_of(&["norms", "show", "P4", "--lang", "en"]);
    assert!(text.contains("P4 Ensuring controllability and trustworthiness (Art. 3)"));
    let text = stdout_of(&["norms", "show", "use", "--lang", "zh"]);
    assert!(text.contains("使用活动（第二条）"));
}

#[derive(Debug, Deserialize)]
struct ShowJson {
    article: Option<Article>,
    principle: Option<Principle>,
    control: Option<Control>,
    controls: Vec<Control>,
}

#[test]
fn json_output_round_trips_into_the_catalogue_types() {
    let catalogue = catalogue();
    let shown: ShowJson = serde_json::from_str(&stdout_of(&["norms", "show", "16", "--format", "json"])).expect("JSON");
    assert_eq!(shown.article.as_ref(), catalogue.article(16));
    let expected: Vec<Control> = catalogue.controls_for_article(16).into_iter().cloned().collect();
    assert_eq!(shown.controls, expected);
    assert!(shown.principle.is_none() && shown.control.is_none());

    let id = &catalogue.controls()[0].id;
    let shown: ShowJson = serde_json::from_str(&stdout_of(&["norms", "show", id, "--format", "json"])).expect("JSON");
    assert_eq!(shown.control.as_ref(), catalogue.control(id));

    let shown: ShowJson = serde_json::from_str(&stdout_of(&["norms", "show", "p3", "--format", "json"])).expect("JSON");
    assert_eq!(shown.principle.as_ref(), catalogue.principle("P3"));

    #[derive(Deserialize)]
    struct Controls {
        controls: Vec<Control>,
    }
    let all: Controls = serde_json::from_str(&stdout_of(&["norms", "controls", "--format", "json"])).expect("JSON");
    assert_eq!(all.controls, catalogue.controls());
    let yaml: Controls = serde_yaml_ng::from_str(&stdout_of(&["norms", "controls", "--format", "yaml"])).expect("YAML");
    assert_eq!(yaml.controls, catalogue.controls());
}

#[test]
fn list_json_names_the_controls_of_each_article() {
    #[derive(Deserialize)]
    struct Entry {
        number: u8,
        controls: Vec<String>,
    }
    #[derive(Deserialize)]
    struct List {
        articles: Vec<Entry>,
    }
    let list: List = serde_json::from_str(&stdout_of(&["norms", "list", "--format", "json"])).expect("JSON");
    assert_eq!(list.articles.len(), 25);
    let catalogue = catalogue();
    for entry in list.articles {
        let expected: Vec<String> = catalogue.controls_for_article(entry.number).iter().map(|c| c.id.clone()).collect();
        assert_eq!(entry.controls, expected, "article {}", entry.number);
    }
}

#[test]
fn search_finds_chinese_and_english() {
    #[derive(Deserialize)]
    struct Search {
        hits: Vec<SearchHit>,
    }
    let zh: Search = serde_json::from_str(&stdout_of(&["norms", "search", "退出", "--format", "json"])).expect("JSON");
    assert!(zh.hits.iter().any(|h| h.id == "16"), "Art. 16 mentions 退出");
    assert!(zh.hits.iter().any(|h| h.id == "P4"), "P4 mentions 退出");
    let en: Search =
        serde_json::from_str(&stdout_of(&["norms", "search", "QUIT", "the", "AI", "mode", "--format", "json"]))
            .expect("JSON");
    assert!(en.hits.iter().any(|h| h.id == "16" && h.field == "text.en"), "case-insensitive, every word");
    let none = stdout_of(&["norms", "search", "blockchain-quantum-xyz", "--lang", "en"]);
    assert!(none.contains("Nothing mentions"), "{none}");
}

#[test]
fn controls_filter_by_article_principle_activity_tier_and_kind() {
    #[derive(Deserialize)]
    struct Controls {
        controls: Vec<Control>,
    }
    let run = |args: &[&str]| -> Vec<Control> {
        let mut all = vec!["norms", "controls", "--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str::<Controls>(&stdout_of(&all)).expect("JSON").controls
    };
    let art13 = run(&["--article", "13"]);
    assert!(art13.len() >= 2 && art13.iter().all(|c| c.articles.contains(&13)));
    let low = run(&["--tier", "low"]);
    let high = run(&["--tier", "high"]);
    assert!(low.iter().all(|c| c.tier == Tier::Low));
    assert!(low.len() < high.len());
    let guards = run(&["--kind", "runtime-guard", "--activity", "supply", "--principle", "p4"]);
    assert!(!guards.is_empty());
    assert!(guards.iter().all(|c| c.kind.as_str() == "runtime-guard" && c.activity.as_str() == "supply"));
    let table = stdout_of(&["norms", "controls", "--article", "13", "--lang", "en"]);
    assert!(table.contains(&format!("{} controls.", art13.len())));
}

#[test]
fn unknown_ids_exit_4_with_a_hint() {
    lunli()
        .args(["norms", "show", "C-99-99"])
        .assert()
        .code(4)
        .stderr(predicates::str::contains("no article, principle, activity or control `C-99-99`"));
    lunli().args(["norms", "show", "30"]).assert().code(4).stderr(predicates::str::contains("articles 1–25"));
    lunli().args(["norms", "controls", "--principle", "P9"]).assert().code(4);
}

#[test]
fn bad_command_lines_exit_2() {
    lunli()
        .args(["norms", "controls", "--tier", "severe"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("low, medium, high"));
    lunli().args(["norms", "controls", "--article", "40"]).assert().code(2);
    lunli().args(["norms", "show", "16", "--lang", "fr"]).assert().code(2);
}

#[test]
fn a_broken_catalogue_overlay_exits_3_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("controls").join("org.toml");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, "# org pack\n[[control]]\nid = \"ORG-1\"\narticles = [16]\nprinciples = [\"P4\"]\n")
        .expect("write");
    let expected = format!("{}:2:1: missing field `activity`", file.display());
    lunli()
        .args(["--catalogue", &dir.path().display().to_string(), "norms", "list"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains(expected));
}

#[test]
fn the_catalogue_can_come_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("x.toml"), "[[control]\n").expect("write");
    lunli().env("LUNLI_CATALOGUE", dir.path()).args(["norms", "list"]).assert().code(3);
    assert!(Path::new(&dir.path().join("x.toml")).exists());
}

#[test]
fn demo_tours_the_catalogue_and_runs_the_example_on_the_embedded_store() {
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().display().to_string();
    let demo = ["--data-dir", &dir, "demo", "--no-serve", "--listen", "127.0.0.1:0"];
    let text = stdout_of(&[&demo[..], &["--lang", "en"]].concat());
    for section in [
        "1. The norms",
        "2. Six fundamental",
        "3. Four activities",
        "4. From norms to controls",
        "5. An example",
        "6. An example system",
        "7. Assessment #1",
        "8. A low-tier example approved",
        "9. Human control at run time",
        "9b. Probing a generative service",
        "10. Reports",
        "11. Next",
    ] {
        assert!(text.contains(section), "demo has section {section}");
    }
    assert!(text.contains("Risk tier of credit-scoring: high"), "{text}");
    assert!(text.contains("✓ refusal rate on should-refuse questions >= 95%: 95.8%"), "{text}");
    assert!(text.contains("2 failed probes") && data.path().join("demo").join("probe.html").is_file(), "{text}");
    assert!(text.contains("R-HIGH-SENSITIVE-AT-SCALE"), "the rule that made it high is named");
    // The bundled model fails the four-fifths rule for sex, and that blocks its approval.
    assert!(text.contains("│ sex       ┆ ✗ 0.301"), "{text}");
    assert!(text.contains("The audit failed") && text.contains("on C-13-03, now not met"), "{text}");
    assert!(data.path().join("demo").join("fairness.html").is_file());
    // The model itself (Art. 12, 13): run in-process and recorded on C-12-03 and C-13-03.
    assert!(text.contains("The model itself (ONNX, run in-process, 500 rows)"), "{text}");
    assert!(text.contains("C-12-03") && data.path().join("demo").join("model.html").is_file(), "{text}");
    // The decisions, in the order the demo sends them.
    let outcomes: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split('┆').nth(1).map(str::trim))
        .filter(|cell| ["allow", "deny", "human_review"].contains(cell))
        .collect();
    assert_eq!(outcomes, ["allow", "human_review", "deny", "deny", "allow", "deny"], "{text}");
    assert!(text.contains("withdrawn consent") && text.contains("suspended by zhou-qing"), "{text}");
    assert!(text.contains("is not approved"), "{text}");
    // A generated file labelled and one not, checked (Labelling Measures Art. 5).
    assert!(text.contains("$ lunli label check") && text.contains("summary-unlabelled.wav"), "{text}");
    assert!(text.contains("2 files: 1 conforming, 1 missing the implicit label"), "{text}");

    // Every change and decision is in a ledger that verifies under the signed head.
    let size = text
        .split("The ledger holds ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("the demo says how many entries the ledger holds");
    let demo_dir = data.path().join("demo").display().to_string();
    let verified = stdout_of(&["--data-dir", &demo_dir, "ledger", "verify", "--lang", "en"]);
    assert!(verified.contains(&format!("Ledger OK: {size} entries")), "{size}: {verified}");
    let export = data.path().join("bundle.json").display().to_string();
    stdout_of(&["--data-dir", &demo_dir, "ledger", "export", "--out", &export]);
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&export).expect("bundle")).expect("json");
    let decisions = bundle["entries"].as_array().expect("entries").iter().filter(|e| e["action"] == "decision").count();
    assert_eq!(decisions, 6, "each decision the demo printed is in the ledger");
    // The reports it wrote verify offline against the ledger's key.
    let key = data.path().join("demo").join("ledger-key.pub.pem").display().to_string();
    for system in ["credit-scoring", "meeting-notes"] {
        let report = data.path().join("demo").join(format!("report-{system}.html")).display().to_string();
        let verified = stdout_of(&["report", "verify", &report, "--public-key", &key, "--lang", "en"]);
        assert!(verified.starts_with("Verified"), "{verified}");
    }

    // A second run starts afresh instead of failing on what the first registered.
    let zh = stdout_of(&[&demo[..], &["--lang", "zh"]].concat());
    assert!(zh.contains("六项基本伦理规范") && !zh.contains("Six fundamental"));
    assert!(zh.contains("credit-scoring 的风险等级：高风险"), "{zh}");
}

#[test]
fn demo_never_clears_a_directory_it_did_not_make() {
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(data.path().join("demo")).expect("mkdir");
    std::fs::write(data.path().join("demo").join("precious.txt"), "keep me").expect("write");
    lunli()
        .args(["--data-dir", &data.path().display().to_string(), "demo"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("was not made by `lunli demo`"));
    assert!(data.path().join("demo").join("precious.txt").is_file());
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["norms", "--help"],
        vec!["norms", "list", "--help"],
        vec!["norms", "show", "--help"],
        vec!["norms", "search", "--help"],
        vec!["norms", "controls", "--help"],
        vec!["demo", "--help"],
    ] {
        let text = stdout_of(&args);
        assert!(text.contains("Usage: lunli"), "{args:?}");
    }
    assert!(stdout_of(&["--help"]).contains("Exit codes:"));
}

#[test]
fn demo_leaves_the_gateway_running_at_the_address_it_prints() {
    use std::io::{BufRead, BufReader, Read, Write};

    let data = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lunli"))
        .args(["--data-dir", &data.path().display().to_string(), "demo", "--listen", "127.0.0.1:0", "--lang", "en"])
        .env("LUNLI_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the demo");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut addr = None;
    let mut admin_key = None;
    for line in lines.by_ref() {
        let line = line.expect("a line");
        if let Some(rest) = line.trim().strip_prefix("http://") {
            addr = Some(rest.trim_end_matches('/').to_string());
        }
        if let Some(key) = line.strip_prefix("Admin API key (shown this once): ") {
            admin_key = Some(key.trim().to_string());
        }
        if line.contains("Press Ctrl-C to stop") {
            break;
        }
    }
    let addr = addr.expect("the demo prints where the gateway keeps running");
    let key = admin_key.expect("and a key to sign in with");
    // The printed key is an admin's: it may read the example's runtime state.
    let mut stream = std::net::TcpStream::connect(&addr).expect("the gateway is still listening");
    write!(stream, "GET /v1/systems/meeting-notes/state HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
        .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("meeting-notes"), "{response}");
    // And the dashboard's sign-in page is there, on the same port.
    let mut stream = std::net::TcpStream::connect(&addr).expect("the gateway is still listening");
    write!(stream, "GET /ui/login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut page = String::new();
    stream.read_to_string(&mut page).expect("response");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("<form"), "{page}");

    // Ctrl-C (SIGTERM here) stops it cleanly, with a last signed head over everything.
    std::process::Command::new("kill").arg(child.id().to_string()).status().expect("kill");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(child.wait().expect("exit").success());
    assert!(rest.iter().any(|l| l.contains("under a signed tree head")), "{rest:?}");
}
