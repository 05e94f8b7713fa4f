//! The intake questionnaire and tiering rules load with the rest of the catalogue, and every
//! mistake in them is rejected with its file, line and a reason that says what to write instead.
//!
//! These tests build catalogues from the workspace's own `catalogue/*.toml` plus one stand-in
//! control file, so they exercise the real questionnaire and rules without depending on the
//! bundled controls.

use std::path::{Path, PathBuf};

use lunli_norms::{AnswerTest, Catalogue, CatalogueError, Condition, Problem, QuestionKind, Tier};

/// One control citing every specific norm and principle, so that coverage checks pass.
const STAND_IN_CONTROLS: &str = r#"
[[control]]
id = "T-05-01"
articles = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]
principles = ["P1", "P2", "P3", "P4", "P5", "P6"]
activity = "management"
tier = "low"
kind = "document"
title.zh = "测试控制"
title.en = "Stand-in control"
guidance.zh = "仅用于测试。"
guidance.en = "For tests only."
evidence.accepts = ["file"]
evidence.zh = "文件"
evidence.en = "A file"
"#;

fn catalogue_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../catalogue")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(catalogue_dir().join(name)).expect("catalogue file")
}

/// A catalogue directory with the workspace's top-level files, `replace`d ones swapped in.
fn fixture(replace: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(catalogue_dir()).expect("catalogue dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    std::fs::write(dir.path().join("stand-in-controls.toml"), STAND_IN_CONTROLS).expect("write");
    for (name, contents) in replace {
        std::fs::write(dir.path().join(name), contents).expect("write");
    }
    dir
}

fn load(replace: &[(&str, &str)]) -> Result<Catalogue, CatalogueError> {
    let dir = fixture(replace);
    Catalogue::from_dir(dir.path())
}

fn problems(replace: &[(&str, &str)]) -> Vec<Problem> {
    match load(replace) {
        Ok(_) => panic!("the catalogue should be rejected"),
        Err(CatalogueError::Invalid(problems)) => problems,
        Err(other) => panic!("expected validation problems, got {other}"),
    }
}

/// The one problem found, which must be in `file`.
fn only_problem(file: &str, contents: &str) -> Problem {
    let found = problems(&[(file, contents)]);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let problem = found.into_iter().next().expect("one problem");
    assert!(Path::new(&problem.file).ends_with(file), "problem in {} rather than {file}", problem.file);
    problem
}

/// 1-based number of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).unwrap_or_else(|| panic!("`{needle}` not in text"))
}

/// 1-based number of the last line containing `needle`.
fn last_line_of(text: &str, needle: &str) -> usize {
    text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).last().expect("needle in text")
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "`{from}` should occur exactly once");
    text.replace(from, to)
}

const ONE_QUESTION: &str = r#"
[[question]]
id = "Q-A"
kind = "yes-no"
articles = [3]
principles = ["P3"]
text.zh = "问题甲？"
text.en = "Question A?"
help.zh = "说明。"
help.en = "Help."

[[question]]
id = "Q-CHOICE"
kind = "single-choice"
articles = [13]
principles = ["P2"]
text.zh = "选择？"
text.en = "Choose?"
help.zh = "说明。"
help.en = "Help."
options = [
  { id = "one", label = { zh = "一", en = "One" } },
  { id = "two", label = { zh = "二", en = "Two" } },
]

[[question]]
id = "Q-MANY"
kind = "multi-choice"
articles = [13]
principles = ["P2"]
text.zh = "多选？"
text.en = "Many?"
help.zh = "说明。"
help.en = "Help."
options = [
  { id = "red", label = { zh = "红", en = "Red" } },
  { id = "blue", label = { zh = "蓝", en = "Blue" } },
]

[[question]]
id = "Q-N"
kind = "number"
articles = [8]
principles = ["P1"]
text.zh = "多少？"
text.en = "How many?"
help.zh = "说明。"
help.en = "Help."
"#;

const TIERS_HEAD: &str = r#"
[ruleset]
version = "test.1"

[[tier]]
id = "low"
name = { zh = "低", en = "Low" }
description = { zh = "低风险。", en = "Low risk." }
review_months = 24
signoff_roles = ["owner"]

[[tier]]
id = "medium"
name = { zh = "中", en = "Medium" }
description = { zh = "中风险。", en = "Medium risk." }
review_months = 12
signoff_roles = ["owner", "legal"]

