//! Tiering by table: answer sets with the tier they must get and exactly the rules that must
//! fire, over the workspace's own questionnaire and rules. Every prohibited path, the default
//! low, and the combinations that raise a system to high are here.

mod common;

use std::collections::BTreeSet;

use common::{answers, catalogue, catalogue_file, catalogue_with, workspace};
use lunli_governance::intake::Answers;
use lunli_governance::tiering::{Tiering, tier};
use lunli_norms::{Catalogue, Tier};

struct Case {
    name: &'static str,
    /// YAML laid over the baseline (which fires nothing).
    changes: &'static str,
    tier: Tier,
    fired: &'static [&'static str],
}

const CASES: &[Case] = &[
    // ── low ──
    Case { name: "nothing applies: low by default", changes: "{}", tier: Tier::Low, fired: &[] },
    Case {
        name: "internal productivity aid",
        changes: "Q-INTERNAL-ONLY: true",
        tier: Tier::Low,
        fired: &["R-LOW-INTERNAL"],
    },
    Case {
        name: "internal aid on a vendor's model stays on the fast track",
        changes: "{Q-INTERNAL-ONLY: true, Q-THIRD-PARTY-MODEL: true}",
        tier: Tier::Low,
        fired: &["R-LOW-INTERNAL"],
    },
    Case {
        name: "generated text kept inside the organisation",
        changes: "Q-GENERATED-CONTENT: [text]",
        tier: Tier::Low,
        fired: &[],
    },
    Case { name: "just under the scale threshold", changes: "Q-SCALE: 99999", tier: Tier::Low, fired: &[] },
    // ── medium ──
    Case {
        name: "a vendor's model outside internal productivity",
        changes: "Q-THIRD-PARTY-MODEL: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-THIRD-PARTY-MODEL"],
    },
    Case {
        name: "personal information with consent",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-PI"],
    },
    Case {
        name: "sensitive personal information at small scale",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [health], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false, Q-SCALE: 5000}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI"],
    },
    Case {
        name: "sensitive personal information one short of a million",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [location], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false, Q-SCALE: 999999}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI", "R-MEDIUM-LARGE-SCALE"],
    },
    Case {
        name: "minors without personal information",
        changes: "Q-MINORS: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-VULNERABLE"],
    },
    Case {
        name: "public-facing with a human alternative",
        changes: "{Q-PUBLIC-CHINA: true, Q-ALTERNATIVE: true}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-PUBLIC"],
    },
    Case {
        name: "credit decisions with every decline reviewed",
        changes: "{Q-DECISIONS: [credit], Q-HUMAN-REVIEW: adverse-decisions}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "personalised prices, each reviewed",
        changes: "{Q-DECISIONS: [pricing], Q-HUMAN-REVIEW: every-decision}",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "acts on its own under supervision",
        changes: "Q-AUTONOMY: acts-supervised",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-SUPERVISED-AUTONOMY"],
    },
    Case {
        name: "keeps learning in use",
        changes: "Q-LEARNS-IN-USE: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-LEARNS-IN-USE"],
    },
    Case {
        name: "a hundred thousand people",
        changes: "Q-SCALE: 100000",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-LARGE-SCALE"],
    },
    Case {
        name: "data leaves China",
        changes: "Q-CROSS-BORDER: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-CROSS-BORDER"],
    },
    Case {
        name: "data from a vendor",
        changes: "Q-THIRD-PARTY-DATA: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-THIRD-PARTY-DATA"],
    },
    Case {
        name: "scores the organisation's staff",
        changes: "Q-WORKPLACE: true",
        tier: Tier::Medium,
        fired: &["R-MEDIUM-WORKPLACE"],
    },
    // ── high ──
    Case {
        name: "sensitive personal information of a million people",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [location], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false, Q-SCALE: 1000000}",
        tier: Tier::High,
        fired: &["R-HIGH-SENSITIVE-AT-SCALE", "R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI", "R-MEDIUM-LARGE-SCALE"],
    },
    Case {
        name: "personal information without a lawful basis",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [], Q-LAWFUL-BASIS: not-established, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-NO-LAWFUL-BASIS", "R-MEDIUM-PI"],
    },
    Case {
        name: "personal information put to a new purpose",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: true}",
        tier: Tier::High,
        fired: &["R-HIGH-PI-NEW-PURPOSE", "R-MEDIUM-PI"],
    },
    Case {
        name: "minors and personal information",
        changes: "{Q-MINORS: true, Q-PI: true, Q-SENSITIVE-PI: [], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-MINORS-PI", "R-MEDIUM-PI", "R-MEDIUM-VULNERABLE"],
    },
    Case {
        name: "children's data without saying minors are users",
        changes: "{Q-PI: true, Q-SENSITIVE-PI: [minors-data], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-MINORS-PI", "R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI"],
    },
    Case {
        name: "face recognition of the public",
        changes: "{Q-PUBLIC-CHINA: true, Q-ALTERNATIVE: true, Q-PI: true, Q-SENSITIVE-PI: [biometric], Q-LAWFUL-BASIS: consent, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-BIOMETRIC-PUBLIC", "R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI", "R-MEDIUM-PUBLIC"],
    },
    Case {
        name: "sensitive personal information sent abroad",
        changes: "{Q-CROSS-BORDER: true, Q-PI: true, Q-SENSITIVE-PI: [financial], Q-LAWFUL-BASIS: contract, Q-PI-NEW-PURPOSE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-CROSS-BORDER-SENSITIVE", "R-MEDIUM-PI", "R-MEDIUM-SENSITIVE-PI", "R-MEDIUM-CROSS-BORDER"],
    },
    Case {
        name: "hiring decisions with no human review",
        changes: "{Q-DECISIONS: [hiring], Q-HUMAN-REVIEW: none}",
        tier: Tier::High,
        fired: &["R-HIGH-DECISIONS-UNREVIEWED", "R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "education decisions reviewed only on appeal",
        changes: "{Q-DECISIONS: [education], Q-HUMAN-REVIEW: on-appeal}",
        tier: Tier::High,
        fired: &["R-HIGH-DECISIONS-UNREVIEWED", "R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "health decisions even when every one is reviewed",
        changes: "{Q-DECISIONS: [health], Q-HUMAN-REVIEW: every-decision}",
        tier: Tier::High,
        fired: &["R-HIGH-DECISIONS-HEALTH-JUSTICE", "R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "public administration with no review",
        changes: "{Q-DECISIONS: [public-services, pricing], Q-HUMAN-REVIEW: none}",
        tier: Tier::High,
        fired: &["R-HIGH-DECISIONS-UNREVIEWED", "R-HIGH-DECISIONS-HEALTH-JUSTICE", "R-MEDIUM-DECISIONS"],
    },
    Case {
        name: "education decisions about older people",
        changes: "{Q-VULNERABLE: [elderly], Q-DECISIONS: [education], Q-HUMAN-REVIEW: every-decision}",
        tier: Tier::High,
        fired: &["R-HIGH-VULNERABLE-DECISIONS", "R-MEDIUM-DECISIONS", "R-MEDIUM-VULNERABLE"],
    },
    Case {
        name: "public service for disabled people with no way round the AI",
        changes: "{Q-VULNERABLE: [disabled], Q-PUBLIC-CHINA: true, Q-ALTERNATIVE: false}",
        tier: Tier::High,
        fired: &["R-HIGH-VULNERABLE-NO-ALTERNATIVE", "R-MEDIUM-PUBLIC", "R-MEDIUM-VULNERABLE"],
    },
    Case {
        name: "drives vehicles",
        changes: "Q-SAFETY-CRITICAL: [vehicles]",
        tier: Tier::High,
        fired: &["R-HIGH-SAFETY-CRITICAL"],
    },
    Case {
        name: "runs a grid and a plant",
        changes: "Q-SAFETY-CRITICAL: [critical-infrastructure, industrial-control]",
        tier: Tier::High,
        fired: &["R-HIGH-SAFETY-CRITICAL"],
    },
    Case {
        name: "shapes public opinion",
        changes: "Q-PUBLIC-OPINION: true",
        tier: Tier::High,
        fired: &["R-HIGH-PUBLIC-OPINION"],
    },
    Case {
        name: "public chatbot that writes replies",
        changes: "{Q-PUBLIC-CHINA: true, Q-ALTERNATIVE: true, Q-GENERATED-CONTENT: [text]}",
        tier: Tier::High,
        fired: &["R-HIGH-GENERATED-PUBLIC", "R-MEDIUM-PUBLIC"],
    },
    Case {
        name: "acts with nobody able to step in",
        changes: "Q-AUTONOMY: acts-unsupervised",
        tier: Tier::High,
        fired: &["R-HIGH-UNSUPERVISED"],
    },
    // ── prohibited: one path per purpose Art. 20 forbids ──
    Case {
        name: "endangers national security",
        changes: "Q-PROHIBITED-PURPOSE: [endanger-national-security]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-SECURITY"],
    },
    Case {
        name: "endangers public or production safety",
        changes: "Q-PROHIBITED-PURPOSE: [endanger-public-safety]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-SAFETY"],
    },
    Case {
        name: "fraud",
        changes: "Q-PROHIBITED-PURPOSE: [illegal-activity]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-ILLEGAL"],
    },
    Case {
        name: "covert manipulation",
        changes: "Q-PROHIBITED-PURPOSE: [covert-manipulation]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-MANIPULATION"],
    },
    Case {
        name: "mass surveillance and social scoring",
        changes: "Q-PROHIBITED-PURPOSE: [mass-surveillance]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-SURVEILLANCE"],
    },
    Case {
        name: "a non-compliant product",
        changes: "Q-PROHIBITED-PURPOSE: [non-compliant-product]",
        tier: Tier::Prohibited,
        fired: &["R-PROHIBITED-NONCOMPLIANT"],
    },
    Case {
        name: "prohibited outranks everything high",
        changes: "{Q-PROHIBITED-PURPOSE: [covert-manipulation, illegal-activity], Q-MINORS: true, Q-PUBLIC-OPINION: true, Q-INTERNAL-ONLY: true}",
        tier: Tier::Prohibited,
        fired: &[
            "R-PROHIBITED-ILLEGAL",
            "R-PROHIBITED-MANIPULATION",
            "R-HIGH-PUBLIC-OPINION",
            "R-MEDIUM-VULNERABLE",
            "R-LOW-INTERNAL",
        ],
    },
];

