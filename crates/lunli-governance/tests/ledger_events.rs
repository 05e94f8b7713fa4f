//! Every ledger action, pinned: the action string, subject and payload each [`LedgerEvent`]
//! variant stores. Existing ledgers hold these entries and verifiers and reports read them, so a
//! change here changes the hash of every entry made from then on; the snapshot makes it a
//! reviewed decision. The records come from real workflow runs (`tests/data/ledger-records.json`).

use jiff::Timestamp;
use lunli_governance::assessment::{Assessment, ControlStatus, EvidenceItem, SignOff};
use lunli_governance::incident::{Feedback, Incident};
use lunli_governance::ledger_event::{ACTIONS, ReportFile, ReportIssue};
use lunli_governance::monitoring::{Alert, OutcomeReport, Reading};
use lunli_governance::playbook::{Contact, Loosening};
use lunli_governance::review::{HumanOutcome, ReviewItem, ReviewStatus};
use lunli_governance::runtime::{Consent, DecisionRequest, Impact, Outcome, Reason, Suspension};
use lunli_governance::store::{ActivePack, ApiKey, IntakeRecord, Payload, SystemVersion};
use lunli_governance::{DueDiligenceAnswer, LedgerEvent, PendingEvent, Person, Training, Vendor};
use lunli_norms::{Text, Tier};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const RECORDS: &str = include_str!("data/ledger-records.json");

struct Records(Value);

impl Records {
    fn get<T: DeserializeOwned>(&self, name: &str) -> T {
        let value = self.0.get(name).cloned().unwrap_or_else(|| panic!("no record {name} in the fixture"));
        serde_json::from_value(value).unwrap_or_else(|e| panic!("record {name}: {e}"))
    }
}

fn at() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().expect("time")
}

fn assessment() -> Assessment {
    Assessment {
        id: 7,
        system: "meeting-notes".into(),
        version: 2,
        tier: Tier::Low,
        ruleset_version: "2026.1".into(),
        ruleset_digest: "e1c3".into(),
        required_roles: vec!["owner".into()],
        review_months: Some(24),
        controls: Vec::new(),
        created_by: "zhou-qing".into(),
        created_at: at(),
        submitted_by: Some("zhou-qing".into()),
        submitted_at: Some(at()),
        signoffs: Vec::new(),
        approved_at: Some(at()),
        packs: Vec::new(),
    }
}

fn review(id: u64) -> ReviewItem {
    ReviewItem {
        id,
        system: "credit-scoring".into(),
        decision: "d-2".into(),
        decision_index: 10,
        subject: "u1".into(),
        purpose: Some("credit-application".into()),
        confidence: Some(0.3),
        reasons: vec!["low_confidence".into()],
        created_at: at(),
        status: ReviewStatus::Claimed,
        claimed_by: Some("li-wei".into()),
        claimed_at: Some(at()),
        resolution: None,
    }
}