[[tier]]
id = "high"
name = { zh = "高", en = "High" }
description = { zh = "高风险。", en = "High risk." }
review_months = 6
signoff_roles = ["owner", "legal"]

[[tier]]
id = "prohibited"
name = { zh = "禁止", en = "Prohibited" }
description = { zh = "禁止。", en = "Prohibited." }
signoff_roles = []

[[role]]
id = "owner"
name = { zh = "负责人", en = "Owner" }
description = { zh = "负责人。", en = "Owner." }

[[role]]
id = "legal"
name = { zh = "法务", en = "Legal" }
description = { zh = "法务。", en = "Legal." }
"#;

const ONE_RULE: &str = r#"
[[rule]]
id = "R-TEST"
tier = "high"
when = { answer = "Q-A", is = true }
articles = [3]
principles = ["P3"]
reason = { zh = "原因", en = "Reason" }
"#;

/// A small questionnaire and rule set, replacing the real ones, with `rule` as its only rule.
fn small(rule: &str) -> Vec<(&'static str, String)> {
    vec![("intake.toml", ONE_QUESTION.to_string()), ("tiers.toml", format!("{TIERS_HEAD}{rule}"))]
}

fn small_problem(file: &str, rule: &str, questions: Option<&str>, tiers_head: Option<&str>) -> Problem {
    let intake = questions.unwrap_or(ONE_QUESTION).to_string();
    let tiers = format!("{}{rule}", tiers_head.unwrap_or(TIERS_HEAD));
    let found = problems(&[("intake.toml", &intake), ("tiers.toml", &tiers)]);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    let problem = found.into_iter().next().expect("one problem");
    assert!(Path::new(&problem.file).ends_with(file), "problem in {} rather than {file}", problem.file);
    problem
}

fn rule_problem(rule: &str) -> (Problem, String) {
    let tiers = format!("{TIERS_HEAD}{rule}");
    (small_problem("tiers.toml", rule, None, None), tiers)
}

// ── the real questionnaire and rules ────────────────────────────────────────────────────────────

#[test]
fn the_workspace_questionnaire_and_rules_load() {
    let catalogue = load(&[]).unwrap_or_else(|e| panic!("{e}"));
    let questions = catalogue.questions();
    assert!((18..=24).contains(&questions.len()), "{} questions", questions.len());
    assert_eq!(questions[0].id, "Q-INTERNAL-ONLY", "questions keep their order");
    let decisions = catalogue.question("q-decisions").expect("lookup ignores case");
    assert_eq!(decisions.kind, QuestionKind::MultiChoice);
    assert!(decisions.option("credit").is_some());
    assert!(catalogue.questions().iter().any(|q| q.ask_if.is_some()));

    assert_eq!(catalogue.ruleset().version, "2026.1");
    let digest = catalogue.ruleset_digest();
    assert_eq!(digest.len(), 64);
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{digest}");

    let tiers: Vec<Tier> = catalogue.tiers().iter().map(|t| t.tier).collect();
    assert_eq!(tiers, Tier::ALL);
    assert_eq!(catalogue.tier_policy(Tier::High).review_months, Some(6));
    assert_eq!(catalogue.tier_policy(Tier::Medium).signoff_roles, ["owner", "data", "legal"]);
    assert_eq!(catalogue.tier_policy(Tier::Low).signoff_roles, ["owner"]);
    assert!(catalogue.tier_policy(Tier::Prohibited).signoff_roles.is_empty());
    assert_eq!(catalogue.tier_policy(Tier::Prohibited).review_months, None);
    for role in &catalogue.tier_policy(Tier::High).signoff_roles {
        assert!(catalogue.role(role).is_some(), "{role}");
    }

    let prohibited = catalogue.rules().iter().filter(|r| r.tier == Tier::Prohibited).count();
    assert_eq!(prohibited, 6, "one rule per purpose Art. 20 forbids");
    let rule = catalogue.rule("r-prohibited-security").expect("lookup ignores case");
    assert_eq!(
        rule.when,
        Condition::Answer {
            question: "Q-PROHIBITED-PURPOSE".into(),
            test: AnswerTest::Includes("endanger-national-security".into())
        }
    );
    for rule in catalogue.rules() {
        assert!(rule.articles.iter().all(|n| (1..=25).contains(n)));
        assert!(!rule.reason.zh.is_empty() && !rule.reason.en.is_empty());
    }
}

