//! The governance workflow over the real stores: register, intake, assess, evidence, submit,
//! sign off — with the approval and separation-of-duties rules, versioning, and the guarantee
//! that a refused or failed change leaves nothing behind, not even a ledger entry.
//!
//! Every test runs on each backend: `sqlite::<test>` on the embedded store in a temporary
//! directory, `postgres::<test>` on PostgreSQL in a schema of its own (see `backend`).

use lunli_test_support::backend;

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_governance::incident::{Feedback, FeedbackKind, IncidentStatus, NewIncident, Overdue, Severity};
use lunli_governance::intake::Answers;
use lunli_governance::monitoring::OutcomeReport;
use lunli_governance::playbook::Playbook;
use lunli_governance::review::{HumanOutcome, NewReview, ReviewStatus};
use lunli_governance::runtime::{DecisionRequest, Outcome};
use lunli_governance::{
    Actor, Approval, AuditRun, ControlStatus, EvidenceItem, Governance, GovernanceError, PendingEvent, Person, Stage,
    System, Training,
};
use lunli_norms::{Catalogue, Tier};
use lunli_store::{PostgresStore, SqliteStore};

use backend::Backend;

const SYSTEM: &str = include_str!("../../../examples/credit-scoring/system.yaml");
const ANSWERS: &str = include_str!("../../../examples/credit-scoring/intake.yaml");

fn t0() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().expect("timestamp")
}

fn day(ts: Timestamp) -> Date {
    ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

// Each test, once per backend.
lunli_test_support::on_every_backend!(
    SqliteStore, PostgresStore:
    a_high_tier_system_is_approved_only_after_every_control_and_every_role,
    one_person_cannot_fill_two_roles,
    a_sign_off_with_lapsed_training_is_refused_with_that_reason,
    submitted_controls_are_frozen_until_reopened_and_reopening_lapses_sign_offs,
    evidence_must_be_a_kind_the_control_accepts,
    an_audit_is_recorded_on_every_concerned_control_at_once_or_not_at_all,
    a_new_version_makes_the_assessment_stale_and_needs_a_new_intake,
    a_prohibited_system_cannot_be_assessed,
    a_refused_or_failed_change_leaves_nothing_behind,
    duplicates_and_unknown_ids_are_clear_errors,
    the_store_is_created_migrated_and_reopened_without_losing_anything,
    a_queued_review_links_its_decision_and_only_its_claimer_resolves_it,
    a_critical_incident_suspends_the_system_when_the_playbook_says_so,
    outcomes_raise_an_alert_when_a_disparity_crosses_the_threshold_and_not_before,
    feedback_is_kept_newest_first_and_the_playbook_says_who_may_pause,
);

struct World<S: Backend> {
    // Dropped in this order: the store before the place it lives in.
    store: S,
    catalogue: Catalogue,
    _place: S::Place,
}

impl<S: Backend> World<S> {
    fn new() -> Self {
        let place = S::place();
        let store = S::open(&place);
        Self { store, catalogue: Catalogue::bundled().expect("catalogue"), _place: place }
    }

    fn gov(&self) -> Governance<'_, S> {
        Governance::new(&self.catalogue, &self.store)
    }

    fn person(&self, id: &str, roles: &[&str], training_until: Date) {
        let training =
            Training { course: "AI ethics".into(), completed: Date::constant(2025, 12, 1), expires: training_until };
        let person = Person {
            id: id.into(),
            name: id.to_uppercase(),
            email: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            training: vec![training],
        };
        self.gov().add_person("admin", person, t0()).expect("add person");
    }

    /// The credit-scoring example, registered with its five reviewers and taken through intake.
    fn credit_scoring(&self) -> lunli_governance::Assessment {
        let valid = Date::constant(2027, 12, 31);
        self.person("wang-fang", &["owner"], valid);
        self.person("li-wei", &["data"], valid);
        self.person("zhao-min", &["legal"], valid);
        self.person("chen-jie", &["ethics-committee"], valid);
        self.person("liu-yang", &["management", "legal"], valid);
        self.gov()
            .add_vendor(
                "admin",
                lunli_governance::Vendor {
                    id: "pboc-credit-bureau".into(),
                    name: "Credit bureau".into(),
                    kind: lunli_governance::VendorKind::Data,
                    due_diligence: Default::default(),
                },
                t0(),
            )
            .expect("vendor");
        let system: System = serde_yaml_ng::from_str(SYSTEM).expect("example system");
        self.gov().register_system("wang-fang", system, t0()).expect("register");
        let answers = Answers::from_yaml(ANSWERS, &self.catalogue).expect("example answers");
        let (_, tiering) = self.gov().intake("wang-fang", "credit-scoring", &answers, t0()).expect("intake");
        assert_eq!(tiering.tier, Tier::High);
        self.gov().open_assessment("wang-fang", "credit-scoring", t0()).expect("open assessment")
    }

    /// Marks every required control met (with an attestation where accepted, else a link).
    fn resolve_all(&self, by: &str) {
        let assessment = self.gov().assessment("credit-scoring").expect("assessment");
        for state in &assessment.controls {
            self.gov()
                .set_control(by, "credit-scoring", &state.control, ControlStatus::Met, "", "done", t0())
                .expect("set control");
        }
    }

    fn ledger_size(&self) -> u64 {
        self.store.ledger_size()
    }
}