#[test]
fn every_action_stores_the_same_subject_and_payload_as_before() {
    let r = Records(serde_json::from_str(RECORDS).expect("fixture JSON"));
    let person: Person = r.get("person");
    let training: Training = r.get("training");
    let vendor: Vendor = r.get("vendor");
    let answer: DueDiligenceAnswer = r.get("due_diligence");
    let version: SystemVersion = r.get("system_version");
    let intake: IntakeRecord = r.get("intake");
    let loosened: Vec<Loosening> = r.get("loosened");
    let item: EvidenceItem = r.get("evidence_item");
    let lapsed: Vec<SignOff> = r.get("lapsed_signoffs");
    let suspension: Suspension = r.get("suspension");
    let consent: Consent = r.get("consent");
    let incident: Incident = r.get("incident");
    let contacts: Vec<Contact> = r.get("contacts");
    let contacts: Vec<&Contact> = contacts.iter().collect();
    let feedback: Feedback = r.get("feedback");
    let outcomes: Vec<OutcomeReport> = r.get("outcomes");
    let alert: Alert = r.get("alert");
    let reading: Reading = r.get("reading");
    let assessment = assessment();
    let (claimed, resolved) = (review(1), review(2));
    let key = ApiKey {
        id: "lk_abc".into(),
        name: "svc".into(),
        person: Some("li-wei".into()),
        roles: vec!["service".into()],
        sha256: "never recorded".into(),
        created_by: "admin".into(),
        created_at: at(),
        revoked_at: None,
    };
    let pack = ActivePack {
        id: "bank".into(),
        version: "1.1".into(),
        digest: "d".into(),
        extends: "base".into(),
        title: Text { zh: "银行".into(), en: "Bank".into() },
        files: vec![lunli_norms::PackFile { path: "controls.yaml".into(), contents: "never recorded".into() }],
        activated_by: "admin".into(),
        activated_at: at(),
    };
    let request = DecisionRequest {
        system: "credit-scoring".into(),
        subject: "u1".into(),
        purpose: Some("credit-application".into()),
        impact: Some(Impact::High),
        confidence: Some(0.3),
        channel: Some("app".into()),
        content: None,
    };
    let reasons =
        [Reason { code: "low_confidence".into(), text: Text { zh: "置信度低".into(), en: "low".into() } }];
    let controls = vec!["C-03-05".to_string(), "C-16-01".to_string()];
    let kind = Value::from("system");

    let events = [
        LedgerEvent::PersonAdd { person: &person },
        LedgerEvent::PersonGrantRole { person: "li-wei", role: "legal" },
        LedgerEvent::PersonTraining { person: "li-wei", training: &training },
        LedgerEvent::VendorAdd { vendor: &vendor },
        LedgerEvent::VendorDueDiligence { vendor: "pboc-credit-bureau", question: "VQ-01", answer: &answer },
        LedgerEvent::SystemRegister { version: &version },
        LedgerEvent::SystemUpdate { version: &version },
        LedgerEvent::PlaybookLoosen { system: "meeting-notes", version: 2, loosened: &loosened },
        LedgerEvent::IntakeRecord { intake: &intake },
        LedgerEvent::PackActivate { pack: &pack, replaces: Some("1.0") },
        LedgerEvent::AssessmentOpen { assessment: &assessment, intake: 3, controls: &controls },
        LedgerEvent::ControlSet {
            assessment: 7,
            control: "c-16-05",
            status: ControlStatus::NotApplicable,
            justification: "The system generates no content",
            comment: "",
        },
        LedgerEvent::EvidenceAdd { assessment: 7, control: "C-16-01", evidence: 1, item: &item, note: "note" },
        LedgerEvent::AssessmentSubmit { assessment: 7 },
        LedgerEvent::AssessmentReopen { assessment: 7, reason: "bias found in review", lapsed: &lapsed },
        LedgerEvent::AssessmentSignOff { assessment: 7, role: "owner", note: "ok" },
        LedgerEvent::AssessmentApprove { assessment: &assessment },
        LedgerEvent::SystemSuspend { suspension: &suspension, incident: None },
        LedgerEvent::SystemSuspend { suspension: &suspension, incident: Some(2) },
        LedgerEvent::SystemResume { system: "meeting-notes", purpose: None, reason: "  fixed \n", lifted: &suspension },
        LedgerEvent::ConsentSet { consent: &consent },
        LedgerEvent::KeyAdd { key: &key },
        LedgerEvent::KeyRevoke { key: "lk_abc" },
        LedgerEvent::ReviewClaim { review: &claimed },
        LedgerEvent::ReviewResolve { review: &resolved, outcome: HumanOutcome::Reject, note: " income unverified " },
        LedgerEvent::IncidentOpen { incident: &incident, contacts: &contacts, suspension_withheld: None },
        LedgerEvent::IncidentOpen {
            incident: &incident,
            contacts: &[],
            suspension_withheld: Some("not permitted: the playbook of meeting-notes lets only op-a pause it"),
        },
        LedgerEvent::IncidentAcknowledge { incident: &incident, note: " on it ", late: false },
        LedgerEvent::IncidentResolve { incident: &incident, note: "fixed", late: true },
        LedgerEvent::FeedbackSubmit { feedback: &feedback },
        LedgerEvent::OutcomeReport { system: "credit-scoring", outcomes: &outcomes },
        LedgerEvent::AlertRaise { alert: &alert },
        LedgerEvent::AlertClear { alert: 1, system: "credit-scoring", reading: &reading },
        LedgerEvent::Decision { id: "d-1", request: &request, outcome: Outcome::HumanReview, reasons: &reasons },
        LedgerEvent::AccessRefused { key: "lk_abc", action: "system.suspend", why: "the key's roles do not grant it" },
        LedgerEvent::DashboardSignIn { key: "lk_abc" },
        LedgerEvent::ReportIssue(ReportIssue {
            subject: "system:credit-scoring",
            kind: "system",
            content_sha256: "ab",
            format: "lunli-report/1",
            html_sha256: None,
        }),
        LedgerEvent::ReportIssue(ReportIssue {
            subject: "organisation",
            kind: "organisation",
            content_sha256: "ab",
            format: "lunli-report/1",
            html_sha256: Some("cd"),
        }),
        LedgerEvent::ReportFile(ReportFile {
            subject: "system:credit-scoring",
            kind: &kind,
            format: "pdf",
            file_sha256: "ef",
            content_sha256: "ab",
            report_entry: 12,
        }),
    ];

    // Every action is made by some variant, and no variant makes an action the list lacks.
    let made: std::collections::BTreeSet<&str> = events.iter().map(LedgerEvent::action).collect();
    let listed: std::collections::BTreeSet<&str> = ACTIONS.iter().copied().collect();
    assert_eq!(made, listed);
    assert_eq!(listed.len(), ACTIONS.len(), "ACTIONS names each action once");

    // Records stored whole are stored exactly as they serialise, and secrets never are.
    assert_eq!(events[0].payload(), serde_json::to_value(&person).expect("json"));
    assert_eq!(events[5].payload(), serde_json::to_value(&version).expect("json"));
    let recorded = serde_json::to_string(&events.iter().map(LedgerEvent::payload).collect::<Vec<_>>()).expect("json");
    assert!(!recorded.contains("never recorded"), "a key's hash or a pack's file contents reached the ledger");
    // Notes and reasons are stored trimmed; control ids upper-cased.
    assert_eq!(events[19].payload()["reason"], json!("fixed"));
    assert_eq!(events[24].payload()["note"], json!("income unverified"));
    assert_eq!(events[27].payload()["note"], json!("on it"));
    assert_eq!(events[11].payload()["control"], json!("C-16-05"));

    let rows: Vec<Value> = events
        .iter()
        .map(|e| json!({ "action": e.action(), "subject": e.subject(), "payload": e.payload() }))
        .collect();
    insta::assert_json_snapshot!("ledger_events", rows);
}

