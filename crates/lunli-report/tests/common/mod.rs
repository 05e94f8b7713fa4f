//! A small inventory in a real embedded store: four people, a medium-tier system taken through
//! intake, assessment, evidence (a file, an attestation, an audit), submission and sign-off,
//! a suspension, consents — everything a report shows.

#![allow(dead_code)]

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_governance::assessment::{ControlStatus, EvidenceItem};
use lunli_governance::incident::{NewIncident, Severity};
use lunli_governance::intake::Answers;
use lunli_governance::review::{HumanOutcome, NewReview};
use lunli_governance::runtime::{DecisionRequest, Mode, Outcome};
use lunli_governance::{Actor, Governance, PendingEvent, Person, System, Training};
use lunli_norms::Catalogue;
use lunli_store::SqliteStore;
use serde_json::json;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
    pub catalogue: Catalogue,
}

pub fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

const SYSTEM: &str = r#"
id: faq-router
name: 客服问题分流 FAQ router
description: Routes customer questions to the right FAQ page or to a human agent.
owner: wang-fang
roles: [user]
purpose: Route internal staff questions to the right help page.
purposes: [route]
sectors: [retail]
deployment: { exposure: internal, regions: [CN] }
stage: testing
model: { source: in-house, name: tfidf-router 1.0 }
data_sources:
  - { name: Past help-desk tickets (anonymised), legal_basis: not-personal }
functions: [Suggests the three most relevant help pages.]
limitations: [Does not understand images or attachments.]
"#;

const ANSWERS: &str = r#"
Q-INTERNAL-ONLY: true
Q-PUBLIC-CHINA: false
Q-SCALE: 500
Q-PI: true
Q-SENSITIVE-PI: []
Q-LAWFUL-BASIS: consent
Q-PI-NEW-PURPOSE: false
Q-MINORS: false
Q-VULNERABLE: []
Q-WORKPLACE: false
Q-DECISIONS: []
Q-AUTONOMY: recommends
Q-SAFETY-CRITICAL: []
Q-GENERATED-CONTENT: []
Q-PUBLIC-OPINION: false
Q-THIRD-PARTY-MODEL: false
Q-THIRD-PARTY-DATA: false
Q-CROSS-BORDER: false
Q-LEARNS-IN-USE: false
Q-PROHIBITED-PURPOSE: []
"#;

