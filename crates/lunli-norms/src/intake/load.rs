//! Turning raw `[[question]]`, `[ruleset]`, `[[tier]]`, `[[role]]` and `[[rule]]` records into
//! the validated questionnaire and rule set, with a file and line for every problem.
//!
//! References (a rule naming a question, a tier naming a role) are checked once every file has
//! been read, since an organisation may add questions in one file and rules in another.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use toml::Spanned;

use super::{AnswerTest, Condition, Question, QuestionKind, QuestionOption, Role, Rule, Ruleset, TierPolicy};
use crate::catalogue::Origin;
use crate::error::Problem;
use crate::model::{Text, Tier};
use crate::source::{RawCondition, RawIs, RawQuestion, RawRole, RawRule, RawRuleset, RawTier, SourceFile};

/// The validated questionnaire and rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Intake {
    pub questions: Vec<Question>,
    /// One policy per tier, in the order of [`Tier::ALL`].
    pub tiers: [TierPolicy; 4],
    pub roles: Vec<Role>,
    pub rules: Vec<Rule>,
    pub ruleset: Ruleset,
    pub digest: String,
}

/// A place in a condition that names a question, checked once all questions are known.
struct Reference {
    /// What holds the condition, for messages: `rule R-X`, `question Q-Y's ask_if`.
    owner: String,
    question: String,
    test: AnswerTest,
    answer_at: Origin,
    test_at: Origin,
}

/// A question, rule or tier whose references wait for every file to be read.
struct Pending<T> {
    item: T,
    origin: Origin,
    articles_at: Origin,
    principles_at: Origin,
    references: Vec<Reference>,
}

struct PendingTier {
    policy: TierPolicy,
    origin: Origin,
    roles_at: Origin,
    months_at: Option<Origin>,
}

/// How an id may be spelt.
#[derive(Clone, Copy)]
enum IdStyle {
    /// Question and rule ids, like control ids: ASCII letters, digits, `-`, `.`.
    Code,
    /// Option and role ids: lowercase ASCII letters, digits and `-`, as in `ethics-committee`.
    Word,
}

#[derive(Default)]
pub(crate) struct IntakeBuilder {
    problems: Vec<Problem>,
    questions: Vec<Pending<Question>>,
    question_ids: HashMap<String, Origin>,
    ruleset: Option<(Ruleset, Origin)>,
    tiers: BTreeMap<Tier, PendingTier>,
    roles: Vec<(Role, Origin)>,
    role_ids: HashMap<String, Origin>,
    rules: Vec<Pending<Rule>>,
    rule_ids: HashMap<String, Origin>,
}

impl IntakeBuilder {
    /// The policy of `tier` defined so far (for a pack to be compared against the base).
    pub fn tier_policy(&self, tier: Tier) -> Option<&TierPolicy> {
        self.tiers.get(&tier).map(|t| &t.policy)
    }

    /// Forgets the policy of `tier`, so that a pack's stricter one replaces it.
    pub fn remove_tier(&mut self, tier: Tier) {
        self.tiers.remove(&tier);
    }

    /// Where a rule, question or role with this id was first defined, if it was.
    pub fn defined(&self, what: &str, id: &str) -> Option<&Origin> {
        match what {
            "rule" => self.rule_ids.get(&id.to_ascii_uppercase()),
            "question" => self.question_ids.get(&id.to_ascii_uppercase()),
            _ => self.role_ids.get(id),
        }
    }

