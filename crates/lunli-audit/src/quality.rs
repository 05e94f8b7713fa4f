//! The data-quality audit: the five dimensions of Art. 11 — completeness, timeliness,
//! consistency, normativeness and accuracy — measured on files too large for memory.
//!
//! A [`QualityRequest`] (files and an optional [`Rules`] file) becomes a handful of queries,
//! each one streamed pass over the data whose partial aggregates the engine merges:
//!
//! 1. the *profile*: per column counts of values, blanks and values that parse as integer,
//!    number, date or timestamp; min, max, mean, approximate quartiles (t-digest) and an
//!    approximate distinct count (HyperLogLog); and one counter per rule;
//! 2. *value counts* of every column with at most [`EXACT_DISTINCT_LIMIT`] distinct values
//!    (one counting aggregate per column): exact distinct counts, top values and group shares;
//! 3. *duplicate rows*: distinct rows counted by a 128-bit fingerprint of each row (XXH3), so the
//!    engine holds 16 bytes per distinct row rather than the row;
//! 4. one pass per *key* declared unique.
//!
//! Passes 1 and 2 take the columns in chunks ([`COLUMNS_PER_PASS`] at a time for the profile),
//! so that a table of thousands of columns is planned in time proportional to its width.
//!
//! Every figure carries the dimension it measures ([`Dimension`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeBinaryArray, FixedSizeBinaryBuilder, RecordBatch, StringArray, StructArray,
    UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Float64Type, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    UInt64Type,
};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{HashMap, ScalarValue};
use datafusion::execution::TaskContext;
use datafusion::functions::regex::expr_fn::regexp_like;
use datafusion::functions::string::expr_fn::{contains, octet_length};
use datafusion::functions_aggregate::expr_fn::{approx_distinct, approx_percentile_cont, avg, count, max, min, sum};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, cast as cast_to, try_cast, when,
};
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties, SendableRecordBatchStream};
use datafusion::prelude::{DataFrame, SessionContext, ident, lit};
use serde::{Deserialize, Serialize};

use lunli_norms::{Automation, Catalogue, Text};

use crate::error::{AuditError, Location};
use crate::policy::{self, Dimension, Finding, Limit, QualityPolicy};
use crate::source::{Dataset, InputSummary, next_batch};
use crate::{RunOptions, engine};

/// Columns with at most this many distinct values (by the HyperLogLog estimate) get exact
/// distinct counts and top values; beyond it the distinct count is the estimate (about 2 %
/// relative error) and no top values are listed.
pub const EXACT_DISTINCT_LIMIT: u64 = 10_000;

/// A column is given a type when at least this share of its values parse as that type; the
/// share is its conformance.
pub const TYPE_SHARE: f64 = 0.8;

/// Top values listed per column.
pub const TOP_VALUES: usize = 10;

// ---------------------------------------------------------------------------------------------
// Rules.

/// The rules file: what the data must satisfy beyond what lunli infers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Text values that mean "missing" (besides empty fields), e.g. `?`, `NA`, `-`.
    pub null_values: Vec<String>,
    /// Per column expectations.
    pub columns: BTreeMap<String, ColumnRule>,
    /// Cross-column checks.
    pub checks: Vec<CrossCheck>,
    /// Keys that must be unique: each a list of columns.
    pub keys: Vec<Vec<String>>,
    pub freshness: Option<Freshness>,
    /// Reference shares of the groups of categorical columns.
    pub representation: Vec<Representation>,
}

/// Expectations on one column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnRule {
    /// No value may be missing (completeness).
    pub required: bool,
    /// Lowest plausible value: a number, or a date/timestamp as text (accuracy).
    pub min: Option<Bound>,
    /// Highest plausible value (accuracy).
    pub max: Option<Bound>,
    /// The code list (normativeness).
    pub allowed: Option<Vec<String>>,
    /// A regular expression every value must match (normativeness; Rust regex syntax).
    pub pattern: Option<String>,
    /// The type every value must have: integer, number, date, timestamp, boolean, string.
    #[serde(rename = "type")]
    pub kind: Option<Kind>,
    /// Values must not repeat (consistency).
    pub unique: bool,
}

/// A bound of a range rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bound {
    Number(f64),
    Text(String),
}

/// A rule across columns: `before: [a, b]` means a < b wherever both are present (compared as
/// timestamps when both are, else as numbers); `not_after: [a, b]` means a ≤ b.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossCheck {
    pub name: Option<String>,
    pub before: Option<[String; 2]>,
    pub not_after: Option<[String; 2]>,
}

/// The newest value of a timestamp column must be at most `max_age` old (timeliness).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    pub column: String,
    /// `30d`, `12h`, `90m`, `2w`, or an ISO 8601 duration such as `P30D`.
    pub max_age: String,
}

/// Reference shares for the groups of a column (accuracy: does the data represent them?).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Representation {
    pub column: String,
    pub reference: BTreeMap<String, f64>,
}

impl Rules {
    /// Reads and checks a rules file; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, AuditError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let rules: Rules = policy::read_yaml(file, text)?;
        let bad = |reason: String| AuditError::Definition { file: file.to_string(), line: None, reason };
        for (column, rule) in &rules.columns {
            if let Some(pattern) = &rule.pattern {
                regex::Regex::new(pattern)
                    .map_err(|e| bad(format!("column `{column}`: pattern is not a valid regular expression: {e}")))?;
            }
            for bound in [&rule.min, &rule.max].into_iter().flatten() {
                if let Bound::Text(text) = bound
                    && parse_timestamp(text).is_none()
                {
                    return Err(bad(format!(
                        "column `{column}`: bound `{text}` is neither a number nor a date/timestamp"
                    )));
                }
            }
        }
        for check in &rules.checks {
            if check.before.is_some() == check.not_after.is_some() {
                return Err(bad("each check needs exactly one of `before: [a, b]` or `not_after: [a, b]`".into()));
            }
        }
        if let Some(f) = &rules.freshness {
            parse_age(&f.max_age).ok_or_else(|| {
                bad(format!("freshness.max_age `{}` is not a duration such as 30d, 12h or P30D", f.max_age))
            })?;
        }
        for r in &rules.representation {
            if r.reference.values().any(|v| !(0.0..=1.0).contains(v)) {
                return Err(bad(format!("representation of `{}`: shares must lie between 0 and 1", r.column)));
            }
            let total: f64 = r.reference.values().sum();
            if total > 1.0 + 1e-9 {
                return Err(bad(format!("representation of `{}`: shares add up to {total}, more than 1", r.column)));
            }
        }
        Ok(rules)
    }

    /// Every column the rules name.
    fn columns(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.columns.keys().map(String::as_str).collect();
        for check in &self.checks {
            for pair in [&check.before, &check.not_after].into_iter().flatten() {
                names.extend(pair.iter().map(String::as_str));
            }
        }
        names.extend(self.keys.iter().flatten().map(String::as_str));
        names.extend(self.freshness.iter().map(|f| f.column.as_str()));
        names.extend(self.representation.iter().map(|r| r.column.as_str()));
        names
    }
}

/// Seconds in a duration written `30d`, `12h`, `90m`, `45s`, `2w` or ISO 8601 (`P30D`).
fn parse_age(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.starts_with(['P', 'p'])
        && let Ok(span) = t.parse::<jiff::Span>()
    {
        return span.total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1))).ok();
    }
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().ok()?;
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    Some(n * seconds)
}

