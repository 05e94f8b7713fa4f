//! The intake questionnaire and the tiering rules as data: the questions asked about an AI
//! system, the declarative rules that map answers to a risk tier, what each tier demands
//! (sign-off roles, review period) and the roles that sign. Evaluating the rules against a
//! system's answers is not done here but in `lunli-governance`; this module only describes them.

pub(crate) mod load;

use std::fmt::Write as _;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::model::{Text, Tier};

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    /// `true` or `false`.
    YesNo,
    /// Exactly one of the question's options.
    SingleChoice,
    /// Any number of the question's options, none included.
    MultiChoice,
    /// A whole number, zero or more.
    Number,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 4] = [Self::YesNo, Self::SingleChoice, Self::MultiChoice, Self::Number];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::YesNo => "yes-no",
            Self::SingleChoice => "single-choice",
            Self::MultiChoice => "multi-choice",
            Self::Number => "number",
        }
    }

    /// Whether answers pick from a list of options.
    pub fn has_options(self) -> bool {
        matches!(self, Self::SingleChoice | Self::MultiChoice)
    }
}

impl std::fmt::Display for QuestionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionOption {
    /// Stable id that answers and rules use, e.g. `credit`.
    pub id: String,
    pub label: Text,
}

/// One intake question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Stable id that answers and rules use, e.g. `Q-PI`.
    pub id: String,
    pub kind: QuestionKind,
    /// The options of a choice question, in the order they are shown; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<QuestionOption>,
    pub text: Text,
    /// What the question means and how to answer it, for the person filling in the intake.
    pub help: Text,
    pub articles: Vec<u8>,
    pub principles: Vec<String>,
    /// Whether an answer set without this question is incomplete (when the question is asked).
    pub required: bool,
    /// The question is asked only when this holds for the answers to earlier questions; when
    /// it does not, the question is skipped and needs no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_if: Option<Condition>,
}

impl Question {
    pub fn option(&self, id: &str) -> Option<&QuestionOption> {
        self.options.iter().find(|o| o.id == id)
    }
}

/// A condition over intake answers. An answer that is missing, or of another kind than the
/// test expects, makes its test false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// The answer to `question` passes `test`.
    Answer { question: String, test: AnswerTest },
}

impl Condition {
    /// Every question the condition reads, in order of appearance, repeats included.
    pub fn questions(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_questions(&mut out);
        out
    }

    fn collect_questions<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::All(conditions) | Self::Any(conditions) => {
                conditions.iter().for_each(|c| c.collect_questions(out));
            }
            Self::Not(condition) => condition.collect_questions(out),
            Self::Answer { question, .. } => out.push(question),
        }
    }
}

/// What a [`Condition::Answer`] checks of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerTest {
    /// A yes-no answer is this value (`is = true`).
    Is(bool),
    /// A single-choice answer is this option (`is = "option-id"`).
    IsOption(String),
    /// A multi-choice answer includes this option (`includes = "option-id"`).
    Includes(String),
    /// A multi-choice answer includes at least one of these options (`includes_any = [..]`).
    IncludesAny(Vec<String>),
    /// A number answer is at least this (`at_least = N`).
    AtLeast(u64),
}

impl AnswerTest {
    /// The catalogue key the test is written with.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Is(_) | Self::IsOption(_) => "is",
            Self::Includes(_) => "includes",
            Self::IncludesAny(_) => "includes_any",
            Self::AtLeast(_) => "at_least",
        }
    }
}

/// Serialized in the shape the catalogue is written in: `{"answer": "Q-PI", "is": true}`,
/// `{"all": [...]}`, `{"not": {...}}`.
impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self {
            Self::All(conditions) => map.serialize_entry("all", conditions)?,
            Self::Any(conditions) => map.serialize_entry("any", conditions)?,
            Self::Not(condition) => map.serialize_entry("not", condition)?,
            Self::Answer { question, test } => {
                map.serialize_entry("answer", question)?;
                match test {
                    AnswerTest::Is(value) => map.serialize_entry("is", value)?,
                    AnswerTest::IsOption(option) => map.serialize_entry("is", option)?,
                    AnswerTest::Includes(option) => map.serialize_entry("includes", option)?,
                    AnswerTest::IncludesAny(options) => map.serialize_entry("includes_any", options)?,
                    AnswerTest::AtLeast(n) => map.serialize_entry("at_least", n)?,
                }
            }
        }
        map.end()
    }
}