#[test]
fn rules_serialize_in_the_shape_they_are_written() {
    let catalogue = load(&[]).unwrap_or_else(|e| panic!("{e}"));
    let rule = catalogue.rule("R-MEDIUM-THIRD-PARTY-MODEL").expect("rule");
    let json = serde_json::to_value(rule).expect("json");
    assert_eq!(
        json["when"],
        serde_json::json!({ "all": [
            { "answer": "Q-THIRD-PARTY-MODEL", "is": true },
            { "not": { "answer": "Q-INTERNAL-ONLY", "is": true } }
        ]})
    );
    assert_eq!(json["tier"], "medium");
}

#[test]
fn a_small_catalogue_of_our_own_loads() {
    let files = small(ONE_RULE);
    let replace: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let catalogue = load(&replace).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalogue.questions().len(), 4);
    assert_eq!(catalogue.rules().len(), 1);
    assert_eq!(catalogue.ruleset().version, "test.1");
    assert!(catalogue.question("Q-A").is_some_and(|q| q.required && q.options.is_empty()));
}

// ── ids ─────────────────────────────────────────────────────────────────────────────────────────

#[test]
fn a_duplicate_question_id_names_both_places() {
    let text = format!(
        "{ONE_QUESTION}{}",
        &ONE_QUESTION[..ONE_QUESTION.find("\n[[question]]\nid = \"Q-CHOICE\"").expect("second")]
    );
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, ONE_QUESTION.lines().count() + 3, "{problem}");
    assert!(problem.reason.contains("duplicate question id Q-A"), "{problem}");
    assert!(problem.reason.contains("intake.toml:3"), "names the first definition: {problem}");
}

#[test]
fn question_ids_are_unique_regardless_of_case() {
    let text = format!(
        "{ONE_QUESTION}{}",
        ONE_QUESTION.replace("Q-A\"", "q-a\"").split("\n[[question]]\nid = \"Q-CHOICE\"").next().expect("first")
    );
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert!(problem.reason.contains("duplicate question id q-a"), "{problem}");
}

#[test]
fn a_duplicate_rule_id_is_rejected() {
    let (problem, tiers) = rule_problem(&format!("{ONE_RULE}{ONE_RULE}"));
    assert_eq!(problem.line, last_line_of(&tiers, "R-TEST"), "{problem}");
    assert!(problem.reason.contains("duplicate rule id R-TEST"), "{problem}");
}

#[test]
fn a_duplicate_role_is_rejected() {
    let head = format!(
        "{TIERS_HEAD}\n[[role]]\nid = \"legal\"\nname = {{ zh = \"法务\", en = \"Legal\" }}\ndescription = {{ zh = \"法务。\", en = \"Legal.\" }}\n"
    );
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, line_of(&head, "Legal.") + 3, "{problem}");
    assert!(problem.reason.contains("duplicate role id legal"), "{problem}");
}

#[test]
fn a_duplicate_tier_is_rejected() {
    let head = format!(
        "{TIERS_HEAD}\n[[tier]]\nid = \"low\"\nname = {{ zh = \"低\", en = \"Low\" }}\ndescription = {{ zh = \"低。\", en = \"Low.\" }}\nsignoff_roles = [\"owner\"]\n"
    );
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert!(problem.reason.contains("duplicate tier low"), "{problem}");
    assert!(problem.reason.contains("tiers.toml:5"), "names the first definition: {problem}");
}

#[test]
fn a_duplicate_option_is_rejected() {
    let text = replace_once(ONE_QUESTION, "{ id = \"two\"", "{ id = \"one\"");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "zh = \"二\""), "{problem}");
    assert!(problem.reason.contains("option `one` twice"), "{problem}");
}

#[test]
fn a_bad_option_id_is_rejected() {
    let text = replace_once(ONE_QUESTION, "{ id = \"two\"", "{ id = \"Two Options\"");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "Two Options"), "{problem}");
    assert!(
        problem.reason.contains("question Q-CHOICE: option id `Two Options` is not valid; use up to 64 lowercase"),
        "{problem}"
    );
}

// ── question shape ──────────────────────────────────────────────────────────────────────────────

