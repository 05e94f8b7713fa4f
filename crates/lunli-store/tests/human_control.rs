//! The rules that keep people in control of a running AI system, attacked as someone holding a
//! valid key of each role would (issue #15): who may change a playbook, who may pause, and four
//! eyes on resuming — enforced by the governance layer inside the store transaction, so a second
//! instance or a racing request gets no further than the first. Every test runs on SQLite and on
//! PostgreSQL.

use lunli_test_support::backend;

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use lunli_governance::incident::{NewIncident, Severity};
use lunli_governance::intake::Answers;
use lunli_governance::playbook::{Loosening, Playbook};
use lunli_governance::{Actor, ControlStatus, Governance, GovernanceError, Person, System, Training};
use lunli_norms::Catalogue;
use lunli_store::{PostgresStore, SqliteStore};

use backend::Backend;

const NOTES_SYSTEM: &str = include_str!("../../../examples/meeting-notes/system.yaml");
const NOTES_ANSWERS: &str = include_str!("../../../examples/meeting-notes/intake.yaml");
const SYSTEM: &str = "meeting-notes";

lunli_test_support::on_every_backend!(
    SqliteStore, PostgresStore:
    only_the_owner_or_an_admin_changes_a_playbook,
    loosening_an_approved_playbook_is_recorded_and_shown,
    no_playbook_locks_out_an_admin,
    whoever_suspended_cannot_resume_through_any_instance,
    racing_suspend_and_resume_never_lets_the_suspender_resume,
    a_critical_incident_suspends_as_its_opener_and_respects_may_pause,
    consent_changes_are_a_feed_and_reload_nothing_else,
);

fn t0() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().expect("timestamp")
}

/// An operator, an owner of another system, and an admin, as the gateway's access policy makes
/// them (see `lunli_gateway::access::AccessPolicy::actor`).
fn admin() -> Actor {
    Actor { name: "root-admin".into(), person: Some("root-admin".into()), any_system: true, resume_own: true }
}

fn key_without_person() -> Actor {
    Actor { name: "key:0badc0de".into(), person: None, any_system: false, resume_own: false }
}

struct World<S: Backend> {
    store: Arc<S>,
    catalogue: Catalogue,
    place: S::Place,
}

impl<S: Backend> World<S> {
    /// The meeting-notes example (owner zhou-qing) approved by a second owner, wu-lei, with
    /// mallory (an owner of nothing here) and two operators, op-a and op-b.
    fn new() -> Self {
        let place = S::place();
        let store = Arc::new(S::open(&place));
        let world = Self { store, catalogue: Catalogue::bundled().expect("catalogue"), place };
        {
            let gov = world.gov();
            let training = Training {
                course: "AI ethics".into(),
                completed: Date::constant(2026, 1, 1),
                expires: Date::constant(2027, 1, 1),
            };
            for id in ["zhou-qing", "wu-lei", "mallory", "op-a", "op-b", "root-admin"] {
                let person = Person {
                    id: id.into(),
                    name: id.into(),
                    email: None,
                    roles: vec!["owner".into()],
                    training: vec![training.clone()],
                };
                gov.add_person("setup", person, t0()).expect("person");
            }
            let system: System = serde_yaml_ng::from_str(NOTES_SYSTEM).expect("example system");
            gov.register_system("zhou-qing", system, t0()).expect("register");
            let answers = Answers::from_yaml(NOTES_ANSWERS, &world.catalogue).expect("answers");
            gov.intake("zhou-qing", SYSTEM, &answers, t0()).expect("intake");
            let assessment = gov.open_assessment("zhou-qing", SYSTEM, t0()).expect("assessment");
            for state in &assessment.controls {
                gov.set_control("zhou-qing", SYSTEM, &state.control, ControlStatus::Met, "", "done", t0())
                    .expect("met");
            }
            gov.submit("zhou-qing", SYSTEM, t0()).expect("submit");
            gov.sign_off("wu-lei", SYSTEM, "owner", "", t0()).expect("sign-off");
        }
        world
    }