    pub fn add_question(&mut self, file: &SourceFile, raw: Spanned<RawQuestion>) {
        let raw = raw.into_inner();
        let id_at = Origin::at(file, raw.id.span());
        let id = raw.id.into_inner();
        if !claim(&mut self.question_ids, &mut self.problems, &id_at, ("question", &id), "Q-PI") {
            return;
        }
        let kind_at = Origin::at(file, raw.kind.span());
        let kind = raw.kind.into_inner();
        let text_at = Origin::at(file, raw.text.span());
        let help_at = Origin::at(file, raw.help.span());
        let text = raw.text.into_inner();
        let help = raw.help.into_inner();
        self.check_text(&text_at, &format!("question {id} text"), &text);
        self.check_text(&help_at, &format!("question {id} help"), &help);

        let mut options = Vec::new();
        match (kind.has_options(), raw.options) {
            (true, None) => self.problems.push(kind_at.problem(format!(
                "question {id} is a {kind} question but has no options; give it at least two [[question.options]]"
            ))),
            (false, Some(given)) => self.problems.push(Origin::at(file, given.span()).problem(format!(
                "question {id} is a {kind} question and cannot have options; only single-choice and multi-choice questions do"
            ))),
            (false, None) => {}
            (true, Some(given)) => {
                let options_at = Origin::at(file, given.span());
                let given = given.into_inner();
                let count = given.len();
                let mut seen: HashMap<String, Origin> = HashMap::new();
                for option in given {
                    let option = option.into_inner();
                    let option_at = Origin::at(file, option.id.span());
                    let label_at = Origin::at(file, option.label.span());
                    let option_id = option.id.into_inner();
                    let label = option.label.into_inner();
                    if let Err(reason) = check_id("option", &option_id, IdStyle::Word, "credit") {
                        self.problems.push(option_at.problem(format!("question {id}: {reason}")));
                        continue;
                    }
                    if let Some(first) = seen.get(&option_id) {
                        self.problems.push(
                            option_at
                                .problem(format!("question {id} has option `{option_id}` twice; first defined at {first}")),
                        );
                        continue;
                    }
                    self.check_text(&label_at, &format!("question {id} option {option_id} label"), &label);
                    seen.insert(option_id.clone(), option_at);
                    options.push(QuestionOption { id: option_id, label });
                }
                if count < 2 {
                    self.problems.push(options_at.problem(format!(
                        "question {id} is a {kind} question with {count} option{}; a choice needs at least two",
                        if count == 1 { "" } else { "s" }
                    )));
                }
            }
        }

        let mut references = Vec::new();
        let ask_if = match raw.ask_if {
            Some(condition) => self.condition(file, condition, &format!("question {id}'s ask_if"), &mut references),
            None => None,
        };
        let articles_at = Origin::at(file, raw.articles.span());
        let principles_at = Origin::at(file, raw.principles.span());
        let question = Question {
            id,
            kind,
            options,
            text,
            help,
            articles: raw.articles.into_inner(),
            principles: raw.principles.into_inner(),
            required: raw.required,
            ask_if,
        };
        self.questions.push(Pending { item: question, origin: id_at, articles_at, principles_at, references });
    }