fn refused(result: Result<impl std::fmt::Debug, GovernanceError>, needle: &str) {
    match result {
        Err(
            e @ (GovernanceError::Refused { .. } | GovernanceError::Forbidden { .. } | GovernanceError::Blocked { .. }),
        ) => {
            let message = e.to_string();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}")
        }
        other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
    }
}

fn a_high_tier_system_is_approved_only_after_every_control_and_every_role<S: Backend>() {
    let world = World::<S>::new();
    let assessment = world.credit_scoring();
    assert_eq!(assessment.tier, Tier::High);
    assert_eq!(assessment.controls.len(), world.catalogue.controls().len(), "high requires every control");
    assert_eq!(assessment.required_roles, ["owner", "data", "legal", "ethics-committee", "management"]);

    // Submitting with open controls is refused and names them.
    refused(world.gov().submit("wang-fang", "credit-scoring", t0()), "neither met nor justified");
    world.resolve_all("wang-fang");
    // Not applicable needs a written reason.
    refused(
        world.gov().set_control("wang-fang", "credit-scoring", "C-16-05", ControlStatus::NotApplicable, " ", "", t0()),
        "justification",
    );
    world
        .gov()
        .set_control(
            "wang-fang",
            "credit-scoring",
            "C-16-05",
            ControlStatus::NotApplicable,
            "The system generates no content",
            "",
            t0(),
        )
        .expect("justified not-applicable");
    world.gov().submit("wang-fang", "credit-scoring", t0()).expect("submit");

    // The submitter cannot approve their own submission, in any role (Art. 3(5), Art. 7).
    refused(world.gov().sign_off("wang-fang", "credit-scoring", "owner", "", t0()), "cannot sign it off");
    refused(
        world.gov().sign_off("li-wei", "credit-scoring", "management", "", t0()),
        "does not hold the role management",
    );
    let signers = [("li-wei", "data"), ("zhao-min", "legal"), ("chen-jie", "ethics-committee")];
    for (person, role) in signers {
        let a = world.gov().sign_off(person, "credit-scoring", role, "", t0()).expect("sign");
        assert!(matches!(a.approval(), Approval::Open { submitted: true, .. }));
    }
    let a = world.gov().sign_off("liu-yang", "credit-scoring", "management", "", t0()).expect("management");
    assert!(matches!(a.approval(), Approval::Open { ref missing_roles, .. } if missing_roles == &["owner"]));
    // The owner role is still missing and the only owner submitted: another owner must sign.
    world.person("sun-li", &["owner"], Date::constant(2027, 12, 31));
    let a = world.gov().sign_off("sun-li", "credit-scoring", "owner", "", t0()).expect("owner");
    let Approval::Approved { at, review_due } = a.approval() else { panic!("approved: {:?}", a.approval()) };
    assert_eq!(at, t0());
    // High tier: re-review after 6 months (Art. 5, Art. 8).
    assert_eq!(review_due, Some(Date::constant(2026, 9, 1)));
    assert!(!a.is_overdue(Date::constant(2026, 9, 1)));
    assert!(a.is_overdue(Date::constant(2026, 9, 2)));
    let status = world.gov().status(Date::constant(2026, 10, 1)).expect("status");
    assert!(status[0].overdue, "status flags the overdue re-review");
}

