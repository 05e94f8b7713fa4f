//! A broken catalogue file is rejected with its file, line and the reason, and an organisation's
//! overlay can extend or replace bundled files.

use std::path::Path;

use lunli_norms::{Catalogue, CatalogueError, Problem};

const GOOD_CONTROL: &str = r#"
[[control]]
id = "ACME-16-01"
articles = [16]
principles = ["P4"]
activity = "supply"
tier = "medium"
kind = "document"
title.zh = "客服机器人转人工话术"
title.en = "Hand-over script from chatbot to a human agent"
guidance.zh = "编写并发布机器人转人工的标准话术。"
guidance.en = "Write and publish the script agents use when a customer leaves the chatbot for a person."
evidence.accepts = ["file"]
evidence.zh = "话术文件"
evidence.en = "The script"
"#;

fn write(dir: &Path, relative: &str, contents: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dirs");
    std::fs::write(path, contents).expect("write file");
}

/// Overlays one extra file and returns the problems, which must all be in that file.
fn problems_of(relative: &str, contents: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), relative, contents);
    match Catalogue::with_overlay(dir.path()) {
        Ok(_) => panic!("catalogue with {relative} should be rejected"),
        Err(CatalogueError::Invalid(problems)) => problems,
        Err(other) => panic!("expected validation problems, got {other}"),
    }
}

fn only_problem(relative: &str, contents: &str) -> Problem {
    let problems = problems_of(relative, contents);
    assert_eq!(problems.len(), 1, "expected one problem, got {problems:#?}");
    let problem = problems.into_iter().next().expect("one problem");
    assert!(problem.file.ends_with(relative), "problem in {} rather than {relative}", problem.file);
    problem
}

#[test]
fn a_good_overlay_adds_the_organisations_controls() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "controls/acme.toml", GOOD_CONTROL);
    let catalogue = Catalogue::with_overlay(dir.path()).expect("valid overlay");
    let bundled = Catalogue::bundled().expect("bundled");
    assert_eq!(catalogue.controls().len(), bundled.controls().len() + 1);
    let control = catalogue.control("acme-16-01").expect("lookup ignores case");
    assert_eq!(control.title.en, "Hand-over script from chatbot to a human agent");
    assert!(catalogue.files().iter().any(|f| f.ends_with("controls/acme.toml")));
}

#[test]
fn a_syntax_error_names_its_line() {
    let text = format!("{GOOD_CONTROL}\n[[control]\nid = \"X-1\"\n");
    let problem = only_problem("controls/broken.toml", &text);
    assert_eq!(problem.line, GOOD_CONTROL.lines().count() + 2, "{problem}");
}

#[test]
fn an_unknown_field_is_named() {
    let text = GOOD_CONTROL.replace("kind = \"document\"", "kind = \"document\"\nowner = \"legal\"");
    let problem = only_problem("controls/acme.toml", &text);
    assert!(problem.reason.contains("unknown field `owner`"), "{problem}");
    assert_eq!(problem.line, 9, "{problem}");
}

#[test]
fn a_wrong_word_lists_the_expected_ones() {
    let text = GOOD_CONTROL.replace("tier = \"medium\"", "tier = \"severe\"");
    let problem = only_problem("controls/acme.toml", &text);
    assert_eq!(problem.line, 7, "{problem}");
    assert!(problem.reason.contains("severe") && problem.reason.contains("medium"), "{problem}");
}

#[test]
fn a_duplicate_id_names_both_places() {
    let problem = only_problem("controls/acme.toml", &format!("{GOOD_CONTROL}{GOOD_CONTROL}"));
    assert_eq!(problem.line, GOOD_CONTROL.lines().count() + 3, "{problem}");
    assert!(problem.reason.contains("duplicate control id ACME-16-01"), "{problem}");
    assert!(problem.reason.contains("acme.toml:3"), "first definition at line 3: {problem}");
}