#[test]
fn pending_events_carry_the_actor_time_and_the_governance_shape() {
    let request = DecisionRequest { system: "faq-router".into(), subject: "u-3".into(), ..Default::default() };
    let decision = PendingEvent::decision("key:svc".into(), at(), "d-9", &request, Outcome::Deny, &[]);
    let event = decision.event();
    assert_eq!(
        (event.actor.as_str(), event.action, event.subject.as_str()),
        ("key:svc", "decision", "system:faq-router")
    );
    assert_eq!(decision.at(), at());
    assert_eq!(
        event.payload.to_json().expect("json"),
        json!({ "id": "d-9", "subject": "u-3", "purpose": null, "impact": null, "confidence": null, "channel": null,
                "outcome": "deny", "reasons": [] })
    );
    let refused = PendingEvent::access_refused("wang-fang".into(), at(), "lk_1", "system.resume", "no role");
    assert_eq!(
        (refused.event().action, refused.event().subject.as_str(), &refused.event().payload),
        ("access.refused", "key:lk_1", &json!({ "action": "system.resume", "why": "no role" }).into())
    );
    let signed_in = PendingEvent::dashboard_sign_in("key:lk_1".into(), at(), "lk_1");
    assert_eq!((signed_in.event().action, &signed_in.event().payload), ("dashboard.sign-in", &json!({}).into()));
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9-]{0,12}", any::<String>(), "[\"\\\\\u{0}-\u{1f}\u{7f}\u{2028}\u{10000}é中]{1,8}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A decision's payload is written member by member on the request's thread; it must be
    /// byte for byte the canonical form of the JSON value `LedgerEvent::Decision` describes,
    /// whatever the request holds (non-finite confidence included, which JSON holds as null).
    #[test]
    fn a_decisions_canonical_payload_is_its_ledger_events_json(
        id in text(),
        subject in text(),
        purpose in prop::option::of(text()),
        channel in prop::option::of(text()),
        impact in prop::option::of(prop_oneof![Just(Impact::Low), Just(Impact::Medium), Just(Impact::High)]),
        confidence in prop::option::of(prop_oneof![
            any::<f64>(), Just(f64::NAN), Just(f64::NEG_INFINITY), Just(-0.0), Just(1e21), Just(0.6),
        ]),
        outcome in prop_oneof![Just(Outcome::Allow), Just(Outcome::Deny), Just(Outcome::HumanReview)],
        codes in prop::collection::vec(text(), 0..4),
    ) {
        let request = DecisionRequest {
            system: "faq-router".into(), subject, purpose, impact, confidence, channel, ..Default::default()
        };
        let reasons: Vec<Reason> =
            codes.into_iter().map(|code| Reason { code, text: Text::new("原因", "reason") }).collect();
        let pending = PendingEvent::decision("key:svc".into(), at(), &id, &request, outcome, &reasons);
        let described = LedgerEvent::Decision { id: &id, request: &request, outcome, reasons: &reasons };
        let Payload::Canonical(payload) = &pending.event().payload else {
            panic!("a decision's payload is made canonical on the caller's thread");
        };
        let expected = serde_jcs::to_vec(&described.payload()).expect("jcs");
        prop_assert_eq!(String::from_utf8_lossy(payload.bytes()), String::from_utf8_lossy(&expected));
        prop_assert_eq!(pending.event().subject.clone(), described.subject());
        prop_assert_eq!(pending.event().action, described.action());
    }
}

/// docs/ledger.md is where people look up what an entry means: it must name every action.
#[test]
fn the_ledger_docs_list_every_action() {
    let docs = include_str!("../../../docs/ledger.md");
    for action in ACTIONS {
        assert!(docs.contains(&format!("`{action}`")), "docs/ledger.md does not list `{action}`");
    }
}
