//! The model audit: one ordered pass over the data, batch by batch. On each batch the model runs
//! on the features as they are and on every variant the tests need — perturbed copies
//! (robustness), copies with one sensitive attribute or proxy set to each other value
//! (counterfactual fairness) and copies with one feature's values shuffled (permutation
//! importance) — the variants of a batch in parallel on every core. Only counts and the columns
//! the fairness audit needs (label, decision, score, sensitive values) are kept; the fairness
//! audit then runs on those as Arrow data, and per-row attributions are computed for the rows
//! asked for, against a seeded sample of background rows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use lunli_audit::fairness::{self, AttributeReport, FairnessRequest, GroupReport};
use lunli_audit::policy::{FairnessPolicy, Finding, Limit, ModelPolicy, Severity, controls_for, passes};
use lunli_audit::source::Dataset;
use lunli_audit::{ArrowBatches, ArrowInput, InputSummary, RunOptions};
use lunli_norms::{Automation, Catalogue, Text};

use crate::error::ModelError;
use crate::explain::{self, Attribution, Importance};
use crate::frame::{Column, Frame, texts};
use crate::onnx::{Model, ModelInput};
use crate::perturb::{FeatureProfile, Perturbation};
use crate::random;

/// The most values a sensitive attribute or proxy may take for the counterfactual test: each
/// value is one more run of the model on every row.
pub const MAX_COUNTERFACTUAL_VALUES: usize = 64;

/// Rows kept as the background of per-row attributions (a seeded reservoir sample).
pub const BACKGROUND_ROWS: usize = 100;

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    /// The ONNX file.
    pub model: String,
    /// Data paths or glob patterns (CSV, Parquet, JSON Lines), as the other audits read them.
    pub inputs: Vec<String>,
    pub label: String,
    /// The positive label value; inferred for 0/1, true/false and yes/no labels.
    pub positive: Option<String>,
    pub sensitive: Vec<String>,
    /// Model inputs that may stand in for a sensitive attribute (postcode for ethnicity, …).
    pub proxies: Vec<String>,
    /// Rows (0-based, in file order) to explain one by one.
    pub explain_rows: Vec<u64>,
    pub seed: u64,
    /// Shuffles per feature for permutation importance.
    pub repeats: u32,
    /// Sampled permutations per feature and row for attributions.
    pub samples: u32,
    /// Noise scales, in standard deviations of each feature.
    pub noise_scales: Vec<f64>,
    /// Share of values changed by the swap, missing and out-of-range perturbations.
    pub perturbation_rate: f64,
    /// Audit only the first rows (a quick run); all rows by default.
    pub max_rows: Option<u64>,
}

impl Default for ModelRequest {
    fn default() -> Self {
        Self {
            model: String::new(),
            inputs: Vec::new(),
            label: String::new(),
            positive: None,
            sensitive: Vec::new(),
            proxies: Vec::new(),
            explain_rows: Vec::new(),
            seed: 0,
            repeats: 5,
            samples: 64,
            noise_scales: vec![0.1, 0.25, 0.5],
            perturbation_rate: 0.1,
            max_rows: None,
        }
    }
}

/// The model as the report describes it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub inputs: Vec<ModelInput>,
    pub score_output: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_output: Option<String>,
}

/// The run's parameters. `label`, `prediction`, `score`, `positive` and `policy` have the
/// fairness audit's shape, so the fairness part of a model audit reads like a fairness audit.
#[derive(Debug, Clone, Serialize)]
pub struct ModelParameters {
    pub label: String,
    pub prediction: String,
    pub score: String,
    pub positive: String,
    pub sensitive: Vec<String>,
    pub proxies: Vec<String>,
    pub seed: u64,
    pub repeats: u32,
    pub samples: u32,
    pub noise_scales: Vec<f64>,
    pub perturbation_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u64>,
    pub explain_rows: Vec<u64>,
    pub policy: FairnessPolicy,
    pub model_policy: ModelPolicy,
}

/// Calibration of the scores in one group: Brier score and a ten-bin reliability table.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationGroup {
    pub group: String,
    pub count: u64,
    pub brier: f64,
    pub bins: Vec<ReliabilityBin>,
}

