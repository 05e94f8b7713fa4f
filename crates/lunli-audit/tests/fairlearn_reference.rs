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

/// Arrow batches in memory (the Python package's way in) and a stream of them give the report
/// the file gives, inputs aside.
#[test]
fn arrow_batches_give_the_numbers_the_file_gives() {
    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, RecordBatchIterator, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use lunli_audit::{ArrowBatches, ArrowInput};
    use std::sync::Arc;

    let text = std::fs::read_to_string(shared("adult/adult_predictions.csv")).expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let (mut y, mut p, mut s, mut sex, mut race) = (vec![], vec![], vec![], vec![], vec![]);
    for record in reader.records() {
        let r = record.expect("row");
        y.push(r[0].parse::<i64>().expect("y"));
        p.push(r[1].parse::<i64>().expect("p"));
        s.push(r[2].parse::<f64>().expect("score"));
        sex.push(r[3].to_string());
        race.push(r[4].to_string());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("y_true", DataType::Int64, false),
        Field::new("y_pred", DataType::Int64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("race", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(y)),
            Arc::new(Int64Array::from(p)),
            Arc::new(Float64Array::from(s)),
            Arc::new(StringArray::from(sex)),
            Arc::new(StringArray::from(race)),
        ],
    )
    .expect("batch");
    let request = FairnessRequest {
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: Some("score".into()),
        sensitive: vec!["sex".into(), "race".into()],
        ..FairnessRequest::default()
    };
    let catalogue = Catalogue::bundled().expect("catalogue");
    let without_inputs = |report: &FairnessReport| {
        let mut value = serde_json::to_value(report).expect("json");
        value.as_object_mut().expect("object").remove("inputs");
        value
    };
    let from_file = without_inputs(&run("adult/adult_predictions.csv", Some("score"), None));
    let memory = ArrowInput {
        name: "batches".into(),
        schema: schema.clone(),
        batches: ArrowBatches::Memory(vec![batch.slice(0, 5000), batch.slice(5000, batch.num_rows() - 5000)]),
    };
    let report =
        fairness::audit_arrow(memory, &request, &FairnessPolicy::default(), &catalogue, &RunOptions::default())
            .expect("audit of batches");
    assert_eq!(report.inputs[0].path, "batches");
    assert_eq!(report.inputs[0].format, "arrow");
    assert_eq!(without_inputs(&report), from_file);
    let (rows, whole) = (batch.num_rows(), batch.clone());
    let stream = ArrowInput {
        name: "stream".into(),
        schema: schema.clone(),
        batches: ArrowBatches::Stream(Box::new(RecordBatchIterator::new(
            (0..rows).step_by(1000).map(move |at| Ok(whole.slice(at, 1000.min(rows - at)))),
            schema.clone(),
        ))),
    };
    let report =
        fairness::audit_arrow(stream, &request, &FairnessPolicy::default(), &catalogue, &RunOptions::default())
            .expect("audit of a stream");
    assert_eq!(without_inputs(&report), from_file);
}