fn one_person_cannot_fill_two_roles<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    world.resolve_all("wang-fang");
    world.gov().submit("wang-fang", "credit-scoring", t0()).expect("submit");
    world.gov().sign_off("liu-yang", "credit-scoring", "legal", "", t0()).expect("legal");
    refused(world.gov().sign_off("liu-yang", "credit-scoring", "management", "", t0()), "cannot fill two roles");
    refused(world.gov().sign_off("zhao-min", "credit-scoring", "legal", "", t0()), "already signed");
    refused(world.gov().sign_off("li-wei", "credit-scoring", "auditor", "", t0()), "not one of them");
}

fn a_sign_off_with_lapsed_training_is_refused_with_that_reason<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    world.person("old-hand", &["data"], Date::constant(2026, 1, 31));
    world.resolve_all("wang-fang");
    world.gov().submit("wang-fang", "credit-scoring", t0()).expect("submit");
    refused(world.gov().sign_off("old-hand", "credit-scoring", "data", "", t0()), "training lapsed on 2026-01-31");
    // Renewed training makes the same sign-off acceptable.
    world
        .gov()
        .add_training(
            "admin",
            "old-hand",
            Training {
                course: "AI ethics refresher".into(),
                completed: day(t0()),
                expires: Date::constant(2027, 2, 28),
            },
            t0(),
        )
        .expect("renew");
    world.gov().sign_off("old-hand", "credit-scoring", "data", "", t0()).expect("now allowed");
}

fn submitted_controls_are_frozen_until_reopened_and_reopening_lapses_sign_offs<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    world.resolve_all("wang-fang");
    world.gov().submit("wang-fang", "credit-scoring", t0()).expect("submit");
    world.gov().sign_off("li-wei", "credit-scoring", "data", "", t0()).expect("sign");
    refused(
        world.gov().set_control("wang-fang", "credit-scoring", "C-13-01", ControlStatus::NotMet, "", "", t0()),
        "reopen the assessment of credit-scoring",
    );
    let reopened = world.gov().reopen("wang-fang", "credit-scoring", "bias found in review", t0()).expect("reopen");
    assert!(reopened.signoffs.is_empty(), "sign-offs lapse with the submission");
    world
        .gov()
        .set_control("wang-fang", "credit-scoring", "C-13-01", ControlStatus::NotMet, "", "disparity 0.71", t0())
        .expect("editable again");
    let state = world.gov().assessment("credit-scoring").expect("assessment");
    let control = state.control("C-13-01").expect("control");
    assert_eq!(control.status, ControlStatus::NotMet);
    assert!(control.history.len() >= 2, "history keeps every change");
}

fn evidence_must_be_a_kind_the_control_accepts<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let disclosure = world.catalogue.control("C-16-01").expect("C-16-01");
    assert!(!disclosure.evidence.accepts.contains(&lunli_norms::EvidenceType::Attestation));
    refused(
        world.gov().add_evidence(
            "wang-fang",
            "credit-scoring",
            "C-16-01",
            EvidenceItem::Attestation { text: "trust me".into() },
            "",
            t0(),
        ),
        "not attestation",
    );
    assert!(disclosure.evidence.accepts.contains(&lunli_norms::EvidenceType::File));
    let item = EvidenceItem::File { name: "disclosure-screenshot.png".into(), sha256: "00".repeat(32), size: 3 };
    let id = world.gov().add_evidence("wang-fang", "credit-scoring", "c-16-01", item, "note", t0()).expect("accepted");
    assert_eq!(id, 1);
    let assessment = world.gov().assessment("credit-scoring").expect("assessment");
    assert_eq!(assessment.control("C-16-01").expect("control").evidence.len(), 1);
}