fn run(case: &Case, catalogue: &Catalogue) -> Tiering {
    tier(&answers(case.changes, catalogue), catalogue)
}

#[test]
fn the_table() {
    let catalogue = catalogue();
    assert!(CASES.len() >= 25);
    let mut failures = Vec::new();
    for case in CASES {
        let tiering = run(case, &catalogue);
        let fired: BTreeSet<&str> = tiering.fired_ids().into_iter().collect();
        let expected: BTreeSet<&str> = case.fired.iter().copied().collect();
        if tiering.tier != case.tier || fired != expected {
            failures.push(format!(
                "{}: got {} {:?}, expected {} {:?}",
                case.name, tiering.tier, fired, case.tier, expected
            ));
        }
        // Highest tier first, so the first reason a person reads is the one that decided.
        let tiers: Vec<Tier> = tiering.fired.iter().map(|r| r.tier).collect();
        assert!(tiers.windows(2).all(|w| w[0] >= w[1]), "{}: fired out of order: {tiers:?}", case.name);
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_rule_is_exercised_by_the_table() {
    let catalogue = catalogue();
    let exercised: BTreeSet<&str> = CASES.iter().flat_map(|c| c.fired.iter().copied()).collect();
    for rule in catalogue.rules() {
        assert!(exercised.contains(rule.id.as_str()), "no case fires {}", rule.id);
    }
    for path in catalogue.rules().iter().filter(|r| r.tier == Tier::Prohibited) {
        let alone = CASES.iter().any(|c| c.tier == Tier::Prohibited && c.fired == [path.id.as_str()]);
        assert!(alone, "{} has no case of its own", path.id);
    }
}

#[test]
fn a_prohibited_system_gets_no_controls_and_no_one_to_sign() {
    let catalogue = catalogue();
    let tiering = tier(&answers("Q-PROHIBITED-PURPOSE: [mass-surveillance]", &catalogue), &catalogue);
    assert!(tiering.is_blocked());
    assert!(tiering.required_controls.is_empty());
    assert!(tiering.signoff_roles.is_empty());
    assert_eq!(tiering.review_months, None);
    let rule = &tiering.fired[0];
    assert_eq!(rule.reason.en, "Unlawful mass surveillance or social scoring by the organisation");
    assert!(rule.articles.contains(&20));
}

#[test]
fn each_tier_brings_its_roles_review_period_and_controls() {
    let catalogue = catalogue();
    let low = tier(&answers("{}", &catalogue), &catalogue);
    assert_eq!(low.tier, Tier::Low);
    assert_eq!(low.signoff_roles, ["owner"]);
    assert_eq!(low.review_months, Some(24));
    assert_eq!(low.required_controls, ["T-05-01"]);
    assert!(!low.is_blocked());

    let medium = tier(&answers("Q-WORKPLACE: true", &catalogue), &catalogue);
    assert_eq!(medium.signoff_roles, ["owner", "data", "legal"]);
    assert_eq!(medium.review_months, Some(12));
    assert_eq!(medium.required_controls, ["T-05-01"]);

    let high = tier(&answers("Q-PUBLIC-OPINION: true", &catalogue), &catalogue);
    assert_eq!(high.signoff_roles, ["owner", "data", "legal", "ethics-committee", "management"]);
    assert_eq!(high.review_months, Some(6));
    assert_eq!(high.required_controls, ["T-05-01", "T-13-01"], "tiers are cumulative");
}

#[test]
fn a_tiering_names_the_rule_set_and_round_trips_through_json() {
    let catalogue = catalogue();
    let tiering = tier(&answers("{Q-DECISIONS: [hiring], Q-HUMAN-REVIEW: none}", &catalogue), &catalogue);
    assert_eq!(tiering.ruleset_version, catalogue.ruleset().version);
    assert_eq!(tiering.ruleset_digest, catalogue.ruleset_digest());
    let json = serde_json::to_value(&tiering).expect("json");
    assert_eq!(json["tier"], "high");
    assert_eq!(json["fired"][0]["id"], "R-HIGH-DECISIONS-UNREVIEWED");
    assert_eq!(
        json["fired"][0]["reason"]["zh"],
        "对招聘、信贷、定价、教育、医疗或公共服务作出决定，且不利决定生效前没有人工审核"
    );
    let back: Tiering = serde_json::from_value(json).expect("back");
    assert_eq!(back, tiering);
}

#[test]
fn answers_round_trip_through_json_for_storage() {
    let catalogue = catalogue();
    let given = answers(
        "{Q-PI: true, Q-SENSITIVE-PI: [financial], Q-LAWFUL-BASIS: contract, Q-PI-NEW-PURPOSE: false, Q-SCALE: 2000000}",
        &catalogue,
    );
    let json = serde_json::to_value(&given).expect("json");
    assert_eq!(json["Q-PI"], true);
    assert_eq!(json["Q-SCALE"], 2_000_000);
    assert_eq!(json["Q-LAWFUL-BASIS"], "contract");
    assert_eq!(json["Q-SENSITIVE-PI"], serde_json::json!(["financial"]));
    let back: Answers = serde_json::from_value(json).expect("back");
    assert_eq!(back, given);
    back.validate(&catalogue).expect("still valid");
    assert_eq!(tier(&back, &catalogue), tier(&given, &catalogue));
}

// ── the rule set's digest ───────────────────────────────────────────────────────────────────────

#[test]
fn the_digest_changes_when_a_rule_changes() {
    let base = catalogue();
    let tiers = catalogue_file("tiers.toml");

    let threshold = tiers.replace("at_least = 1000000 }", "at_least = 500000 }");
    assert_ne!(threshold, tiers);
    assert_ne!(catalogue_with(&[("tiers.toml", &threshold)]).ruleset_digest(), base.ruleset_digest());

    let retiered = tiers.replacen(
        "id = \"R-MEDIUM-WORKPLACE\"\ntier = \"medium\"",
        "id = \"R-MEDIUM-WORKPLACE\"\ntier = \"high\"",
        1,
    );
    assert_ne!(retiered, tiers);
    let retiered = catalogue_with(&[("tiers.toml", &retiered)]);
    assert_ne!(retiered.ruleset_digest(), base.ruleset_digest());
    // The same answers now tier differently, and the tiering says which rule set decided.
    let given = answers("Q-WORKPLACE: true", &base);
    let before = tier(&given, &base);
    let after = tier(&given, &retiered);
    assert_eq!((before.tier, after.tier), (Tier::Medium, Tier::High));
    assert_ne!(before.ruleset_digest, after.ruleset_digest);

    let reworded =
        tiers.replace("reason.en = \"Processes personal information\"", "reason.en = \"Handles personal data\"");
    assert_ne!(reworded, tiers);
    assert_ne!(catalogue_with(&[("tiers.toml", &reworded)]).ruleset_digest(), base.ruleset_digest());
}

#[test]
fn the_digest_ignores_whitespace_comments_and_layout() {
    let base = catalogue();
    let tiers = catalogue_file("tiers.toml");
    let intake = catalogue_file("intake.toml");

    let spaced = tiers
        .replace("tier = \"high\"", "tier   =   \"high\"    # raised on purpose")
        .replace("\n[[rule]]\n", "\n\n# ─ another rule ─\n\n[[rule]]\n")
        .replace("when = { answer = \"Q-PI\", is = true }", "when = {answer=\"Q-PI\",is=true}");
    assert_ne!(spaced, tiers);
    // Moving the tiers and roles to their own file is layout too.
    let split_at = spaced.find("# ── Prohibited").expect("section");
    let (policies, rules) = spaced.split_at(split_at);
    let policies = policies.replace("[ruleset]\nversion = \"2026.1\"\n", "");
    let rules = format!("[ruleset]\nversion = \"2026.1\"\n{rules}");
    let commented_intake = intake.replace("\n[[question]]\n", "\n# asked next:\n[[question]]\n");
    let same =
        catalogue_with(&[("tiers.toml", &rules), ("policies.toml", &policies), ("intake.toml", &commented_intake)]);
    assert_eq!(same.ruleset_digest(), base.ruleset_digest());
    assert_eq!(same.rules(), base.rules());
}

// ── the bundled example ─────────────────────────────────────────────────────────────────────────

const CREDIT_SCORING_FIRED: &[&str] = &[
    "R-HIGH-SENSITIVE-AT-SCALE",
    "R-MEDIUM-PI",
    "R-MEDIUM-SENSITIVE-PI",
    "R-MEDIUM-PUBLIC",
    "R-MEDIUM-DECISIONS",
    "R-MEDIUM-THIRD-PARTY-DATA",
    "R-MEDIUM-SUPERVISED-AUTONOMY",
    "R-MEDIUM-LARGE-SCALE",
];

#[test]
fn the_credit_scoring_example_is_high() {
    let catalogue = catalogue();
    let text = common::read(&workspace().join("examples/credit-scoring/intake.yaml"));
    let given = Answers::from_yaml(&text, &catalogue).unwrap_or_else(|e| panic!("{e}"));
    let tiering = tier(&given, &catalogue);
    assert_eq!(tiering.tier, Tier::High);
    assert_eq!(tiering.fired_ids(), CREDIT_SCORING_FIRED);
    assert_eq!(tiering.fired[0].reason.en, "Processes sensitive personal information of a million people or more");
}

#[test]
fn the_credit_scoring_example_is_high_with_the_bundled_catalogue() {
    let catalogue = Catalogue::bundled().unwrap_or_else(|e| panic!("bundled catalogue must be valid:\n{e}"));
    let text = common::read(&workspace().join("examples/credit-scoring/intake.yaml"));
    let given = Answers::from_yaml(&text, &catalogue).unwrap_or_else(|e| panic!("{e}"));
    let tiering = tier(&given, &catalogue);
    assert_eq!(tiering.tier, Tier::High);
    assert_eq!(tiering.fired_ids(), CREDIT_SCORING_FIRED);
    // A high-tier system needs every control, since tiers are cumulative.
    let all: Vec<&str> = catalogue.controls().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(tiering.required_controls, all);
    assert_eq!(tiering.signoff_roles, ["owner", "data", "legal", "ethics-committee", "management"]);
}