#[test]
fn a_choice_question_needs_two_options() {
    let text = replace_once(ONE_QUESTION, "  { id = \"two\", label = { zh = \"二\", en = \"Two\" } },\n", "");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "options = ["), "{problem}");
    assert!(problem.reason.contains("Q-CHOICE is a single-choice question with 1 option"), "{problem}");
}

#[test]
fn a_choice_question_without_options_is_rejected() {
    let start = ONE_QUESTION.find("options = [\n  { id = \"one\"").expect("options");
    let end = start + ONE_QUESTION[start..].find("]\n").expect("end") + 2;
    let text = format!("{}{}", &ONE_QUESTION[..start], &ONE_QUESTION[end..]);
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "kind = \"single-choice\""), "{problem}");
    assert!(problem.reason.contains("has no options"), "{problem}");
}

#[test]
fn a_yes_no_question_cannot_have_options() {
    let text = replace_once(
        ONE_QUESTION,
        "help.en = \"Help.\"\n\n[[question]]\nid = \"Q-CHOICE\"",
        "help.en = \"Help.\"\noptions = [{ id = \"a\", label = { zh = \"甲\", en = \"A\" } }]\n\n[[question]]\nid = \"Q-CHOICE\"",
    );
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "options = [{ id = \"a\""), "{problem}");
    assert!(problem.reason.contains("Q-A is a yes-no question and cannot have options"), "{problem}");
}

#[test]
fn an_unknown_kind_lists_the_kinds() {
    let text = replace_once(ONE_QUESTION, "kind = \"number\"", "kind = \"date\"");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "kind = \"date\""), "{problem}");
    assert!(problem.reason.contains("date") && problem.reason.contains("multi-choice"), "{problem}");
}

#[test]
fn question_text_needs_both_languages() {
    let text = replace_once(ONE_QUESTION, "text.en = \"Question A?\"", "text.en = \"\"");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert!(problem.reason.contains("question Q-A text has no en text"), "{problem}");
}

#[test]
fn a_question_citing_an_unknown_article_or_principle_is_rejected() {
    let text = replace_once(ONE_QUESTION, "articles = [8]", "articles = [8, 30]");
    let text = replace_once(&text, "principles = [\"P1\"]", "principles = [\"P7\"]");
    let found = problems(&[("intake.toml", &text), ("tiers.toml", &format!("{TIERS_HEAD}{ONE_RULE}"))]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].line, line_of(&text, "articles = [8, 30]"));
    assert!(found[0].reason.contains("question Q-N cites article 30"), "{}", found[0]);
    assert_eq!(found[1].line, line_of(&text, "[\"P7\"]"));
    assert!(found[1].reason.contains("principle `P7`"), "{}", found[1]);
}

#[test]
fn an_ask_if_may_only_look_at_earlier_questions() {
    let text =
        replace_once(ONE_QUESTION, "id = \"Q-A\"\n", "id = \"Q-A\"\nask_if = { answer = \"Q-N\", at_least = 1 }\n");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "ask_if"), "{problem}");
    assert!(problem.reason.contains("question Q-A's ask_if reads question Q-N, which is asked later"), "{problem}");
}

#[test]
fn an_ask_if_is_checked_like_a_rule() {
    let text =
        replace_once(ONE_QUESTION, "id = \"Q-N\"\n", "id = \"Q-N\"\nask_if = { answer = \"Q-A\", is = \"yes\" }\n");
    let problem = small_problem("intake.toml", ONE_RULE, Some(&text), None);
    assert_eq!(problem.line, line_of(&text, "ask_if"), "{problem}");
    assert!(problem.reason.contains("with `is = \"yes\"`, but Q-A is a yes-no question; use `is = true`"), "{problem}");
}

// ── rules and conditions ────────────────────────────────────────────────────────────────────────

#[test]
fn a_rule_naming_an_unknown_question_is_rejected() {
    let rule = ONE_RULE.replace("\"Q-A\"", "\"Q-NOPE\"");
    let (problem, tiers) = rule_problem(&rule);
    assert_eq!(problem.line, line_of(&tiers, "Q-NOPE"), "{problem}");
    assert!(
        problem.reason.contains("rule R-TEST names question `Q-NOPE`, which is not in the questionnaire"),
        "{problem}"
    );
}

#[test]
fn a_rule_naming_a_question_in_the_wrong_case_gets_a_suggestion() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("\"Q-A\"", "\"q-a\""));
    assert!(problem.reason.contains("did you mean Q-A?"), "{problem}");
}

