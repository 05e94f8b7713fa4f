//! Reading and checking intake answers: every mistake names the question, says what was
//! expected, and, for answers read from YAML, gives the line.

mod common;

use common::{BASELINE, catalogue};
use lunli_governance::intake::{Answer, AnswerProblem, Answers, AnswersError};
use lunli_norms::Catalogue;

/// The baseline with `extra` appended (later keys must be new ones), read from YAML.
fn read(extra: &str, catalogue: &Catalogue) -> Result<Answers, AnswersError> {
    Answers::from_yaml(&format!("{BASELINE}{extra}"), catalogue)
}

fn problems(text: &str, catalogue: &Catalogue) -> Vec<AnswerProblem> {
    match Answers::from_yaml(text, catalogue) {
        Ok(_) => panic!("answers should be rejected:\n{text}"),
        Err(AnswersError::Invalid(problems)) => problems,
        Err(other) => panic!("expected answer problems, got {other}"),
    }
}

/// The one problem with the baseline plus `extra`.
fn only_problem(extra: &str, catalogue: &Catalogue) -> (AnswerProblem, String) {
    let text = format!("{BASELINE}{extra}");
    let found = problems(&text, catalogue);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    (found.into_iter().next().expect("one"), text)
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Replaces the baseline's line for `key` (the whole line) with `line`.
fn with_line(key: &str, line: &str) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let text: Vec<String> = BASELINE
        .lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                found = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "{key} is in the baseline");
    text.join("\n") + "\n"
}

fn only_problem_in(text: &str, catalogue: &Catalogue) -> AnswerProblem {
    let found = problems(text, catalogue);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    found.into_iter().next().expect("one")
}

#[test]
fn the_baseline_is_a_complete_answer_set() {
    let catalogue = catalogue();
    let answers = read("", &catalogue).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answers.get("Q-PI"), Some(&Answer::YesNo(false)));
    assert_eq!(answers.get("Q-SCALE"), Some(&Answer::Number(50)));
    assert_eq!(answers.get("Q-AUTONOMY"), Some(&Answer::Choice("informs".into())));
    assert_eq!(answers.get("Q-DECISIONS"), Some(&Answer::Choices(vec![])));
    // Questions whose premise does not hold are not asked, so need no answer.
    assert!(answers.get("Q-SENSITIVE-PI").is_none() && answers.get("Q-HUMAN-REVIEW").is_none());
    answers.validate(&catalogue).expect("valid");
}

#[test]
fn an_unknown_question_is_named_with_its_line() {
    let catalogue = catalogue();
    let (problem, text) = only_problem("Q-COLOUR: true\n", &catalogue);
    assert_eq!(problem.question, "Q-COLOUR");
    assert_eq!(problem.line, line_of(&text, "Q-COLOUR"));
    assert!(
        problem.reason.starts_with("Q-COLOUR is not a question of the intake questionnaire (rule set 2026.1)"),
        "{problem}"
    );
    assert!(problem.reason.contains("Q-INTERNAL-ONLY, Q-PUBLIC-CHINA"), "lists the questions: {problem}");
}

#[test]
fn a_question_id_in_the_wrong_case_gets_a_suggestion() {
    let catalogue = catalogue();
    let text = with_line("Q-PI", "q-pi: false");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, line_of(&text, "q-pi"));
    assert!(problem.reason.contains("did you mean Q-PI?"), "{problem}");
}

#[test]
fn yes_is_not_true() {
    // YAML 1.2 reads `yes` as text, so it is not a yes-no answer; say what to write instead.
    let catalogue = catalogue();
    let text = with_line("Q-PUBLIC-OPINION", "Q-PUBLIC-OPINION: yes");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.question, "Q-PUBLIC-OPINION");
    assert_eq!(problem.line, line_of(&text, "Q-PUBLIC-OPINION"));
    assert_eq!(
        problem.reason,
        "Q-PUBLIC-OPINION: \"yes\" is not an answer; Q-PUBLIC-OPINION is a yes-no question: answer true or false"
    );
}

#[test]
fn a_number_question_takes_a_whole_number() {
    let catalogue = catalogue();
    for (written, shown) in
        [("-3", "the number -3"), ("1.5", "the number 1.5"), ("many", "\"many\""), ("true", "`true`")]
    {
        let text = with_line("Q-SCALE", &format!("Q-SCALE: {written}"));
        let problem = only_problem_in(&text, &catalogue);
        assert_eq!(problem.line, line_of(&text, "Q-SCALE"), "{written}");
        assert!(problem.reason.starts_with(&format!("Q-SCALE: {shown} is not an answer")), "{written}: {problem}");
        assert!(problem.reason.contains("answer a whole number, zero or more"), "{problem}");
    }
}