    fn gov(&self) -> Governance<'_, S> {
        Governance::new(&self.catalogue, &*self.store)
    }

    fn playbook(&self) -> Playbook {
        self.gov().playbook(SYSTEM).expect("playbook")
    }

    fn suspended(&self) -> bool {
        self.store.read(|tx| tx.suspensions()).expect("suspensions").iter().any(|s| s.system == SYSTEM)
    }

    fn actions(&self) -> Vec<String> {
        self.store.ledger_entries().into_iter().map(|e| e.action).collect()
    }
}

fn yaml(text: &str) -> Playbook {
    serde_yaml_ng::from_str(text).expect("playbook")
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, GovernanceError>, needle: &str) {
    match result {
        Err(GovernanceError::Forbidden { reason }) => assert!(reason.contains(needle), "{reason:?} lacks {needle:?}"),
        other => panic!("expected a refusal naming {needle:?}, got {other:?}"),
    }
}

fn only_the_owner_or_an_admin_changes_a_playbook<S: Backend>() {
    let world = World::<S>::new();
    let before = world.store.ledger_size();
    // An owner-role key of someone else: neither the takeover nor the loosened threshold lands.
    let takeover = yaml("may_pause: [mallory]\nreview: {below_confidence: 0}\n");
    forbidden(world.gov().set_playbook(&Actor::person("mallory"), SYSTEM, takeover.clone(), t0()), "zhou-qing");
    forbidden(world.gov().set_playbook(&key_without_person(), SYSTEM, takeover.clone(), t0()), "only the owner");
    // Nor through a whole-record update that carries a playbook.
    forbidden(
        world.gov().update_system(&Actor::person("mallory"), SYSTEM, t0(), |s| {
            s.playbook = takeover.clone();
            Ok("record replaced".into())
        }),
        "only the owner",
    );
    assert_eq!(world.playbook(), Playbook::default());
    assert_eq!(world.store.ledger_size(), before, "a refused change leaves no ledger entry");
    // Other changes to the record stay open to anyone who may edit records.
    world
        .gov()
        .update_system(&Actor::person("mallory"), SYSTEM, t0(), |s| {
            s.description.push_str(" Edited.");
            Ok("description".into())
        })
        .expect("a change that leaves the playbook alone");
    // The owner and an admin may.
    world.gov().set_playbook(&Actor::person("zhou-qing"), SYSTEM, yaml("may_pause: [op-a]\n"), t0()).expect("owner");
    world.gov().set_playbook(&admin(), SYSTEM, yaml("may_pause: [op-a, op-b]\n"), t0()).expect("admin");
    assert_eq!(world.playbook().may_pause, ["op-a", "op-b"]);
}

fn loosening_an_approved_playbook_is_recorded_and_shown<S: Backend>() {
    let world = World::<S>::new();
    let today = Date::constant(2026, 3, 2);
    let tight = yaml("may_pause: [op-a, op-b]\nreview: {below_confidence: 0.8}\n");
    world.gov().set_playbook(&Actor::person("zhou-qing"), SYSTEM, tight, t0()).expect("owner");
    // A first pause list lets fewer pause, and an explicit threshold in place of the gateway's
    // default cannot be known to tighten: both are recorded as loosening…
    assert!(world.actions().contains(&"playbook.loosen".to_string()));
    let status = world.gov().status(today).expect("status");
    assert!(
        matches!(
            status[0].playbook_loosened[..],
            [Loosening::ReviewConfidence { from: None, .. }, Loosening::MayPause { .. }]
        ),
        "{:?}",
        status[0]
    );
    // …and a lowered review threshold on an approved system is recorded and shown.
    let looser = yaml("may_pause: [op-a, op-b]\nreview: {below_confidence: 0}\n");
    world.gov().set_playbook(&Actor::person("zhou-qing"), SYSTEM, looser, t0()).expect("owner may loosen");
    let entries = world.store.ledger_entries();
    let last = entries.last().expect("entries");
    assert_eq!(last.action, "playbook.loosen");
    assert_eq!(last.actor, "zhou-qing");
    assert_eq!(last.payload["loosened"][0]["kind"], "review-confidence", "{}", last.payload);
    assert_eq!(last.payload["loosened"][0]["to"], 0.0);
    let row = world.gov().status(today).expect("status").remove(0);
    assert!(
        row.playbook_loosened.iter().any(|l| matches!(l, Loosening::ReviewConfidence { to: Some(0.0), .. })),
        "{row:?}"
    );
    // The system stays approved (only its playbook changed) but says so until approved again.
    assert!(matches!(row.approval, Some(lunli_governance::Approval::Approved { .. })), "{row:?}");
    // Tightening back is not recorded as loosening.
    let size = world.store.ledger_size();
    world
        .gov()
        .set_playbook(
            &Actor::person("zhou-qing"),
            SYSTEM,
            yaml("may_pause: [op-a, op-b]\nreview: {below_confidence: 0.9}\n"),
            t0(),
        )
        .expect("owner");
    let added: Vec<String> = world.actions().split_off(size as usize);
    assert_eq!(added, ["system.update"]);
}