#[test]
fn is_true_only_fits_a_yes_no_question() {
    let (problem, tiers) = rule_problem(&ONE_RULE.replace("\"Q-A\"", "\"Q-CHOICE\""));
    assert_eq!(problem.line, line_of(&tiers, "Q-CHOICE"), "{problem}");
    assert!(
        problem.reason.contains(
            "tests Q-CHOICE with `is = true`, but Q-CHOICE is a single-choice question; use `is = \"<option id>\"`"
        ),
        "{problem}"
    );
}

#[test]
fn is_an_option_only_fits_a_single_choice_question() {
    let (problem, _) =
        rule_problem(&ONE_RULE.replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-MANY\", is = \"red\" }"));
    assert!(problem.reason.contains("Q-MANY is a multi-choice question; use `includes"), "{problem}");
}

#[test]
fn includes_only_fits_a_multi_choice_question() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("is = true", "includes = \"one\""));
    assert!(
        problem
            .reason
            .contains("tests Q-A with `includes`, but Q-A is a yes-no question; use `is = true` or `is = false`"),
        "{problem}"
    );
}

#[test]
fn at_least_only_fits_a_number_question() {
    let (problem, _) =
        rule_problem(&ONE_RULE.replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-CHOICE\", at_least = 3 }"));
    assert!(
        problem.reason.contains("tests Q-CHOICE with `at_least`, but Q-CHOICE is a single-choice question"),
        "{problem}"
    );
}

#[test]
fn a_number_question_is_tested_with_at_least() {
    let (problem, _) =
        rule_problem(&ONE_RULE.replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-N\", is = true }"));
    assert!(problem.reason.contains("Q-N is a number question; use `at_least = <number>`"), "{problem}");
}

#[test]
fn an_unknown_option_lists_the_options() {
    let rule = ONE_RULE
        .replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-MANY\", includes_any = [\"red\", \"green\"] }");
    let (problem, tiers) = rule_problem(&rule);
    assert_eq!(problem.line, line_of(&tiers, "green"), "{problem}");
    assert!(problem.reason.contains("question Q-MANY has no option `green`; its options are red, blue"), "{problem}");
}

#[test]
fn an_unknown_single_choice_option_is_rejected() {
    let (problem, _) =
        rule_problem(&ONE_RULE.replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-CHOICE\", is = \"three\" }"));
    assert!(problem.reason.contains("no option `three`; its options are one, two"), "{problem}");
}

#[test]
fn nested_conditions_are_checked_at_their_own_line() {
    let rule = ONE_RULE.replace(
        "when = { answer = \"Q-A\", is = true }",
        "when.all = [\n  { answer = \"Q-A\", is = true },\n  { not = { any = [{ answer = \"Q-N\", at_least = 5 }, { answer = \"Q-MANY\", includes = \"pink\" }] } },\n]",
    );
    let (problem, tiers) = rule_problem(&rule);
    assert_eq!(problem.line, line_of(&tiers, "pink"), "{problem}");
    assert!(problem.reason.contains("no option `pink`"), "{problem}");
}

#[test]
fn a_condition_with_two_tests_is_rejected() {
    let (problem, tiers) = rule_problem(&ONE_RULE.replace("is = true }", "is = true, includes = \"red\" }"));
    assert_eq!(problem.line, line_of(&tiers, "when ="), "{problem}");
    assert!(problem.reason.contains("needs exactly one test"), "{problem}");
}

#[test]
fn a_condition_mixing_an_answer_and_a_combinator_is_rejected() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("is = true }", "is = true, any = [] }"));
    assert!(problem.reason.contains("a condition is either"), "{problem}");
    assert!(problem.reason.contains("`answer`, `is`, `any`"), "{problem}");
}

#[test]
fn a_test_without_an_answer_is_rejected() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("answer = \"Q-A\", ", ""));
    assert!(problem.reason.contains("the test `is` needs `answer = \"Q-…\"`"), "{problem}");
}

#[test]
fn an_empty_combinator_is_rejected() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("when = { answer = \"Q-A\", is = true }", "when = { any = [] }"));
    assert!(problem.reason.contains("`any = []` is empty"), "{problem}");
}