/// The summary `lunli audit quality --system` records, cut to what a report reads.
pub fn quality_summary() -> serde_json::Value {
    json!({
        "audit": "quality",
        "inputs": [{ "path": "tickets.csv", "sha256": "ab".repeat(32) }],
        "rows": 1000,
        "dimensions": [
            { "dimension": "completeness", "checks": 6, "findings": 1 },
            { "dimension": "timeliness", "checks": 1, "findings": 0 },
            { "dimension": "consistency", "checks": 2, "findings": 0 },
            { "dimension": "normativeness", "checks": 3, "findings": 0 },
            { "dimension": "accuracy", "checks": 0, "findings": 0 }
        ],
        "findings": [{ "check": "quality.null_rate", "dimension": "completeness", "severity": "low",
                       "message": { "zh": "列 topic：缺失率 1.20%", "en": "column topic: 1.20% missing" } }],
        "passed": true
    })
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let catalogue = Catalogue::bundled().expect("catalogue");
        Self { dir, store, catalogue }
    }

    pub fn gov(&self) -> Governance<'_, SqliteStore> {
        Governance::new(&self.catalogue, &self.store)
    }

    /// Registers, tiers and assesses `faq-router`; returns the ids of its required controls.
    pub fn faq_router(&self) -> Vec<String> {
        let gov = self.gov();
        for (id, name, role) in [
            ("wang-fang", "王芳", "owner"),
            ("sun-li", "孙丽", "owner"),
            ("li-wei", "李伟", "data"),
            ("zhao-min", "赵敏", "legal"),
        ] {
            let person = Person {
                id: id.into(),
                name: name.into(),
                email: None,
                roles: vec![role.into()],
                training: vec![Training {
                    course: "AI ethics".into(),
                    completed: Date::constant(2026, 1, 5),
                    expires: Date::constant(2027, 1, 5),
                }],
            };
            gov.add_person("admin", person, at("2026-03-01T09:00:00Z")).expect("person");
        }
        let system: System = serde_yaml_ng::from_str(SYSTEM).expect("system yaml");
        gov.register_system("wang-fang", system, at("2026-03-01T09:05:00Z")).expect("register");
        let answers = Answers::from_yaml(ANSWERS, &self.catalogue).expect("answers");
        gov.intake("wang-fang", "faq-router", &answers, at("2026-03-01T09:10:00Z")).expect("intake");
        let assessment = gov.open_assessment("wang-fang", "faq-router", at("2026-03-01T09:15:00Z")).expect("assess");
        assessment.controls.iter().map(|c| c.control.clone()).collect()
    }

    /// Resolves every control with evidence, submits, and signs off.
    pub fn approve_faq_router(&self, controls: &[String]) {
        let gov = self.gov();
        let t = at("2026-03-02T10:00:00Z");
        for (i, control) in controls.iter().enumerate() {
            let definition = self.catalogue.control(control).expect("control");
            let accepts = &definition.evidence.accepts;
            if definition.automation == Some(lunli_norms::Automation::AuditPii) {
                let why = "the tickets were pseudonymised before training; see C-11-02";
                gov.set_control("li-wei", "faq-router", control, ControlStatus::NotApplicable, why, "", t)
                    .expect("n/a");
                continue;
            }
            let item = if definition.automation == Some(lunli_norms::Automation::AuditQuality) {
                EvidenceItem::Audit { audit: "quality".into(), passed: true, summary: quality_summary() }
            } else if accepts.contains(&lunli_norms::EvidenceType::File) {
                EvidenceItem::File { name: format!("{control}.md"), sha256: format!("{i:064x}"), size: 100 + i as u64 }
            } else if accepts.contains(&lunli_norms::EvidenceType::Attestation) {
                EvidenceItem::Attestation { text: format!("{control} is done.") }
            } else {
                // Runtime evidence comes from the gateway itself; nothing to attach.
                gov.set_control("li-wei", "faq-router", control, ControlStatus::Met, "", "gateway", t).expect("met");
                continue;
            };
            gov.add_evidence("li-wei", "faq-router", control, item, "", t).expect("evidence");
            gov.set_control("li-wei", "faq-router", control, ControlStatus::Met, "", "", t).expect("met");
        }
        gov.submit("wang-fang", "faq-router", at("2026-03-02T11:00:00Z")).expect("submit");
        gov.sign_off("sun-li", "faq-router", "owner", "ok", at("2026-03-02T12:00:00Z")).expect("sign");
        gov.sign_off("li-wei", "faq-router", "data", "", at("2026-03-02T12:10:00Z")).expect("sign");
        gov.sign_off("zhao-min", "faq-router", "legal", "consent text reviewed", at("2026-03-02T12:20:00Z"))
            .expect("sign");
    }

    pub fn runtime(&self) {
        let gov = self.gov();
        gov.set_consent("svc", "faq-router", "u-1", true, Mode::Ai, at("2026-03-03T08:00:00Z")).expect("consent");
        gov.set_consent("svc", "faq-router", "u-2", false, Mode::Human, at("2026-03-03T08:01:00Z")).expect("consent");
        gov.suspend(
            &Actor::person("wang-fang"),
            "faq-router",
            None,
            "complaints about wrong routing",
            at("2026-03-03T09:00:00Z"),
        )
        .expect("suspend");
        let new = NewIncident {
            system: "faq-router".into(),
            title: "routes refund questions to the wrong page".into(),
            description: String::new(),
            severity: Severity::Medium,
            owner: None,
            decisions: vec![],
            controls: vec![],
            feedback: None,
        };
        gov.open_incident(&Actor::person("zhao-min"), new, at("2026-03-03T09:30:00Z")).expect("incident");
        let decision = |id: &str| {
            let request = DecisionRequest { system: "faq-router".into(), subject: "u-3".into(), ..Default::default() };
            let event = PendingEvent::decision(
                "key:svc".into(),
                at("2026-03-03T10:00:00Z"),
                id,
                &request,
                Outcome::HumanReview,
                &[],
            );
            let review = NewReview {
                system: "faq-router".into(),
                decision: id.into(),
                subject: "u-3".into(),
                purpose: Some("route".into()),
                confidence: Some(0.4),
                reasons: vec!["low_confidence".into()],
                created_at: at("2026-03-03T10:00:00Z"),
            };
            (event, Some(review))
        };
        gov.record_decisions(&[decision("d-1"), decision("d-2")]).expect("decisions");
        gov.claim_review("li-wei", 1, at("2026-03-03T10:05:00Z")).expect("claim");
        gov.resolve_review("li-wei", 1, HumanOutcome::Reject, "wrong page", at("2026-03-03T10:06:00Z"))
            .expect("resolve");
    }
}
