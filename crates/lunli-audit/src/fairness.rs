//! The fairness audit: a classifier's predictions against labels, per group of one or more
//! sensitive attributes and their intersection, with cross-group disparities (Art. 13).
//!
//! The audit is one query: group the rows by every sensitive column, the label, the prediction
//! and (with scores) the score, and count. The engine computes partial counts per partition and
//! merges them; lunli turns the counted cells into [`FairnessStats`], from which each attribute's
//! groups, the intersection and the whole data set are merges — so one pass over the data serves
//! them all — and the metrics follow from [`crate::metrics`].

mod plain_csv;

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::functions::string::expr_fn::btrim;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, cast as cast_expr, try_cast};
use datafusion::prelude::{DataFrame, ident, lit};
use serde::Serialize;

use lunli_norms::{Automation, Catalogue, Text};

use crate::bootstrap::{BootstrapSpec, Resampler, flatten_scores, interval};
use crate::error::{AuditError, Location};
use crate::metrics::{self, Disparities, GroupMetrics, Undefined};
use crate::policy::{self, FairnessPolicy, Finding};
use crate::source::{ArrowInput, Dataset, InputSummary};
use crate::stats::{Confusion, FairnessStats, GroupStats, Score};
use crate::{RunOptions, engine};

/// The name given to a missing value of a sensitive attribute; such rows form their own group.
pub const MISSING_GROUP: &str = "(missing)";

/// The longest value of a sensitive column taken as a group's name, in characters. Group names
/// are printed in tables, findings and reports; a longer value is almost always a wrong column
/// (free text, a document), and cutting it short could merge different groups, so it is refused.
pub const MAX_GROUP_LABEL: usize = 1024;

/// The most bootstrap replicates: 100,000 puts the 2.5 % and 97.5 % percentiles 2,500
/// replicates from each end, far more than the intervals' precision needs, while the replicate
/// values held (8 bytes per replicate, metric and group) stay bounded.
pub const MAX_BOOTSTRAP_REPLICATES: u32 = 100_000;

/// What to audit: files, the columns in Fairlearn's vocabulary (`y_true`, `y_pred`, scores and
/// sensitive features), the positive label and the bootstrap.
#[derive(Debug, Clone, Default)]
pub struct FairnessRequest {
    /// Paths or glob patterns.
    pub inputs: Vec<String>,
    pub label: String,
    pub prediction: String,
    pub score: Option<String>,
    /// One or more sensitive columns; with several, their intersection is audited too.
    pub sensitive: Vec<String>,
    /// The positive (favourable) label value; inferred for 0/1, true/false and yes/no labels.
    pub positive: Option<String>,
    pub bootstrap: Option<BootstrapSpec>,
}

/// The run's parameters as recorded in the report.
#[derive(Debug, Clone, Serialize)]
pub struct FairnessParameters {
    pub label: String,
    pub prediction: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    pub sensitive: Vec<String>,
    /// The positive label value used.
    pub positive: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapSpec>,
    pub policy: FairnessPolicy,
}

/// One group's figures.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub group: String,
    #[serde(flatten)]
    pub metrics: GroupMetrics,
    pub confusion: Confusion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration_error: Option<f64>,
    /// Selection rate over the highest group's (the four-fifths rule per group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_ratio: Option<f64>,
    /// Fewer rows than the policy's `min_group_size`: figures unreliable, flagged.
    pub small: bool,
    /// Rates whose denominator was zero (reported as 0).
    #[serde(skip_serializing_if = "no_undefined")]
    pub undefined: Undefined,
    /// Bootstrap intervals per metric: `[low, high]`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub intervals: BTreeMap<String, [f64; 2]>,
}

fn no_undefined(u: &Undefined) -> bool {
    !u.any()
}

/// One sensitive attribute (or intersection) with its groups and disparities.
#[derive(Debug, Clone, Serialize)]
pub struct AttributeReport {
    /// `sex`, or `sex|race` for an intersection.
    pub attribute: String,
    pub columns: Vec<String>,
    pub groups: Vec<GroupReport>,
    pub disparities: Disparities,
    /// max − min AUC over groups where AUC is defined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auc_difference: Option<f64>,
    /// Bootstrap intervals per disparity.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub intervals: BTreeMap<String, [f64; 2]>,
}

/// Everything the fairness audit found, in a stable JSON shape (docs/audits.md).
#[derive(Debug, Clone, Serialize)]
pub struct FairnessReport {
    pub audit: &'static str,
    pub inputs: Vec<InputSummary>,
    pub parameters: FairnessParameters,
    pub rows: u64,
    pub overall: GroupReport,
    pub attributes: Vec<AttributeReport>,
    pub findings: Vec<Finding>,
    pub warnings: Vec<Text>,
    /// No finding of medium severity or worse.
    pub passed: bool,
    /// Catalogue controls this audit is evidence for.
    pub controls: Vec<String>,
}