fn no_playbook_locks_out_an_admin<S: Backend>() {
    let world = World::<S>::new();
    world.gov().set_playbook(&Actor::person("zhou-qing"), SYSTEM, yaml("may_pause: [op-a]\n"), t0()).expect("owner");
    forbidden(world.gov().suspend(&Actor::person("op-b"), SYSTEM, None, "drift", t0()), "lets only op-a");
    forbidden(world.gov().suspend(&Actor::person("zhou-qing"), SYSTEM, None, "drift", t0()), "lets only op-a");
    world.gov().suspend(&admin(), SYSTEM, None, "admin stops it", t0()).expect("an admin may always pause");
    assert!(world.suspended());
}

fn whoever_suspended_cannot_resume_through_any_instance<S: Backend>() {
    let world = World::<S>::new();
    // A second gateway instance: another handle on the same database.
    let second = S::open(&world.place);
    let gov2 = Governance::new(&world.catalogue, &second);
    world.gov().suspend(&Actor::person("op-a"), SYSTEM, None, "drift", t0()).expect("suspend");
    for gov in [&world.gov(), &gov2] {
        forbidden(gov.resume(&Actor::person("op-a"), SYSTEM, None, "fine now", t0()), "cannot also resume");
    }
    assert!(world.suspended(), "a refused resume leaves the suspension in place");
    assert!(!world.actions().contains(&"system.resume".to_string()));
    // Someone else may; and an admin whose role allows resuming their own may.
    gov2.resume(&Actor::person("op-b"), SYSTEM, None, "checked", t0()).expect("second person");
    world.gov().suspend(&admin(), SYSTEM, None, "drift", t0()).expect("suspend");
    world.gov().resume(&admin(), SYSTEM, None, "checked", t0()).expect("resume.own");
    // A purpose's suspension is held to the same rule.
    gov2.suspend(&Actor::person("op-a"), SYSTEM, Some("summarise"), "drift", t0()).expect("suspend a purpose");
    forbidden(world.gov().resume(&Actor::person("op-a"), SYSTEM, Some("summarise"), "ok", t0()), "cannot also");
}

fn racing_suspend_and_resume_never_lets_the_suspender_resume<S: Backend + Send + Sync + 'static>() {
    let world = World::<S>::new();
    let second = Arc::new(S::open(&world.place));
    let catalogue = Arc::new(Catalogue::bundled().expect("catalogue"));
    for round in 0..20 {
        let (a, b) = (world.store.clone(), second.clone());
        let (ca, cb) = (catalogue.clone(), catalogue.clone());
        let suspend = std::thread::spawn(move || {
            Governance::new(&ca, &*a).suspend(&Actor::person("op-a"), SYSTEM, None, "race", t0()).map(|_| ())
        });
        let resume = std::thread::spawn(move || {
            Governance::new(&cb, &*b).resume(&Actor::person("op-a"), SYSTEM, None, "race", t0()).map(|_| ())
        });
        suspend.join().expect("suspend thread").expect("suspend");
        match resume.join().expect("resume thread") {
            Err(GovernanceError::Refused { .. } | GovernanceError::Forbidden { .. }) => {}
            other => panic!("round {round}: the suspender resumed their own suspension: {other:?}"),
        }
        assert!(world.suspended(), "round {round}");
        world.gov().resume(&Actor::person("op-b"), SYSTEM, None, "reset", t0()).expect("another person resumes");
    }
}