/// Microseconds since the epoch of a date or timestamp written as text (UTC when no zone).
fn parse_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).ok().map(|t| t.as_microsecond());
    }
    if let Ok(d) = t.parse::<jiff::civil::Date>() {
        return jiff::tz::TimeZone::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .ok()
            .map(|t| t.as_microsecond());
    }
    None
}

fn format_timestamp(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map(|t| t.to_string()).unwrap_or_else(|_| micros.to_string())
}

// ---------------------------------------------------------------------------------------------
// The report.

/// What a column holds, inferred from its values (text files) or its declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Empty,
    Boolean,
    Integer,
    Number,
    Date,
    Timestamp,
    String,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Date => "date",
            Self::Timestamp => "timestamp",
            Self::String => "string",
            Self::Other => "other",
        }
    }
}

/// One figure with the Art. 11 dimension it measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub figure: &'static str,
    pub value: f64,
    pub dimension: Dimension,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    /// The type the file declares (Parquet, JSON) or `Utf8` for text files.
    pub stored_as: String,
    pub nulls: u64,
    pub null_rate: f64,
    /// Present but blank (only white space).
    pub blanks: u64,
    pub empty_rate: f64,
    /// Values with white space before or after them (judged without it everywhere else).
    pub padded: u64,
    pub distinct: u64,
    /// False when `distinct` is a HyperLogLog estimate.
    pub distinct_exact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Quartiles of numeric columns: [p25, p50, p75], interpolated linearly between order
    /// statistics (numpy's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quartiles: Option<[f64; 3]>,
    /// True when the quartiles are exact (from exact value counts); false when they are a
    /// t-digest's approximation (columns with more than [`EXACT_DISTINCT_LIMIT`] values).
    pub quartiles_exact: bool,
    /// Share of present values that fit the column's type (text files) or declared pattern.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conformance: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_values: Vec<TopValue>,
    /// Every figure above with its dimension.
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Duplicates {
    /// Rows that repeat an earlier row exactly.
    pub rows: u64,
    pub rate: f64,
    pub dimension: Dimension,
}

/// The result of one rule of the rules file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleReport {
    /// `age.min`, `sex.allowed`, `birth-before-admission` …
    pub rule: String,
    pub dimension: Dimension,
    pub violations: u64,
    pub rate: f64,
    /// One offending value (the smallest), to show what breaks the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyReport {
    pub columns: Vec<String>,
    /// Rows whose key appeared in an earlier row.
    pub duplicates: u64,
    /// Distinct keys that appear more than once.
    pub repeated_keys: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    pub dimension: Dimension,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreshnessReport {
    pub column: String,
    pub latest: Option<String>,
    pub age_days: Option<f64>,
    pub max_age_days: f64,
    pub dimension: Dimension,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupShare {
    pub group: String,
    pub count: u64,
    pub share: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepresentationReport {
    pub column: String,
    pub groups: Vec<GroupShare>,
    pub dimension: Dimension,
}

/// How many checks of each dimension ran and how many found something.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionSummary {
    pub dimension: Dimension,
    pub checks: usize,
    pub findings: usize,
}

/// Everything the quality audit found, in a stable JSON shape (docs/audits.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    pub audit: &'static str,
    pub inputs: Vec<InputSummary>,
    pub rules: Vec<RuleReport>,
    pub rows: u64,
    pub columns: Vec<ColumnReport>,
    pub duplicates: Duplicates,
    pub keys: Vec<KeyReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<FreshnessReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub representation: Vec<RepresentationReport>,
    pub dimensions: Vec<DimensionSummary>,
    pub policy: QualityPolicy,
    pub findings: Vec<Finding>,
    pub warnings: Vec<Text>,
    pub passed: bool,
    pub controls: Vec<String>,
}

impl QualityReport {
    pub fn column(&self, name: &str) -> Option<&ColumnReport> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn rule(&self, name: &str) -> Option<&RuleReport> {
        self.rules.iter().find(|r| r.rule == name)
    }
}

/// What to audit.
#[derive(Debug, Clone, Default)]
pub struct QualityRequest {
    pub inputs: Vec<String>,
    pub rules: Rules,
}

// ---------------------------------------------------------------------------------------------
// The queries.

/// Runs the quality audit. `now` is when freshness is measured from.
pub fn audit(
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let runtime = engine::runtime(options)?;
    let mut report = runtime.block_on(run(request, policy, now, options))?;
    report.controls = policy::controls_for(catalogue, Automation::AuditQuality);
    for finding in &mut report.findings {
        finding.controls = report.controls.clone();
    }
    Ok(report)
}

/// One column's internal names in the profile query.
struct Names {
    text: String,
    float: String,
    int: String,
    time: String,
    date: String,
    boolean: String,
    padded: String,
}