impl FairnessReport {
    pub fn attribute(&self, name: &str) -> Option<&AttributeReport> {
        self.attributes.iter().find(|a| a.attribute == name)
    }
}

impl AttributeReport {
    pub fn group(&self, name: &str) -> Option<&GroupReport> {
        self.groups.iter().find(|g| g.group == name)
    }
}

/// Runs the fairness audit.
pub fn audit(
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<FairnessReport, AuditError> {
    check_request(request)?;
    let dataset = Dataset::open(&request.inputs, options.encoding, options.progress.clone())?;
    audit_dataset(dataset, request, policy, catalogue, options)
}

/// Runs the fairness audit over Arrow data instead of the request's files (which are ignored):
/// record batches held in memory or a stream of them, read once, batch by batch.
pub fn audit_arrow(
    input: ArrowInput,
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<FairnessReport, AuditError> {
    check_request(request)?;
    let dataset = Dataset::from_arrow(input, options.progress.clone());
    audit_dataset(dataset, request, policy, catalogue, options)
}

fn audit_dataset(
    dataset: Dataset,
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    options: &RunOptions,
) -> Result<FairnessReport, AuditError> {
    let runtime = engine::runtime(options)?;
    let (stats, dataset, positive, mut warnings) = runtime.block_on(count_cells(dataset, request, options))?;
    warnings.extend(dataset.diagnostics.warnings());
    let controls = policy::controls_for(catalogue, Automation::AuditFairness);
    Ok(report(request, policy, &stats, dataset.summaries(), positive, warnings, controls))
}

pub(crate) fn check_request(request: &FairnessRequest) -> Result<(), AuditError> {
    if request.sensitive.is_empty() {
        return Err(AuditError::request("give at least one sensitive column (--sensitive)"));
    }
    let mut seen = BTreeSet::new();
    let mut all = vec![&request.label, &request.prediction];
    all.extend(request.score.iter());
    all.extend(request.sensitive.iter());
    for column in all {
        if column.trim().is_empty() {
            return Err(AuditError::request("a column name is empty"));
        }
        if !seen.insert(column) {
            return Err(AuditError::request(format!("column `{column}` is given for two roles")));
        }
    }
    if let Some(b) = &request.bootstrap {
        if b.replicates == 0 {
            return Err(AuditError::request("--bootstrap needs at least one replicate"));
        }
        if b.replicates > MAX_BOOTSTRAP_REPLICATES {
            return Err(AuditError::request(format!(
                "--bootstrap {} is more than the {MAX_BOOTSTRAP_REPLICATES} replicates lunli draws; intervals are stable long before that (1,000 to 10,000 is usual)",
                b.replicates
            )));
        }
        if !(b.level > 0.0 && b.level < 1.0) {
            return Err(AuditError::request("the interval level must lie between 0 and 1, e.g. 0.95"));
        }
    }
    Ok(())
}

/// One counted cell of the query's result, before labels are interpreted: the values of the
/// sensitive columns, label, prediction and score as text (score as a number), and how many rows
/// hold them. The local engine and a pushed-down query ([`crate::pushdown`]) both produce these.
#[derive(Debug)]
pub(crate) struct RawCell {
    pub(crate) key: Vec<Option<String>>,
    pub(crate) label: Option<String>,
    pub(crate) prediction: Option<String>,
    pub(crate) score: Option<f64>,
    /// Rows of this cell whose score was present but not a number.
    pub(crate) unreadable_scores: u64,
    pub(crate) rows: u64,
}

/// Where counted cells came from, for the errors [`interpret`] raises: a name, and a way to
/// point at the first value of a column that a check objects to (a row of a file; a value of an
/// engine's relation).
pub(crate) trait CellSource {
    fn name(&self) -> String;

    async fn locate_value(&self, column: &str, check: &(dyn Fn(Option<&str>) -> Option<String> + Sync)) -> AuditError;
}

impl CellSource for Dataset {
    fn name(&self) -> String {
        Dataset::name(self)
    }

    async fn locate_value(&self, column: &str, check: &(dyn Fn(Option<&str>) -> Option<String> + Sync)) -> AuditError {
        located(self, column, check).await
    }
}

/// The report on cells counted elsewhere (a pushed-down query): the same interpretation and
/// metrics as a local run, so both give the same numbers on the same rows.
pub(crate) async fn report_of_cells(
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    cells: Vec<RawCell>,
    source: &impl CellSource,
    inputs: Vec<InputSummary>,
) -> Result<FairnessReport, AuditError> {
    let (stats, positive, warnings) = interpret(request, source, cells).await?;
    let controls = policy::controls_for(catalogue, Automation::AuditFairness);
    Ok(report(request, policy, &stats, inputs, positive, warnings, controls))
}

/// The query: count rows per (sensitive values, label, prediction, score).
async fn count_cells(
    mut dataset: Dataset,
    request: &FairnessRequest,
    options: &RunOptions,
) -> Result<(FairnessStats, Dataset, String, Vec<Text>), AuditError> {
    let mut needed = vec![request.label.as_str(), request.prediction.as_str()];
    needed.extend(request.score.as_deref());
    needed.extend(request.sensitive.iter().map(String::as_str));
    dataset.require_columns(needed.iter().copied())?;
    let mut numeric = vec![request.label.as_str(), request.prediction.as_str()];
    numeric.extend(request.score.as_deref());
    let typed = dataset.read_as_numbers(&numeric);

    // Plain CSV files are counted without the engine when they can be read exactly as it reads
    // them; anything else (or anything odd in them) goes to the engine.
    options.progress.next_pass();
    let threads = options.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Some(cells) = plain_csv::count(&dataset, request, threads).await? {
        return interpret(request, &dataset, cells)
            .await
            .map(|(stats, positive, warnings)| (stats, dataset, positive, warnings));
    }
    options.progress.restart_pass();

    let ctx = engine::session(options, &dataset)?;
    let frame = dataset.frame(&ctx).await?;
    let score_type = match &request.score {
        Some(score) => Some(dataset.schema.field_with_name(score).map(|f| f.data_type().clone())?),
        None => None,
    };
    let frame = counting_frame(frame, request, score_type.as_ref(), &dataset.name())?;
    // Ensure the plan is valid before running (names and types).
    let _ = frame.schema().field_with_unqualified_name("n").map_err(|e| AuditError::Engine(e.to_string()))?;
    let batches = match engine::collect(frame, &dataset).await {
        Ok(b) => b,
        Err(error) => return Err(refine(&dataset, error, &needed, &typed).await),
    };
    let cells = read_cells(&batches, request.sensitive.len(), request.score.is_some())?;
    interpret(request, &dataset, cells).await.map(|(stats, positive, warnings)| (stats, dataset, positive, warnings))
}

/// The counting query over `frame`: one row per distinct (sensitive values `s0…`, label `y`,
/// prediction `p`, score), with its count `n` (and, with scores, how many were `present` and
/// `parsed`). `score_type` is the score column's type in `frame`; `source` names the data in
/// errors. The local audit and a Ballista cluster ([`crate::distributed`]) run this same plan.
pub(crate) fn counting_frame(
    frame: DataFrame,
    request: &FairnessRequest,
    score_type: Option<&DataType>,
    source: &str,
) -> Result<DataFrame, AuditError> {
    let mut projection: Vec<Expr> = Vec::new();
    let mut groups: Vec<Expr> = Vec::new();
    for (i, column) in request.sensitive.iter().enumerate() {
        projection.push(ident(column).alias(format!("s{i}")));
        groups.push(ident(format!("s{i}")));
    }
    projection.push(ident(&request.label).alias("y"));
    projection.push(ident(&request.prediction).alias("p"));
    groups.extend([ident("y"), ident("p")]);
    let mut aggregates = vec![count(lit(1)).alias("n")];
    if let (Some(score), Some(data_type)) = (&request.score, score_type) {
        let numeric = match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                try_cast(btrim(vec![ident(score)]), DataType::Float64)
            }
            t if t.is_numeric() => cast_expr(ident(score), DataType::Float64),
            other => {
                return Err(AuditError::input(
                    Location::file(source).with_column(score),
                    format!("scores must be numbers; this column holds {other}"),
                ));
            }
        };
        projection.push(numeric.alias("score"));
        projection.push(ident(score).alias("score_raw"));
        groups.push(ident("score"));
        // Values present but not numbers: counted so that none is silently dropped.
        aggregates.push(count(ident("score_raw")).alias("present"));
        aggregates.push(count(ident("score")).alias("parsed"));
    }
    Ok(frame.select(projection)?.aggregate(groups, aggregates)?)
}