fn an_audit_is_recorded_on_every_concerned_control_at_once_or_not_at_all<S: Backend>() {
    use lunli_norms::EvidenceType;
    let world = World::<S>::new();
    world.credit_scoring();
    let assessment = world.gov().assessment("credit-scoring").expect("assessment");
    let takes_audits: Vec<String> = world
        .catalogue
        .controls()
        .iter()
        .filter(|c| c.evidence.accepts.contains(&EvidenceType::Audit))
        .map(|c| c.id.clone())
        .collect();
    let concerned: Vec<String> = takes_audits.iter().filter(|c| assessment.control(c).is_some()).cloned().collect();
    let elsewhere: Vec<String> = takes_audits.iter().filter(|c| assessment.control(c).is_none()).cloned().collect();
    assert!(concerned.len() >= 2, "the credit-scoring assessment has several controls audits are evidence for");
    let summary = serde_json::json!({"rows": 3, "inputs": []});
    let mut controls = concerned.clone();
    controls.extend(elsewhere.iter().cloned());
    let run = AuditRun { audit: "fairness", passed: false, summary: summary.clone(), controls: &controls, note: "n" };
    let before = world.ledger_size();
    let recorded = world.gov().record_audit("wang-fang", "credit-scoring", &run, t0()).expect("recorded");
    let on: Vec<&String> = recorded.iter().map(|(control, _)| control).collect();
    assert_eq!(on, concerned.iter().collect::<Vec<_>>(), "recorded on the concerned controls only, in order");
    assert_eq!(world.ledger_size(), before + concerned.len() as u64, "one ledger entry per control");
    let after = world.gov().assessment("credit-scoring").expect("assessment");
    for (control, id) in &recorded {
        let state = after.control(control).expect("control");
        let evidence = state.evidence.iter().find(|e| e.id == *id).expect("the evidence is stored");
        assert_eq!(
            evidence.item,
            EvidenceItem::Audit { audit: "fairness".into(), passed: false, summary: summary.clone() }
        );
    }

    // A control that takes no audit evidence refuses the whole run: nothing is written.
    let no_audits = world
        .catalogue
        .controls()
        .iter()
        .find(|c| !c.evidence.accepts.contains(&EvidenceType::Audit))
        .map(|c| c.id.clone())
        .expect("a control without audit evidence");
    let mut bad = concerned.clone();
    bad.push(no_audits);
    let size = world.ledger_size();
    let run = AuditRun { controls: &bad, ..run };
    refused(world.gov().record_audit("wang-fang", "credit-scoring", &run, t0()), "does not take audit evidence");
    // So does a run none of whose controls the assessment includes.
    if !elsewhere.is_empty() {
        let run = AuditRun { controls: &elsewhere, ..run };
        refused(world.gov().record_audit("wang-fang", "credit-scoring", &run, t0()), "includes none of the controls");
    }
    assert_eq!(world.ledger_size(), size);
    assert_eq!(world.gov().assessment("credit-scoring").expect("assessment"), after, "nothing changed");
}

fn a_new_version_makes_the_assessment_stale_and_needs_a_new_intake<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let v2 = world
        .gov()
        .update_system(&Actor::person("wang-fang"), "credit-scoring", t0(), |s| {
            s.stage = Stage::Deployed;
            Ok("stage testing → deployed".into())
        })
        .expect("update");
    assert_eq!(v2.version, 2);
    refused(world.gov().assessment("credit-scoring"), "version 1");
    refused(world.gov().open_assessment("wang-fang", "credit-scoring", t0()), "no intake yet");
    let versions = world.gov().system_versions("credit-scoring").expect("versions");
    assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(versions[0].system.stage, Stage::Testing, "old versions are kept as they were");
    refused(
        world.gov().update_system(&Actor::person("wang-fang"), "credit-scoring", t0(), |_| Ok("nothing".into())),
        "nothing changed",
    );
}