fn names(i: usize) -> Names {
    Names {
        text: format!("t{i}"),
        float: format!("f{i}"),
        int: format!("i{i}"),
        time: format!("d{i}"),
        date: format!("dd{i}"),
        boolean: format!("b{i}"),
        padded: format!("pad{i}"),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn int_value(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Columns profiled per query. The engine finds every column a plan names by a linear search of
/// its input's columns, so one plan over all the columns of a wide table costs the square of
/// their number (7,000 columns took minutes to plan). Chunks of this many columns keep each plan
/// small, at one pass over the data per chunk; tables this narrow or narrower keep their single
/// pass. Planning still grows faster than the chunk (a 256-column chunk plans half as fast per
/// column as a 64-column one), and each chunk reads the whole file again: 128 balances the two.
pub const COLUMNS_PER_PASS: usize = 128;

/// Columns whose values are counted per query: these plans are small (one counting aggregate
/// per column), so fewer, wider passes.
const COUNTED_COLUMNS_PER_PASS: usize = 1024;

/// The given columns (indexes into `fields`) as text: trimmed, the rules' null values made
/// missing, and whether each value was padded. Typed columns are kept as they are too, for
/// [`parsed_frame`].
fn text_frame(
    base: DataFrame,
    fields: &[(String, DataType)],
    columns: &[usize],
    null_values: &[Expr],
) -> Result<DataFrame, AuditError> {
    let mut projection = Vec::new();
    for &i in columns {
        let (name, data_type) = &fields[i];
        let n = names(i);
        let raw = ident(name);
        if is_text(data_type) {
            // Values are judged without surrounding white space, which is counted apart.
            // String views throughout: the CSV reader makes them, and trimming or comparing
            // them never copies the text.
            let raw = cast_to(raw, DataType::Utf8View);
            let trimmed = ScalarUDF::from(TrimSpaces::new()).call(vec![raw.clone()]);
            let text = if null_values.is_empty() {
                trimmed.clone()
            } else {
                when(trimmed.clone().in_list(null_values.to_vec(), false), lit(ScalarValue::Utf8View(None)))
                    .otherwise(trimmed.clone())?
            };
            projection.push(text.alias(&n.text));
            let padded = when(octet_length(raw).not_eq(octet_length(trimmed)), lit(1i64)).otherwise(lit(0i64))?;
            projection.push(padded.alias(&n.padded));
        } else {
            projection.push(cast_to(raw, DataType::Utf8View).alias(&n.text));
            projection.push(lit(0i64).alias(&n.padded));
            // The original stays available for the parsed forms of typed files.
            projection.push(ident(name));
        }
    }
    Ok(base.select(projection)?)
}

/// Over a [`text_frame`] of the same columns: per column its text and what it parses as.
fn parsed_frame(text: DataFrame, fields: &[(String, DataType)], columns: &[usize]) -> Result<DataFrame, AuditError> {
    let mut parsed = Vec::new();
    for &i in columns {
        let (name, data_type) = &fields[i];
        let n = names(i);
        parsed.push(ident(&n.text));
        parsed.push(ident(&n.padded));
        // Text columns are already trimmed by the first projection.
        let text = || ident(&n.text);
        let (float, int, time, date, boolean) = if is_text(data_type) {
            let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
            // Parsing a timestamp is the dearest cast: it is tried only on values with a time of
            // day; the others are timestamps exactly when they are dates.
            let time = when(contains(text(), lit(":")), try_cast(text(), timestamp.clone()))
                .otherwise(cast_to(try_cast(text(), DataType::Date32), timestamp))?;
            let words = ["true", "false", "TRUE", "FALSE", "True", "False"].map(lit).to_vec();
            (
                try_cast(text(), DataType::Float64),
                try_cast(text(), DataType::Int64),
                time,
                try_cast(text(), DataType::Date32),
                when(text().in_list(words, false), lit(1i64)).otherwise(lit(0i64))?,
            )
        } else {
            let original = ident(name);
            let numeric = data_type.is_numeric();
            let temporal = data_type.is_temporal();
            (
                if numeric { cast_to(original.clone(), DataType::Float64) } else { lit(ScalarValue::Float64(None)) },
                if data_type.is_integer() {
                    cast_to(original.clone(), DataType::Int64)
                } else {
                    lit(ScalarValue::Int64(None))
                },
                if temporal {
                    try_cast(original.clone(), DataType::Timestamp(TimeUnit::Microsecond, None))
                } else {
                    lit(ScalarValue::TimestampMicrosecond(None, None))
                },
                lit(ScalarValue::Date32(None)),
                if *data_type == DataType::Boolean {
                    when(original.is_not_null(), lit(1i64)).otherwise(lit(0i64))?
                } else {
                    lit(0i64)
                },
            )
        };
        parsed.extend([
            float.alias(&n.float),
            int.alias(&n.int),
            time.alias(&n.time),
            date.alias(&n.date),
            boolean.alias(&n.boolean),
        ]);
    }
    Ok(text.select(parsed)?)
}

/// The profile's aggregates of column `i` of a [`parsed_frame`].
fn profile_aggregates(i: usize) -> Result<Vec<Expr>, AuditError> {
    let mut aggregates = Vec::new();
    let n = names(i);
    let p = |what: &str| format!("{what}{i}");
    aggregates.extend([
        count(ident(&n.text)).alias(p("present")),
        sum(when(ident(&n.text).eq(lit("")), lit(1i64)).otherwise(lit(0i64))?).alias(p("blank")),
        count(ident(&n.float)).alias(p("floats")),
        count(ident(&n.int)).alias(p("ints")),
        count(ident(&n.time)).alias(p("times")),
        count(ident(&n.date)).alias(p("dates")),
        sum(ident(&n.boolean)).alias(p("bools")),
        sum(ident(&n.padded)).alias(p("padded")),
        min(ident(&n.float)).alias(p("fmin")),
        max(ident(&n.float)).alias(p("fmax")),
        avg(ident(&n.float)).alias(p("fmean")),
        min(ident(&n.time)).alias(p("tmin")),
        max(ident(&n.time)).alias(p("tmax")),
        min(ident(&n.text)).alias(p("smin")),
        max(ident(&n.text)).alias(p("smax")),
        approx_distinct(ident(&n.text)).alias(p("hll")),
    ]);
    for (q, label) in [(0.25, "q25_"), (0.5, "q50_"), (0.75, "q75_")] {
        aggregates.push(approx_percentile_cont(ident(&n.float).sort(true, false), lit(q), None).alias(p(label)));
    }
    Ok(aggregates)
}

async fn run(
    request: &QualityRequest,
    policy: &QualityPolicy,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let rules = &request.rules;
    let dataset = Dataset::open(&request.inputs, options.encoding, options.progress.clone())?;
    dataset.require_columns(rules.columns())?;
    let ctx = engine::session(options, &dataset)?;
    let fields: Vec<(String, DataType)> =
        dataset.schema.fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
    let index_of = |name: &str| fields.iter().position(|(n, _)| n == name);

    let null_values: Vec<Expr> = rules.null_values.iter().map(|v| lit(v.trim().to_string())).collect();
    let all: Vec<usize> = (0..fields.len()).collect();
    let mut chunks: Vec<&[usize]> = all.chunks(COLUMNS_PER_PASS).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }

    // Pass 1: the profile and the rules, one pass per chunk of columns; the rules go with the
    // first chunk, whose projection also holds the columns they name.
    let mut rule_aggregates = Vec::new();
    let mut rule_specs: Vec<(String, Dimension, String)> = Vec::new(); // (rule, dimension, alias)
    let aggregates = &mut rule_aggregates;
    for (column, rule) in &rules.columns {
        let Some(i) = index_of(column) else { continue };
        let n = names(i);
        let text = || ident(&n.text);
        let mut add = |label: String, dimension: Dimension, violation: Expr| -> Result<(), AuditError> {
            let alias = format!("rule{}", rule_specs.len());
            aggregates.push(sum(when(violation.clone(), lit(1i64)).otherwise(lit(0i64))?).alias(&alias));
            aggregates.push(min(when(violation, ident(&n.text)).end()?).alias(format!("{alias}_example")));
            rule_specs.push((label, dimension, alias));
            Ok(())
        };
        if rule.required {
            add(format!("{column}.required"), Dimension::Completeness, text().is_null())?;
        }
        for (bound, is_min) in [(&rule.min, true), (&rule.max, false)] {
            let Some(bound) = bound else { continue };
            let (value, threshold) = match bound {
                Bound::Number(x) => (ident(&n.float), lit(*x)),
                Bound::Text(t) => {
                    let micros = parse_timestamp(t).unwrap_or_default();
                    (ident(&n.time), lit(ScalarValue::TimestampMicrosecond(Some(micros), None)))
                }
            };
            let violation = if is_min { value.lt(threshold) } else { value.gt(threshold) };
            add(format!("{column}.{}", if is_min { "min" } else { "max" }), Dimension::Accuracy, violation)?;
        }
        if let Some(allowed) = &rule.allowed {
            let list: Vec<Expr> = allowed.iter().map(|v| lit(v.trim().to_string())).collect();
            // The text is trimmed already (typed columns print without padding).
            let violation = text().is_not_null().and(text().in_list(list, true));
            add(format!("{column}.allowed"), Dimension::Normativeness, violation)?;
        }
        if let Some(pattern) = &rule.pattern {
            let violation = text().is_not_null().and(!regexp_like(text(), lit(pattern.clone()), None));
            add(format!("{column}.pattern"), Dimension::Normativeness, violation)?;
        }
        if let Some(kind) = rule.kind {
            let parsed = match kind {
                Kind::Integer => Some(ident(&n.int)),
                Kind::Number => Some(ident(&n.float)),
                Kind::Timestamp => Some(ident(&n.time)),
                Kind::Date => Some(ident(&n.date)),
                Kind::Boolean => None,
                _ => None,
            };
            let violation = match (kind, parsed) {
                (_, Some(p)) => text().is_not_null().and(p.is_null()),
                (Kind::Boolean, None) => text().is_not_null().and(ident(&n.boolean).eq(lit(0i64))),
                _ => lit(false),
            };
            add(format!("{column}.type"), Dimension::Normativeness, violation)?;
        }
    }
    for check in &rules.checks {
        let (pair, strict) = match (&check.before, &check.not_after) {
            (Some(p), _) => (p, true),
            (None, Some(p)) => (p, false),
            (None, None) => continue,
        };
        let (Some(a), Some(b)) = (index_of(&pair[0]), index_of(&pair[1])) else { continue };
        let (na, nb) = (names(a), names(b));
        let breaks = |x: Expr, y: Expr| if strict { x.gt_eq(y) } else { x.gt(y) };
        let both_times = ident(&na.time).is_not_null().and(ident(&nb.time).is_not_null());
        let both_numbers = ident(&na.float).is_not_null().and(ident(&nb.float).is_not_null());
        let violation = when(both_times, breaks(ident(&na.time), ident(&nb.time)))
            .when(both_numbers, breaks(ident(&na.float), ident(&nb.float)))
            .otherwise(lit(false))?;
        let label = check
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {} {}", pair[0], if strict { "before" } else { "not after" }, pair[1]));
        let alias = format!("rule{}", rule_specs.len());
        aggregates.push(sum(when(violation.clone(), lit(1i64)).otherwise(lit(0i64))?).alias(&alias));
        aggregates.push(min(when(violation, ident(&na.text)).end()?).alias(format!("{alias}_example")));
        rule_specs.push((label, Dimension::Consistency, alias));
    }
    let mut rule_columns: Vec<usize> = rules.columns().into_iter().filter_map(index_of).collect();
    rule_columns.sort_unstable();
    rule_columns.dedup();
    let mut profile = Figures::default();
    for (k, chunk) in chunks.iter().enumerate() {
        let mut aggregates = vec![count(lit(1)).alias("rows")];
        for &i in *chunk {
            aggregates.extend(profile_aggregates(i)?);
        }
        let mut columns = chunk.to_vec();
        if k == 0 {
            aggregates.append(&mut rule_aggregates);
            columns.extend(rule_columns.iter().filter(|i| !chunk.contains(i)));
        }
        options.progress.next_pass();
        let base = dataset.columns_frame(&ctx, &columns).await?;
        let frame = parsed_frame(text_frame(base, &fields, &columns, &null_values)?, &fields, &columns)?;
        profile.add(collect_one(frame.aggregate(vec![], aggregates)?, &dataset).await?);
    }
    let rows = get_int(&profile, "rows")?;
    if rows == 0 {
        let files: Vec<String> = dataset.files.iter().map(|f| f.name()).collect();
        return Err(AuditError::input(Location::file(files.join(", ")), "no data rows (only a header, or empty)"));
    }

    // Column profiles from pass 1.
    let mut columns = Vec::new();
    for (i, (name, data_type)) in fields.iter().enumerate() {
        columns.push(column_profile(&profile, i, name, data_type, rows)?);
    }

    // Pass 2: exact value counts for columns with few distinct values.
    let representation_columns: Vec<&str> = rules.representation.iter().map(|r| r.column.as_str()).collect();
    let counted: Vec<usize> = (0..fields.len())
        .filter(|&i| {
            columns[i].distinct <= EXACT_DISTINCT_LIMIT || representation_columns.contains(&fields[i].0.as_str())
        })
        .collect();
    let mut value_counts: BTreeMap<usize, Vec<(String, u64)>> = BTreeMap::new();
    for chunk in counted.chunks(COUNTED_COLUMNS_PER_PASS) {
        options.progress.next_pass();
        let frame = text_frame(dataset.columns_frame(&ctx, chunk).await?, &fields, chunk, &null_values)?;
        value_counts.append(&mut count_values(frame, chunk, &dataset).await?);
    }
    for (i, counts) in &value_counts {
        let column = &mut columns[*i];
        if column.distinct <= EXACT_DISTINCT_LIMIT || counts.len() as u64 <= EXACT_DISTINCT_LIMIT {
            column.distinct = counts.len() as u64;
            column.distinct_exact = true;
        }
        if matches!(column.kind, Kind::Integer | Kind::Number)
            && let Some(quartiles) = exact_quartiles(counts)
        {
            column.quartiles = Some(quartiles);
            column.quartiles_exact = true;
        }
        let mut top = counts.clone();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        column.top_values = top.into_iter().take(TOP_VALUES).map(|(value, count)| TopValue { value, count }).collect();
    }
    for column in &mut columns {
        column.figures.push(Figure {
            figure: "distinct",
            value: column.distinct as f64,
            dimension: Dimension::Normativeness,
        });
    }

    // Pass 3: duplicate rows by fingerprint.
    options.progress.next_pass();
    let duplicate_rows = rows.saturating_sub(distinct_rows(&ctx, &dataset).await?);

    // Pass 4: keys.
    let mut key_sets: Vec<Vec<String>> = rules.keys.clone();
    for (column, rule) in &rules.columns {
        if rule.unique && !key_sets.iter().any(|k| k.len() == 1 && k[0] == *column) {
            key_sets.push(vec![column.clone()]);
        }
    }
    let mut keys = Vec::new();
    for key in key_sets {
        options.progress.next_pass();
        let indexes: Vec<usize> = key.iter().filter_map(|c| index_of(c)).collect();
        let frame = text_frame(dataset.columns_frame(&ctx, &indexes).await?, &fields, &indexes, &null_values)?;
        keys.push(key_report(frame, &key, &indexes, &dataset).await?);
    }

    // Rules.
    let mut rule_reports = Vec::new();
    for (label, dimension, alias) in rule_specs {
        let violations = get_int(&profile, &alias)?;
        rule_reports.push(RuleReport {
            rule: label,
            dimension,
            violations,
            rate: violations as f64 / rows as f64,
            example: get_text(&profile, &format!("{alias}_example"))?,
        });
    }

    // Freshness.
    let freshness = match &rules.freshness {
        Some(f) => {
            let i = index_of(&f.column).unwrap_or_default();
            let latest = get_time(&profile, &format!("tmax{i}"))?;
            let max_age = parse_age(&f.max_age).unwrap_or_default();
            Some(FreshnessReport {
                column: f.column.clone(),
                latest: latest.map(format_timestamp),
                age_days: latest.map(|t| (now.as_microsecond() - t) as f64 / 86_400e6),
                max_age_days: max_age / 86_400.0,
                dimension: Dimension::Timeliness,
            })
        }
        None => None,
    };

    // Representation.
    let mut representation = Vec::new();
    for r in &rules.representation {
        let i = index_of(&r.column).unwrap_or_default();
        let counts = value_counts.get(&i).cloned().unwrap_or_default();
        if counts.len() as u64 > EXACT_DISTINCT_LIMIT {
            return Err(AuditError::input(
                Location::file(dataset.files[0].name()).with_column(&r.column),
                format!("more than {EXACT_DISTINCT_LIMIT} distinct values: representation needs a categorical column"),
            ));
        }
        let present: u64 = counts.iter().map(|(_, n)| n).sum();
        let mut groups: Vec<GroupShare> = counts
            .iter()
            .map(|(group, count)| {
                let share = if present == 0 { 0.0 } else { *count as f64 / present as f64 };
                let reference = r.reference.get(group).copied();
                GroupShare { group: group.clone(), count: *count, share, reference, gap: reference.map(|x| share - x) }
            })
            .collect();
        for (group, reference) in &r.reference {
            if !groups.iter().any(|g| &g.group == group) {
                groups.push(GroupShare {
                    group: group.clone(),
                    count: 0,
                    share: 0.0,
                    reference: Some(*reference),
                    gap: Some(-reference),
                });
            }
        }
        representation.push(RepresentationReport { column: r.column.clone(), groups, dimension: Dimension::Accuracy });
    }

    let duplicates = Duplicates {
        rows: duplicate_rows,
        rate: duplicate_rows as f64 / rows as f64,
        dimension: Dimension::Consistency,
    };
    let (findings, dimensions) =
        findings(policy, &columns, &duplicates, &rule_reports, &keys, freshness.as_ref(), &representation);
    let passed = policy::passes(&findings);
    Ok(QualityReport {
        audit: "quality",
        inputs: dataset.summaries(),
        rules: rule_reports,
        rows,
        columns,
        duplicates,
        keys,
        freshness,
        representation,
        dimensions,
        policy: policy.clone(),
        findings,
        warnings: dataset.diagnostics.warnings(),
        passed,
        controls: Vec::new(),
    })
}

/// The figures of aggregate queries without groups (one row each), found by name in constant
/// time: a wide table's profile has hundreds of thousands of them, and a search of the result's
/// schema per figure took longer than the queries.
#[derive(Debug, Default)]
struct Figures {
    columns: HashMap<String, ArrayRef>,
}

impl Figures {
    fn add(&mut self, batch: RecordBatch) {
        let schema = batch.schema();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            self.columns.insert(field.name().clone(), array.clone());
        }
    }

    fn column(&self, name: &str) -> Result<&ArrayRef, AuditError> {
        self.columns.get(name).ok_or_else(|| AuditError::Engine(format!("no `{name}` in the result")))
    }
}

/// Runs a query with one result row.
async fn collect_one(frame: DataFrame, dataset: &Dataset) -> Result<RecordBatch, AuditError> {
    one_row(engine::collect(frame, dataset).await?)
}

/// The one row of an aggregate without groups.
fn one_row(batches: Vec<RecordBatch>) -> Result<RecordBatch, AuditError> {
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    match batches.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(AuditError::Engine("an aggregate without groups gave no single row".into())),
    }
}