    pub fn add_ruleset(&mut self, file: &SourceFile, raw: Spanned<RawRuleset>) {
        let origin = Origin::at(file, raw.span());
        if let Some((_, first)) = &self.ruleset {
            self.problems.push(origin.problem(format!("second [ruleset] table; the first is at {first}")));
            return;
        }
        let raw = raw.into_inner();
        let version_at = Origin::at(file, raw.version.span());
        let version = raw.version.into_inner();
        let valid =
            !version.is_empty() && version.len() <= 64 && !version.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            self.problems.push(version_at.problem(format!(
                "ruleset version `{version}` is not valid; use up to 64 characters without spaces, e.g. \"2026.1\""
            )));
        }
        self.ruleset = Some((Ruleset { version }, origin));
    }

    pub fn add_tier(&mut self, file: &SourceFile, raw: Spanned<RawTier>) {
        let origin = Origin::at(file, raw.span());
        let raw = raw.into_inner();
        let tier_at = Origin::at(file, raw.id.span());
        let tier = raw.id.into_inner();
        if let Some(first) = self.tiers.get(&tier) {
            self.problems.push(tier_at.problem(format!("duplicate tier {tier}; first defined at {}", first.origin)));
            return;
        }
        let name_at = Origin::at(file, raw.name.span());
        let description_at = Origin::at(file, raw.description.span());
        let name = raw.name.into_inner();
        let description = raw.description.into_inner();
        self.check_text(&name_at, &format!("tier {tier} name"), &name);
        self.check_text(&description_at, &format!("tier {tier} description"), &description);
        let months_at = raw.review_months.as_ref().map(|m| Origin::at(file, m.span()));
        let review_months = raw.review_months.map(Spanned::into_inner);
        let roles_at = Origin::at(file, raw.signoff_roles.span());
        let policy =
            TierPolicy { tier, name, description, review_months, signoff_roles: raw.signoff_roles.into_inner() };
        self.tiers.insert(tier, PendingTier { policy, origin, roles_at, months_at });
    }

    pub fn add_role(&mut self, file: &SourceFile, raw: Spanned<RawRole>) {
        let raw = raw.into_inner();
        let id_at = Origin::at(file, raw.id.span());
        let id = raw.id.into_inner();
        if let Err(reason) = check_id("role", &id, IdStyle::Word, "ethics-committee") {
            self.problems.push(id_at.problem(reason));
            return;
        }
        if let Some(first) = self.role_ids.get(&id) {
            self.problems.push(id_at.problem(format!("duplicate role id {id}; first defined at {first}")));
            return;
        }
        self.role_ids.insert(id.clone(), id_at.clone());
        let name_at = Origin::at(file, raw.name.span());
        let description_at = Origin::at(file, raw.description.span());
        let role = Role { id, name: raw.name.into_inner(), description: raw.description.into_inner() };
        self.check_text(&name_at, &format!("role {} name", role.id), &role.name);
        self.check_text(&description_at, &format!("role {} description", role.id), &role.description);
        self.roles.push((role, id_at));
    }

    pub fn add_rule(&mut self, file: &SourceFile, raw: Spanned<RawRule>) {
        let raw = raw.into_inner();
        let id_at = Origin::at(file, raw.id.span());
        let id = raw.id.into_inner();
        if !claim(&mut self.rule_ids, &mut self.problems, &id_at, ("rule", &id), "R-PROHIBITED-SECURITY") {
            return;
        }
        let reason_at = Origin::at(file, raw.reason.span());
        let reason = raw.reason.into_inner();
        self.check_text(&reason_at, &format!("rule {id} reason"), &reason);
        let mut references = Vec::new();
        let Some(when) = self.condition(file, raw.when, &format!("rule {id}"), &mut references) else {
            return;
        };
        let articles_at = Origin::at(file, raw.articles.span());
        let principles_at = Origin::at(file, raw.principles.span());
        let rule = Rule {
            id,
            tier: raw.tier.into_inner(),
            when,
            articles: raw.articles.into_inner(),
            principles: raw.principles.into_inner(),
            reason,
        };
        self.rules.push(Pending { item: rule, origin: id_at, articles_at, principles_at, references });
    }

    /// Checks the shape of a condition: either one answer with exactly one test, or exactly one
    /// of `all`, `any`, `not`. Question references are collected for [`Self::finish`].
    fn condition(
        &mut self,
        file: &SourceFile,
        raw: Spanned<RawCondition>,
        owner: &str,
        references: &mut Vec<Reference>,
    ) -> Option<Condition> {
        let at = Origin::at(file, raw.span());
        let raw = raw.into_inner();
        let tests: Vec<&str> = [
            raw.is.as_ref().map(|_| "is"),
            raw.includes.as_ref().map(|_| "includes"),
            raw.includes_any.as_ref().map(|_| "includes_any"),
            raw.at_least.as_ref().map(|_| "at_least"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let combinators: Vec<&str> =
            [raw.all.as_ref().map(|_| "all"), raw.any.as_ref().map(|_| "any"), raw.not.as_ref().map(|_| "not")]
                .into_iter()
                .flatten()
                .collect();
        let is_answer = raw.answer.is_some() || !tests.is_empty();
        if usize::from(is_answer) + combinators.len() != 1 {
            let mut keys: Vec<&str> = raw.answer.as_ref().map(|_| "answer").into_iter().collect();
            keys.extend(&tests);
            keys.extend(&combinators);
            let found = if keys.is_empty() { "no keys".to_string() } else { format!("`{}`", keys.join("`, `")) };
            self.problems.push(at.problem(format!(
                "{owner}: a condition is either {{ answer = \"Q-…\", <test> = … }} or exactly one of `all`, `any`, `not`; found {found}"
            )));
            return None;
        }

        if let Some(list) = raw.all {
            return self.conditions(file, list, owner, "all", references).map(Condition::All);
        }
        if let Some(list) = raw.any {
            return self.conditions(file, list, owner, "any", references).map(Condition::Any);
        }
        if let Some(inner) = raw.not {
            return self.condition(file, *inner, owner, references).map(|c| Condition::Not(Box::new(c)));
        }

        let Some(answer) = raw.answer else {
            self.problems.push(at.problem(format!(
                "{owner}: the test `{}` needs `answer = \"Q-…\"` naming the question it tests",
                tests.join("`, `")
            )));
            return None;
        };
        if tests.len() != 1 {
            let found = if tests.is_empty() { "none".to_string() } else { format!("`{}`", tests.join("`, `")) };
            self.problems.push(at.problem(format!(
                "{owner}: a condition on {} needs exactly one test of `is`, `includes`, `includes_any`, `at_least`; found {found}",
                answer.get_ref()
            )));
            return None;
        }
        let answer_at = Origin::at(file, answer.span());
        let question = answer.into_inner();
        let (test, test_at) = if let Some(is) = raw.is {
            let test_at = Origin::at(file, is.span());
            match is.into_inner() {
                RawIs::Bool(value) => (AnswerTest::Is(value), test_at),
                RawIs::Option(option) => (AnswerTest::IsOption(option), test_at),
            }
        } else if let Some(option) = raw.includes {
            (AnswerTest::Includes(option.get_ref().clone()), Origin::at(file, option.span()))
        } else if let Some(options) = raw.includes_any {
            let test_at = Origin::at(file, options.span());
            let options = options.into_inner();
            if options.is_empty() {
                self.problems.push(test_at.problem(format!(
                    "{owner}: `includes_any = []` can never hold; list at least one option of {question}"
                )));
                return None;
            }
            (AnswerTest::IncludesAny(options), test_at)
        } else if let Some(n) = raw.at_least {
            (AnswerTest::AtLeast(*n.get_ref()), Origin::at(file, n.span()))
        } else {
            // `tests.len() == 1` above means one of the branches was taken.
            return None;
        };
        references.push(Reference {
            owner: owner.to_string(),
            question: question.clone(),
            test: test.clone(),
            answer_at,
            test_at,
        });
        Some(Condition::Answer { question, test })
    }

    fn conditions(
        &mut self,
        file: &SourceFile,
        list: Spanned<Vec<Spanned<RawCondition>>>,
        owner: &str,
        key: &str,
        references: &mut Vec<Reference>,
    ) -> Option<Vec<Condition>> {
        let at = Origin::at(file, list.span());
        let list = list.into_inner();
        if list.is_empty() {
            self.problems.push(at.problem(format!("{owner}: `{key} = []` is empty; list at least one condition")));
            return None;
        }
        let mut out = Vec::with_capacity(list.len());
        let mut complete = true;
        for raw in list {
            match self.condition(file, raw, owner, references) {
                Some(condition) => out.push(condition),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    fn check_text(&mut self, at: &Origin, what: &str, text: &Text) {
        for (lang, value) in [("zh", &text.zh), ("en", &text.en)] {
            if value.trim().is_empty() {
                self.problems.push(at.problem(format!("{what} has no {lang} text; every text needs both zh and en")));
            }
        }
    }

    /// Resolves every reference and returns the questionnaire and rule set, or `None` when
    /// something is missing or wrong (the problems say what).
    /// `complete` is false when some catalogue file could not be parsed: then a question or
    /// tier that seems missing may well be in that file, so only the problems found in the
    /// records themselves are reported, not what they fail to find elsewhere.
    pub fn finish(
        mut self,
        articles: &BTreeSet<u8>,
        principles: &BTreeSet<String>,
        fallback: &Origin,
        complete: bool,
    ) -> (Option<Intake>, Vec<Problem>) {
        if !complete {
            let problems = std::mem::take(&mut self.problems);
            return (None, problems);
        }
        let mut problems = Vec::new();
        // Something missing is reported where the rule set is, or failing that the questionnaire.
        let anchor = self
            .ruleset
            .as_ref()
            .map(|(_, at)| at)
            .or_else(|| self.tiers.values().next().map(|t| &t.origin))
            .or_else(|| self.questions.first().map(|q| &q.origin))
            .unwrap_or(fallback)
            .clone();

        // Questions, in the order they are asked: an ask_if may only look back.
        let all: HashMap<&str, &Origin> = self.questions.iter().map(|p| (p.item.id.as_str(), &p.origin)).collect();
        let mut kinds: HashMap<&str, &Question> = HashMap::new();
        for pending in &self.questions {
            let question = &pending.item;
            check_citations(&mut problems, pending, &format!("question {}", question.id), articles, principles, |q| {
                (&q.articles, &q.principles)
            });
            for reference in &pending.references {
                check_reference(&mut problems, reference, &kinds, &all);
            }
            kinds.insert(question.id.as_str(), question);
        }

        for pending in &self.rules {
            let rule = &pending.item;
            check_citations(&mut problems, pending, &format!("rule {}", rule.id), articles, principles, |r| {
                (&r.articles, &r.principles)
            });
            for reference in &pending.references {
                check_reference(&mut problems, reference, &kinds, &all);
            }
        }

        for pending in self.tiers.values() {
            let policy = &pending.policy;
            let tier = policy.tier;
            if tier == Tier::Prohibited {
                // Art. 20: a prohibited use is blocked, so nobody can sign it off or schedule its review.
                if !policy.signoff_roles.is_empty() {
                    problems.push(pending.roles_at.problem(
                        "tier prohibited cannot be approved, so its signoff_roles must be empty (signoff_roles = [])",
                    ));
                }
                if let Some(at) = &pending.months_at {
                    problems
                        .push(at.problem("tier prohibited is never approved, so it has no review_months; remove it"));
                }
            } else {
                if policy.signoff_roles.is_empty() {
                    problems.push(pending.roles_at.problem(format!(
                        "tier {tier} names no signoff_roles; someone must sign off a {tier}-tier system (e.g. [\"owner\"])"
                    )));
                }
                if let (Some(0), Some(at)) = (policy.review_months, &pending.months_at) {
                    problems.push(at.problem(format!(
                        "tier {tier} has review_months = 0; give the months between reviews, or leave it out for no periodic review"
                    )));
                }
            }
            let mut seen = BTreeSet::new();
            for role in &policy.signoff_roles {
                if !self.role_ids.contains_key(role) {
                    let known: Vec<&str> = self.roles.iter().map(|(r, _)| r.id.as_str()).collect();
                    problems.push(pending.roles_at.problem(format!(
                        "tier {tier} names sign-off role `{role}`, which is not defined; known roles: {}",
                        if known.is_empty() {
                            "none (define them with [[role]])".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
                if !seen.insert(role) {
                    problems.push(pending.roles_at.problem(format!("tier {tier} names sign-off role `{role}` twice")));
                }
            }
        }
        for tier in Tier::ALL {
            if !self.tiers.contains_key(&tier) {
                problems.push(anchor.problem(format!(
                    "tier {tier} has no [[tier]] table in any catalogue file (it belongs in tiers.toml)"
                )));
            }
        }
        if self.ruleset.is_none() {
            problems.push(anchor.problem("no [ruleset] table in any catalogue file (it belongs in tiers.toml)"));
        }
        if self.questions.is_empty() {
            problems.push(anchor.problem("no [[question]] in any catalogue file (they belong in intake.toml)"));
        }
        self.problems.extend(problems);
        let problems = std::mem::take(&mut self.problems);
        if !problems.is_empty() {
            return (None, problems);
        }
        (self.build(), problems)
    }

    fn build(self) -> Option<Intake> {
        let (ruleset, _) = self.ruleset?;
        // `BTreeMap` iterates tiers in the order of `Tier::ALL`, and `finish` checked all four.
        let tiers: [TierPolicy; 4] = self.tiers.into_values().map(|p| p.policy).collect::<Vec<_>>().try_into().ok()?;
        let questions: Vec<Question> = self.questions.into_iter().map(|p| p.item).collect();
        let rules: Vec<Rule> = self.rules.into_iter().map(|p| p.item).collect();
        let digest = super::ruleset_digest(&questions, &rules);
        Some(Intake {
            questions,
            tiers,
            roles: self.roles.into_iter().map(|(r, _)| r).collect(),
            rules,
            ruleset,
            digest,
        })
    }
}

/// Registers a question or rule id in `ids`, or reports why it cannot be used. Ids are unique
/// regardless of case, since people type them.
fn claim(
    ids: &mut HashMap<String, Origin>,
    problems: &mut Vec<Problem>,
    at: &Origin,
    (what, id): (&str, &str),
    example: &str,
) -> bool {
    if let Err(reason) = check_id(what, id, IdStyle::Code, example) {
        problems.push(at.problem(reason));
        return false;
    }
    let key = id.to_ascii_uppercase();
    if let Some(first) = ids.get(&key) {
        problems.push(at.problem(format!("duplicate {what} id {id}; first defined at {first}")));
        return false;
    }
    ids.insert(key, at.clone());
    true
}

fn check_citations<T>(
    problems: &mut Vec<Problem>,
    pending: &Pending<T>,
    what: &str,
    articles: &BTreeSet<u8>,
    principles: &BTreeSet<String>,
    cited: impl Fn(&T) -> (&Vec<u8>, &Vec<String>),
) {
    let (cited_articles, cited_principles) = cited(&pending.item);
    if cited_articles.is_empty() {
        problems.push(pending.articles_at.problem(format!("{what} cites no article; list at least one")));
    }
    for number in cited_articles {
        if !articles.contains(number) {
            problems.push(
                pending.articles_at.problem(format!(
                    "{what} cites article {number}, which is not in the catalogue (articles are 1–25)"
                )),
            );
        }
    }
    if cited_principles.is_empty() {
        problems.push(
            pending.principles_at.problem(format!("{what} cites no principle; list at least one of Art. 3's P1–P6")),
        );
    }
    for principle in cited_principles {
        if !principles.contains(&principle.to_ascii_uppercase()) {
            let known: Vec<&str> = principles.iter().map(String::as_str).collect();
            problems.push(pending.principles_at.problem(format!(
                "{what} cites principle `{principle}`, which is not defined; known: {}",
                known.join(", ")
            )));
        }
    }
}

/// Checks that a condition names a question that exists (and, for an ask_if, comes earlier),
/// that the test fits the question's kind and that every option it names exists.
fn check_reference(
    problems: &mut Vec<Problem>,
    reference: &Reference,
    earlier: &HashMap<&str, &Question>,
    all: &HashMap<&str, &Origin>,
) {
    let Reference { owner, question: id, test, answer_at, test_at } = reference;
    let Some(question) = earlier.get(id.as_str()) else {
        let reason = match (all.get(id.as_str()), all.keys().find(|k| k.eq_ignore_ascii_case(id))) {
            (Some(at), _) => format!(
                "{owner} reads question {id}, which is asked later (at {at}); an ask_if can only look at earlier questions"
            ),
            (None, Some(spelt)) => {
                format!("{owner} names question `{id}`, which is not defined; did you mean {spelt}?")
            }
            (None, None) => format!("{owner} names question `{id}`, which is not in the questionnaire"),
        };
        problems.push(answer_at.problem(reason));
        return;
    };
    let kind = question.kind;
    let fits = matches!(
        (test, kind),
        (AnswerTest::Is(_), QuestionKind::YesNo)
            | (AnswerTest::IsOption(_), QuestionKind::SingleChoice)
            | (AnswerTest::Includes(_) | AnswerTest::IncludesAny(_), QuestionKind::MultiChoice)
            | (AnswerTest::AtLeast(_), QuestionKind::Number)
    );
    if !fits {
        let written = match test {
            AnswerTest::Is(value) => format!("`is = {value}`"),
            AnswerTest::IsOption(option) => format!("`is = \"{option}\"`"),
            other => format!("`{}`", other.key()),
        };
        let instead = match kind {
            QuestionKind::YesNo => "`is = true` or `is = false`",
            QuestionKind::SingleChoice => "`is = \"<option id>\"`",
            QuestionKind::MultiChoice => "`includes = \"<option id>\"` or `includes_any = [..]`",
            QuestionKind::Number => "`at_least = <number>`",
        };
        problems.push(
            test_at.problem(format!("{owner} tests {id} with {written}, but {id} is a {kind} question; use {instead}")),
        );
        return;
    }
    let named: Vec<&String> = match test {
        AnswerTest::IsOption(option) | AnswerTest::Includes(option) => vec![option],
        AnswerTest::IncludesAny(options) => options.iter().collect(),
        AnswerTest::Is(_) | AnswerTest::AtLeast(_) => Vec::new(),
    };
    for option in named {
        if question.option(option).is_none() {
            let known: Vec<&str> = question.options.iter().map(|o| o.id.as_str()).collect();
            problems.push(test_at.problem(format!(
                "{owner}: question {id} has no option `{option}`; its options are {}",
                known.join(", ")
            )));
        }
    }
}

/// Ids are what answers, assessments and the ledger refer to, so they must be easy to type and
/// never ambiguous.
fn check_id(what: &str, id: &str, style: IdStyle, example: &str) -> Result<(), String> {
    let valid = match style {
        IdStyle::Code => {
            id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
        IdStyle::Word => {
            id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
    } && id.len() <= 64;
    if valid {
        return Ok(());
    }
    let alphabet = match style {
        IdStyle::Code => "ASCII letters, digits, `-` or `.`, starting with a letter",
        IdStyle::Word => "lowercase ASCII letters, digits or `-`, starting with a letter",
    };
    Err(format!("{what} id `{id}` is not valid; use up to 64 {alphabet} (e.g. {example})"))
}