#[test]
fn a_single_choice_takes_one_option_not_a_list() {
    let catalogue = catalogue();
    let text = with_line("Q-AUTONOMY", "Q-AUTONOMY: [informs]");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, line_of(&text, "Q-AUTONOMY"));
    assert!(problem.reason.contains("a list ([informs]) is not an answer"), "{problem}");
    assert!(
        problem.reason.contains("answer one of informs, recommends, acts-supervised, acts-unsupervised"),
        "{problem}"
    );
}

#[test]
fn a_multi_choice_takes_a_list() {
    let catalogue = catalogue();
    let text = with_line("Q-SAFETY-CRITICAL", "Q-SAFETY-CRITICAL: vehicles");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, line_of(&text, "Q-SAFETY-CRITICAL"));
    assert!(problem.reason.contains("is a multi-choice question: answer a list of any of vehicles"), "{problem}");
    assert!(problem.reason.contains("([] for none)"), "{problem}");
}

#[test]
fn an_unknown_option_lists_the_options() {
    let catalogue = catalogue();
    let text = with_line("Q-AUTONOMY", "Q-AUTONOMY: autopilot");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, line_of(&text, "autopilot"));
    assert_eq!(
        problem.reason,
        "Q-AUTONOMY has no option \"autopilot\"; its options are informs, recommends, acts-supervised, acts-unsupervised"
    );

    let text = with_line("Q-GENERATED-CONTENT", "Q-GENERATED-CONTENT:\n  - text\n  - hologram");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, line_of(&text, "Q-GENERATED-CONTENT"), "the line of the question");
    assert!(problem.reason.contains("no option \"hologram\"; its options are text, image, audio, video"), "{problem}");
}

#[test]
fn an_option_chosen_twice_is_named() {
    let catalogue = catalogue();
    let text = with_line("Q-GENERATED-CONTENT", "Q-GENERATED-CONTENT: [text, image, text]");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.reason, "Q-GENERATED-CONTENT lists \"text\" twice");
}

#[test]
fn a_value_no_question_takes_is_named() {
    let catalogue = catalogue();
    let text = with_line("Q-PI", "Q-PI:\n  answer: true");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.line, Some(line_of(&text, "Q-PI").expect("line")));
    assert!(problem.reason.starts_with("Q-PI: a mapping is not an answer; Q-PI is a yes-no question"), "{problem}");
}

#[test]
fn a_missing_required_answer_names_the_question_and_how_to_answer_it() {
    let catalogue = catalogue();
    let text = with_line("Q-CROSS-BORDER", "");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.question, "Q-CROSS-BORDER");
    assert_eq!(problem.line, None, "an answer that is not there has no line");
    assert!(
        problem.reason.starts_with("Q-CROSS-BORDER is required but not answered: Does any personal information"),
        "{problem}"
    );
    assert!(problem.reason.ends_with("(Q-CROSS-BORDER is a yes-no question: answer true or false)"), "{problem}");
}

#[test]
fn no_value_counts_as_not_answered() {
    let catalogue = catalogue();
    for line in ["Q-CROSS-BORDER:", "Q-CROSS-BORDER: ~", "Q-CROSS-BORDER: null"] {
        let problem = only_problem_in(&with_line("Q-CROSS-BORDER", line), &catalogue);
        assert!(problem.reason.contains("required but not answered"), "{line}: {problem}");
    }
}

#[test]
fn a_question_is_required_only_when_it_is_asked() {
    let catalogue = catalogue();
    // Decisions about people make the review question required …
    let text = with_line("Q-DECISIONS", "Q-DECISIONS: [credit]");
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.question, "Q-HUMAN-REVIEW");
    assert!(problem.reason.contains("required but not answered"), "{problem}");
    // … and answering it is enough.
    read("", &catalogue).expect("baseline");
    Answers::from_yaml(&format!("{text}Q-HUMAN-REVIEW: every-decision\n"), &catalogue).expect("complete");
}

#[test]
fn a_question_that_is_not_asked_must_not_be_answered() {
    let catalogue = catalogue();
    let (problem, text) = only_problem("Q-LAWFUL-BASIS: not-established\n", &catalogue);
    assert_eq!(problem.line, line_of(&text, "Q-LAWFUL-BASIS"));
    assert!(
        problem.reason.starts_with("Q-LAWFUL-BASIS is only asked when Q-PI is true, which these answers say is not so"),
        "{problem}"
    );
}

#[test]
fn a_wrong_premise_is_reported_once() {
    // Q-PI is wrong, so whether Q-SENSITIVE-PI is asked cannot be known; only Q-PI is reported.
    let catalogue = catalogue();
    let text = format!("{}Q-SENSITIVE-PI: [health]\n", with_line("Q-PI", "Q-PI: sometimes"));
    let problem = only_problem_in(&text, &catalogue);
    assert_eq!(problem.question, "Q-PI");
}