/// A tiering rule: when its condition holds for a system's answers, the system is at least
/// `tier`, and `reason` says why in words the practitioner understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable id recorded with every tiering, e.g. `R-PROHIBITED-SECURITY`.
    pub id: String,
    pub tier: Tier,
    pub when: Condition,
    pub articles: Vec<u8>,
    pub principles: Vec<String>,
    pub reason: Text,
}

/// What a tier demands of a system placed in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierPolicy {
    pub tier: Tier,
    pub name: Text,
    pub description: Text,
    /// Months between reviews (Art. 5, Art. 8); none for a prohibited system, which is never
    /// approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_months: Option<u32>,
    /// Roles whose holders must each sign off, in order; empty for prohibited.
    pub signoff_roles: Vec<String>,
}

/// A role that signs off assessments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Stable id, e.g. `ethics-committee`.
    pub id: String,
    pub name: Text,
    pub description: Text,
}

/// The identity of the rule set, as declared in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ruleset {
    /// The version the organisation gives its rule set, e.g. `2026.1`.
    pub version: String,
}

/// SHA-256 over the canonical content of the questions and rules: their JSON serialization,
/// questions in the order they are asked (the order is part of the questionnaire), rules by id
/// (their order means nothing). Whitespace, comments, key order and file layout in the
/// catalogue do not change it; any change to a question, option, text or rule does.
pub(crate) fn ruleset_digest(questions: &[Question], rules: &[Rule]) -> String {
    #[derive(Serialize)]
    struct Canonical<'a> {
        format: &'static str,
        questions: &'a [Question],
        rules: Vec<&'a Rule>,
    }
    let mut rules: Vec<&Rule> = rules.iter().collect();
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    let canonical = Canonical { format: "lunli-ruleset/1", questions, rules };
    // Serializing plain strings, integers and booleans into memory cannot fail; should it ever,
    // hashing the error text still yields a digest that differs from every real rule set.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_else(|e| e.to_string().into_bytes());
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(&bytes) {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, question: &str) -> Rule {
        Rule {
            id: id.into(),
            tier: Tier::Medium,
            when: Condition::Not(Box::new(Condition::Answer { question: question.into(), test: AnswerTest::Is(true) })),
            articles: vec![3],
            principles: vec!["P3".into()],
            reason: Text { zh: "原因".into(), en: "Reason".into() },
        }
    }

    #[test]
    fn a_condition_lists_the_questions_it_reads() {
        let condition = Condition::All(vec![
            Condition::Answer { question: "Q-A".into(), test: AnswerTest::AtLeast(1) },
            Condition::Any(vec![
                Condition::Answer { question: "Q-B".into(), test: AnswerTest::Includes("x".into()) },
                Condition::Not(Box::new(Condition::Answer { question: "Q-A".into(), test: AnswerTest::Is(false) })),
            ]),
        ]);
        assert_eq!(condition.questions(), ["Q-A", "Q-B", "Q-A"]);
    }

    #[test]
    fn the_digest_ignores_rule_order_but_not_rule_content() {
        let (a, b) = (rule("R-A", "Q-A"), rule("R-B", "Q-B"));
        let digest = ruleset_digest(&[], &[a.clone(), b.clone()]);
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, ruleset_digest(&[], &[b.clone(), a.clone()]));
        assert_ne!(digest, ruleset_digest(&[], &[a.clone(), rule("R-B", "Q-C")]));
        let mut raised = b;
        raised.tier = Tier::High;
        assert_ne!(digest, ruleset_digest(&[], &[a, raised]));
    }

    #[test]
    fn kinds_are_written_in_kebab_case() {
        let written: Vec<&str> = QuestionKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(written, ["yes-no", "single-choice", "multi-choice", "number"]);
        assert!(QuestionKind::MultiChoice.has_options() && !QuestionKind::Number.has_options());
    }
}
