//! From intake answers to a risk tier, with the reasons.
//!
//! The rules are catalogue data (`tiers.toml`); this module only evaluates them. A system's
//! tier is the highest tier among the rules that fire, low when none does. The result names the
//! rule set's version and digest so that an assessment records exactly which rules produced it:
//! when an organisation edits its rules, systems already tiered keep the tier they were given
//! until someone takes their intake again.

use lunli_norms::{Catalogue, Text, Tier};
use serde::{Deserialize, Serialize};

use crate::intake::Answers;

/// A rule whose condition held for the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredRule {
    pub id: String,
    pub tier: Tier,
    /// Why, in words a practitioner understands.
    pub reason: Text,
    pub articles: Vec<u8>,
    pub principles: Vec<String>,
}

/// The outcome of tiering one answer set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tiering {
    pub tier: Tier,
    /// Every rule that fired, highest tier first, then in catalogue order.
    pub fired: Vec<FiredRule>,
    pub ruleset_version: String,
    /// SHA-256 of the questions and rules that produced this tiering.
    pub ruleset_digest: String,
    /// Ids of the controls the tier requires (tiers are cumulative), in catalogue order; none
    /// for a prohibited system.
    pub required_controls: Vec<String>,
    /// Roles that must each sign off, in order; none for a prohibited system.
    pub signoff_roles: Vec<String>,
    /// Months until the next review; none for a prohibited system, or a tier without periodic
    /// review.
    pub review_months: Option<u32>,
}

impl Tiering {
    /// Art. 20: a prohibited system is blocked. It cannot be assessed or approved, only stopped
    /// or redesigned and taken through intake again.
    pub fn is_blocked(&self) -> bool {
        self.tier == Tier::Prohibited
    }

    /// The ids of the rules that fired, in the order of [`Tiering::fired`].
    pub fn fired_ids(&self) -> Vec<&str> {
        self.fired.iter().map(|r| r.id.as_str()).collect()
    }
}

/// Tiers `answers` with the catalogue's rules. Pure: no clock, no storage, no output.
///
/// The answers should have been [validated](Answers::validate) against the same catalogue;
/// an answer that is missing or of the wrong kind simply makes the tests on it false.
pub fn tier(answers: &Answers, catalogue: &Catalogue) -> Tiering {
    let mut fired: Vec<FiredRule> = catalogue
        .rules()
        .iter()
        .filter(|rule| answers.holds(&rule.when))
        .map(|rule| FiredRule {
            id: rule.id.clone(),
            tier: rule.tier,
            reason: rule.reason.clone(),
            articles: rule.articles.clone(),
            principles: rule.principles.clone(),
        })
        .collect();
    // Stable: rules of one tier keep their catalogue order.
    fired.sort_by_key(|rule| std::cmp::Reverse(rule.tier));
    let tier = fired.first().map_or(Tier::Low, |rule| rule.tier);

    let policy = catalogue.tier_policy(tier);
    // A prohibited system is blocked outright (Art. 20): no controls to work through and no one
    // who could sign it off, whatever the catalogue's policy table says.
    let (required_controls, signoff_roles, review_months) = if tier == Tier::Prohibited {
        (Vec::new(), Vec::new(), None)
    } else {
        (
            catalogue.controls().iter().filter(|c| tier.requires(c.tier)).map(|c| c.id.clone()).collect(),
            policy.signoff_roles.clone(),
            policy.review_months,
        )
    };

    Tiering {
        tier,
        fired,
        ruleset_version: catalogue.ruleset().version.clone(),
        ruleset_digest: catalogue.ruleset_digest().to_string(),
        required_controls,
        signoff_roles,
        review_months,
    }
}
