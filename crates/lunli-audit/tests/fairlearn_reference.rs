//! lunli's fairness numbers against Fairlearn 0.15 and scikit-learn on real data: every value
//! in each data set's `fairlearn_reference.json` (see its SOURCE.md) to 1e-9.

use std::path::PathBuf;

use lunli_audit::RunOptions;
use lunli_audit::fairness::{self, FairnessReport, FairnessRequest};
use lunli_audit::policy::FairnessPolicy;
use lunli_norms::Catalogue;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn shared(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative);
    assert!(
        path.exists(),
        "{} is missing: the reference data sets live in shared/ beside the repository (see README)",
        path.display()
    );
    path
}

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(shared(name)).expect("reference JSON");
    serde_json::from_str(&text).expect("reference is JSON")
}

fn run(file: &str, score: Option<&str>, threads: Option<usize>) -> FairnessReport {
    let request = FairnessRequest {
        inputs: vec![shared(file).display().to_string()],
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: score.map(str::to_string),
        sensitive: vec!["sex".into(), "race".into()],
        positive: None,
        bootstrap: None,
    };
    let options = RunOptions { threads, ..RunOptions::default() };
    fairness::audit(&request, &FairnessPolicy::default(), &Catalogue::bundled().expect("catalogue"), &options)
        .expect("the audit runs")
}

fn close(what: &str, ours: f64, theirs: f64) {
    assert!((ours - theirs).abs() <= TOLERANCE, "{what}: lunli {ours} vs Fairlearn {theirs}");
}

/// Every per-group metric, the overall metrics and the cross-group figures.
fn compare(report: &FairnessReport, reference: &Value) -> usize {
    let mut checked = 0;
    assert_eq!(report.rows, reference["rows"].as_u64().expect("rows"));
    let metrics = |v: &Value| v.as_object().expect("metrics").clone();
    for (name, value) in metrics(&reference["overall"]) {
        let ours = report.overall.metrics.get(&name).unwrap_or_else(|| panic!("unknown metric {name}"));
        close(&format!("overall {name}"), ours, value.as_f64().expect("number"));
        checked += 1;
    }
    for (key, attribute) in [("by_sex", "sex"), ("by_race", "race"), ("by_sex_race", "sex|race")] {
        let ours = report.attribute(attribute).unwrap_or_else(|| panic!("no attribute {attribute}"));
        let groups = reference[key].as_object().expect("groups");
        assert_eq!(ours.groups.len(), groups.len(), "{attribute}: number of groups");
        for (group, values) in groups {
            let g = ours.group(group).unwrap_or_else(|| panic!("{attribute}: no group {group}"));
            for (name, value) in metrics(values) {
                let mine = g.metrics.get(&name).unwrap_or_else(|| panic!("unknown metric {name}"));
                close(&format!("{attribute}={group} {name}"), mine, value.as_f64().expect("number"));
                checked += 1;
            }
        }
    }
    for (column, attribute) in [("sex", "sex"), ("race", "race")] {
        let d = &report.attribute(attribute).expect("attribute").disparities;
        for (name, ours) in [
            ("demographic_parity_difference", Some(d.demographic_parity_difference)),
            ("demographic_parity_ratio", d.demographic_parity_ratio),
            ("equalized_odds_difference", Some(d.equalized_odds_difference)),
            ("equalized_odds_ratio", d.equalized_odds_ratio),
        ] {
            let theirs = reference[format!("{name}_{column}")].as_f64().expect("number");
            close(&format!("{name} by {column}"), ours.expect("defined"), theirs);
            checked += 1;
        }
    }
    checked
}

/// Numbers anywhere in a JSON value.
fn numbers_in(value: &Value) -> usize {
    match value {
        Value::Number(_) => 1,
        Value::Object(map) => map.values().map(numbers_in).sum(),
        Value::Array(items) => items.iter().map(numbers_in).sum(),
        _ => 0,
    }
}

#[test]
fn adult_matches_fairlearn_to_1e_9() {
    let reference = reference("adult/fairlearn_reference.json");
    let report = run("adult/adult_predictions.csv", Some("score"), None);
    let mut checked = compare(&report, &reference);
    for (key, attribute) in [("auc_by_sex", "sex"), ("auc_by_race", "race")] {
        let ours = report.attribute(attribute).expect("attribute");
        for (group, value) in reference[key].as_object().expect("AUCs") {
            let auc = ours.group(group).and_then(|g| g.auc).unwrap_or_else(|| panic!("no AUC for {group}"));
            close(&format!("AUC {attribute}={group}"), auc, value.as_f64().expect("number"));
            checked += 1;
        }
    }
    assert_eq!(checked, numbers_in(&reference) - 1, "every reference value but `rows` is compared");
}

#[test]
fn compas_matches_fairlearn_to_1e_9() {
    let reference = reference("compas/fairlearn_reference.json");
    let report = run("compas/compas_predictions.csv", None, None);
    let checked = compare(&report, &reference);
    assert_eq!(checked, numbers_in(&reference) - 1, "every reference value but `rows` is compared");
}

#[test]
fn one_partition_and_many_give_the_same_numbers() {
    let one = run("adult/adult_predictions.csv", Some("score"), Some(1));
    let four = run("adult/adult_predictions.csv", Some("score"), Some(4));
    assert_eq!(serde_json::to_value(&one).expect("json"), serde_json::to_value(&four).expect("json"));
}