/// An engine failure, located at the first unreadable row when the scan can find it: a row
/// that does not parse, or a value that does not fit a column read as numbers.
async fn refine(dataset: &Dataset, error: AuditError, columns: &[&str], typed: &[(String, DataType)]) -> AuditError {
    if !matches!(error, AuditError::Input { .. }) {
        return error;
    }
    let types: Vec<Option<&DataType>> =
        columns.iter().map(|c| typed.iter().find(|(name, _)| name == c).map(|(_, t)| t)).collect();
    let check = |values: &[Option<&str>]| {
        values.iter().zip(&types).enumerate().find_map(|(i, (value, data_type))| match (value, data_type) {
            (Some(v), Some(DataType::Int64)) if v.parse::<i64>().is_err() => {
                Some((i, format!("`{v}` where the column's other values are whole numbers")))
            }
            (Some(v), Some(DataType::Float64)) if v.parse::<f64>().is_err() => {
                Some((i, format!("`{v}` is not a number")))
            }
            _ => None,
        })
    };
    match dataset.locate(columns, &check).await {
        Ok(Some(located)) => located,
        _ => error,
    }
}

pub(crate) fn text_column(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, AuditError> {
    let column = batch.column_by_name(name).ok_or_else(|| AuditError::Engine(format!("no column {name} in result")))?;
    let text = cast(column, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    Ok((0..text.len()).map(|i| (!text.is_null(i)).then(|| text.value(i).to_string())).collect())
}

fn int_column(batch: &RecordBatch, name: &str) -> Result<Vec<u64>, AuditError> {
    let column = batch.column_by_name(name).ok_or_else(|| AuditError::Engine(format!("no column {name} in result")))?;
    let ints = cast(column, &DataType::Int64)?;
    let ints = ints.as_primitive::<Int64Type>();
    Ok((0..ints.len()).map(|i| u64::try_from(ints.value(i)).unwrap_or(0)).collect())
}

pub(crate) fn read_cells(
    batches: &[RecordBatch],
    sensitive: usize,
    with_score: bool,
) -> Result<Vec<RawCell>, AuditError> {
    let mut cells = Vec::new();
    for batch in batches {
        let keys: Vec<Vec<Option<String>>> =
            (0..sensitive).map(|i| text_column(batch, &format!("s{i}"))).collect::<Result<_, _>>()?;
        let labels = text_column(batch, "y")?;
        let predictions = text_column(batch, "p")?;
        let rows = int_column(batch, "n")?;
        let (scores, unreadable) = if with_score {
            let column =
                batch.column_by_name("score").ok_or_else(|| AuditError::Engine("no score in result".into()))?;
            let floats = cast(column, &DataType::Float64)?;
            let floats = floats.as_primitive::<Float64Type>();
            let scores: Vec<Option<f64>> =
                (0..floats.len()).map(|i| (!floats.is_null(i)).then(|| floats.value(i))).collect();
            let present = int_column(batch, "present")?;
            let parsed = int_column(batch, "parsed")?;
            (scores, present.iter().zip(&parsed).map(|(a, b)| a.saturating_sub(*b)).collect())
        } else {
            (vec![None; batch.num_rows()], vec![0; batch.num_rows()])
        };
        for r in 0..batch.num_rows() {
            cells.push(RawCell {
                key: keys.iter().map(|k| k[r].clone()).collect(),
                label: labels[r].clone(),
                prediction: predictions[r].clone(),
                score: scores[r],
                unreadable_scores: unreadable[r],
                rows: rows[r],
            });
        }
    }
    Ok(cells)
}

/// Words that name the positive class of a binary label, when no `--positive` is given.
pub fn inferred_positive(values: &BTreeSet<String>) -> Option<&'static str> {
    let lower: BTreeSet<String> = values.iter().map(|v| v.trim().to_ascii_lowercase()).collect();
    let numeric: Option<BTreeSet<i64>> =
        lower.iter().map(|v| v.parse::<f64>().ok().filter(|f| *f == 0.0 || *f == 1.0).map(|f| f as i64)).collect();
    if numeric.is_some() {
        return Some("1");
    }
    for (yes, no) in [("true", "false"), ("yes", "no"), ("y", "n"), ("t", "f")] {
        if lower.iter().all(|v| v == yes || v == no) {
            return Some(yes);
        }
    }
    None
}

/// Whether a label value means the positive class.
pub fn is_positive(value: &str, positive: &str) -> bool {
    let (v, p) = (value.trim(), positive.trim());
    if v == p || v.eq_ignore_ascii_case(p) {
        return true;
    }
    matches!((v.parse::<f64>(), p.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
}

fn quoted(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    values.into_iter().map(|v| format!("`{}`", v.as_ref())).collect::<Vec<_>>().join(", ")
}

/// Turns counted cells into statistics: checks labels are binary, scores readable, groups
/// several; names the first offending row when not.
async fn interpret(
    request: &FairnessRequest,
    dataset: &impl CellSource,
    cells: Vec<RawCell>,
) -> Result<(FairnessStats, String, Vec<Text>), AuditError> {
    let mut warnings = Vec::new();
    let total: u64 = cells.iter().map(|c| c.rows).sum();
    let files = || dataset.name();
    if total == 0 {
        return Err(AuditError::input(Location::file(files()), "no data rows (only a header, or empty)"));
    }
    let sensitive: Vec<&str> = request.sensitive.iter().map(String::as_str).collect();

    // Missing labels or predictions: an error at the first such row.
    for (column, missing) in [
        (&request.label, cells.iter().any(|c| c.label.is_none())),
        (&request.prediction, cells.iter().any(|c| c.prediction.is_none())),
    ] {
        if missing {
            return Err(dataset.locate_value(column, &|v| v.is_none().then(|| "missing value".to_string())).await);
        }
    }
    if let Some(score) = &request.score {
        if cells.iter().any(|c| c.unreadable_scores > 0) {
            let check = |v: Option<&str>| match v {
                Some(text) if text.trim().parse::<f64>().is_err() => Some(format!("`{text}` is not a number")),
                _ => None,
            };
            return Err(dataset.locate_value(score, &check).await);
        }
        if cells.iter().any(|c| c.score.is_none()) {
            return Err(dataset.locate_value(score, &|v| v.is_none().then(|| "missing score".to_string())).await);
        }
        if cells.iter().any(|c| c.score.is_some_and(f64::is_nan)) {
            let check = |v: Option<&str>| {
                v.filter(|t| t.trim().parse::<f64>().is_ok_and(f64::is_nan)).map(|_| "NaN is not a score".to_string())
            };
            return Err(dataset.locate_value(score, &check).await);
        }
    }

    // Binary labels and the positive value.
    let mut frequencies: BTreeMap<(&str, String), u64> = BTreeMap::new();
    for cell in &cells {
        if let Some(v) = &cell.label {
            *frequencies.entry(("label", v.clone())).or_default() += cell.rows;
        }
        if let Some(v) = &cell.prediction {
            *frequencies.entry(("prediction", v.clone())).or_default() += cell.rows;
        }
    }
    let values_of = |role: &str| -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> =
            frequencies.iter().filter(|((r, _), _)| *r == role).map(|((_, v), n)| (v.clone(), *n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    let label_values = values_of("label");
    let prediction_values = values_of("prediction");
    for (column, values) in [(&request.label, &label_values), (&request.prediction, &prediction_values)] {
        if values.len() > 2 {
            let common: Vec<String> = values.iter().take(2).map(|(v, _)| v.clone()).collect();
            let all = quoted(values.iter().map(|(v, _)| v));
            let check = |v: Option<&str>| match v {
                Some(text) if !common.iter().any(|c| c == text) => Some(format!(
                    "`{text}` makes this label non-binary: the column holds {} values ({all}); a binary classifier's labels and predictions have two",
                    values.len()
                )),
                _ => None,
            };
            return Err(dataset.locate_value(column, &check).await);
        }
    }
    let all_values: BTreeSet<String> =
        label_values.iter().chain(prediction_values.iter()).map(|(v, _)| v.trim().to_string()).collect();
    let positive = match &request.positive {
        Some(p) => p.clone(),
        None => inferred_positive(&all_values).map(str::to_string).ok_or_else(|| {
            AuditError::request(format!(
                "which label value is positive? The labels and predictions hold {}; say it with --positive",
                quoted(&all_values)
            ))
        })?,
    };
    for (column, values) in [(&request.label, &label_values), (&request.prediction, &prediction_values)] {
        let negatives: BTreeSet<String> =
            values.iter().filter(|(v, _)| !is_positive(v, &positive)).map(|(v, _)| v.trim().to_string()).collect();
        if values.len() == 2 && negatives.len() == 2 {
            return Err(AuditError::input(
                Location::file(files()).with_column(column.as_str()),
                format!(
                    "neither of its values ({}) is the positive value `{positive}`",
                    quoted(values.iter().map(|(v, _)| v))
                ),
            ));
        }
    }
    let negatives: BTreeSet<String> = all_values.iter().filter(|v| !is_positive(v, &positive)).cloned().collect();
    if negatives.len() > 1 {
        warnings.push(Text {
            zh: format!("标签与预测的负类取值不一致：{}；均视为负类", quoted(&negatives)),
            en: format!(
                "labels and predictions use different negative values ({}); all count as negative",
                quoted(&negatives)
            ),
        });
    }

    // Group names longer than the limit: an error at the first such row.
    for (i, column) in sensitive.iter().enumerate() {
        let too_long = |v: &str| v.len() > MAX_GROUP_LABEL && v.chars().count() > MAX_GROUP_LABEL;
        if cells.iter().any(|c| c.key[i].as_deref().is_some_and(too_long)) {
            let check = |v: Option<&str>| {
                v.filter(|t| too_long(t)).map(|t| {
                    format!(
                        "a value of {} characters, longer than the {MAX_GROUP_LABEL} a group name may have; is this a sensitive attribute?",
                        t.chars().count()
                    )
                })
            };
            return Err(dataset.locate_value(column, &check).await);
        }
    }

    // Sensitive attributes: missing values form their own group; one group alone is an error.
    let mut missing: BTreeMap<&str, u64> = BTreeMap::new();
    let mut distinct: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); sensitive.len()];
    for cell in &cells {
        for (i, v) in cell.key.iter().enumerate() {
            let name = v.clone().unwrap_or_else(|| MISSING_GROUP.to_string());
            if v.is_none() {
                *missing.entry(sensitive[i]).or_default() += cell.rows;
            }
            *distinct[i].entry(name).or_default() += cell.rows;
        }
    }
    for (column, n) in &missing {
        warnings.push(Text {
            zh: format!("敏感属性 `{column}` 有 {n} 行缺失值，归入“{MISSING_GROUP}”组"),
            en: format!("sensitive column `{column}` is missing in {n} rows; they form the group `{MISSING_GROUP}`"),
        });
    }
    for (i, groups) in distinct.iter().enumerate() {
        if groups.len() < 2 {
            let only = groups.keys().next().cloned().unwrap_or_default();
            return Err(AuditError::input(
                Location::file(files()).with_column(sensitive[i]),
                format!(
                    "a single group (`{only}`) in all {total} rows: there is nothing to compare; drop it from --sensitive or audit data with more groups"
                ),
            ));
        }
    }

    let mut stats = FairnessStats::new(request.sensitive.clone());
    for cell in cells {
        let key: Vec<String> = cell.key.into_iter().map(|v| v.unwrap_or_else(|| MISSING_GROUP.to_string())).collect();
        let label = cell.label.as_deref().is_some_and(|v| is_positive(v, &positive));
        let prediction = cell.prediction.as_deref().is_some_and(|v| is_positive(v, &positive));
        stats.add(key, label, prediction, cell.score.and_then(Score::new), cell.rows);
    }
    Ok((stats, positive, warnings))
}

/// Finds the first row where `check` objects to `column`'s value, as an error.
async fn located(
    dataset: &Dataset,
    column: &str,
    check: &(dyn Fn(Option<&str>) -> Option<String> + Sync),
) -> AuditError {
    let whole = |values: &[Option<&str>]| check(values.first().copied().flatten()).map(|reason| (0, reason));
    match dataset.locate(&[column], &whole).await {
        Ok(Some(error)) => error,
        Ok(None) => AuditError::input(
            Location::file(dataset.name()).with_column(column),
            "a value the audit cannot use (its row could not be found again)",
        ),
        Err(error) => error,
    }
}

// ---------------------------------------------------------------------------------------------
// From statistics to the report.

fn group_report(name: &str, stats: &GroupStats, min_group_size: u64) -> GroupReport {
    let metrics = GroupMetrics::from_confusion(&stats.confusion);
    GroupReport {
        group: name.to_string(),
        metrics,
        confusion: stats.confusion,
        auc: stats.scores.as_ref().and_then(metrics::auc),
        calibration_error: stats.scores.as_ref().and_then(metrics::calibration_error),
        impact_ratio: None,
        small: stats.confusion.n() < min_group_size,
        undefined: GroupMetrics::undefined(&stats.confusion),
        intervals: BTreeMap::new(),
    }
}

/// Every attribute to report: each sensitive column alone, then (with several) all together.
fn attributes(columns: &[String]) -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = (0..columns.len()).map(|i| vec![i]).collect();
    if columns.len() > 1 {
        sets.push((0..columns.len()).collect());
    }
    sets
}

fn report(
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    stats: &FairnessStats,
    inputs: Vec<InputSummary>,
    positive: String,
    warnings: Vec<Text>,
    controls: Vec<String>,
) -> FairnessReport {
    let mut attribute_reports = Vec::new();
    for (index, columns) in attributes(&stats.columns).into_iter().enumerate() {
        let grouped = stats.grouped_by(&columns);
        let names: Vec<String> = columns.iter().map(|&i| stats.columns[i].clone()).collect();
        let mut groups: Vec<GroupReport> =
            grouped.iter().map(|(name, g)| group_report(name, g, policy.min_group_size)).collect();
        let all: Vec<GroupMetrics> = groups.iter().map(|g| g.metrics).collect();
        for g in &mut groups {
            g.impact_ratio = metrics::impact_ratio(&g.metrics, &all);
        }
        let aucs: Vec<f64> = groups.iter().filter_map(|g| g.auc).collect();
        let auc_difference = (aucs.len() >= 2)
            .then(|| aucs.iter().copied().fold(f64::MIN, f64::max) - aucs.iter().copied().fold(f64::MAX, f64::min));
        let mut attribute = AttributeReport {
            attribute: names.join("|"),
            columns: names,
            groups,
            disparities: metrics::disparities(&all),
            auc_difference,
            intervals: BTreeMap::new(),
        };
        if let Some(spec) = &request.bootstrap {
            let seed = spec.seed.wrapping_add(index as u64);
            bootstrap_attribute(&mut attribute, &grouped, spec, seed);
        }
        attribute_reports.push(attribute);
    }
    let overall = group_report("(all)", &stats.overall(), 0);
    let mut findings = Vec::new();
    for attribute in &attribute_reports {
        findings.extend(attribute_findings(attribute, policy, &controls));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let passed = policy::passes(&findings);
    FairnessReport {
        audit: "fairness",
        inputs,
        parameters: FairnessParameters {
            label: request.label.clone(),
            prediction: request.prediction.clone(),
            score: request.score.clone(),
            sensitive: request.sensitive.clone(),
            positive,
            bootstrap: request.bootstrap,
            policy: policy.clone(),
        },
        rows: stats.rows(),
        overall,
        attributes: attribute_reports,
        findings,
        warnings,
        passed,
        controls,
    }
}

/// Bootstrap intervals for one attribute's group metrics and disparities.
fn bootstrap_attribute(
    attribute: &mut AttributeReport,
    grouped: &BTreeMap<String, GroupStats>,
    spec: &BootstrapSpec,
    seed: u64,
) {
    let mut resampler = Resampler::new(seed);
    let stats: Vec<&GroupStats> = grouped.values().collect();
    let flat_scores: Vec<Option<Vec<u64>>> = stats.iter().map(|s| s.scores.as_ref().map(flatten_scores)).collect();
    let mut drawn_scores = Vec::new();
    let replicates = spec.replicates as usize;
    let mut group_values: Vec<BTreeMap<&'static str, Vec<f64>>> = vec![BTreeMap::new(); stats.len()];
    let mut disparity_values: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    for _ in 0..replicates {
        let mut drawn = Vec::with_capacity(stats.len());
        for (g, s) in stats.iter().enumerate() {
            let m = GroupMetrics::from_confusion(&resampler.confusion(&s.confusion));
            for name in GroupMetrics::RATES {
                if let Some(v) = m.get(name) {
                    group_values[g].entry(name).or_default().push(v);
                }
            }
            if let Some(flat) = &flat_scores[g] {
                resampler.score_cells(flat, &mut drawn_scores);
                let auc = metrics::auc_of_cells(drawn_scores.chunks(2).map(|c| (c[0], c[1]))).unwrap_or(f64::NAN);
                group_values[g].entry("auc").or_default().push(auc);
            }
            drawn.push(m);
        }
        let d = metrics::disparities(&drawn);
        for name in Disparities::NAMES {
            disparity_values.entry(name).or_default().push(d.get(name).unwrap_or(f64::NAN));
        }
    }
    for (group, values) in attribute.groups.iter_mut().zip(group_values) {
        for (name, v) in values {
            if let Some(ci) = interval(v, spec.level) {
                group.intervals.insert(name.to_string(), ci);
            }
        }
    }
    for (name, v) in disparity_values {
        if let Some(ci) = interval(v, spec.level) {
            attribute.intervals.insert(name.to_string(), ci);
        }
    }
}

/// The groups at the extremes of a metric, for messages: (lowest, highest).
fn extremes<'a>(groups: &'a [GroupReport], metric: &str) -> Option<(&'a GroupReport, &'a GroupReport)> {
    let value = |g: &GroupReport| g.metrics.get(metric).unwrap_or(0.0);
    let low = groups.iter().min_by(|a, b| value(a).total_cmp(&value(b)))?;
    let high = groups.iter().max_by(|a, b| value(a).total_cmp(&value(b)))?;
    Some((low, high))
}

/// The per-group metric a disparity is built from.
fn base_metric(disparity: &str) -> &'static str {
    match disparity {
        "equal_opportunity_difference" => "true_positive_rate",
        "predictive_parity_difference" => "precision",
        "equalized_odds_difference" => "true_positive_rate",
        _ => "selection_rate",
    }
}

fn attribute_findings(attribute: &AttributeReport, policy: &FairnessPolicy, controls: &[String]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, limit) in policy.disparity_limits() {
        let Some(value) = attribute.disparities.get(name) else { continue };
        if !limit.breached_by(value) {
            continue;
        }
        let mut metric = base_metric(name);
        if name == "equalized_odds_difference" {
            let tpr = attribute.disparities.equal_opportunity_difference;
            if tpr < value {
                metric = "false_positive_rate";
            }
        }
        let detail = extremes(&attribute.groups, metric).map(|(low, high)| {
            let small = |g: &GroupReport| if g.small { " (small group)" } else { "" };
            let small_zh = |g: &GroupReport| if g.small { "（小组）" } else { "" };
            let (lv, hv) = (low.metrics.get(metric).unwrap_or(0.0), high.metrics.get(metric).unwrap_or(0.0));
            let name = metric_name(metric);
            (
                format!(
                    "{} 最低：{}{} {lv:.4}，最高：{}{} {hv:.4}",
                    name.zh,
                    low.group,
                    small_zh(low),
                    high.group,
                    small_zh(high)
                ),
                format!(
                    "lowest {}: {}{} {lv:.4}, highest: {}{} {hv:.4}",
                    name.en,
                    low.group,
                    small(low),
                    high.group,
                    small(high)
                ),
            )
        });
        let (detail_zh, detail_en) = detail.unwrap_or_default();
        let ci = attribute.intervals.get(name).map(|[a, b]| format!("; CI [{a:.4}, {b:.4}]")).unwrap_or_default();
        findings.push(Finding {
            check: format!("fairness.{name}"),
            severity: limit.severity,
            subject: attribute.attribute.clone(),
            value: Some(value),
            limit: Some(*limit),
            dimension: None,
            message: Text {
                zh: format!(
                    "{}：{} = {value:.4}，要求 {}{ci}（{detail_zh}）",
                    attribute.attribute,
                    disparity_name(name).zh,
                    limit.describe()
                ),
                en: format!(
                    "{}: {} = {value:.4}, required {}{ci} ({detail_en})",
                    attribute.attribute,
                    disparity_name(name).en,
                    limit.describe()
                ),
            },
            controls: controls.to_vec(),
        });
    }
    for group in &attribute.groups {
        if let Some(ece) = group.calibration_error
            && policy.calibration_error.breached_by(ece)
        {
            findings.push(Finding {
                check: "fairness.calibration_error".into(),
                severity: policy.calibration_error.severity,
                subject: format!("{}={}", attribute.attribute, group.group),
                value: Some(ece),
                limit: Some(policy.calibration_error),
                dimension: None,
                message: Text {
                    zh: format!(
                        "{}={}：校准误差 {ece:.4}，要求 {}",
                        attribute.attribute,
                        group.group,
                        policy.calibration_error.describe()
                    ),
                    en: format!(
                        "{}={}: calibration error {ece:.4}, required {}",
                        attribute.attribute,
                        group.group,
                        policy.calibration_error.describe()
                    ),
                },
                controls: controls.to_vec(),
            });
        }
    }
    let small: Vec<String> =
        attribute.groups.iter().filter(|g| g.small).map(|g| format!("{} (n={})", g.group, g.metrics.count)).collect();
    if !small.is_empty() {
        let n = policy.min_group_size;
        findings.push(Finding {
            check: "fairness.small_groups".into(),
            severity: policy.small_group_severity,
            subject: attribute.attribute.clone(),
            value: Some(small.len() as f64),
            limit: None,
            dimension: None,
            message: Text {
                zh: format!(
                    "{}：{} 个组少于 {n} 行，结果不可靠，不能视为通过：{}",
                    attribute.attribute,
                    small.len(),
                    small.join("、")
                ),
                en: format!(
                    "{}: {} groups have fewer than {n} rows; their figures are unreliable and not taken as passing: {}",
                    attribute.attribute,
                    small.len(),
                    small.join(", ")
                ),
            },
            controls: controls.to_vec(),
        });
    }
    findings
}

