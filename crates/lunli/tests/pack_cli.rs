//! `lunli pack`: the example pack checks and activates (with a ledger entry), every later
//! command's catalogue includes it, its sign-off role is then required, and a pack that loosens
//! the base is rejected with its reason.

mod common;

use common::{Data, repo};

fn bank_credit() -> String {
    repo().join("examples/packs/bank-credit").display().to_string()
}

#[test]
fn the_example_pack_activates_and_its_role_is_then_required_for_sign_off() {
    let data = Data::new();
    data.credit_scoring();
    let before = data.json("admin", &["assess", "credit-scoring"]);
    assert!(!before["required_roles"].as_array().expect("roles").iter().any(|r| r == "credit-review"));
    assert!(before.get("packs").is_none(), "no pack applied yet");

    let checked = data.json("admin", &["pack", "check", &bank_credit()]);
    assert_eq!(checked["added_controls"], serde_json::json!(["BANK-13-01", "BANK-13-02"]));
    assert_eq!(checked["tightened_controls"], serde_json::json!(["C-13-03"]));
    assert_eq!(checked["added_roles"], serde_json::json!(["credit-review"]));
    assert_eq!(checked["audit_policy"], true);
    assert!(
        data.json("admin", &["pack", "list"])["packs"].as_array().expect("packs").is_empty(),
        "check activates nothing"
    );

    let size = |d: &Data| data_ledger_size(d);
    let ledger_before = size(&data);
    data.ok("wang-fang", &["pack", "activate", &bank_credit()]);
    assert_eq!(size(&data), ledger_before + 1, "activation is one ledger entry");
    let list = data.json("admin", &["pack", "list"]);
    assert_eq!(list["packs"][0]["id"], "bank-credit");
    assert_eq!(list["packs"][0]["version"], "1.0.0");
    assert_eq!(list["packs"][0]["activated_by"], "wang-fang");

    // Every command's catalogue now has the pack's controls.
    let control = data.json("admin", &["norms", "show", "BANK-13-01"]);
    assert_eq!(control["control"]["id"], "BANK-13-01");

    // A new intake under the pack's rules: the high tier now needs the credit reviewer.
    data.ok("wang-fang", &["system", "update", "credit-scoring", "--stage", "deployed"]);
    data.ok("wang-fang", &["intake", "credit-scoring", "--answers", &common::example("intake.yaml")]);
    let after = data.json("admin", &["assess", "credit-scoring"]);
    assert_eq!(after["tier"], "high");
    assert!(after["required_roles"].as_array().expect("roles").iter().any(|r| r == "credit-review"));
    assert_eq!(after["review_months"], 3);
    assert_eq!(after["packs"][0]["id"], "bank-credit");
    assert_eq!(after["packs"][0]["version"], "1.0.0");
    let controls: Vec<&str> =
        after["controls"].as_array().expect("controls").iter().filter_map(|c| c["control"].as_str()).collect();
    assert!(controls.contains(&"BANK-13-01") && controls.contains(&"BANK-13-02"));

    // Approval waits for the credit reviewer: meet every control, sign every base role.
    for id in &controls {
        data.ok("li-wei", &["control", "set", "credit-scoring", id, "not-applicable", "--justification", "test"]);
    }
    data.ok("wang-fang", &["assess", "credit-scoring", "--submit"]);
    for (person, role) in
        [("li-wei", "data"), ("zhao-min", "legal"), ("chen-jie", "ethics-committee"), ("liu-yang", "management")]
    {
        data.ok(person, &["signoff", "credit-scoring", "--role", role]);
    }
    let missing = |d: &Data| {
        let status = d.json("admin", &["status"]);
        status[0]["approval"]["missing_roles"].as_array().cloned().unwrap_or_else(|| panic!("{status}"))
    };
    assert_eq!(missing(&data), ["owner", "credit-review"]);
    data.ok("admin", &["person", "add", "sun-li", "--name", "Sun Li", "--role", "credit-review"]);
    data.ok("admin", &["person", "train", "sun-li", "--course", "AI ethics", "--completed", "2026-01-05"]);
    data.ok("sun-li", &["signoff", "credit-scoring", "--role", "credit-review"]);
    assert_eq!(missing(&data), ["owner"], "the pack's role signed; only the owner remains");
}

fn data_ledger_size(data: &Data) -> u64 {
    data.json("admin", &["ledger", "head", "--sign"])["size"].as_u64().expect("size")
}

#[test]
fn a_loosening_pack_is_rejected_with_its_reason() {
    let data = Data::new();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pack.toml"),
        "[pack]\nid = \"loose\"\nversion = \"1\"\ntitle = { zh = \"宽\", en = \"Loose\" }\ndescription = { zh = \"宽\", en = \"Loose\" }\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("tiers.toml"),
        "[[tier]]\nid = \"high\"\nname = { zh = \"高\", en = \"High\" }\ndescription = { zh = \"高\", en = \"High\" }\nreview_months = 24\nsignoff_roles = [\"owner\"]\n",
    )
    .expect("write");
    let output =
        data.lunli("admin").args(["pack", "activate", &dir.path().display().to_string()]).output().expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tiers.toml:5:"), "{stderr}");
    assert!(stderr.contains("review_months = 24 but the base re-reviews every 6 months"), "{stderr}");
    assert!(stderr.contains("drops sign-off roles data, legal, ethics-committee, management"), "{stderr}");
    assert!(data.json("admin", &["pack", "list"])["packs"].as_array().expect("packs").is_empty(), "nothing activated");

    // Weaker audit thresholds are refused too.
    std::fs::remove_file(dir.path().join("tiers.toml")).expect("rm");
    std::fs::write(
        dir.path().join("audit-policy.yaml"),
        "fairness:\n  disparate_impact_ratio: { min: 0.6, severity: high }\n",
    )
    .expect("write");
    let output = data.lunli("admin").args(["pack", "check", &dir.path().display().to_string()]).output().expect("runs");
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fairness.disparate_impact_ratio: ≥ 0.6 is looser than the base's ≥ 0.8"), "{stderr}");
}