fn a_prohibited_system_cannot_be_assessed<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let mut answers = Answers::from_yaml(ANSWERS, &world.catalogue).expect("answers");
    let purpose = world.catalogue.question("Q-PROHIBITED-PURPOSE").expect("question");
    let option = purpose.options[0].id.clone();
    answers.insert("Q-PROHIBITED-PURPOSE", lunli_governance::intake::Answer::Choices(vec![option]));
    world
        .gov()
        .update_system(&Actor::person("wang-fang"), "credit-scoring", t0(), |s| {
            s.purpose = "something else".into();
            Ok("purpose".into())
        })
        .expect("v2");
    let (_, tiering) = world.gov().intake("wang-fang", "credit-scoring", &answers, t0()).expect("intake records it");
    assert_eq!(tiering.tier, Tier::Prohibited);
    assert!(tiering.required_controls.is_empty() && tiering.signoff_roles.is_empty());
    refused(world.gov().open_assessment("wang-fang", "credit-scoring", t0()), "prohibited (Art. 20)");
}

fn a_refused_or_failed_change_leaves_nothing_behind<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let before = world.ledger_size();
    // Unknown references: nothing is stored, and no ledger entry is written.
    let mut orphan: System = serde_yaml_ng::from_str(SYSTEM).expect("system");
    orphan.id = "orphan".into();
    orphan.owner = "nobody".into();
    let err = world.gov().register_system("admin", orphan, t0()).expect_err("unknown owner");
    assert!(matches!(err, GovernanceError::NotFound { .. }), "{err}");
    assert!(world.gov().system("orphan").is_err());
    // A change that fails after writing inside the same unit of work is rolled back whole.
    let err = world.gov().update_system(&Actor::person("admin"), "credit-scoring", t0(), |s| {
        s.owner = "nobody".into();
        Ok("owner".into())
    });
    assert!(err.is_err());
    assert_eq!(world.gov().system("credit-scoring").expect("still there").version, 1);
    assert_eq!(world.ledger_size(), before, "no ledger entry for what was not stored");
    // And every stored change has exactly one ledger entry.
    world.resolve_all("wang-fang");
    let controls = world.gov().assessment("credit-scoring").expect("a").controls.len() as u64;
    assert_eq!(world.ledger_size(), before + controls);
}

fn duplicates_and_unknown_ids_are_clear_errors<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let system: System = serde_yaml_ng::from_str(SYSTEM).expect("system");
    let err = world.gov().register_system("admin", system, t0()).expect_err("duplicate");
    assert_eq!(err.to_string(), "system `credit-scoring` already exists");
    let err = world.gov().assessment("no-such-system").expect_err("unknown");
    assert!(err.to_string().starts_with("no system `no-such-system`"), "{err}");
    let err = world.gov().grant_role("admin", "li-wei", "overlord", t0()).expect_err("unknown role");
    assert!(err.to_string().contains("known: owner"), "{err}");
}

fn the_store_is_created_migrated_and_reopened_without_losing_anything<S: Backend>() {
    let place = S::place();
    let created_at_version;
    {
        let store = S::open(&place);
        created_at_version = store.schema_version();
        assert!(created_at_version >= 3, "migrations ran");
        let catalogue = Catalogue::bundled().expect("catalogue");
        Governance::new(&catalogue, &store)
            .add_person(
                "admin",
                Person { id: "a".into(), name: "A".into(), email: None, roles: vec![], training: vec![] },
                t0(),
            )
            .expect("person");
    }
    let store = S::open(&place);
    assert_eq!(store.schema_version(), created_at_version);
    let catalogue = Catalogue::bundled().expect("catalogue");
    assert_eq!(Governance::new(&catalogue, &store).people().expect("people").len(), 1);
    assert_eq!(store.ledger_size(), 1);
}

// ── runtime oversight (issue 8) ─────────────────────────────────────────────────────────────