/// A disparity's name in both languages.
pub fn disparity_name(name: &str) -> Text {
    lunli_norms::terms::disparity(name)
}

/// A group metric's name in both languages.
pub fn metric_name(name: &str) -> Text {
    lunli_norms::terms::group_metric(name)
}

/// The report of statistics merged by the caller — partial [`FairnessStats`] computed in other
/// processes or on other machines and combined with [`FairnessStats::merge`]. The positive value
/// is the one the parts were counted with; inputs are left for the caller to describe.
pub fn report_from_stats(
    request: &FairnessRequest,
    policy: &FairnessPolicy,
    catalogue: &Catalogue,
    stats: &FairnessStats,
    positive: &str,
) -> FairnessReport {
    let controls = policy::controls_for(catalogue, Automation::AuditFairness);
    report(request, policy, stats, Vec::new(), positive.to_string(), Vec::new(), controls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_labels_are_inferred_only_when_obvious() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(inferred_positive(&set(&["0", "1"])), Some("1"));
        assert_eq!(inferred_positive(&set(&["0.0", "1.0"])), Some("1"));
        assert_eq!(inferred_positive(&set(&["True", "False"])), Some("true"));
        assert_eq!(inferred_positive(&set(&["<=50K", ">50K"])), None);
        assert!(is_positive("1.0", "1"));
        assert!(is_positive(" yes", "YES"));
        assert!(!is_positive("0", "1"));
    }
}