#[test]
fn an_unknown_condition_key_is_named() {
    let (problem, tiers) = rule_problem(&ONE_RULE.replace("is = true", "equals = true"));
    assert_eq!(problem.line, line_of(&tiers, "equals"), "{problem}");
    assert!(problem.reason.contains("unknown field `equals`"), "{problem}");
}

#[test]
fn a_negative_threshold_is_rejected() {
    let (problem, tiers) =
        rule_problem(&ONE_RULE.replace("{ answer = \"Q-A\", is = true }", "{ answer = \"Q-N\", at_least = -1 }"));
    assert_eq!(problem.line, line_of(&tiers, "at_least"), "{problem}");
}

#[test]
fn a_rule_must_cite_articles_and_principles_that_exist() {
    let rule =
        ONE_RULE.replace("articles = [3]", "articles = [26]").replace("principles = [\"P3\"]", "principles = []");
    let tiers = format!("{TIERS_HEAD}{rule}");
    let found = problems(&[("intake.toml", ONE_QUESTION), ("tiers.toml", &tiers)]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].line, line_of(&tiers, "articles = [26]"));
    assert!(found[0].reason.contains("rule R-TEST cites article 26"), "{}", found[0]);
    assert_eq!(found[1].line, line_of(&tiers, "principles = []"));
    assert!(found[1].reason.contains("rule R-TEST cites no principle"), "{}", found[1]);
}

#[test]
fn a_rule_with_an_unknown_tier_lists_the_tiers() {
    let (problem, tiers) = rule_problem(&ONE_RULE.replace("tier = \"high\"", "tier = \"severe\""));
    assert_eq!(problem.line, line_of(&tiers, "severe"), "{problem}");
    assert!(problem.reason.contains("prohibited"), "{problem}");
}

#[test]
fn a_rule_reason_needs_both_languages() {
    let (problem, _) = rule_problem(&ONE_RULE.replace("zh = \"原因\"", "zh = \"\""));
    assert!(problem.reason.contains("rule R-TEST reason has no zh text"), "{problem}");
}

// ── tiers, roles and the ruleset ────────────────────────────────────────────────────────────────

#[test]
fn a_signoff_role_must_exist() {
    let head = replace_once(
        TIERS_HEAD,
        "signoff_roles = [\"owner\", \"legal\"]\n\n[[tier]]\nid = \"high\"",
        "signoff_roles = [\"owner\", \"lawyer\"]\n\n[[tier]]\nid = \"high\"",
    );
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, line_of(&head, "lawyer"), "{problem}");
    assert!(
        problem
            .reason
            .contains("tier medium names sign-off role `lawyer`, which is not defined; known roles: owner, legal"),
        "{problem}"
    );
}

#[test]
fn a_prohibited_tier_cannot_be_signed_off() {
    let head = replace_once(TIERS_HEAD, "signoff_roles = []", "signoff_roles = [\"legal\"]");
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, last_line_of(&head, "signoff_roles = [\"legal\"]"), "{problem}");
    assert!(problem.reason.contains("tier prohibited cannot be approved"), "{problem}");
}

#[test]
fn a_prohibited_tier_has_no_review_period() {
    let head = replace_once(TIERS_HEAD, "signoff_roles = []", "review_months = 3\nsignoff_roles = []");
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, line_of(&head, "review_months = 3"), "{problem}");
    assert!(problem.reason.contains("no review_months"), "{problem}");
}

#[test]
fn an_approvable_tier_needs_someone_to_sign() {
    let head = replace_once(TIERS_HEAD, "signoff_roles = [\"owner\"]\n", "signoff_roles = []\n");
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert!(problem.reason.contains("tier low names no signoff_roles"), "{problem}");
}

#[test]
fn every_tier_needs_a_policy() {
    let start = TIERS_HEAD.find("[[tier]]\nid = \"medium\"").expect("medium");
    let end = TIERS_HEAD.find("[[tier]]\nid = \"high\"").expect("high");
    let head = format!("{}{}", &TIERS_HEAD[..start], &TIERS_HEAD[end..]);
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, line_of(&head, "[ruleset]"), "reported at the ruleset: {problem}");
    assert!(problem.reason.contains("tier medium has no [[tier]] table"), "{problem}");
}