/// Runs a query with one result row, for its figures.
async fn collect_figures(frame: DataFrame, dataset: &Dataset) -> Result<Figures, AuditError> {
    let mut figures = Figures::default();
    figures.add(collect_one(frame, dataset).await?);
    Ok(figures)
}

fn get_int(figures: &Figures, name: &str) -> Result<u64, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    Ok(if a.is_null(0) { 0 } else { int_value(a.value(0)) })
}

fn get_float(figures: &Figures, name: &str) -> Result<Option<f64>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Float64)?;
    let a = a.as_primitive::<Float64Type>();
    Ok((!a.is_null(0)).then(|| a.value(0)).filter(|v| v.is_finite()))
}

fn get_time(figures: &Figures, name: &str) -> Result<Option<i64>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let a = a.as_primitive::<TimestampMicrosecondType>();
    Ok((!a.is_null(0)).then(|| a.value(0)))
}

fn get_text(figures: &Figures, name: &str) -> Result<Option<String>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok((!a.is_null(0)).then(|| a.value(0).to_string()))
}

/// Quartiles from exact value counts: the numeric values sorted, each repeated by its count,
/// interpolated linearly between order statistics. `None` without numeric values.
fn exact_quartiles(counts: &[(String, u64)]) -> Option<[f64; 3]> {
    let mut values: Vec<(f64, u64)> = counts
        .iter()
        .filter_map(|(v, n)| v.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| (f, *n)))
        .collect();
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = values.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // The value at 0-based position k of the expanded, sorted list.
    let at = |k: u64| -> f64 {
        let mut seen = 0;
        for (v, n) in &values {
            seen += n;
            if k < seen {
                return *v;
            }
        }
        values.last().map_or(f64::NAN, |(v, _)| *v)
    };
    let quantile = |q: f64| {
        let position = q * (total - 1) as f64;
        let (lower, upper) = (position.floor() as u64, position.ceil() as u64);
        let (a, b) = (at(lower), at(upper));
        a + (b - a) * (position - lower as f64)
    };
    Some([quantile(0.25), quantile(0.5), quantile(0.75)])
}