#[test]
fn every_problem_is_reported_in_line_order() {
    let catalogue = catalogue();
    let text =
        format!("{}Q-NOPE: 1\n", with_line("Q-AUTONOMY", "Q-AUTONOMY: autopilot").replace("Q-PI: false", "Q-PI: no"));
    let found = problems(&text, &catalogue);
    let lines: Vec<Option<usize>> = found.iter().map(|p| p.line).collect();
    assert_eq!(lines, [line_of(&text, "Q-PI"), line_of(&text, "Q-AUTONOMY"), line_of(&text, "Q-NOPE")], "{found:#?}");
    let message = AnswersError::Invalid(found).to_string();
    assert!(message.starts_with("the answers do not fit the intake questionnaire (3 problems):\n  line "), "{message}");
}

#[test]
fn broken_yaml_names_its_line() {
    let catalogue = catalogue();
    let text = format!("{BASELINE}Q-EXTRA: [true\n");
    match Answers::from_yaml(&text, &catalogue) {
        Err(AnswersError::Unreadable { line, reason, .. }) => {
            assert!(line >= BASELINE.lines().count(), "line {line}: {reason}");
            assert!(!reason.contains(" at line "), "the line is not repeated: {reason}");
        }
        other => panic!("expected unreadable, got {other:?}"),
    }
}

#[test]
fn answers_must_be_a_mapping() {
    let catalogue = catalogue();
    let err = Answers::from_yaml("- Q-PI: true\n- Q-MINORS: false\n", &catalogue).expect_err("a list");
    let message = err.to_string();
    assert!(message.contains("line 1"), "{message}");
    assert!(message.contains("write one `Q-ID: answer` per line"), "{message}");
}

#[test]
fn a_question_answered_twice_names_the_second_line() {
    let catalogue = catalogue();
    let text = format!("{BASELINE}Q-MINORS: true\n");
    match Answers::from_yaml(&text, &catalogue) {
        Err(AnswersError::Unreadable { line, reason, .. }) => {
            assert_eq!(
                Some(line),
                text.lines().collect::<Vec<_>>().iter().rposition(|l| l.starts_with("Q-MINORS")).map(|i| i + 1)
            );
            assert!(reason.contains("Q-MINORS") && reason.contains("answer each question once"), "{reason}");
        }
        other => panic!("expected unreadable, got {other:?}"),
    }
}

#[test]
fn an_empty_file_is_missing_every_required_answer() {
    let catalogue = catalogue();
    let found = problems("# nothing answered yet\n", &catalogue);
    let required = catalogue.questions().iter().filter(|q| q.required && q.ask_if.is_none()).count();
    assert_eq!(found.len(), required, "{found:#?}");
    assert!(found.iter().all(|p| p.reason.contains("required but not answered")));
}

#[test]
fn answers_inside_a_larger_file_get_their_lines() {
    // A `lunli.yaml` keeps the answers under `intake:`; the caller reads them and asks for lines.
    let catalogue = catalogue();
    let indented: String =
        with_line("Q-AUTONOMY", "Q-AUTONOMY: autopilot").lines().map(|l| format!("  {l}\n")).collect();
    let file = format!("system:\n  id: demo\nintake:\n{indented}");
    #[derive(serde::Deserialize)]
    struct File {
        intake: Answers,
    }
    let parsed: File = serde_yaml_ng::from_str(&file).expect("yaml");
    let err = parsed.intake.validate(&catalogue).expect_err("bad option").located_in(&file);
    let problem = &err.problems()[0];
    assert_eq!(problem.line, line_of(&file, "Q-AUTONOMY"));
    assert!(err.to_string().contains(&format!("line {}: Q-AUTONOMY has no option", problem.line.expect("line"))));
}

#[test]
fn a_malformed_answer_inside_a_larger_file_says_what_an_answer_is() {
    let file = "system:\n  id: demo\nintake:\n  Q-PI:\n    maybe: true\n";
    #[derive(Debug, serde::Deserialize)]
    struct File {
        #[allow(dead_code)]
        intake: Answers,
    }
    let err = serde_yaml_ng::from_str::<File>(file).expect_err("a mapping is no answer");
    assert!(err.to_string().contains("expected an answer: true or false, a whole number"), "{err}");
    assert_eq!(err.location().map(|l| l.line()), Some(5), "{err}");
}

#[test]
fn answers_built_in_code_are_checked_the_same_way() {
    let catalogue = catalogue();
    let mut answers = read("", &catalogue).expect("baseline");
    assert_eq!(answers.insert("Q-MINORS", Answer::Number(2)), Some(Answer::YesNo(false)));
    let err = answers.validate(&catalogue).expect_err("wrong kind");
    assert_eq!(err.problems()[0].line, None);
    assert!(err.problems()[0].reason.contains("Q-MINORS: the number 2 is not an answer"), "{err}");
    answers.insert("Q-MINORS", Answer::YesNo(true));
    answers.validate(&catalogue).expect("valid again");
    assert!(answers.asks(catalogue.question("Q-VULNERABLE").expect("question")));
    assert!(!answers.asks(catalogue.question("Q-HUMAN-REVIEW").expect("question")));
}