/// One bin of `[0, 1]`: its rows' mean score beside the share of them that are positive.
#[derive(Debug, Clone, Serialize)]
pub struct ReliabilityBin {
    pub low: f64,
    pub high: f64,
    pub count: u64,
    pub mean_score: f64,
    pub positive_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationAttribute {
    pub attribute: String,
    pub groups: Vec<CalibrationGroup>,
}

/// The model's accuracy and decisions under one perturbation.
#[derive(Debug, Clone, Serialize)]
pub struct PerturbationResult {
    pub id: String,
    #[serde(flatten)]
    pub perturbation: Perturbation,
    pub accuracy: f64,
    /// Accuracy on the data as it is minus accuracy under the perturbation.
    pub accuracy_drop: f64,
    /// Share of rows whose decision the perturbation changes.
    pub flip_rate: f64,
    pub flipped: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Robustness {
    pub accuracy: f64,
    pub perturbations: Vec<PerturbationResult>,
}

/// Counterfactual flips of one group (the rows whose attribute has this value).
#[derive(Debug, Clone, Serialize)]
pub struct CounterfactualGroup {
    pub group: String,
    pub rows: u64,
    /// Rows whose decision changes when the attribute alone takes some other value.
    pub changed: u64,
    pub flip_rate: f64,
}

/// The counterfactual test of one sensitive attribute or proxy.
#[derive(Debug, Clone, Serialize)]
pub struct Counterfactual {
    pub attribute: String,
    /// Named with `--proxies` (else a sensitive attribute).
    pub proxy: bool,
    /// Whether the model reads the column at all; when not, no decision can change.
    pub model_input: bool,
    /// The values each row is set to in turn (seen in the first batch).
    pub values: Vec<String>,
    pub rows: u64,
    pub changed: u64,
    pub flip_rate: f64,
    pub groups: Vec<CounterfactualGroup>,
}

/// Everything the model audit found, in a stable JSON shape (docs/models.md).
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    pub audit: &'static str,
    pub model: ModelInfo,
    pub inputs: Vec<InputSummary>,
    pub parameters: ModelParameters,
    pub rows: u64,
    /// Performance on all rows, with the fairness audit's metrics, AUC and calibration error.
    pub overall: GroupReport,
    /// Performance by group: the fairness audit of the model's own decisions and scores.
    pub attributes: Vec<AttributeReport>,
    pub calibration: Vec<CalibrationAttribute>,
    pub robustness: Robustness,
    pub counterfactual: Vec<Counterfactual>,
    pub importance: Importance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributions: Option<Attribution>,
    pub findings: Vec<Finding>,
    pub warnings: Vec<Text>,
    pub passed: bool,
    pub controls: Vec<String>,
}

/// Name of the decision column handed to the fairness audit.
const PREDICTION: &str = "model.prediction";
/// Name of the score column handed to the fairness audit.
const SCORE: &str = "model.score";

/// Runs the model audit on the files of `request.inputs`.
pub fn audit(
    request: &ModelRequest,
    policy: &FairnessPolicy,
    model_policy: &ModelPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<ModelReport, ModelError> {
    check_request(request)?;
    let (model, bytes) = load(request)?;
    let dataset = Dataset::open(&request.inputs, options.encoding, options.progress.clone())?;
    audit_dataset(&model, &bytes, dataset, request, policy, model_policy, catalogue, options)
}

/// Runs the model audit on Arrow data handed over in memory or as a stream (read once, in
/// order); `request.inputs` is not read.
pub fn audit_arrow(
    input: ArrowInput,
    request: &ModelRequest,
    policy: &FairnessPolicy,
    model_policy: &ModelPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<ModelReport, ModelError> {
    check_request(request)?;
    let (model, bytes) = load(request)?;
    let dataset = Dataset::from_arrow(input, options.progress.clone());
    audit_dataset(&model, &bytes, dataset, request, policy, model_policy, catalogue, options)
}

/// The model of `request.model`, and its bytes (which the report pins by their SHA-256).
fn load(request: &ModelRequest) -> Result<(Model, Vec<u8>), ModelError> {
    let bytes = std::fs::read(&request.model)
        .map_err(|e| ModelError::Model { file: request.model.clone(), reason: format!("cannot read it: {e}") })?;
    Ok((Model::load(&request.model, &bytes)?, bytes))
}

// The audit's inputs and settings, one parameter each, as `audit` receives them.
#[allow(clippy::too_many_arguments)]
fn audit_dataset(
    model: &Model,
    bytes: &[u8],
    dataset: Dataset,
    request: &ModelRequest,
    policy: &FairnessPolicy,
    model_policy: &ModelPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<ModelReport, ModelError> {
    let data_name = dataset.name();
    let input_names: BTreeSet<&str> = model.inputs.iter().map(|i| i.name.as_str()).collect();
    for proxy in &request.proxies {
        if !input_names.contains(proxy.as_str()) {
            return Err(ModelError::Request(format!(
                "--proxies {proxy}: the model has no input `{proxy}`; its inputs are: {}",
                model.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut columns: Vec<&str> = model.inputs.iter().map(|i| i.name.as_str()).collect();
    for extra in std::iter::once(&request.label).chain(&request.sensitive) {
        if !columns.contains(&extra.as_str()) {
            columns.push(extra);
        }
    }
    let mut pass = Pass::new(request, model, &data_name);
    let limit = request.max_rows.unwrap_or(u64::MAX);
    lunli_audit::scan::scan(&dataset, &columns, options, |batch| {
        if pass.rows >= limit {
            return Ok(());
        }
        let keep = (limit - pass.rows).min(batch.num_rows() as u64) as usize;
        pass.batch(&batch.slice(0, keep))
    })?;
    if pass.rows == 0 {
        return Err(ModelError::Request(format!("{data_name}: no data rows")));
    }
    let positive = pass.positive.clone().unwrap_or_else(|| "1".into());

    // Performance by group: the fairness audit, run on the decisions and scores kept.
    let schema = pass.fairness_schema();
    let fairness_request = FairnessRequest {
        inputs: Vec::new(),
        label: request.label.clone(),
        prediction: PREDICTION.into(),
        score: Some(SCORE.into()),
        sensitive: request.sensitive.clone(),
        positive: Some("1".into()),
        bootstrap: None,
    };
    let input = ArrowInput {
        name: format!("{} on {data_name}", request.model),
        schema,
        batches: ArrowBatches::Memory(std::mem::take(&mut pass.kept)),
    };
    let fair = fairness::audit_arrow(
        input,
        &fairness_request,
        policy,
        catalogue,
        &RunOptions {
            threads: options.threads,
            memory_limit: options.memory_limit,
            encoding: options.encoding,
            progress: Arc::default(),
        },
    )?;

    let importance = pass.importance(request);
    let attributions = if request.explain_rows.is_empty() { None } else { Some(pass.attributions(request, model)?) };
    let robustness = pass.robustness();
    let counterfactual = pass.counterfactual();
    let calibration = pass.calibration();

    let model_controls = controls_for(catalogue, Automation::AuditModel);
    let fairness_controls = controls_for(catalogue, Automation::AuditFairness);
    let mut findings = fair.findings.clone();
    findings.extend(robustness_findings(&robustness, model_policy, &model_controls));
    findings.extend(counterfactual_findings(&counterfactual, model_policy, &fairness_controls));
    let mut warnings = fair.warnings.clone();
    warnings.extend(pass.warnings.iter().cloned());
    for c in &counterfactual {
        if !c.model_input {
            warnings.push(Text {
                zh: format!("模型不读取 `{}`：只改变该属性不会改变任何决定，但其代理变量仍可能带来偏差（可用 --proxies 指定）", c.attribute),
                en: format!(
                    "the model does not read `{}`: changing it alone changes no decision, but proxies of it still can (name them with --proxies)",
                    c.attribute
                ),
            });
        }
    }
    let mut controls = model_controls;
    for c in fairness_controls {
        if !controls.contains(&c) {
            controls.push(c);
        }
    }
    let mut inputs = dataset.summaries();
    inputs.push(InputSummary {
        path: request.model.clone(),
        format: "onnx",
        compression: None,
        encoding: None,
        bytes: bytes.len() as u64,
        query: None,
    });
    let parameters = ModelParameters {
        label: request.label.clone(),
        prediction: PREDICTION.into(),
        score: SCORE.into(),
        positive,
        sensitive: request.sensitive.clone(),
        proxies: request.proxies.clone(),
        seed: request.seed,
        repeats: request.repeats,
        samples: request.samples,
        noise_scales: request.noise_scales.clone(),
        perturbation_rate: request.perturbation_rate,
        max_rows: request.max_rows,
        explain_rows: request.explain_rows.clone(),
        policy: policy.clone(),
        model_policy: model_policy.clone(),
    };
    Ok(ModelReport {
        audit: "model",
        model: ModelInfo {
            path: request.model.clone(),
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: bytes.len() as u64,
            inputs: model.inputs.clone(),
            score_output: model.score_output.clone(),
            label_output: model.label_output.clone(),
        },
        inputs,
        parameters,
        rows: pass.rows,
        overall: fair.overall,
        attributes: fair.attributes,
        calibration,
        robustness,
        counterfactual,
        importance,
        attributions,
        passed: passes(&findings),
        findings,
        warnings,
        controls,
    })
}

fn check_request(request: &ModelRequest) -> Result<(), ModelError> {
    if request.sensitive.is_empty() {
        return Err(ModelError::Request("give at least one sensitive column (--sensitive)".into()));
    }
    if request.label.trim().is_empty() {
        return Err(ModelError::Request("give the label column (--label)".into()));
    }
    if request.repeats == 0 || request.repeats > 1000 {
        return Err(ModelError::Request("--repeats must be between 1 and 1,000".into()));
    }
    if request.samples == 0 || request.samples > 10_000 {
        return Err(ModelError::Request("--samples must be between 1 and 10,000".into()));
    }
    if !(0.0..=1.0).contains(&request.perturbation_rate) {
        return Err(ModelError::Request("the perturbation rate must be in [0, 1]".into()));
    }
    if request.noise_scales.iter().any(|s| !s.is_finite() || *s < 0.0) {
        return Err(ModelError::Request("noise scales must be finite and not negative".into()));
    }
    if request.explain_rows.len() > 100 {
        return Err(ModelError::Request("--explain-rows takes at most 100 rows".into()));
    }
    Ok(())
}

/// One model run a batch needs beyond the plain one.
#[derive(Debug, Clone, Copy)]
enum Variant {
    Perturbed(usize),
    /// Attribute (index into the counterfactual list) set to one of its values.
    Counterfactual(usize, usize),
    /// Feature shuffled, repeat.
    Shuffled(usize, u32),
}

/// The counterfactual test of one attribute while the pass runs.
struct CounterfactualTally {
    attribute: String,
    proxy: bool,
    /// The model input it feeds, if any.
    input: Option<usize>,
    values: Vec<String>,
    /// Per original value: rows, rows changed.
    groups: BTreeMap<String, (u64, u64)>,
}

/// Per group of one attribute: Brier sum and per-bin (count, score sum, positives).
#[derive(Default)]
struct CalibrationTally {
    count: u64,
    brier: f64,
    bins: [(u64, f64, u64); 10],
}

/// The state of the pass over the data.
struct Pass<'a> {
    request: &'a ModelRequest,
    model: &'a Model,
    data_name: &'a str,
    rows: u64,
    batches: u64,
    positive: Option<String>,
    profile: Option<FeatureProfile>,
    perturbations: Vec<Perturbation>,
    correct: u64,
    perturbed_correct: Vec<u64>,
    perturbed_flips: Vec<u64>,
    counterfactual: Vec<CounterfactualTally>,
    /// Per feature, per repeat: rows right with the feature shuffled.
    shuffled_correct: Vec<Vec<u64>>,
    calibration: Vec<BTreeMap<String, CalibrationTally>>,
    /// The columns the fairness audit reads, batch by batch.
    kept: Vec<RecordBatch>,
    background: Vec<Frame>,
    explained: BTreeMap<u64, Frame>,
    warnings: Vec<Text>,
}

impl<'a> Pass<'a> {
    fn new(request: &'a ModelRequest, model: &'a Model, data_name: &'a str) -> Self {
        let features = model.inputs.len();
        let mut counterfactual = Vec::new();
        for (attribute, proxy) in
            request.sensitive.iter().map(|s| (s, false)).chain(request.proxies.iter().map(|p| (p, true)))
        {
            if counterfactual.iter().any(|c: &CounterfactualTally| &c.attribute == attribute) {
                continue;
            }
            counterfactual.push(CounterfactualTally {
                attribute: attribute.clone(),
                proxy,
                input: model.inputs.iter().position(|i| &i.name == attribute),
                values: Vec::new(),
                groups: BTreeMap::new(),
            });
        }
        Self {
            request,
            model,
            data_name,
            rows: 0,
            batches: 0,
            positive: None,
            profile: None,
            perturbations: Perturbation::defaults(&request.noise_scales, request.perturbation_rate),
            correct: 0,
            perturbed_correct: Vec::new(),
            perturbed_flips: Vec::new(),
            counterfactual,
            shuffled_correct: vec![vec![0; request.repeats as usize]; features],
            calibration: (0..request.sensitive.len() + 1).map(|_| BTreeMap::new()).collect(),
            kept: Vec::new(),
            background: Vec::new(),
            explained: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    fn column_error(&self, column: &str, reason: String) -> ModelError {
        ModelError::Column { file: self.data_name.to_string(), column: column.to_string(), reason }
    }

    /// The label column as booleans (positive or not), settling the positive value on the
    /// first batch.
    fn labels(&mut self, batch: &RecordBatch) -> Result<Vec<bool>, ModelError> {
        let label = &self.request.label;
        let array = batch.column_by_name(label).ok_or_else(|| self.column_error(label, "no such column".into()))?;
        let values = texts(array.as_ref()).map_err(|e| self.column_error(label, e))?;
        if values.iter().any(String::is_empty) {
            return Err(self.column_error(label, "a label is missing; every row needs one".into()));
        }
        if self.positive.is_none() {
            let distinct: BTreeSet<String> = values.iter().cloned().collect();
            if distinct.len() > 2 {
                return Err(self.column_error(
                    label,
                    format!(
                        "the label must be binary, but it holds {}",
                        distinct.iter().take(5).map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let positive = match &self.request.positive {
                Some(p) => p.clone(),
                None => fairness::inferred_positive(&distinct).map(str::to_string).ok_or_else(|| {
                    self.column_error(
                        label,
                        format!(
                            "which label value is positive? It holds {}; say it with --positive",
                            distinct.iter().take(5).map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")
                        ),
                    )
                })?,
            };
            self.positive = Some(positive);
        }
        let positive = self.positive.clone().unwrap_or_default();
        let mut negative: Option<&str> = None;
        let mut out = Vec::with_capacity(values.len());
        for v in &values {
            let is = fairness::is_positive(v, &positive);
            if !is {
                match negative {
                    None => negative = Some(v),
                    Some(n) if n != v && !fairness::is_positive(n, v) => {
                        return Err(self.column_error(
                            label,
                            format!("the label must be binary, but it holds `{n}`, `{v}` and the positive value `{positive}`"),
                        ));
                    }
                    _ => {}
                }
            }
            out.push(is);
        }
        Ok(out)
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<(), ModelError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let labels = self.labels(batch)?;
        let frame = Frame::from_batch(batch, &self.model.inputs, self.data_name)?;
        let sensitive: Vec<Vec<String>> = self
            .request
            .sensitive
            .iter()
            .map(|s| {
                let array = batch.column_by_name(s).ok_or_else(|| self.column_error(s, "no such column".into()))?;
                texts(array.as_ref()).map_err(|e| self.column_error(s, e))
            })
            .collect::<Result<_, _>>()?;
        if self.profile.is_none() {
            self.first_batch(&frame, batch)?;
        }
        let Some(profile) = self.profile.as_ref() else { return Ok(()) };
        let base = self.model.predict(&frame)?;
        let n = frame.rows();

        // Every variant of this batch, run in parallel; each builds its own copy of the frame.
        let mut variants: Vec<Variant> = (0..self.perturbations.len()).map(Variant::Perturbed).collect();
        for (a, c) in self.counterfactual.iter().enumerate() {
            if c.input.is_some() {
                variants.extend((0..c.values.len()).map(|v| Variant::Counterfactual(a, v)));
            }
        }
        for j in 0..self.model.inputs.len() {
            variants.extend((0..self.request.repeats).map(|r| Variant::Shuffled(j, r)));
        }
        let (seed, index) = (self.request.seed, self.batches);
        let (perturbations, counterfactual, model) = (&self.perturbations, &self.counterfactual, self.model);
        let outcomes: Vec<Vec<bool>> = variants
            .par_iter()
            .map(|variant| {
                let changed = match *variant {
                    Variant::Perturbed(p) => {
                        let mut rng = random::stream(seed, &[1, index, p as u64]);
                        perturbations[p].apply(&frame, profile, &mut rng)
                    }
                    Variant::Counterfactual(a, v) => {
                        let mut copy = frame.clone();
                        if let Some(j) = counterfactual[a].input {
                            copy.columns[j] = set_all(&frame.columns[j], &counterfactual[a].values[v]);
                        }
                        copy
                    }
                    Variant::Shuffled(j, r) => {
                        let mut rng = random::stream(seed, &[2, index, j as u64, u64::from(r)]);
                        let order = random::permutation(&mut rng, n);
                        let mut copy = frame.clone();
                        copy.columns[j] = frame.columns[j].take(&order);
                        copy
                    }
                };
                model.predict(&changed).map(|p| p.decisions)
            })
            .collect::<Result<_, _>>()?;

        // Tallies.
        self.correct += base.decisions.iter().zip(&labels).filter(|(d, l)| d == l).count() as u64;
        if self.perturbed_correct.is_empty() {
            self.perturbed_correct = vec![0; self.perturbations.len()];
            self.perturbed_flips = vec![0; self.perturbations.len()];
        }
        let mut changed_by: Vec<Vec<bool>> = self.counterfactual.iter().map(|_| vec![false; n]).collect();
        for (variant, decisions) in variants.iter().zip(&outcomes) {
            match *variant {
                Variant::Perturbed(p) => {
                    self.perturbed_correct[p] += decisions.iter().zip(&labels).filter(|(d, l)| d == l).count() as u64;
                    self.perturbed_flips[p] +=
                        decisions.iter().zip(&base.decisions).filter(|(d, b)| d != b).count() as u64;
                }
                Variant::Counterfactual(a, _) => {
                    for (i, (d, b)) in decisions.iter().zip(&base.decisions).enumerate() {
                        if d != b {
                            changed_by[a][i] = true;
                        }
                    }
                }
                Variant::Shuffled(j, r) => {
                    self.shuffled_correct[j][r as usize] +=
                        decisions.iter().zip(&labels).filter(|(d, l)| d == l).count() as u64;
                }
            }
        }
        for (a, tally) in self.counterfactual.iter_mut().enumerate() {
            let values: Vec<String> = match batch.column_by_name(&tally.attribute) {
                Some(array) => texts(array.as_ref()).unwrap_or_default(),
                None => Vec::new(),
            };
            for (i, value) in values.iter().enumerate() {
                let entry = tally.groups.entry(value.clone()).or_default();
                entry.0 += 1;
                entry.1 += u64::from(changed_by[a][i]);
            }
        }
        // Calibration by group (and overall, last).
        for (k, tallies) in self.calibration.iter_mut().enumerate() {
            for i in 0..n {
                let group = if k < sensitive.len() { sensitive[k][i].clone() } else { String::new() };
                let t = tallies.entry(group).or_default();
                let (s, y) = (base.scores[i], f64::from(u8::from(labels[i])));
                if !s.is_finite() {
                    continue;
                }
                t.count += 1;
                t.brier += (s - y).powi(2);
                let bin = ((s.clamp(0.0, 1.0) * 10.0) as usize).min(9);
                t.bins[bin].0 += 1;
                t.bins[bin].1 += s;
                t.bins[bin].2 += u64::from(labels[i]);
            }
        }
        // Rows to explain, and the background sample (reservoir, seeded).
        for &row in &self.request.explain_rows {
            if row >= self.rows && row < self.rows + n as u64 {
                self.explained.insert(row, frame.take(&[(row - self.rows) as usize]));
            }
        }
        let mut rng = random::stream(seed, &[3, index]);
        for i in 0..n {
            let seen = self.rows + i as u64;
            if (seen as usize) < BACKGROUND_ROWS {
                self.background.push(frame.take(&[i]));
            } else {
                let j = random::below(&mut rng, seen as usize + 1);
                if j < BACKGROUND_ROWS {
                    self.background[j] = frame.take(&[i]);
                }
            }
        }
        self.kept.push(self.fairness_batch(&labels, &base.decisions, &base.scores, &sensitive)?);
        self.rows += n as u64;
        self.batches += 1;
        Ok(())
    }

    /// Settles what the first batch tells: the features' spread and categories, and the values
    /// each counterfactual attribute takes.
    fn first_batch(&mut self, frame: &Frame, batch: &RecordBatch) -> Result<(), ModelError> {
        let profile = FeatureProfile::of(frame);
        for tally in &mut self.counterfactual {
            if let Some(j) = tally.input {
                if self.model.inputs[j].kind.numeric() {
                    return Err(ModelError::Request(format!(
                        "`{}` is a numeric model input; the counterfactual test sets a categorical attribute or proxy \
                         to each of its other values, so name text columns with --sensitive and --proxies",
                        tally.attribute
                    )));
                }
                tally.values = profile.categories[j].clone();
            } else if let Some(array) = batch.column_by_name(&tally.attribute) {
                let mut seen = texts(array.as_ref()).unwrap_or_default();
                seen.sort_unstable();
                seen.dedup();
                tally.values = seen;
            }
            if tally.values.len() > MAX_COUNTERFACTUAL_VALUES {
                return Err(ModelError::Column {
                    file: self.data_name.to_string(),
                    column: tally.attribute.clone(),
                    reason: format!(
                        "takes {} values in the first rows; the counterfactual test takes at most {MAX_COUNTERFACTUAL_VALUES}",
                        tally.values.len()
                    ),
                });
            }
        }
        self.profile = Some(profile);
        Ok(())
    }

    fn fairness_schema(&self) -> Arc<Schema> {
        let mut fields = vec![
            Field::new(&self.request.label, DataType::Utf8, false),
            Field::new(PREDICTION, DataType::Utf8, false),
            Field::new(SCORE, DataType::Float64, true),
        ];
        fields.extend(self.request.sensitive.iter().map(|s| Field::new(s, DataType::Utf8, true)));
        Arc::new(Schema::new(fields))
    }

    fn fairness_batch(
        &self,
        labels: &[bool],
        decisions: &[bool],
        scores: &[f64],
        sensitive: &[Vec<String>],
    ) -> Result<RecordBatch, ModelError> {
        let bit = |b: &bool| if *b { "1" } else { "0" };
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(labels.iter().map(bit))),
            Arc::new(StringArray::from_iter_values(decisions.iter().map(bit))),
            Arc::new(Float64Array::from_iter(scores.iter().map(|s| s.is_finite().then_some(*s)))),
        ];
        for values in sensitive {
            columns
                .push(Arc::new(StringArray::from_iter(values.iter().map(|v| (!v.is_empty()).then_some(v.as_str())))));
        }
        RecordBatch::try_new(self.fairness_schema(), columns)
            .map_err(|e| ModelError::Audit(lunli_audit::AuditError::Engine(e.to_string())))
    }

    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.rows.max(1) as f64
    }

    fn robustness(&self) -> Robustness {
        let n = self.rows.max(1) as f64;
        let base = self.accuracy();
        let perturbations = self
            .perturbations
            .iter()
            .enumerate()
            .map(|(p, perturbation)| {
                let accuracy = self.perturbed_correct.get(p).copied().unwrap_or(0) as f64 / n;
                let flipped = self.perturbed_flips.get(p).copied().unwrap_or(0);
                PerturbationResult {
                    id: perturbation.id(),
                    perturbation: perturbation.clone(),
                    accuracy,
                    accuracy_drop: base - accuracy,
                    flip_rate: flipped as f64 / n,
                    flipped,
                }
            })
            .collect();
        Robustness { accuracy: base, perturbations }
    }

    fn counterfactual(&self) -> Vec<Counterfactual> {
        self.counterfactual
            .iter()
            .map(|t| {
                let rows: u64 = t.groups.values().map(|g| g.0).sum();
                let changed: u64 = t.groups.values().map(|g| g.1).sum();
                Counterfactual {
                    attribute: t.attribute.clone(),
                    proxy: t.proxy,
                    model_input: t.input.is_some(),
                    values: t.values.clone(),
                    rows,
                    changed,
                    flip_rate: changed as f64 / rows.max(1) as f64,
                    groups: t
                        .groups
                        .iter()
                        .map(|(group, (rows, changed))| CounterfactualGroup {
                            group: if group.is_empty() { fairness::MISSING_GROUP.into() } else { group.clone() },
                            rows: *rows,
                            changed: *changed,
                            flip_rate: *changed as f64 / (*rows).max(1) as f64,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    fn calibration(&self) -> Vec<CalibrationAttribute> {
        let mut names: Vec<String> = self.request.sensitive.clone();
        names.push("(all)".into());
        names
            .into_iter()
            .zip(&self.calibration)
            .map(|(attribute, tallies)| CalibrationAttribute {
                groups: tallies
                    .iter()
                    .map(|(group, t)| CalibrationGroup {
                        group: if attribute == "(all)" {
                            "(all)".into()
                        } else if group.is_empty() {
                            fairness::MISSING_GROUP.into()
                        } else {
                            group.clone()
                        },
                        count: t.count,
                        brier: t.brier / t.count.max(1) as f64,
                        bins: t
                            .bins
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| b.0 > 0)
                            .map(|(i, b)| ReliabilityBin {
                                low: i as f64 / 10.0,
                                high: (i + 1) as f64 / 10.0,
                                count: b.0,
                                mean_score: b.1 / b.0 as f64,
                                positive_rate: b.2 as f64 / b.0 as f64,
                            })
                            .collect(),
                    })
                    .collect(),
                attribute,
            })
            .collect()
    }

    fn importance(&self, request: &ModelRequest) -> Importance {
        let base = self.accuracy();
        let n = self.rows.max(1) as f64;
        let per_feature: Vec<(String, Vec<f64>)> = self
            .model
            .inputs
            .iter()
            .zip(&self.shuffled_correct)
            .map(|(input, correct)| (input.name.clone(), correct.iter().map(|c| base - *c as f64 / n).collect()))
            .collect();
        explain::importance(base, request.repeats, per_feature)
    }

    fn attributions(&self, request: &ModelRequest, model: &Model) -> Result<Attribution, ModelError> {
        let mut rows = Vec::new();
        for &row in &request.explain_rows {
            let Some(frame) = self.explained.get(&row) else {
                return Err(ModelError::Request(format!(
                    "--explain-rows {row}: the data has {} rows (rows are counted from 0)",
                    self.rows
                )));
            };
            rows.push((row, frame.clone()));
        }
        let mut background = Frame { columns: Vec::new() };
        for b in &self.background {
            background.extend(b);
        }
        explain::attributions(model, &rows, &background, request.samples, request.seed)
    }
}

/// A column of the same length as `column`, every value `value`.
fn set_all(column: &Column, value: &str) -> Column {
    match column {
        Column::Text(v) => Column::Text(vec![value.to_string(); v.len()]),
        Column::Number(v) => Column::Number(vec![value.parse().unwrap_or(f64::NAN); v.len()]),
    }
}

fn finding(
    check: &str,
    severity: Severity,
    subject: String,
    value: f64,
    limit: &Limit,
    message: Text,
    controls: &[String],
) -> Finding {
    Finding {
        check: check.into(),
        severity,
        subject,
        value: Some(value),
        limit: Some(*limit),
        dimension: None,
        message,
        controls: controls.to_vec(),
    }
}

fn robustness_findings(r: &Robustness, policy: &ModelPolicy, controls: &[String]) -> Vec<Finding> {
    let mut found = Vec::new();
    for p in &r.perturbations {
        let limit = &policy.robustness_accuracy_drop;
        if limit.breached_by(p.accuracy_drop) {
            found.push(finding(
                "model.robustness_accuracy_drop",
                limit.severity,
                p.id.clone(),
                p.accuracy_drop,
                limit,
                Text {
                    zh: format!("扰动 {} 使准确率下降 {:.4}（上限 {}）", p.id, p.accuracy_drop, limit.describe()),
                    en: format!(
                        "perturbation {} lowers accuracy by {:.4} (limit {})",
                        p.id,
                        p.accuracy_drop,
                        limit.describe()
                    ),
                },
                controls,
            ));
        }
        let limit = &policy.robustness_flip_rate;
        if limit.breached_by(p.flip_rate) {
            found.push(finding(
                "model.robustness_flip_rate",
                limit.severity,
                p.id.clone(),
                p.flip_rate,
                limit,
                Text {
                    zh: format!("扰动 {} 改变了 {:.2}% 的决定（上限 {}）", p.id, p.flip_rate * 100.0, limit.describe()),
                    en: format!(
                        "perturbation {} changes {:.2}% of decisions (limit {})",
                        p.id,
                        p.flip_rate * 100.0,
                        limit.describe()
                    ),
                },
                controls,
            ));
        }
    }
    found
}

fn counterfactual_findings(all: &[Counterfactual], policy: &ModelPolicy, controls: &[String]) -> Vec<Finding> {
    let limit = &policy.counterfactual_flip_rate;
    let mut found = Vec::new();
    for c in all {
        if limit.breached_by(c.flip_rate) {
            found.push(finding(
                "model.counterfactual_flip_rate",
                limit.severity,
                c.attribute.clone(),
                c.flip_rate,
                limit,
                Text {
                    zh: format!(
                        "仅改变 {} 即改变了 {:.2}% 的决定（上限 {}）",
                        c.attribute,
                        c.flip_rate * 100.0,
                        limit.describe()
                    ),
                    en: format!(
                        "changing {} alone changes {:.2}% of decisions (limit {})",
                        c.attribute,
                        c.flip_rate * 100.0,
                        limit.describe()
                    ),
                },
                controls,
            ));
        }
    }
    found
}