/// Short display of a number: integers without decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

fn column_profile(
    profile: &Figures,
    i: usize,
    name: &str,
    data_type: &DataType,
    rows: u64,
) -> Result<ColumnReport, AuditError> {
    let p = |what: &str| format!("{what}{i}");
    let present = get_int(profile, &p("present"))?;
    let blanks = get_int(profile, &p("blank"))?;
    let filled = present.saturating_sub(blanks);
    let share = |n: u64| if filled == 0 { 0.0 } else { n as f64 / filled as f64 };
    let (ints, floats, times, dates, bools) = (
        share(get_int(profile, &p("ints"))?),
        share(get_int(profile, &p("floats"))?),
        share(get_int(profile, &p("times"))?),
        share(get_int(profile, &p("dates"))?),
        share(get_int(profile, &p("bools"))?),
    );
    let (kind, conformance) = if filled == 0 {
        (Kind::Empty, None)
    } else if !is_text(data_type) {
        let kind = match data_type {
            t if t.is_integer() => Kind::Integer,
            t if t.is_numeric() => Kind::Number,
            DataType::Boolean => Kind::Boolean,
            DataType::Date32 | DataType::Date64 => Kind::Date,
            t if t.is_temporal() => Kind::Timestamp,
            _ => Kind::Other,
        };
        (kind, None)
    } else if ints >= TYPE_SHARE && ints >= floats {
        (Kind::Integer, Some(ints))
    } else if floats >= TYPE_SHARE {
        (Kind::Number, Some(floats))
    } else if times >= TYPE_SHARE {
        if dates >= times { (Kind::Date, Some(dates)) } else { (Kind::Timestamp, Some(times)) }
    } else if bools >= TYPE_SHARE {
        (Kind::Boolean, Some(bools))
    } else {
        (Kind::String, None)
    };
    let (min, max, mean, quartiles) = match kind {
        Kind::Integer | Kind::Number => {
            let q = [get_float(profile, &p("q25_"))?, get_float(profile, &p("q50_"))?, get_float(profile, &p("q75_"))?];
            let quartiles = match q {
                [Some(a), Some(b), Some(c)] => Some([a, b, c]),
                _ => None,
            };
            (
                get_float(profile, &p("fmin"))?.map(number),
                get_float(profile, &p("fmax"))?.map(number),
                get_float(profile, &p("fmean"))?,
                quartiles,
            )
        }
        Kind::Date | Kind::Timestamp => (
            get_time(profile, &p("tmin"))?.map(format_timestamp),
            get_time(profile, &p("tmax"))?.map(format_timestamp),
            None,
            None,
        ),
        _ => (get_text(profile, &p("smin"))?, get_text(profile, &p("smax"))?, None, None),
    };
    let nulls = rows.saturating_sub(present);
    let null_rate = nulls as f64 / rows as f64;
    let empty_rate = blanks as f64 / rows as f64;
    let distinct = get_int(profile, &p("hll"))?;
    let padded = get_int(profile, &p("padded"))?;
    let mut figures = vec![
        Figure { figure: "null_rate", value: null_rate, dimension: Dimension::Completeness },
        Figure { figure: "empty_rate", value: empty_rate, dimension: Dimension::Completeness },
    ];
    figures.push(Figure { figure: "padded", value: padded as f64, dimension: Dimension::Normativeness });
    if let Some(c) = conformance {
        figures.push(Figure { figure: "conformance", value: c, dimension: Dimension::Normativeness });
    }
    if let Some(m) = mean {
        figures.push(Figure { figure: "mean", value: m, dimension: Dimension::Accuracy });
    }
    if let Some(v) = get_float(profile, &p("fmin"))?.filter(|_| matches!(kind, Kind::Integer | Kind::Number)) {
        figures.push(Figure { figure: "min", value: v, dimension: Dimension::Accuracy });
    }
    if let Some(v) = get_float(profile, &p("fmax"))?.filter(|_| matches!(kind, Kind::Integer | Kind::Number)) {
        figures.push(Figure { figure: "max", value: v, dimension: Dimension::Accuracy });
    }
    Ok(ColumnReport {
        name: name.to_string(),
        kind,
        stored_as: data_type.to_string(),
        nulls,
        null_rate,
        blanks,
        empty_rate,
        padded,
        distinct,
        distinct_exact: false,
        min,
        max,
        mean,
        quartiles,
        quartiles_exact: false,
        conformance,
        top_values: Vec::new(),
        figures,
    })
}