#[test]
fn a_duplicate_of_a_bundled_id_is_rejected() {
    let bundled = Catalogue::bundled().expect("bundled");
    let taken = &bundled.controls()[0].id;
    let problems = problems_of("controls/acme.toml", &GOOD_CONTROL.replace("ACME-16-01", taken));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let problem = &problems[0];
    assert!(problem.reason.contains(&format!("duplicate control id {taken}")), "{problem}");
    // One place is the problem's file, the other is named in its reason.
    let places = format!("{} {}", problem.file, problem.reason);
    assert!(places.contains("acme.toml") && places.contains("catalogue/controls/"), "names both files: {problem}");
}

#[test]
fn unresolved_references_are_named_at_their_field() {
    let text = GOOD_CONTROL.replace("articles = [16]", "articles = [16, 99]").replace("[\"P4\"]", "[\"P4\", \"P9\"]");
    let problems = problems_of("controls/acme.toml", &text);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].line, 4);
    assert!(problems[0].reason.contains("article 99"), "{}", problems[0]);
    assert_eq!(problems[1].line, 5);
    assert!(problems[1].reason.contains("`P9`") && problems[1].reason.contains("P1"), "{}", problems[1]);
}

#[test]
fn a_control_cannot_be_for_prohibited_systems() {
    let problem =
        only_problem("controls/acme.toml", &GOOD_CONTROL.replace("tier = \"medium\"", "tier = \"prohibited\""));
    assert_eq!(problem.line, 7);
    assert!(problem.reason.contains("lowest tier"), "{problem}");
}

#[test]
fn every_text_needs_both_languages() {
    let problem = only_problem(
        "controls/acme.toml",
        &GOOD_CONTROL.replace("title.zh = \"客服机器人转人工话术\"", "title.zh = \"  \""),
    );
    assert!(problem.reason.contains("no zh text"), "{problem}");
}

#[test]
fn a_bad_id_is_rejected() {
    let problem = only_problem("controls/acme.toml", &GOOD_CONTROL.replace("ACME-16-01", "控制 1"));
    assert_eq!(problem.line, 3);
    assert!(problem.reason.contains("not valid"), "{problem}");
}

#[test]
fn a_file_that_is_not_utf8_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gbk.toml"), b"title = \"\xd6\xd0\xce\xc4\"\n").expect("write");
    let err = Catalogue::with_overlay(dir.path()).expect_err("not UTF-8");
    let problem = &err.problems()[0];
    assert!(problem.file.ends_with("gbk.toml") && problem.reason.contains("UTF-8"), "{problem}");
}

#[test]
fn replacing_bundled_files_can_break_coverage_and_says_which_article() {
    // An overlay that empties every bundled control file leaves the specific norms uncovered.
    let dir = tempfile::tempdir().expect("tempdir");
    let bundled = Catalogue::bundled().expect("bundled");
    for file in bundled.files().iter().filter(|f| f.starts_with("catalogue/controls/")) {
        write(dir.path(), file.trim_start_matches("catalogue/"), "# emptied by the organisation\n");
    }
    let err = Catalogue::with_overlay(dir.path()).expect_err("no controls left");
    let problems = err.problems();
    let uncovered: Vec<&Problem> = problems.iter().filter(|p| p.reason.contains("no control cites it")).collect();
    assert_eq!(uncovered.len(), 18, "Art. 5–22 each uncovered: {problems:#?}");
    for p in &uncovered {
        assert!(p.file.ends_with("catalogue/articles.toml"), "coverage problems point at the article: {p}");
    }
    assert!(uncovered.iter().any(|p| p.reason.starts_with("article 20 ")), "{problems:#?}");
    assert!(problems.iter().any(|p| p.reason.contains("principle P6")), "{problems:#?}");
}

#[test]
fn a_missing_directory_is_an_io_error_naming_it() {
    let err = Catalogue::with_overlay(Path::new("/nonexistent/lunli-catalogue")).expect_err("missing");
    assert!(matches!(err, CatalogueError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/lunli-catalogue"), "{err}");
}

#[test]
fn a_catalogue_of_only_controls_reports_what_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "controls.toml", GOOD_CONTROL);
    let err = Catalogue::from_dir(dir.path()).expect_err("no articles");
    let text = err.to_string();
    assert!(text.contains("no [document] table"), "{text}");
    assert!(text.contains("articles 1, 2, 3"), "{text}");
    assert!(text.contains("article 16, which is not in the catalogue"), "{text}");
}
