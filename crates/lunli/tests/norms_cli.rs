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
    let text = stdout_of(&["--data-dir", &dir, "demo", "--lang", "en"]);
    for section in [
        "1. The norms",
        "2. Six fundamental",
        "3. Four activities",
        "4. From norms to controls",
        "5. An example",
        "6. An example system",
        "7. Open controls",
        "8. Next",
    ] {
        assert!(text.contains(section), "demo has section {section}");
    }
    assert!(text.contains("Risk tier of credit-scoring: high"), "{text}");
    assert!(text.contains("R-HIGH-SENSITIVE-AT-SCALE"), "the rule that made it high is named");
    assert!(data.path().join("demo").join("lunli.db").is_file());
    assert!(text.contains("under a signed tree head"), "{text}");
    let demo_dir = data.path().join("demo").display().to_string();
    let verified = stdout_of(&["--data-dir", &demo_dir, "ledger", "verify", "--lang", "en"]);
    assert!(verified.contains("Ledger OK: 10 entries") && verified.contains("1 signed heads checked"), "{verified}");
    // A second run starts afresh instead of failing on what the first registered.
    let zh = stdout_of(&["--data-dir", &dir, "demo", "--lang", "zh"]);
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