/// Exact counts of every value of the given columns (of a [`text_frame`]) in one pass, each
/// column's sorted by value; columns without any value are left out.
async fn count_values(
    frame: DataFrame,
    columns: &[usize],
    dataset: &Dataset,
) -> Result<BTreeMap<usize, Vec<(String, u64)>>, AuditError> {
    let counter = AggregateUDF::from(ValueCounts::new());
    let aggregates: Vec<Expr> =
        columns.iter().map(|&i| counter.call(vec![ident(names(i).text)]).alias(format!("v{i}"))).collect();
    let figures = collect_figures(frame.aggregate(vec![], aggregates)?, dataset).await?;
    let mut counts = BTreeMap::new();
    for &i in columns {
        let list = figures.column(&format!("v{i}"))?;
        let list = list.as_list_opt::<i32>().ok_or_else(|| AuditError::Engine("value counts are not a list".into()))?;
        if list.is_null(0) {
            continue;
        }
        let entries = list.value(0);
        let entries = entries.as_struct();
        let values = cast(entries.column(0), &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        let n = cast(entries.column(1), &DataType::Int64)?;
        let n = n.as_primitive::<Int64Type>();
        let column: Vec<(String, u64)> =
            (0..entries.len()).map(|r| (values.value(r).to_string(), int_value(n.value(r)))).collect();
        if !column.is_empty() {
            counts.insert(i, column);
        }
    }
    Ok(counts)
}

/// The number of distinct rows, by a 128-bit fingerprint of each row's values. The engine
/// counts distinct fingerprints (spilling if it must); the fingerprints themselves come from
/// [`RowFingerprints`] streams over the scan of every column rather than from an expression
/// naming every column, which the engine would resolve by a linear search of the columns per
/// column named: the square of the width (most of the time of a table of 10,000 columns).
async fn distinct_rows(ctx: &SessionContext, dataset: &Dataset) -> Result<u64, AuditError> {
    let scan = dataset.frame(ctx).await?.create_physical_plan().await.map_err(|e| dataset.engine_error(e))?;
    let schema = RowFingerprints::table_schema();
    let partitions: Vec<Arc<dyn PartitionStream>> = (0..scan.output_partitioning().partition_count())
        .map(|partition| {
            Arc::new(RowFingerprints { scan: scan.clone(), partition, schema: schema.clone() })
                as Arc<dyn PartitionStream>
        })
        .collect();
    let table = StreamingTable::try_new(schema, partitions)?;
    let query = ctx
        .read_table(Arc::new(table))?
        .aggregate(vec![ident("h")], vec![count(lit(1)).alias("n")])?
        .aggregate(vec![], vec![count(lit(1)).alias("distinct_rows")])?;
    let mut figures = Figures::default();
    figures.add(one_row(engine::collect_reading(query, dataset, Some(scan)).await?)?);
    get_int(&figures, "distinct_rows")
}

/// Rows that repeat a key, distinct keys repeated, and one example.
async fn key_report(
    frame: DataFrame,
    key: &[String],
    indexes: &[usize],
    dataset: &Dataset,
) -> Result<KeyReport, AuditError> {
    let group: Vec<Expr> = indexes.iter().map(|&i| ident(names(i).text)).collect();
    let first = indexes.first().map(|&i| names(i).text).unwrap_or_default();
    let query = frame.aggregate(group, vec![count(lit(1)).alias("n")])?.aggregate(
        vec![],
        vec![
            count(lit(1)).alias("keys"),
            sum(ident("n")).alias("rows"),
            sum(when(ident("n").gt(lit(1i64)), lit(1i64)).otherwise(lit(0i64))?).alias("repeated"),
            min(when(ident("n").gt(lit(1i64)), ident(&first)).end()?).alias("example"),
        ],
    )?;
    let batch = collect_figures(query, dataset).await?;
    let (keys, rows) = (get_int(&batch, "keys")?, get_int(&batch, "rows")?);
    Ok(KeyReport {
        columns: key.to_vec(),
        duplicates: rows.saturating_sub(keys),
        repeated_keys: get_int(&batch, "repeated")?,
        example: get_text(&batch, "example")?,
        dimension: Dimension::Consistency,
    })
}

/// An aggregate counting each distinct value of one text column: a list of (value, count),
/// sorted by value, missing values left out. Counting every column of a chunk this way takes one
/// pass whatever the number of columns, where the engine's grouping sets stop at 64 columns
/// and cost each row as many group keys as there are columns.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ValueCounts {
    signature: Signature,
}

impl ValueCounts {
    fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Utf8View], Volatility::Immutable) }
    }

    fn entry_fields() -> Fields {
        Fields::from(vec![Field::new("value", DataType::Utf8, false), Field::new("n", DataType::UInt64, false)])
    }
}

impl AggregateUDFImpl for ValueCounts {
    fn name(&self) -> &str {
        "lunli_value_counts"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Struct(Self::entry_fields()), true))))
    }

    fn accumulator(&self, _: AccumulatorArgs) -> datafusion::error::Result<Box<dyn Accumulator>> {
        Ok(Box::new(ValueCounter::default()))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> datafusion::error::Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new_list(
                format!("{}[values]", args.name),
                Field::new_list_field(DataType::Utf8, true),
                true,
            )),
            Arc::new(Field::new_list(
                format!("{}[counts]", args.name),
                Field::new_list_field(DataType::UInt64, true),
                true,
            )),
        ])
    }
}

#[derive(Debug, Default)]
struct ValueCounter {
    counts: HashMap<String, u64>,
    /// Bytes of the values held, for the engine's memory accounting.
    bytes: usize,
}