fn decision_event(id: &str) -> PendingEvent {
    let request = DecisionRequest { system: "credit-scoring".into(), subject: "u1".into(), ..Default::default() };
    PendingEvent::decision("key:svc".into(), t0(), id, &request, Outcome::HumanReview, &[])
}

fn new_review(id: &str) -> NewReview {
    NewReview {
        system: "credit-scoring".into(),
        decision: id.into(),
        subject: "u1".into(),
        purpose: Some("credit-application".into()),
        confidence: Some(0.3),
        reasons: vec!["low_confidence".into()],
        created_at: t0(),
    }
}

fn a_queued_review_links_its_decision_and_only_its_claimer_resolves_it<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let before = world.ledger_size();
    let batch = vec![(decision_event("d-1"), None), (decision_event("d-2"), Some(new_review("d-2")))];
    let indices = world.gov().record_decisions(&batch).expect("record");
    assert_eq!(indices, [before, before + 1]);
    let open = world.gov().reviews(Some(ReviewStatus::Open)).expect("reviews");
    assert_eq!(open.len(), 1, "only the decision sent to a human is queued");
    let item = &open[0];
    assert_eq!((item.decision.as_str(), item.decision_index), ("d-2", before + 1));
    // The system's owner does not review its decisions; nobody resolves what they did not claim.
    refused(world.gov().claim_review("wang-fang", item.id, t0()), "owner");
    refused(world.gov().resolve_review("li-wei", item.id, HumanOutcome::Approve, "", t0()), "claim review");
    match world.gov().resolve_review("li-wei", item.id, HumanOutcome::Approve, "", t0()) {
        Err(GovernanceError::Blocked { next, .. }) => {
            assert_eq!(next, lunli_governance::Step::ClaimReview { id: item.id }, "the step is data")
        }
        other => panic!("expected a blocked request, got {other:?}"),
    }
    world.gov().claim_review("li-wei", item.id, t0()).expect("claim");
    refused(world.gov().claim_review("zhao-min", item.id, t0()), "claimed by li-wei");
    refused(world.gov().resolve_review("zhao-min", item.id, HumanOutcome::Approve, "", t0()), "claimed by li-wei");
    let size = world.ledger_size();
    let done = world
        .gov()
        .resolve_review("li-wei", item.id, HumanOutcome::Reject, "income unverified", t0())
        .expect("resolve");
    let resolution = done.resolution.expect("resolution");
    assert_eq!((resolution.ledger_index, resolution.outcome), (size, HumanOutcome::Reject));
    assert_eq!(world.ledger_size(), size + 1);
    assert_eq!(world.gov().review(item.id).expect("stored").status, ReviewStatus::Resolved);
    assert!(world.gov().reviews(Some(ReviewStatus::Open)).expect("reviews").is_empty());
    assert_eq!(world.gov().reviews(None).expect("all").len(), 1);
    let err = world.gov().claim_review("li-wei", 99, t0()).expect_err("unknown");
    assert!(matches!(err, GovernanceError::NotFound { .. }), "{err}");
}

