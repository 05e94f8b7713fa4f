//! The bundled catalogue's coverage promises: every principle and every specific norm is broken
//! into enough checkable controls, and each control is complete.

use std::collections::BTreeMap;

use lunli_norms::{Catalogue, ControlFilter, ControlKind, EvidenceType, SPECIFIC_NORMS, Tier};

fn catalogue() -> Catalogue {
    Catalogue::bundled().unwrap_or_else(|e| panic!("bundled catalogue must be valid:\n{e}"))
}

#[test]
fn at_least_sixty_controls() {
    let n = catalogue().controls().len();
    assert!(n >= 60, "only {n} controls");
}

#[test]
fn every_specific_norm_has_at_least_two_controls() {
    let catalogue = catalogue();
    for number in SPECIFIC_NORMS {
        let n = catalogue.controls_for_article(number).len();
        assert!(n >= 2, "article {number} has {n} controls");
    }
}

#[test]
fn every_principle_has_a_control() {
    let catalogue = catalogue();
    for principle in catalogue.principles() {
        let filter = ControlFilter { principle: Some(principle.id.clone()), ..Default::default() };
        assert!(!catalogue.controls_matching(&filter).is_empty(), "{} has no control", principle.id);
    }
}

#[test]
fn control_ids_name_their_primary_article() {
    for control in catalogue().controls() {
        let prefix = format!("C-{:02}-", control.primary_article());
        assert!(control.id.starts_with(&prefix), "{} should start with {prefix}", control.id);
        let seq = &control.id[prefix.len()..];
        assert!(
            seq.len() == 2 && seq.chars().all(|c| c.is_ascii_digit()),
            "{}: sequence must be two digits",
            control.id
        );
    }
}

#[test]
fn evidence_fits_the_kind_of_control() {
    for control in catalogue().controls() {
        let accepts = &control.evidence.accepts;
        let fits = match control.kind {
            ControlKind::Attestation => accepts.contains(&EvidenceType::Attestation),
            ControlKind::Document => accepts.contains(&EvidenceType::File) || accepts.contains(&EvidenceType::Link),
            ControlKind::AutomatedTest => accepts.contains(&EvidenceType::Audit),
            ControlKind::RuntimeGuard => accepts.contains(&EvidenceType::Runtime),
        };
        assert!(fits, "{} is a {} but accepts {:?}", control.id, control.kind, accepts);
        if matches!(control.kind, ControlKind::AutomatedTest | ControlKind::RuntimeGuard) {
            assert!(control.automation.is_some(), "{} is a {} with no automation", control.id, control.kind);
        }
    }
}

#[test]
fn every_tier_and_kind_is_used_and_tiers_are_cumulative() {
    let catalogue = catalogue();
    let mut by_tier = BTreeMap::new();
    for control in catalogue.controls() {
        *by_tier.entry(control.tier).or_insert(0) += 1;
    }
    for tier in [Tier::Low, Tier::Medium, Tier::High] {
        assert!(by_tier.get(&tier).copied().unwrap_or(0) > 0, "no {tier} control");
    }
    for kind in ControlKind::ALL {
        assert!(catalogue.controls().iter().any(|c| c.kind == kind), "no {kind} control");
    }
    let count = |tier| catalogue.controls_matching(&ControlFilter { tier: Some(tier), ..Default::default() }).len();
    assert!(count(Tier::Low) < count(Tier::Medium) && count(Tier::Medium) < count(Tier::High));
    assert_eq!(count(Tier::High), catalogue.controls().len());
    assert_eq!(count(Tier::Prohibited), 0, "a prohibited system is blocked, not assessed");
}

#[test]
fn texts_are_written_for_people_in_both_languages() {
    for control in catalogue().controls() {
        assert!(control.title.en.chars().count() <= 90, "{}: English title too long", control.id);
        assert!(control.title.zh.chars().count() <= 40, "{}: Chinese title too long", control.id);
        assert!(control.guidance.en.len() >= 60, "{}: guidance too thin", control.id);
        assert!(control.guidance.zh.chars().count() >= 20, "{}: Chinese guidance too thin", control.id);
        assert!(
            control.guidance.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{}: Chinese guidance has no Chinese",
            control.id
        );
    }
}