fn a_critical_incident_suspends_as_its_opener_and_respects_may_pause<S: Backend>() {
    let world = World::<S>::new();
    let incident = |title: &str| NewIncident {
        system: SYSTEM.into(),
        title: title.into(),
        description: String::new(),
        severity: Severity::Critical,
        owner: None,
        decisions: vec![],
        controls: vec![],
        feedback: None,
    };
    world
        .gov()
        .set_playbook(&Actor::person("zhou-qing"), SYSTEM, yaml("may_pause: [op-a]\nsuspend_on: [critical]\n"), t0())
        .expect("owner");
    // Someone the playbook does not let pause: the incident is opened, the suspension withheld.
    let opened = world.gov().open_incident(&Actor::person("op-b"), incident("leak"), t0()).expect("opened");
    assert!(!opened.suspended_system && !world.suspended());
    let entry = world.store.ledger_entries().into_iter().rfind(|e| e.action == "incident.open").expect("entry");
    assert!(entry.payload["suspension_withheld"].as_str().is_some_and(|w| w.contains("op-a")), "{}", entry.payload);
    // Someone it does: suspended as by them, so they cannot also resume it.
    let opened = world.gov().open_incident(&Actor::person("op-a"), incident("worse"), t0()).expect("opened");
    assert!(opened.suspended_system && world.suspended());
    let suspension = world.store.read(|tx| tx.suspensions()).expect("suspensions").remove(0);
    assert_eq!(suspension.by, "op-a");
    forbidden(world.gov().resume(&Actor::person("op-a"), SYSTEM, None, "mine", t0()), "cannot also resume");
    world.gov().resume(&Actor::person("zhou-qing"), SYSTEM, None, "checked", t0()).expect("another person");
}

fn consent_changes_are_a_feed_and_reload_nothing_else<S: Backend>() {
    use lunli_governance::runtime::Mode;
    let world = World::<S>::new();
    let gov = world.gov();
    let version = gov.runtime_version().expect("version");
    assert!(gov.consent_changes(0, 100).expect("feed").is_empty());
    gov.set_consent("svc", SYSTEM, "u1", true, Mode::Ai, t0()).expect("consent");
    gov.set_consent("svc", SYSTEM, "u2", true, Mode::Ai, t0()).expect("consent");
    gov.set_consent("svc", SYSTEM, "u1", false, Mode::Human, t0()).expect("withdraw");
    // A consent change does not make gateways reload systems, suspensions and keys.
    assert_eq!(gov.runtime_version().expect("version"), version);
    let feed = gov.consent_changes(0, 100).expect("feed");
    let seen: Vec<(&str, bool)> = feed.iter().map(|c| (c.consent.subject.as_str(), c.consent.given)).collect();
    assert_eq!(seen, [("u2", true), ("u1", false)], "each subject's latest change, in order");
    assert!(feed[0].seq < feed[1].seq);
    let last = feed[1].seq;
    assert!(gov.consent_changes(last, 100).expect("feed").is_empty());
    gov.set_consent("svc", SYSTEM, "u3", true, Mode::Ai, t0()).expect("consent");
    let next = gov.consent_changes(last, 100).expect("feed");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].consent.subject, "u3");
    // Paged: a limit smaller than the feed reads it in order.
    let first = gov.consent_changes(0, 1).expect("feed");
    assert_eq!(first[0].consent.subject, "u2");
    // A suspension still moves the runtime version.
    gov.suspend(&Actor::person("op-a"), SYSTEM, None, "stop", t0()).expect("suspend");
    assert!(gov.runtime_version().expect("version") > version);
}