fn a_critical_incident_suspends_the_system_when_the_playbook_says_so<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let playbook: Playbook = serde_yaml_ng::from_str(
        "suspend_on: [critical]\ntargets:\n  critical: {acknowledge_minutes: 10, resolve_minutes: 120}\n\
         escalation: [{name: On call, reach: oncall@example.cn, from: high}]\n",
    )
    .expect("playbook");
    let version =
        world.gov().set_playbook(&Actor::person("wang-fang"), "credit-scoring", playbook, t0()).expect("playbook");
    assert_eq!((version.version, version.change.as_str()), (2, "playbook"));
    // A playbook-only change keeps the tier and the assessment of the version before it.
    let row = world.gov().status(day(t0())).expect("status").pop().expect("row");
    assert_eq!((row.version, row.assessed_version, row.tier), (2, Some(2), Some(Tier::High)));
    let new = |severity| NewIncident {
        system: "credit-scoring".into(),
        title: "scores for one region are wrong".into(),
        description: String::new(),
        severity,
        owner: None,
        decisions: vec!["d-7".into()],
        controls: vec!["C-17-01".into()],
        feedback: None,
    };
    let high = world.gov().open_incident(&Actor::person("li-wei"), new(Severity::High), t0()).expect("high");
    assert!(!high.suspended_system);
    assert!(world.store.read(|tx| tx.suspensions()).expect("suspensions").is_empty());
    let critical =
        world.gov().open_incident(&Actor::person("li-wei"), new(Severity::Critical), t0()).expect("critical");
    assert!(critical.suspended_system);
    assert_eq!(critical.owner, "wang-fang", "the system's owner unless named");
    let suspensions = world.store.read(|tx| tx.suspensions()).expect("suspensions");
    assert_eq!(suspensions.len(), 1);
    assert!(suspensions[0].reason.contains(&format!("incident {}", critical.id)), "{:?}", suspensions[0]);
    // Overdue after the playbook's ten minutes, not before.
    let later = |mins| t0().checked_add(jiff::SignedDuration::from_mins(mins)).expect("time");
    let rows = world.gov().incidents(later(10)).expect("incidents");
    assert_eq!(rows.iter().find(|r| r.incident.id == critical.id).expect("row").overdue, None);
    let row = world.gov().incident(critical.id, later(11)).expect("row");
    assert_eq!(row.overdue, Some(Overdue::Acknowledge));
    world.gov().acknowledge_incident("wang-fang", critical.id, "looking", later(11)).expect("ack");
    refused(world.gov().acknowledge_incident("wang-fang", critical.id, "", later(12)), "not open");
    refused(world.gov().resolve_incident("li-wei", critical.id, "fixed", later(30)), "another person");
    let done =
        world.gov().resolve_incident("wang-fang", critical.id, "bad feature rolled back", later(30)).expect("resolve");
    assert_eq!(done.status, IncidentStatus::Resolved);
    assert_eq!(done.history.len(), 3);
    let err = world.gov().open_incident(
        &Actor::person("li-wei"),
        NewIncident { controls: vec!["C-99-99".into()], ..new(Severity::Low) },
        t0(),
    );
    assert!(matches!(err, Err(GovernanceError::NotFound { .. })), "{err:?}");
}

fn outcome(group: &str, selected: bool) -> OutcomeReport {
    OutcomeReport {
        system: String::new(),
        decision: None,
        groups: [("region".to_string(), group.to_string())].into(),
        selected: Some(selected),
        error: None,
        at: t0(),
    }
}

fn outcomes_raise_an_alert_when_a_disparity_crosses_the_threshold_and_not_before<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let playbook: Playbook = serde_yaml_ng::from_str(
        "monitors:\n  - {metric: selection-rate-difference, attribute: region, threshold: 0.2, window: 40, min_count: 10, incident: high}\n",
    )
    .expect("playbook");
    world.gov().set_playbook(&Actor::person("wang-fang"), "credit-scoring", playbook, t0()).expect("playbook");
    // 20 outcomes: north 7 of 10 selected, south 5 of 10: difference 0.2, at the threshold.
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.push(outcome("north", i < 7));
        batch.push(outcome("south", i < 5));
    }
    let r = world.gov().report_outcomes("key:svc", "credit-scoring", batch, t0()).expect("report");
    assert_eq!(r.accepted, 20);
    assert!((r.readings[0].value.expect("value") - 0.2).abs() < 1e-9);
    assert!(r.raised.is_empty(), "at the threshold is not beyond it");
    // Ten more south outcomes, none selected: south 5 of 20, difference 0.45.
    let r = world
        .gov()
        .report_outcomes("key:svc", "credit-scoring", (0..10).map(|_| outcome("south", false)).collect(), t0())
        .expect("report");
    assert_eq!(r.raised.len(), 1, "{r:?}");
    assert_eq!(r.incidents.len(), 1);
    assert_eq!(r.raised[0].incident, Some(r.incidents[0].id));
    // Still beyond: no second alert.
    let r =
        world.gov().report_outcomes("key:svc", "credit-scoring", vec![outcome("south", false)], t0()).expect("report");
    assert!(r.raised.is_empty());
    assert_eq!(world.gov().alerts(Some("credit-scoring")).expect("alerts").len(), 1);
    // The window rolls: 40 balanced outcomes bring it back within, and the alert clears.
    let balanced: Vec<_> = (0..20).flat_map(|i| [outcome("north", i % 2 == 0), outcome("south", i % 2 == 0)]).collect();
    let r = world.gov().report_outcomes("key:svc", "credit-scoring", balanced, t0()).expect("report");
    assert_eq!(r.cleared.len(), 1, "{r:?}");
    assert!(world.gov().alerts(None).expect("alerts")[0].cleared_at.is_some());
    let err = world.gov().report_outcomes("key:svc", "credit-scoring", vec![], t0()).expect_err("empty");
    assert!(err.to_string().contains("outcomes"), "{err}");
}

