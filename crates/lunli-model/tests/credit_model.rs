//! The credit example's real model (scikit-learn logistic regression on Adult, exported by
//! skl2onnx; examples/credit-scoring/model/SOURCE.md) against the references computed with
//! onnxruntime and scikit-learn when it was trained, with no Python at test time.

use std::path::{Path, PathBuf};

use lunli_audit::RunOptions;
use lunli_audit::policy::{FairnessPolicy, ModelPolicy};
use lunli_model::frame::{Column, Frame};
use lunli_model::{Model, ModelError, ModelReport, ModelRequest, audit};
use lunli_norms::Catalogue;
use serde_json::Value;

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/credit-scoring/model").join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn reference() -> Value {
    let text = std::fs::read_to_string(example("reference.json")).expect("reference.json");
    serde_json::from_str(&text).expect("reference.json is JSON")
}

fn load(name: &str) -> Model {
    let path = example(name);
    let bytes = std::fs::read(&path).expect("model file");
    Model::load(&path.display().to_string(), &bytes).expect("the model loads")
}

/// test.csv as the model's input columns.
fn sample(model: &Model) -> Frame {
    let mut reader = csv::Reader::from_path(example("test.csv")).expect("test.csv");
    let headers = reader.headers().expect("header").clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let columns = model
        .inputs
        .iter()
        .map(|input| {
            let at = headers.iter().position(|h| h == input.name).expect("column");
            if input.kind.numeric() {
                Column::Number(rows.iter().map(|r| r[at].parse().expect("number")).collect())
            } else {
                Column::Text(rows.iter().map(|r| r[at].to_string()).collect())
            }
        })
        .collect();
    Frame { columns }
}

fn request(model: &str) -> ModelRequest {
    ModelRequest {
        model: example(model).display().to_string(),
        inputs: vec![example("test.csv").display().to_string()],
        label: "income".into(),
        sensitive: vec!["sex".into(), "race".into()],
        ..ModelRequest::default()
    }
}

fn run(request: &ModelRequest) -> Result<ModelReport, ModelError> {
    let catalogue = Catalogue::bundled().expect("catalogue");
    audit(request, &FairnessPolicy::default(), &ModelPolicy::default(), &catalogue, &RunOptions::default())
}

#[test]
fn probabilities_and_decisions_equal_onnxruntimes() {
    let model = load("model.onnx");
    let frame = sample(&model);
    let predictions = model.predict(&frame).expect("runs");
    let reference = reference();
    let probability: Vec<f64> = serde_json::from_value(reference["onnxruntime"]["probability"].clone()).expect("list");
    let label: Vec<i64> = serde_json::from_value(reference["onnxruntime"]["label"].clone()).expect("list");
    assert_eq!(predictions.scores.len(), probability.len());
    let worst = predictions.scores.iter().zip(&probability).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-6, "largest gap from onnxruntime: {worst}");
    for (i, (d, l)) in predictions.decisions.iter().zip(&label).enumerate() {
        assert_eq!(*d, *l == 1, "row {i}");
    }
    // And scikit-learn's own predict_proba, through float32 arithmetic.
    let sklearn: Vec<f64> = serde_json::from_value(reference["sklearn_predict_proba"].clone()).expect("list");
    let worst = predictions.scores.iter().zip(&sklearn).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= 1e-6, "largest gap from scikit-learn: {worst}");
}

#[test]
fn the_batch_axis_is_dynamic() {
    let model = load("model.onnx");
    let frame = sample(&model);
    let all = model.predict(&frame).expect("runs");
    for rows in [vec![0], vec![5, 6, 7], (0..1000).collect::<Vec<_>>()] {
        let part = model.predict(&frame.take(&rows)).expect("runs");
        for (k, &i) in rows.iter().enumerate() {
            assert_eq!(part.scores[k], all.scores[i], "row {i} in a batch of {}", rows.len());
        }
    }
}