impl ValueCounter {
    fn add(&mut self, value: &str, n: u64) {
        match self.counts.get_mut(value) {
            Some(count) => *count += n,
            None => {
                self.bytes += value.len();
                self.counts.insert(value.to_string(), n);
            }
        }
    }

    fn sorted(&self) -> Vec<(&String, u64)> {
        let mut entries: Vec<(&String, u64)> = self.counts.iter().map(|(v, n)| (v, *n)).collect();
        entries.sort_unstable();
        entries
    }
}

impl Accumulator for ValueCounter {
    fn update_batch(&mut self, values: &[ArrayRef]) -> datafusion::error::Result<()> {
        for array in values {
            let text = cast(array, &DataType::Utf8View)?;
            for value in text.as_string_view().iter().flatten() {
                self.add(value, 1);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> datafusion::error::Result<()> {
        let [values, counts] = states else {
            return Err(datafusion::error::DataFusionError::Internal(
                "value counts: two state columns expected".into(),
            ));
        };
        let (values, counts) = (values.as_list::<i32>(), counts.as_list::<i32>());
        for row in 0..values.len() {
            if values.is_null(row) {
                continue;
            }
            let (v, n) = (values.value(row), counts.value(row));
            let (v, n) = (v.as_string::<i32>(), n.as_primitive::<UInt64Type>());
            for k in 0..v.len() {
                self.add(v.value(k), n.value(k));
            }
        }
        Ok(())
    }

    fn state(&mut self) -> datafusion::error::Result<Vec<ScalarValue>> {
        let entries = self.sorted();
        let values = StringArray::from_iter_values(entries.iter().map(|(v, _)| v.as_str()));
        let counts = UInt64Array::from_iter_values(entries.iter().map(|(_, n)| *n));
        Ok(vec![
            SingleRowListArrayBuilder::new(Arc::new(values)).build_list_scalar(),
            SingleRowListArrayBuilder::new(Arc::new(counts)).build_list_scalar(),
        ])
    }

    fn evaluate(&mut self) -> datafusion::error::Result<ScalarValue> {
        let entries = self.sorted();
        let values = StringArray::from_iter_values(entries.iter().map(|(v, _)| v.as_str()));
        let counts = UInt64Array::from_iter_values(entries.iter().map(|(_, n)| *n));
        let entries =
            StructArray::try_new(ValueCounts::entry_fields(), vec![Arc::new(values), Arc::new(counts)], None)?;
        Ok(SingleRowListArrayBuilder::new(Arc::new(entries)).build_list_scalar())
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bytes + self.counts.capacity() * std::mem::size_of::<(String, u64)>()
    }
}

/// The engine's `btrim` on string views, except that a batch in which no value starts or ends
/// with a space is handed back as it is. Most data is not padded, and building a trimmed copy of
/// every text column in every pass was a sixth of the audit's time.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TrimSpaces {
    signature: Signature,
}

impl TrimSpaces {
    fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Utf8View], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for TrimSpaces {
    fn name(&self) -> &str {
        "lunli_trim_spaces"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> datafusion::error::Result<ColumnarValue> {
        if let [ColumnarValue::Array(array)] = args.args.as_slice()
            && let Some(values) = array.as_string_view_opt()
            && !values.iter().flatten().any(|v| v.starts_with(' ') || v.ends_with(' '))
        {
            return Ok(ColumnarValue::Array(array.clone()));
        }
        datafusion::functions::string::btrim().invoke_with_args(args)
    }
}

/// One partition of a scan of every column, each row replaced by its fingerprint `h`: its
/// values hashed to 16 bytes (XXH3-128). Two rows that differ collide with probability about
/// 2⁻¹²⁸ — for a billion rows, a miscount chance below 10⁻²⁰.
#[derive(Debug)]
struct RowFingerprints {
    scan: Arc<dyn ExecutionPlan>,
    partition: usize,
    schema: SchemaRef,
}

impl RowFingerprints {
    fn table_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("h", DataType::FixedSizeBinary(16), false)]))
    }
}

