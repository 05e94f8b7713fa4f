//! A system's answers to the intake questionnaire: how they are written, read and checked.
//!
//! Answers are a mapping from question id to value, the same in YAML, JSON and memory:
//!
//! ```yaml
//! Q-PI: true                      # yes-no: true or false
//! Q-SCALE: 2000000                # number: a whole number, zero or more
//! Q-AUTONOMY: recommends          # single-choice: one option id
//! Q-DECISIONS: [credit]           # multi-choice: a list of option ids, [] for none
//! ```
//!
//! The questionnaire itself (questions, kinds, options, which are required and when a question
//! is asked at all) is catalogue data in `lunli-norms`; nothing about particular questions is
//! written in code here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use lunli_norms::{AnswerTest, Catalogue, Condition, Question, QuestionKind};
use serde::{Deserialize, Serialize};

/// One answer, in the shape it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The answer to a yes-no question.
    YesNo(bool),
    /// The answer to a number question.
    Number(u64),
    /// The option chosen for a single-choice question.
    Choice(String),
    /// The options chosen for a multi-choice question; empty for none of them.
    Choices(Vec<String>),
}

/// Read by shape — a boolean, a whole number, a string or a list of strings — so that answers
/// embedded in a larger YAML or JSON document fail with a message that says what an answer is.
impl<'de> Deserialize<'de> for Answer {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Answer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an answer: true or false, a whole number, an option id or a list of option ids")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Answer, E> {
                Ok(Answer::YesNo(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Answer, E> {
                Ok(Answer::Number(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Answer, E> {
                u64::try_from(v)
                    .map(Answer::Number)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &"a whole number, zero or more"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Answer, E> {
                Ok(Answer::Choice(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Answer, A::Error> {
                let mut options = Vec::new();
                while let Some(option) = seq.next_element::<String>()? {
                    options.push(option);
                }
                Ok(Answer::Choices(options))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Answer {
    /// What the answer looks like, for messages: `true`, `the number 3`, `"credit"`, `a list`.
    fn describe(&self) -> String {
        match self {
            Self::YesNo(value) => format!("`{value}`"),
            Self::Number(n) => format!("the number {n}"),
            Self::Choice(option) => format!("\"{option}\""),
            Self::Choices(options) if options.len() == 1 => format!("a list ([{}])", options[0]),
            Self::Choices(_) => "a list".to_string(),
        }
    }

    fn fits(&self, kind: QuestionKind) -> bool {
        matches!(
            (self, kind),
            (Self::YesNo(_), QuestionKind::YesNo)
                | (Self::Number(_), QuestionKind::Number)
                | (Self::Choice(_), QuestionKind::SingleChoice)
                | (Self::Choices(_), QuestionKind::MultiChoice)
        )
    }
}

/// A set of answers keyed by question id. Serializes as a plain JSON/YAML object
/// (`{"Q-PI": true, "Q-DECISIONS": ["credit"]}`), so it can be stored as it is and read back
/// with `serde_json`; re-[`validate`](Answers::validate) what is read back before trusting it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, Answer>);

/// One thing wrong with an answer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerProblem {
    /// The question the problem is about, as written in the answers.
    pub question: String,
    /// 1-based line in the YAML the answers were read from, when there is one.
    pub line: Option<usize>,
    pub reason: String,
}

impl fmt::Display for AnswerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

/// Why an answer set was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswersError {
    /// The text is not YAML, or not a mapping of question ids to answers.
    #[error("the answers cannot be read (line {line}, column {column}): {reason}")]
    Unreadable { line: usize, column: usize, reason: String },
    /// The answers were read but do not fit the questionnaire; every problem is listed.
    #[error("the answers do not fit the intake questionnaire ({} problem{}):\n{}",
        .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Invalid(Vec<AnswerProblem>),
}

impl AnswersError {
    pub fn problems(&self) -> &[AnswerProblem] {
        match self {
            Self::Invalid(problems) => problems,
            Self::Unreadable { .. } => &[],
        }
    }

    /// Fills in the line of every problem from the YAML text the answers came from, for
    /// answers read as part of a larger file (a `lunli.yaml` with an `intake:` section): each
    /// problem gets the first line where its question id is written as a key.
    pub fn located_in(self, yaml: &str) -> Self {
        match self {
            Self::Invalid(mut problems) => {
                for problem in &mut problems {
                    if problem.line.is_none() {
                        problem.line = key_line(yaml, &problem.question, 1);
                    }
                }
                problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
                Self::Invalid(problems)
            }
            unreadable => unreadable,
        }
    }
}

fn list(problems: &[AnswerProblem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

impl Answers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the answer to `question`, returning the one it replaces.
    pub fn insert(&mut self, question: impl Into<String>, answer: Answer) -> Option<Answer> {
        self.0.insert(question.into(), answer)
    }

    /// Removes the answer to `question`.
    pub fn remove(&mut self, question: &str) -> Option<Answer> {
        self.0.remove(question)
    }

    pub fn get(&self, question: &str) -> Option<&Answer> {
        self.0.get(question)
    }

    /// The answers by question id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Answer)> {
        self.0.iter().map(|(q, a)| (q.as_str(), a))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Reads answers written as a YAML mapping `Q-ID: value` and checks them against the
    /// catalogue's questionnaire. A key with no value (`Q-X:` or `Q-X: ~`) counts as not
    /// answered. Every problem names its question and its line.
    pub fn from_yaml(text: &str, catalogue: &Catalogue) -> Result<Self, AnswersError> {
        lunli_norms::check_yaml_bounds(text).map_err(|e| AnswersError::Unreadable {
            line: e.line().unwrap_or(1),
            column: 1,
            reason: e.to_string(),
        })?;
        let mapping: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(text).map_err(|e| unreadable(text, &e))?;
        let mut answers = Self::new();
        let mut problems = Vec::new();
        // Keys whose value could not be read: present, but not usable.
        let mut unusable = BTreeSet::new();
        for (key, value) in mapping {
            let Some(question) = key.as_str().map(str::to_string) else {
                let written = serde_yaml_ng::to_string(&key).unwrap_or_default().trim().to_string();
                problems.push(AnswerProblem {
                    line: key_line(text, &written, 1),
                    question: written.clone(),
                    reason: format!("`{written}` is not a question id; keys are question ids such as Q-PI"),
                });
                continue;
            };
            match answer_from_yaml(&value) {
                Ok(Some(answer)) => {
                    answers.insert(question, answer);
                }
                Ok(None) => {}
                Err(shape) => {
                    problems.push(AnswerProblem {
                        reason: format!("{question}: {shape} is not an answer; {}", expected(&question, catalogue)),
                        question: question.clone(),
                        line: None,
                    });
                    unusable.insert(question);
                }
            }
        }
        problems.extend(answers.check(catalogue, &unusable));
        if problems.is_empty() { Ok(answers) } else { Err(AnswersError::Invalid(problems).located_in(text)) }
    }

    /// Checks the answers against the questionnaire: every key is a question, every answer has
    /// the question's kind and names only its options, no question is answered that is not
    /// asked (its `ask_if` does not hold), and every required question that is asked has an
    /// answer.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<(), AnswersError> {
        let problems = self.check(catalogue, &BTreeSet::new());
        if problems.is_empty() { Ok(()) } else { Err(AnswersError::Invalid(problems)) }
    }

    /// The problems of [`Self::validate`]; `unusable` are keys that were given but whose value
    /// could not be read at all.
    fn check(&self, catalogue: &Catalogue, unusable: &BTreeSet<String>) -> Vec<AnswerProblem> {
        let mut problems = Vec::new();
        // Answers whose own problems make conditions on them meaningless.
        let mut broken: BTreeSet<&str> = unusable.iter().map(String::as_str).collect();
        // Every key given, however wrong, so that a misspelt or unreadable answer is not also
        // reported as missing.
        let given: Vec<&str> = self.0.keys().map(String::as_str).chain(unusable.iter().map(String::as_str)).collect();
        for (id, answer) in &self.0 {
            let Some(question) = catalogue.questions().iter().find(|q| &q.id == id) else {
                let reason = match catalogue.question(id) {
                    Some(q) => format!("{id} is not a question; did you mean {}? (ids are written exactly)", q.id),
                    None => format!(
                        "{id} is not a question of the intake questionnaire (rule set {}); the questions are {}",
                        catalogue.ruleset().version,
                        catalogue.questions().iter().map(|q| q.id.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                };
                problems.push(problem(id, reason));
                broken.insert(id);
                continue;
            };
            if !answer.fits(question.kind) {
                problems.push(problem(
                    id,
                    format!("{id}: {} is not an answer; {}", answer.describe(), expected(id, catalogue)),
                ));
                broken.insert(id);
                continue;
            }
            let chosen: Vec<&String> = match answer {
                Answer::Choice(option) => vec![option],
                Answer::Choices(options) => options.iter().collect(),
                Answer::YesNo(_) | Answer::Number(_) => Vec::new(),
            };
            let mut seen = BTreeSet::new();
            for option in chosen {
                if question.option(option).is_none() {
                    problems.push(problem(
                        id,
                        format!("{id} has no option \"{option}\"; its options are {}", option_ids(question)),
                    ));
                    broken.insert(id);
                } else if !seen.insert(option) {
                    problems.push(problem(id, format!("{id} lists \"{option}\" twice")));
                    broken.insert(id);
                }
            }
        }
        for question in catalogue.questions() {
            let premise = question.ask_if.as_ref();
            // When an answer the premise reads is itself wrong, whether this question is asked
            // cannot be known; the wrong answer has already been reported.
            if premise.is_some_and(|c| c.questions().iter().any(|q| broken.contains(q))) {
                continue;
            }
            if given.iter().any(|k| k.eq_ignore_ascii_case(&question.id) && *k != question.id)
                || unusable.contains(&question.id)
            {
                continue;
            }
            let asked = self.asks(question);
            let answered = self.0.contains_key(&question.id);
            if answered && !asked {
                let when = premise.map(describe).unwrap_or_default();
                problems.push(problem(
                    &question.id,
                    format!(
                        "{} is only asked when {when}, which these answers say is not so; remove the answer or correct the earlier one",
                        question.id
                    ),
                ));
            } else if !answered && asked && question.required {
                problems.push(problem(
                    &question.id,
                    format!(
                        "{} is required but not answered: {} ({})",
                        question.id,
                        question.text.en,
                        kind_hint(question)
                    ),
                ));
            }
        }
        problems
    }

    /// Whether `condition` holds for these answers. A missing answer, or one of another kind
    /// than the test expects, makes its test false.
    pub fn holds(&self, condition: &Condition) -> bool {
        match condition {
            Condition::All(conditions) => conditions.iter().all(|c| self.holds(c)),
            Condition::Any(conditions) => conditions.iter().any(|c| self.holds(c)),
            Condition::Not(condition) => !self.holds(condition),
            Condition::Answer { question, test } => match (self.0.get(question), test) {
                (Some(Answer::YesNo(value)), AnswerTest::Is(expected)) => value == expected,
                (Some(Answer::Choice(option)), AnswerTest::IsOption(expected)) => option == expected,
                (Some(Answer::Choices(options)), AnswerTest::Includes(expected)) => options.contains(expected),
                (Some(Answer::Choices(options)), AnswerTest::IncludesAny(expected)) => {
                    expected.iter().any(|e| options.contains(e))
                }
                (Some(Answer::Number(n)), AnswerTest::AtLeast(threshold)) => n >= threshold,
                _ => false,
            },
        }
    }

    /// Whether `question` is asked, given these answers to the questions before it: it has no
    /// `ask_if`, or its `ask_if` holds.
    pub fn asks(&self, question: &Question) -> bool {
        question.ask_if.as_ref().is_none_or(|c| self.holds(c))
    }
}

fn problem(question: &str, reason: String) -> AnswerProblem {
    AnswerProblem { question: question.to_string(), line: None, reason }
}

/// The answer a YAML value stands for; `Ok(None)` for no value, `Err` with a description of a
/// value no question takes.
fn answer_from_yaml(value: &serde_yaml_ng::Value) -> Result<Option<Answer>, String> {
    use serde_yaml_ng::Value;
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(Answer::YesNo(*b))),
        Value::Number(n) => match n.as_u64() {
            Some(n) => Ok(Some(Answer::Number(n))),
            None => Err(format!("the number {n}")),
        },
        Value::String(s) => Ok(Some(Answer::Choice(s.clone()))),
        Value::Sequence(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err("a list with something other than option ids in it".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|options| Some(Answer::Choices(options))),
        Value::Mapping(_) => Err("a mapping".to_string()),
        Value::Tagged(_) => Err("a tagged value".to_string()),
    }
}

/// What an answer to `id` should look like, or that there is no such question.
fn expected(id: &str, catalogue: &Catalogue) -> String {
    match catalogue.questions().iter().find(|q| q.id == id) {
        Some(question) => kind_hint(question),
        None => "answers are true/false, a whole number, an option id or a list of option ids".to_string(),
    }
}

fn kind_hint(question: &Question) -> String {
    match question.kind {
        QuestionKind::YesNo => format!("{} is a yes-no question: answer true or false", question.id),
        QuestionKind::Number => {
            format!("{} is a number question: answer a whole number, zero or more (e.g. 2000000)", question.id)
        }
        QuestionKind::SingleChoice => {
            format!("{} is a single-choice question: answer one of {}", question.id, option_ids(question))
        }
        QuestionKind::MultiChoice => format!(
            "{} is a multi-choice question: answer a list of any of {} ([] for none)",
            question.id,
            option_ids(question)
        ),
    }
}

fn option_ids(question: &Question) -> String {
    question.options.iter().map(|o| o.id.as_str()).collect::<Vec<_>>().join(", ")
}

/// A condition in words, for "only asked when …": `Q-PI is true`,
/// `Q-DECISIONS includes any of hiring, credit`.
fn describe(condition: &Condition) -> String {
    match condition {
        Condition::All(conditions) => conditions.iter().map(describe).collect::<Vec<_>>().join(" and "),
        Condition::Any(conditions) => {
            format!("({})", conditions.iter().map(describe).collect::<Vec<_>>().join(" or "))
        }
        Condition::Not(condition) => format!("not ({})", describe(condition)),
        Condition::Answer { question, test } => match test {
            AnswerTest::Is(value) => format!("{question} is {value}"),
            AnswerTest::IsOption(option) => format!("{question} is {option}"),
            AnswerTest::Includes(option) => format!("{question} includes {option}"),
            AnswerTest::IncludesAny(options) => format!("{question} includes any of {}", options.join(", ")),
            AnswerTest::AtLeast(n) => format!("{question} is at least {n}"),
        },
    }
}

fn unreadable(text: &str, error: &serde_yaml_ng::Error) -> AnswersError {
    let message = error.to_string();
    let (mut line, mut column) = error.location().map_or((1, 1), |l| (l.line(), l.column()));
    // The parser reports a repeated key at the start of the mapping; point at the repeat.
    let repeated = message.strip_prefix("duplicate entry with key \"").and_then(|rest| rest.split('"').next());
    if let Some(key) = repeated
        && let Some(repeat) = key_line(text, key, 2)
    {
        (line, column) = (repeat, 1);
    }
    let hint = if message.contains("expected a YAML mapping") {
        "; write one `Q-ID: answer` per line, e.g. `Q-PI: true`"
    } else if message.starts_with("duplicate entry") {
        "; answer each question once"
    } else {
        ""
    };
    let reason = match message.find(" at line ") {
        Some(at) if message[at..].contains(" column ") => format!("{}{hint}", &message[..at]),
        _ => format!("{message}{hint}"),
    };
    AnswersError::Unreadable { line, column, reason }
}

/// The 1-based line of the `nth` line (1 = first) where `key` is written as a mapping key,
/// bare or quoted.
fn key_line(text: &str, key: &str, nth: usize) -> Option<usize> {
    let forms = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start();
            forms.iter().any(|form| {
                line.strip_prefix(form.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
            })
        })
        .map(|(i, _)| i + 1)
        .nth(nth.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(question: &str, test: AnswerTest) -> Condition {
        Condition::Answer { question: question.into(), test }
    }

    #[test]
    fn conditions_read_answers_of_the_right_kind_only() {
        let mut answers = Answers::new();
        answers.insert("Q-YES", Answer::YesNo(true));
        answers.insert("Q-ONE", Answer::Choice("b".into()));
        answers.insert("Q-MANY", Answer::Choices(vec!["x".into(), "y".into()]));
        answers.insert("Q-N", Answer::Number(10));

        assert!(answers.holds(&answer("Q-YES", AnswerTest::Is(true))));
        assert!(!answers.holds(&answer("Q-YES", AnswerTest::Is(false))));
        assert!(answers.holds(&answer("Q-ONE", AnswerTest::IsOption("b".into()))));
        assert!(answers.holds(&answer("Q-MANY", AnswerTest::Includes("y".into()))));
        assert!(answers.holds(&answer("Q-MANY", AnswerTest::IncludesAny(vec!["z".into(), "x".into()]))));
        assert!(!answers.holds(&answer("Q-MANY", AnswerTest::IncludesAny(vec!["z".into()]))));
        assert!(answers.holds(&answer("Q-N", AnswerTest::AtLeast(10))));
        assert!(!answers.holds(&answer("Q-N", AnswerTest::AtLeast(11))));
        // Missing answers and answers of another kind make a test false, and `not` of it true.
        assert!(!answers.holds(&answer("Q-MISSING", AnswerTest::Is(true))));
        assert!(!answers.holds(&answer("Q-N", AnswerTest::Is(true))));
        assert!(answers.holds(&Condition::Not(Box::new(answer("Q-MISSING", AnswerTest::Is(true))))));

        let yes = answer("Q-YES", AnswerTest::Is(true));
        let no = answer("Q-YES", AnswerTest::Is(false));
        assert!(answers.holds(&Condition::All(vec![yes.clone(), yes.clone()])));
        assert!(!answers.holds(&Condition::All(vec![yes.clone(), no.clone()])));
        assert!(answers.holds(&Condition::Any(vec![no.clone(), yes.clone()])));
        assert!(!answers.holds(&Condition::Any(vec![no.clone(), no])));
    }

    #[test]
    fn conditions_are_described_in_words() {
        let condition = Condition::All(vec![
            answer("Q-A", AnswerTest::Is(true)),
            Condition::Not(Box::new(Condition::Any(vec![
                answer("Q-B", AnswerTest::IncludesAny(vec!["x".into(), "y".into()])),
                answer("Q-N", AnswerTest::AtLeast(3)),
            ]))),
        ]);
        assert_eq!(describe(&condition), "Q-A is true and not ((Q-B includes any of x, y or Q-N is at least 3))");
    }

    #[test]
    fn keys_are_found_bare_quoted_and_indented() {
        let text = "Q-A: 1\n\"Q-B\": 2\n  'Q-C': 3\nQ-AB: 4\nQ-A:\n# Q-D: 5\n";
        assert_eq!(key_line(text, "Q-A", 1), Some(1));
        assert_eq!(key_line(text, "Q-A", 2), Some(5));
        assert_eq!(key_line(text, "Q-B", 1), Some(2));
        assert_eq!(key_line(text, "Q-C", 1), Some(3));
        assert_eq!(key_line(text, "Q-AB", 1), Some(4));
        assert_eq!(key_line(text, "Q-D", 1), None, "comments are not keys");
    }
}