#[test]
fn the_audit_agrees_with_scikit_learn_and_behaves() {
    let mut req = request("model.onnx");
    req.explain_rows = vec![0, 5];
    req.noise_scales = vec![0.0, 0.1, 0.25, 0.5];
    let report = run(&req).expect("audit runs");
    let reference = reference();
    assert_eq!(report.rows, 2000);

    // Accuracy on the sample equals scikit-learn's (the same decisions).
    let accuracy = reference["accuracy"].as_f64().expect("accuracy");
    assert!((report.robustness.accuracy - accuracy).abs() < 1e-12, "{}", report.robustness.accuracy);
    assert!((report.overall.metrics.accuracy - accuracy).abs() < 1e-12);

    // Permutation importances: lunli's shuffles come from its own seeded generator (ChaCha8),
    // not numpy's Mersenne Twister, so the individual shuffles — and hence the values — differ
    // from scikit-learn's even with the same seed and repeats. Both estimate the same quantity:
    // each mean must lie within 4 standard errors of the pair's spread (plus 2 rows' worth of
    // accuracy, the resolution on 2,000 rows) of scikit-learn's, and the three most important
    // features must be the same.
    let sk = &reference["permutation_importance"]["features"];
    for f in &report.importance.features {
        let theirs = &sk[&f.feature];
        let (mean, std) = (theirs["mean"].as_f64().expect("mean"), theirs["std"].as_f64().expect("std"));
        let se = ((f.std.powi(2) + std.powi(2)) / 5.0).sqrt();
        let tolerance = 4.0 * se + 2.0 / 2000.0;
        assert!(
            (f.mean - mean).abs() <= tolerance,
            "{}: lunli {} vs scikit-learn {mean} (±{tolerance})",
            f.feature,
            f.mean
        );
        assert!(f.interval[0] <= f.mean && f.mean <= f.interval[1]);
    }
    let mut theirs: Vec<(String, f64)> =
        sk.as_object().expect("features").iter().map(|(k, v)| (k.clone(), v["mean"].as_f64().expect("mean"))).collect();
    theirs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let top = |v: Vec<String>| -> std::collections::BTreeSet<String> { v.into_iter().take(3).collect() };
    assert_eq!(
        top(report.importance.features.iter().map(|f| f.feature.clone()).collect()),
        top(theirs.into_iter().map(|(k, _)| k).collect())
    );

    // Noise of scale 0 changes nothing; more noise never helps much and flips more.
    let noise0 = report.robustness.perturbations.iter().find(|p| p.id == "noise_0").expect("noise_0");
    assert_eq!(noise0.flipped, 0);
    assert_eq!(noise0.accuracy_drop, 0.0);
    let flips: Vec<u64> =
        report.robustness.perturbations.iter().filter(|p| p.id.starts_with("noise_")).map(|p| p.flipped).collect();
    assert!(flips.windows(2).all(|w| w[0] <= w[1]), "{flips:?}");
    for id in ["category_swap", "missing_values", "out_of_range"] {
        assert!(report.robustness.perturbations.iter().any(|p| p.id == id && p.flipped > 0), "{id}");
    }

    // The model reads sex: some decisions change with it alone, and the groups add up.
    let sex = report.counterfactual.iter().find(|c| c.attribute == "sex").expect("sex");
    assert!(sex.model_input && sex.changed > 0);
    assert_eq!(sex.groups.iter().map(|g| g.rows).sum::<u64>(), 2000);

    // Attributions: one per feature for each row asked for, adding up (in expectation) to the
    // row's probability minus the base value.
    let attributions = report.attributions.as_ref().expect("attributions");
    assert_eq!(attributions.rows.len(), 2);
    for row in &attributions.rows {
        assert_eq!(row.features.len(), 14);
        let total: f64 = row.features.iter().map(|f| f.attribution).sum();
        let gap = (total - (row.score - attributions.base_value)).abs();
        assert!(
            gap < 0.1,
            "row {}: attributions sum to {total}, f(x) − base = {}",
            row.row,
            row.score - attributions.base_value
        );
    }

    // Performance by group: the fairness audit's metrics, AUC and calibration per group.
    let race = report.attributes.iter().find(|a| a.attribute == "race").expect("race");
    assert!(race.groups.iter().all(|g| g.auc.is_some() || g.metrics.count < 30));
    assert!(report.calibration.iter().any(|c| c.attribute == "sex" && c.groups.len() == 2));
    // Evidence for Art. 12 (robustness) and Art. 13 (fairness) controls.
    assert!(report.controls.contains(&"C-12-03".to_string()), "{:?}", report.controls);
    assert!(report.controls.contains(&"C-13-03".to_string()), "{:?}", report.controls);

    // The same seed gives the same run.
    let again = run(&req).expect("audit runs");
    assert_eq!(
        serde_json::to_value(&report.importance).expect("json"),
        serde_json::to_value(&again.importance).expect("json")
    );
}