impl PartitionStream for RowFingerprints {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(self.schema.clone(), 2);
        let tx = builder.tx();
        let (scan, partition, schema) = (self.scan.clone(), self.partition, self.schema.clone());
        builder.spawn(async move {
            let mut rows = scan.execute(partition, ctx)?;
            while let Some(batch) = next_batch(&mut rows).await {
                let batch = batch?;
                let fingerprints = fingerprints(batch.columns(), batch.num_rows())?;
                let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(fingerprints)])?;
                if tx.send(Ok(batch)).await.is_err() {
                    break;
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// The fingerprint of each of `rows` rows of `columns`: their values as text, each written as
/// a presence byte, then (when present) its length and bytes, hashed with XXH3-128.
fn fingerprints(columns: &[ArrayRef], rows: usize) -> datafusion::error::Result<FixedSizeBinaryArray> {
    let texts: Vec<ArrayRef> = columns
        .iter()
        .map(|a| cast(a, &DataType::Utf8View))
        .collect::<Result<_, datafusion::arrow::error::ArrowError>>()?;
    let texts: Vec<_> = texts.iter().map(|a| a.as_string_view()).collect();
    let mut builder = FixedSizeBinaryBuilder::with_capacity(rows, 16);
    let mut buffer = Vec::with_capacity(256);
    for r in 0..rows {
        buffer.clear();
        for t in &texts {
            if t.is_null(r) {
                buffer.push(0);
            } else {
                let v = t.value(r).as_bytes();
                buffer.push(1);
                buffer.extend_from_slice(&(v.len() as u64).to_le_bytes());
                buffer.extend_from_slice(v);
            }
        }
        builder.append_value(xxhash_rust::xxh3::xxh3_128(&buffer).to_le_bytes())?;
    }
    Ok(builder.finish())
}

// ---------------------------------------------------------------------------------------------
// Findings.

fn finding(
    check: &str,
    severity_limit: &Limit,
    subject: &str,
    value: f64,
    dimension: Dimension,
    zh: String,
    en: String,
) -> Finding {
    Finding {
        check: format!("quality.{check}"),
        severity: severity_limit.severity,
        subject: subject.to_string(),
        value: Some(value),
        limit: Some(*severity_limit),
        dimension: Some(dimension),
        message: Text { zh, en },
        controls: Vec::new(),
    }
}

fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

#[allow(clippy::too_many_arguments)]
fn findings(
    policy: &QualityPolicy,
    columns: &[ColumnReport],
    duplicates: &Duplicates,
    rules: &[RuleReport],
    keys: &[KeyReport],
    freshness: Option<&FreshnessReport>,
    representation: &[RepresentationReport],
) -> (Vec<Finding>, Vec<DimensionSummary>) {
    let mut out = Vec::new();
    let mut checks: BTreeMap<Dimension, usize> = BTreeMap::new();
    let mut count = |d: Dimension| *checks.entry(d).or_default() += 1;
    for c in columns {
        count(Dimension::Completeness);
        if policy.null_rate.breached_by(c.null_rate) {
            out.push(finding(
                "null_rate",
                &policy.null_rate,
                &c.name,
                c.null_rate,
                Dimension::Completeness,
                format!("列 {}：缺失率 {}，要求 {}", c.name, percent(c.null_rate), policy.null_rate.describe()),
                format!(
                    "column {}: {} missing, required {}",
                    c.name,
                    percent(c.null_rate),
                    policy.null_rate.describe()
                ),
            ));
        }
        count(Dimension::Completeness);
        if policy.empty_rate.breached_by(c.empty_rate) {
            out.push(finding(
                "empty_rate",
                &policy.empty_rate,
                &c.name,
                c.empty_rate,
                Dimension::Completeness,
                format!("列 {}：空白值占 {}，要求 {}", c.name, percent(c.empty_rate), policy.empty_rate.describe()),
                format!(
                    "column {}: {} blank, required {}",
                    c.name,
                    percent(c.empty_rate),
                    policy.empty_rate.describe()
                ),
            ));
        }
        if let Some(conformance) = c.conformance {
            count(Dimension::Normativeness);
            if policy.conformance.breached_by(conformance) {
                out.push(finding(
                    "conformance",
                    &policy.conformance,
                    &c.name,
                    conformance,
                    Dimension::Normativeness,
                    format!(
                        "列 {}：{} 的值符合 {} 类型，要求 {}",
                        c.name,
                        percent(conformance),
                        c.kind.as_str(),
                        policy.conformance.describe()
                    ),
                    format!(
                        "column {}: {} of values fit its type {}, required {}",
                        c.name,
                        percent(conformance),
                        c.kind.as_str(),
                        policy.conformance.describe()
                    ),
                ));
            }
        }
    }
    count(Dimension::Consistency);
    if policy.duplicate_rate.breached_by(duplicates.rate) {
        out.push(finding(
            "duplicate_rate",
            &policy.duplicate_rate,
            "(rows)",
            duplicates.rate,
            Dimension::Consistency,
            format!(
                "重复行 {}（{}），要求 {}",
                duplicates.rows,
                percent(duplicates.rate),
                policy.duplicate_rate.describe()
            ),
            format!(
                "{} duplicate rows ({}), required {}",
                duplicates.rows,
                percent(duplicates.rate),
                policy.duplicate_rate.describe()
            ),
        ));
    }
    for r in rules {
        count(r.dimension);
        if policy.rule_violation_rate.breached_by(r.rate) {
            let example = r.example.as_ref().map(|e| format!("`{e}`")).unwrap_or_else(|| "—".into());
            out.push(finding(
                "rule",
                &policy.rule_violation_rate,
                &r.rule,
                r.rate,
                r.dimension,
                format!("规则 {}：{} 行违反（{}），例如 {example}", r.rule, r.violations, percent(r.rate)),
                format!("rule {}: {} rows break it ({}), e.g. {example}", r.rule, r.violations, percent(r.rate)),
            ));
        }
    }
    for k in keys {
        count(Dimension::Consistency);
        if k.duplicates > 0 {
            let subject = k.columns.join(",");
            let example = k.example.as_ref().map(|e| format!("`{e}`")).unwrap_or_else(|| "—".into());
            let limit = Limit { min: None, max: Some(0.0), severity: policy.key_duplicate_severity };
            out.push(finding(
                "key",
                &limit,
                &subject,
                k.duplicates as f64,
                Dimension::Consistency,
                format!(
                    "键 ({subject}) 不唯一：{} 行重复了已有的键（{} 个键重复），例如 {example}",
                    k.duplicates, k.repeated_keys
                ),
                format!(
                    "key ({subject}) is not unique: {} rows repeat a key ({} keys repeated), e.g. {example}",
                    k.duplicates, k.repeated_keys
                ),
            ));
        }
    }
    if let Some(f) = freshness {
        count(Dimension::Timeliness);
        let stale = f.age_days.is_none_or(|age| age > f.max_age_days);
        if stale {
            let limit = Limit { min: None, max: Some(f.max_age_days), severity: policy.stale_severity };
            let age = f.age_days.map(|a| format!("{a:.1}")).unwrap_or_else(|| "—".into());
            out.push(finding(
                "freshness",
                &limit,
                &f.column,
                f.age_days.unwrap_or(f64::INFINITY),
                Dimension::Timeliness,
                format!(
                    "列 {}：最新值 {} 已过 {age} 天，上限 {:.1} 天",
                    f.column,
                    f.latest.as_deref().unwrap_or("（无可读时间）"),
                    f.max_age_days
                ),
                format!(
                    "column {}: newest value {} is {age} days old, limit {:.1} days",
                    f.column,
                    f.latest.as_deref().unwrap_or("(no readable timestamp)"),
                    f.max_age_days
                ),
            ));
        }
    }
    for r in representation {
        for g in &r.groups {
            let Some(gap) = g.gap else { continue };
            count(Dimension::Accuracy);
            if policy.representation_gap.breached_by(gap.abs()) {
                let reference = g.reference.unwrap_or_default();
                out.push(finding(
                    "representation",
                    &policy.representation_gap,
                    &format!("{}={}", r.column, g.group),
                    gap,
                    Dimension::Accuracy,
                    format!(
                        "{}={}：占比 {}，参考 {}，差距超过 {}",
                        r.column,
                        g.group,
                        percent(g.share),
                        percent(reference),
                        policy.representation_gap.describe()
                    ),
                    format!(
                        "{}={}: share {} against a reference of {}, a gap beyond {}",
                        r.column,
                        g.group,
                        percent(g.share),
                        percent(reference),
                        policy.representation_gap.describe()
                    ),
                ));
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let dimensions = Dimension::ALL
        .iter()
        .map(|&d| DimensionSummary {
            dimension: d,
            checks: checks.get(&d).copied().unwrap_or(0),
            findings: out.iter().filter(|f| f.dimension == Some(d)).count(),
        })
        .collect();
    (out, dimensions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_from_counts_match_numpy() {
        // numpy.percentile([1, 2, 2, 3, 10], [25, 50, 75]) == [2, 2, 3]
        let counts = vec![("1".to_string(), 1), ("2".to_string(), 2), ("3".to_string(), 1), ("10".to_string(), 1)];
        assert_eq!(exact_quartiles(&counts), Some([2.0, 2.0, 3.0]));
        // numpy.percentile([1, 2, 3, 4], 25) == 1.75
        let counts: Vec<(String, u64)> = (1..=4).map(|i| (i.to_string(), 1)).collect();
        assert_eq!(exact_quartiles(&counts).map(|q| q[0]), Some(1.75));
        assert_eq!(exact_quartiles(&[("x".to_string(), 3)]), None);
    }

    #[test]
    fn ages_read_in_several_notations() {
        assert_eq!(parse_age("30d"), Some(30.0 * 86_400.0));
        assert_eq!(parse_age("12h"), Some(12.0 * 3600.0));
        assert_eq!(parse_age("P2D"), Some(2.0 * 86_400.0));
        assert_eq!(parse_age("soon"), None);
    }

    #[test]
    fn timestamps_read_as_dates_or_instants() {
        assert_eq!(parse_timestamp("1970-01-02"), Some(86_400_000_000));
        assert!(parse_timestamp("2024-05-01T12:00:00Z").is_some());
        assert!(parse_timestamp("2024-05-01 12:00:00").is_some());
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn a_rules_file_with_a_bad_pattern_is_refused() {
        let e = Rules::from_yaml("r.yaml", "columns:\n  id:\n    pattern: '(['\n").unwrap_err();
        assert!(e.to_string().contains("not a valid regular expression"), "{e}");
        let e = Rules::from_yaml("r.yaml", "columns:\n  id:\n    patern: x\n").unwrap_err();
        assert!(e.to_string().starts_with("r.yaml:3"), "{e}");
    }
}
