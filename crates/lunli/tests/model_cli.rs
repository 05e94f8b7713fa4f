//! `lunli audit model` as a user runs it: the credit example's real ONNX model on its sample,
//! the JSON shape, evidence on the Art. 12 and Art. 13 controls of a fresh SQLite store, the
//! HTML page, `--strict`, and bad input named with exit 3.

mod common;

use common::{Data, repo, write};
use predicates::str::contains;
use serde_json::Value;

fn model_file(name: &str) -> String {
    repo().join("examples/credit-scoring/model").join(name).display().to_string()
}

#[test]
fn a_model_audit_lands_as_evidence_on_art_12_and_13_controls() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let (model, sample) = (model_file("model.onnx"), model_file("test.csv"));
    let html = data.dir.path().join("model.html").display().to_string();
    let report = data.json(
        "li-wei",
        &[
            "audit",
            "model",
            &model,
            &sample,
            "--label",
            "income",
            "--sensitive",
            "sex,race",
            "--proxies",
            "relationship",
            "--explain-rows",
            "0,7",
            "--repeats",
            "3",
            "--samples",
            "16",
            "--system",
            "credit-scoring",
            "--html",
            &html,
        ],
    );
    assert_eq!(report["audit"], "model");
    assert_eq!(report["rows"], 2000);
    for key in [
        "model",
        "inputs",
        "parameters",
        "overall",
        "attributes",
        "calibration",
        "robustness",
        "counterfactual",
        "importance",
        "attributions",
        "findings",
        "warnings",
        "passed",
        "controls",
        "evidence",
    ] {
        assert!(report.get(key).is_some(), "the report lacks `{key}`");
    }
    assert_eq!(report["model"]["inputs"].as_array().map(Vec::len), Some(14));
    assert_eq!(report["importance"]["features"].as_array().map(Vec::len), Some(14));
    assert_eq!(report["counterfactual"][2]["attribute"], "relationship");
    assert_eq!(report["counterfactual"][2]["proxy"], true);
    assert!(report["robustness"]["perturbations"].as_array().is_some_and(|p| p.len() == 6));
    assert!(report["attributes"][0]["groups"][0]["auc"].is_number());
    let recorded: Vec<&str> =
        report["evidence"].as_array().expect("evidence").iter().filter_map(|e| e["control"].as_str()).collect();
    assert!(recorded.contains(&"C-12-03") && recorded.contains(&"C-13-03"), "{recorded:?}");

    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let controls = assessment["controls"].as_array().expect("controls");
    for control in ["C-12-03", "C-13-03"] {
        let state = controls.iter().find(|c| c["control"] == control).expect("control in the assessment");
        let item: &Value = &state["evidence"][0]["item"];
        assert_eq!(item["type"], "audit");
        assert_eq!(item["audit"], "model");
        // The data and the model file are both pinned by their SHA-256.
        let inputs = item["summary"]["inputs"].as_array().expect("inputs");
        assert!(inputs.iter().all(|i| i["sha256"].as_str().is_some_and(|s| s.len() == 64)), "{inputs:?}");
        assert!(inputs.iter().any(|i| i["format"] == "onnx"));
    }

    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(!page.contains("<script"));
    for term in [
        "鲁棒性",
        "Robustness",
        "反事实",
        "Counterfactual",
        "置换重要性",
        "Permutation importance",
        "Shapley",
        "<svg",
        "noise_0.5",
    ] {
        assert!(page.contains(term), "the model page lacks {term}");
    }
    // The system report carries the model audit too.
    let report_html = data.dir.path().join("report.html").display().to_string();
    data.ok("admin", &["--lang", "both", "report", "credit-scoring", "--out", &report_html]);
    let page = std::fs::read_to_string(&report_html).expect("report written");
    assert!(page.contains("Robustness") && page.contains("鲁棒性"), "the system report lacks the model audit");
}

#[test]
fn strict_fails_and_bad_input_is_named() {
    let data = Data::new();
    let (model, sample) = (model_file("model.onnx"), model_file("test.csv"));
    // The credit model's decisions change with sex alone: a high-severity finding.
    data.lunli("ci")
        .args(["audit", "model", &model, &sample, "--label", "income", "--sensitive", "sex", "--repeats", "1"])
        .arg("--strict")
        .assert()
        .code(5);
    // A column the model reads is missing.
    let text = std::fs::read_to_string(&sample).expect("sample");
    let cut: String =
        text.lines().take(30).map(|l| l.split_once(',').map_or("", |(_, r)| r).to_string() + "\n").collect();
    let no_age = write(data.dir.path(), "no-age.csv", &cut);
    data.lunli("ci")
        .args(["audit", "model", &model, &no_age, "--label", "income", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("no-age.csv").and(contains("age")));
    // Not an ONNX model.
    data.lunli("ci")
        .args(["audit", "model", &sample, &sample, "--label", "income", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("test.csv").and(contains("not an ONNX model")));
}

use predicates::prelude::PredicateBooleanExt;