#[test]
fn inputs_the_model_ignores_change_nothing() {
    let mut req = request("model-unaware.onnx");
    req.repeats = 2;
    let report = run(&req).expect("audit runs");
    for attribute in ["sex", "race"] {
        let c = report.counterfactual.iter().find(|c| c.attribute == attribute).expect("attribute");
        assert!(c.model_input, "the unaware model still takes {attribute} as an input");
        assert_eq!(c.changed, 0, "{attribute}");
        let f = report.importance.features.iter().find(|f| f.feature == attribute).expect("feature");
        assert_eq!(f.mean, 0.0, "{attribute}");
        assert!(f.repeats.iter().all(|r| *r == 0.0));
    }
}

#[test]
fn bad_inputs_are_named() {
    // A data set without a column the model reads.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(example("test.csv")).expect("csv");
    let cut: String = text
        .lines()
        .take(50)
        .map(|line| line.split_once(',').map(|x| x.1).unwrap_or_default().to_string() + "\n")
        .collect();
    let data = dir.path().join("no-age.csv");
    std::fs::write(&data, cut).expect("write");
    let mut req = request("model.onnx");
    req.inputs = vec![data.display().to_string()];
    let message = run(&req).expect_err("no age column").to_string();
    assert!(message.contains("no-age.csv") && message.contains("`age`"), "{message}");

    // Not an ONNX file.
    let mut req = request("model.onnx");
    req.model = example("test.csv").display().to_string();
    let error = run(&req).expect_err("not a model");
    assert!(error.is_invalid_input());
    let message = error.to_string();
    assert!(message.contains("test.csv") && message.contains("not an ONNX model"), "{message}");

    // A missing model file.
    req.model = dir.path().join("nowhere.onnx").display().to_string();
    let message = run(&req).expect_err("no file").to_string();
    assert!(message.contains("nowhere.onnx") && message.contains("cannot read"), "{message}");

    // Models lunli refuses, each naming the input or output.
    for (file, expected) in [
        ("matrix-input.onnx", "input `features` has shape [N, 3]"),
        ("fixed-batch.onnx", "input `age` has a fixed batch size"),
        ("bool-input.onnx", "input `flag` is of type Bool"),
        ("no-probability.onnx", "no output gives the probability"),
    ] {
        let bytes = std::fs::read(fixture(file)).expect("fixture");
        let error = Model::load(file, &bytes).expect_err(file);
        let message = error.to_string();
        assert!(message.starts_with(file) && message.contains(expected), "{file}: {message}");
    }

    // A label with three values.
    let three = dir.path().join("three.csv");
    let text: String = text
        .lines()
        .enumerate()
        .take(40)
        .map(|(i, line)| if i == 7 { format!("{}2\n", &line[..line.len() - 1]) } else { format!("{line}\n") })
        .collect();
    std::fs::write(&three, text).expect("write");
    let mut req = request("model.onnx");
    req.inputs = vec![three.display().to_string()];
    let message = run(&req).expect_err("three labels").to_string();
    assert!(message.contains("`income`") && message.contains("binary"), "{message}");
}
