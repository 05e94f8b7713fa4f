//! Not a test: `bench/gateway.sh` runs this (ignored) function to prepare a data directory — or,
//! with `BENCH_POSTGRES` set, a schema `BENCH_PG_SCHEMA` of that PostgreSQL database — with two
//! approved systems (one medium-tier, one high-tier) and a service key, through the same library
//! calls a user's commands make.

use jiff::civil::Date;
use lunli_gateway::access::new_key;
use lunli_governance::intake::{Answer, Answers};
use lunli_governance::store::Store;
use lunli_governance::{ControlStatus, Governance, Person, System, Training};
use lunli_norms::{Catalogue, Tier};
use lunli_store::{PostgresOptions, PostgresStore, SqliteStore};

const SYSTEM: &str = include_str!("../../../examples/credit-scoring/system.yaml");
const ANSWERS: &str = include_str!("../../../examples/credit-scoring/intake.yaml");

#[test]
#[ignore = "prepares the benchmark's data directory; run by bench/gateway.sh"]
fn prepare_bench_store() {
    let dir = std::env::var("LUNLI_DATA_DIR").expect("bench/gateway.sh sets LUNLI_DATA_DIR");
    match std::env::var("BENCH_POSTGRES") {
        Ok(url) => {
            let schema = std::env::var("BENCH_PG_SCHEMA").expect("bench/gateway.sh sets BENCH_PG_SCHEMA");
            let options = PostgresOptions { schema: Some(schema), ..PostgresOptions::default() };
            prepare(&PostgresStore::connect_with(&url, &options).expect("PostgreSQL store"), &dir);
        }
        Err(_) => prepare(&SqliteStore::open(std::path::Path::new(&dir)).expect("store"), &dir),
    }
}

fn prepare<S: Store>(store: &S, dir: &str) {
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, store);
    let at = jiff::Timestamp::now();
    let training = Training {
        course: "AI ethics".into(),
        completed: Date::constant(2026, 1, 1),
        expires: Date::constant(2099, 1, 1),
    };
    for (id, role) in [
        ("owner-a", "owner"),
        ("owner-b", "owner"),
        ("data", "data"),
        ("legal", "legal"),
        ("ethics", "ethics-committee"),
        ("mgmt", "management"),
    ] {
        let person = Person {
            id: id.into(),
            name: id.into(),
            email: None,
            roles: vec![role.into()],
            training: vec![training.clone()],
        };
        gov.add_person("bench", person, at).expect("person");
    }
    gov.add_vendor(
        "bench",
        lunli_governance::Vendor {
            id: "pboc-credit-bureau".into(),
            name: "bureau".into(),
            kind: lunli_governance::VendorKind::Data,
            due_diligence: Default::default(),
        },
        at,
    )
    .expect("vendor");
    for (id, tier) in [("bench-medium", Tier::Medium), ("bench-high", Tier::High)] {
        let mut system: System = serde_yaml_ng::from_str(SYSTEM).expect("system");
        system.id = id.into();
        system.owner = "owner-a".into();
        system.purposes = vec!["support".into()];
        gov.register_system("bench", system, at).expect("register");
        let mut answers = Answers::from_yaml(ANSWERS, &catalogue).expect("answers");
        if tier == Tier::Medium {
            answers.insert("Q-SENSITIVE-PI", Answer::Choices(vec![]));
            answers.insert("Q-SCALE", Answer::Number(5000));
        }
        let (_, tiering) = gov.intake("owner-a", id, &answers, at).expect("intake");
        assert_eq!(tiering.tier, tier, "{id}");
        let assessment = gov.open_assessment("owner-a", id, at).expect("assessment");
        for state in &assessment.controls {
            gov.set_control("owner-a", id, &state.control, ControlStatus::Met, "", "", at).expect("met");
        }
        gov.submit("owner-a", id, at).expect("submit");
        for role in &assessment.required_roles {
            let person = match role.as_str() {
                "owner" => "owner-b",
                "data" => "data",
                "legal" => "legal",
                "ethics-committee" => "ethics",
                _ => "mgmt",
            };
            gov.sign_off(person, id, role, "", at).expect("sign");
        }
    }
    let (key, secret) = new_key("bench", None, vec!["service".into()], "bench", at).expect("key");
    gov.add_api_key("bench", key, at).expect("key");
    std::fs::write(std::path::Path::new(&dir).join("bench-key"), secret).expect("write key");
}