fn feedback_is_kept_newest_first_and_the_playbook_says_who_may_pause<S: Backend>() {
    let world = World::<S>::new();
    world.credit_scoring();
    let feedback = |message: &str| Feedback {
        id: 0,
        system: "credit-scoring".into(),
        kind: FeedbackKind::Unfair,
        message: message.into(),
        decision: None,
        contact: None,
        at: t0(),
    };
    let before = world.ledger_size();
    world.gov().submit_feedback("public", feedback("first")).expect("feedback");
    world.gov().submit_feedback("public", feedback("第二条反馈")).expect("feedback");
    assert_eq!(world.ledger_size(), before + 2);
    let list = world.gov().feedback(Some("credit-scoring"), 10).expect("list");
    assert_eq!(list.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(), ["第二条反馈", "first"]);
    assert_eq!(world.gov().feedback(None, 1).expect("list").len(), 1);
    // Feedback answered by action: an incident that names it.
    let raised = world
        .gov()
        .open_incident(
            &Actor::person("li-wei"),
            NewIncident {
                system: "credit-scoring".into(),
                title: "declines without reasons".into(),
                description: String::new(),
                severity: Severity::Medium,
                owner: None,
                decisions: vec![],
                controls: vec![],
                feedback: Some(list[0].id),
            },
            t0(),
        )
        .expect("incident from feedback");
    assert_eq!(raised.source, format!("feedback:{}", list[0].id));
    let err = world.gov().open_incident(
        &Actor::person("li-wei"),
        NewIncident {
            feedback: Some(99),
            ..serde_json::from_value(serde_json::json!({
            "system": "credit-scoring", "title": "t", "severity": "low" }))
            .expect("new incident")
        },
        t0(),
    );
    assert!(matches!(err, Err(GovernanceError::NotFound { .. })), "{err:?}");
    let err = world.gov().submit_feedback("public", Feedback { system: "ghost".into(), ..feedback("x") });
    assert!(matches!(err, Err(GovernanceError::NotFound { .. })), "{err:?}");
    let err = world.gov().submit_feedback("public", feedback(" ")).expect_err("empty");
    assert!(err.to_string().contains("message"), "{err}");
    // A playbook naming who may pause it.
    let playbook: Playbook = serde_yaml_ng::from_str("may_pause: [li-wei]").expect("playbook");
    let err = world.gov().set_playbook(
        &Actor::person("wang-fang"),
        "credit-scoring",
        serde_yaml_ng::from_str("may_pause: [nobody]").expect("p"),
        t0(),
    );
    assert!(matches!(err, Err(GovernanceError::NotFound { .. })), "{err:?}");
    world.gov().set_playbook(&Actor::person("wang-fang"), "credit-scoring", playbook, t0()).expect("playbook");
    refused(world.gov().suspend(&Actor::person("zhao-min"), "credit-scoring", None, "drift", t0()), "only li-wei");
    world.gov().suspend(&Actor::person("li-wei"), "credit-scoring", None, "drift", t0()).expect("li-wei may");
}