#[test]
fn the_ruleset_is_required_once() {
    let head = replace_once(TIERS_HEAD, "[ruleset]\nversion = \"test.1\"\n", "");
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert!(problem.reason.contains("no [ruleset] table"), "{problem}");

    let extra = dir_with_extra("zz-more.toml", "[ruleset]\nversion = \"other\"\n");
    let found = problems(&extra.iter().map(|(n, c)| (*n, c.as_str())).collect::<Vec<_>>());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].file.ends_with("zz-more.toml") && found[0].reason.contains("second [ruleset] table"),
        "{}",
        found[0]
    );
}

#[test]
fn a_ruleset_version_has_no_spaces() {
    let head = replace_once(TIERS_HEAD, "version = \"test.1\"", "version = \"test 1\"");
    let problem = small_problem("tiers.toml", ONE_RULE, None, Some(&head));
    assert_eq!(problem.line, line_of(&head, "version"), "{problem}");
    assert!(problem.reason.contains("ruleset version `test 1` is not valid"), "{problem}");
}

#[test]
fn rules_and_questions_may_come_from_an_added_file() {
    let added = r#"
[[question]]
id = "Q-ACME-ROBOT"
kind = "yes-no"
articles = [15]
principles = ["P1"]
text = { zh = "是否控制实验室机器人？", en = "Does it drive the lab robots?" }
help = { zh = "说明。", en = "Help." }

[[rule]]
id = "R-ACME-ROBOT"
tier = "high"
when = { answer = "Q-ACME-ROBOT", is = true }
articles = [15]
principles = ["P1"]
reason = { zh = "控制实验室机器人", en = "Drives the lab robots" }
"#;
    let plain = load(&[]).expect("plain");
    let extended = load(&[("acme.toml", added)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(extended.questions().len(), plain.questions().len() + 1);
    assert!(extended.rule("R-ACME-ROBOT").is_some());
    assert_ne!(extended.ruleset_digest(), plain.ruleset_digest(), "an added rule changes the digest");
}

#[test]
fn a_syntax_error_in_the_rules_is_reported_alone() {
    // Questions and tiers that seem to be missing may be in the broken file, so nothing else is said.
    let tiers = read("tiers.toml");
    let broken = replace_once(&tiers, "[[rule]]\nid = \"R-MEDIUM-PI\"", "[[rule]\nid = \"R-MEDIUM-PI\"");
    let problem = only_problem("tiers.toml", &broken);
    let line = broken.lines().position(|l| l == "[[rule]").expect("broken line") + 1;
    assert_eq!(problem.line, line, "{problem}");
}

#[test]
fn a_file_replacing_the_rules_with_nothing_reports_what_is_missing() {
    let found = problems(&[("tiers.toml", "# nothing\n")]);
    let reasons: Vec<&str> = found.iter().map(|p| p.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("no [ruleset] table")), "{found:#?}");
    for tier in Tier::ALL {
        assert!(reasons.iter().any(|r| r.contains(&format!("tier {tier} has no [[tier]] table"))), "{found:#?}");
    }
    // With no rule set left, the problems point at the questionnaire, which a person can open.
    assert!(found.iter().all(|p| p.file.ends_with("intake.toml")), "{found:#?}");
}

fn dir_with_extra(name: &'static str, contents: &str) -> Vec<(&'static str, String)> {
    let mut files = small(ONE_RULE);
    files.push((name, contents.to_string()));
    files
}

#[test]
fn the_digest_ignores_layout_but_not_content() {
    let tiers = read("tiers.toml");
    let base = load(&[]).expect("base");
    let reformatted = tiers
        .replace("tier = \"high\"", "tier   =   \"high\"   # reformatted")
        .replace("\n[[rule]]", "\n\n# a comment\n[[rule]]");
    let same = load(&[("tiers.toml", &reformatted)]).expect("reformatted");
    assert_eq!(base.ruleset_digest(), same.ruleset_digest());

    let changed = replace_once(&tiers, "at_least = 100000 }", "at_least = 200000 }");
    let other = load(&[("tiers.toml", &changed)]).expect("changed");
    assert_ne!(base.ruleset_digest(), other.ruleset_digest());

    let intake = read("intake.toml");
    let reworded = replace_once(
        &intake,
        "text.en = \"Does the system process personal information in training, testing or operation?\"",
        "text.en = \"Does it use personal information?\"",
    );
    let reworded = load(&[("intake.toml", &reworded)]).expect("reworded");
    assert_ne!(base.ruleset_digest(), reworded.ruleset_digest(), "a question's meaning is part of the rule set");
}
