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

mod execution;
mod findings;
mod functions;
pub(crate) mod on_postgres;
mod plan;
mod profile;
mod report;
mod rules;

use execution::{
    Figures, ValueSummary, collect_one, count_values, distinct_rows, get_int, get_text, get_time, key_report,
    summarise_values,
};
use findings::findings;
pub use plan::COLUMNS_PER_PASS;
pub(crate) use plan::Functions;
use plan::{COUNTED_COLUMNS_PER_PASS, GROUPED_COLUMNS_PER_PASS, names, parsed_frame, profile_aggregates, text_frame};
use profile::column_profile;
pub use report::{
    ColumnReport, DimensionSummary, Duplicates, Figure, FreshnessReport, GroupShare, KeyReport, Kind, QualityReport,
    QualityRequest, RepresentationReport, RuleReport, TopValue,
};
pub use rules::{Bound, ColumnRule, CrossCheck, Freshness, Representation, Rules};
use rules::{format_timestamp, parse_age, parse_timestamp};

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::regex::expr_fn::regexp_like;
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::logical_expr::{Expr, when};
use datafusion::prelude::{SessionContext, ident, lit};

use lunli_norms::{Automation, Catalogue};

use crate::error::{AuditError, Location};
use crate::policy::{self, Dimension, QualityPolicy};
use crate::source::{ArrowBatches, ArrowInput, Dataset};
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

/// Runs the quality audit. `now` is when freshness is measured from.
pub fn audit(
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let dataset = Dataset::open(&request.inputs, options.encoding, options.progress.clone())?;
    audit_dataset(dataset, request, policy, catalogue, now, options)
}

/// Runs the quality audit over Arrow data instead of the request's files (which are ignored).
/// The audit reads its data several times, so batches of a stream are gathered first (the
/// batches are kept as they come, not copied).
pub fn audit_arrow(
    input: ArrowInput,
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let input = match input.batches {
        ArrowBatches::Stream(reader) => {
            let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| {
                AuditError::input(Location::file(input.name.clone()), format!("the stream failed: {e}"))
            })?;
            ArrowInput { batches: ArrowBatches::Memory(batches), ..input }
        }
        ArrowBatches::Memory(_) => input,
    };
    let dataset = Dataset::from_arrow(input, options.progress.clone());
    audit_dataset(dataset, request, policy, catalogue, now, options)
}

fn audit_dataset(
    dataset: Dataset,
    request: &QualityRequest,
    policy: &QualityPolicy,
    catalogue: &Catalogue,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let runtime = engine::runtime(options)?;
    let ctx = engine::session(options, &dataset)?;
    let report = runtime.block_on(run(dataset, &ctx, Functions::Lunli, request, policy, now, options))?;
    Ok(with_controls(report, catalogue))
}

/// The report with the controls the audit gives evidence for, on it and each finding.
pub(crate) fn with_controls(mut report: QualityReport, catalogue: &Catalogue) -> QualityReport {
    report.controls = policy::controls_for(catalogue, Automation::AuditQuality);
    for finding in &mut report.findings {
        finding.controls = report.controls.clone();
    }
    report
}

/// The passes over `dataset`, planned in `ctx` (a local session, or a cluster's) with the
/// given functions.
pub(crate) async fn run(
    dataset: Dataset,
    ctx: &SessionContext,
    functions: Functions,
    request: &QualityRequest,
    policy: &QualityPolicy,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let rules = &request.rules;
    dataset.require_columns(rules.columns())?;
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
    let (mut rule_aggregates, rule_specs) = rule_plan(rules, &index_of)?;
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
        let base = dataset.columns_frame(ctx, &columns).await?;
        let frame = parsed_frame(text_frame(base, &fields, &columns, &null_values, functions)?, &fields, &columns)?;
        profile.add(collect_one(frame.aggregate(vec![], aggregates)?, &dataset).await?);
    }
    let rows = get_int(&profile, "rows")?;
    if rows == 0 {
        return Err(AuditError::input(Location::file(dataset.name()), "no data rows (only a header, or empty)"));
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
    // Representation weighs every group of its columns.
    let keep_all: Vec<usize> = representation_columns.iter().filter_map(|c| index_of(c)).collect();
    let mut value_counts: BTreeMap<usize, ValueSummary> = BTreeMap::new();
    let per_pass = match functions {
        Functions::Lunli => COUNTED_COLUMNS_PER_PASS,
        Functions::BuiltIn => GROUPED_COLUMNS_PER_PASS,
    };
    for chunk in counted.chunks(per_pass) {
        options.progress.next_pass();
        let frame = text_frame(dataset.columns_frame(ctx, chunk).await?, &fields, chunk, &null_values, functions)?;
        match functions {
            Functions::Lunli => {
                for (i, counts) in count_values(frame, chunk, &dataset).await? {
                    let numeric = matches!(columns[i].kind, Kind::Integer | Kind::Number);
                    value_counts.insert(i, ValueSummary::of(counts, keep_all.contains(&i), numeric));
                }
            }
            Functions::BuiltIn => value_counts.append(&mut summarise_values(frame, chunk, &keep_all, &dataset).await?),
        }
    }
    apply_value_counts(&mut columns, &value_counts);

    // Pass 3: duplicate rows by fingerprint.
    options.progress.next_pass();
    let distinct = match functions {
        Functions::Lunli => distinct_rows(ctx, &dataset).await?,
        #[cfg(feature = "cluster")]
        Functions::BuiltIn => execution::distinct_rows_by_digest(ctx, &dataset).await?,
        #[cfg(not(feature = "cluster"))]
        Functions::BuiltIn => return Err(AuditError::request("built without the cluster feature")),
    };

    // Pass 4: keys.
    let key_sets = key_sets(rules);
    let mut keys = Vec::new();
    for key in key_sets {
        options.progress.next_pass();
        let indexes: Vec<usize> = key.iter().filter_map(|c| index_of(c)).collect();
        let frame =
            text_frame(dataset.columns_frame(ctx, &indexes).await?, &fields, &indexes, &null_values, functions)?;
        keys.push(key_report(frame, &key, &indexes, &dataset).await?);
    }

    let measured = Measured { rows, columns, profile, rule_specs, value_counts, distinct_rows: distinct, keys };
    finish(measured, request, policy, now, dataset.name(), dataset.summaries(), dataset.diagnostics.warnings())
}

/// What the passes measured, wherever they ran.
struct Measured {
    rows: u64,
    columns: Vec<ColumnReport>,
    /// The profile pass's figures, for the rules and freshness.
    profile: Figures,
    rule_specs: Vec<RuleSpec>,
    value_counts: BTreeMap<usize, ValueSummary>,
    distinct_rows: u64,
    keys: Vec<KeyReport>,
}

/// The report from what the passes measured: rules, freshness, representation, duplicates and
/// the findings the policy draws from them. `name` is what errors point at.
fn finish(
    measured: Measured,
    request: &QualityRequest,
    policy: &QualityPolicy,
    now: jiff::Timestamp,
    name: String,
    inputs: Vec<crate::source::InputSummary>,
    warnings: Vec<lunli_norms::Text>,
) -> Result<QualityReport, AuditError> {
    let Measured { rows, columns, profile, rule_specs, value_counts, distinct_rows, keys } = measured;
    let rules = &request.rules;
    let index_of = |column: &str| columns.iter().position(|c| c.name == column);
    let rule_reports = rule_reports(&profile, rule_specs, rows)?;
    let freshness = freshness_report(rules, &profile, &index_of, now)?;
    let representation = representation_reports(rules, &value_counts, &index_of, &name)?;

    let duplicate_rows = rows.saturating_sub(distinct_rows);
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
        inputs,
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
        warnings,
        passed,
        controls: Vec::new(),
    })
}

/// A rule's label, its dimension, and the alias its violation count is read back by.
type RuleSpec = (String, Dimension, String);

/// The aggregates that count each rule's violations (and keep an example), with each rule's
/// label, dimension and the alias its count is read back by.
fn rule_plan(
    rules: &Rules,
    index_of: &impl Fn(&str) -> Option<usize>,
) -> Result<(Vec<Expr>, Vec<RuleSpec>), AuditError> {
    let mut rule_aggregates = Vec::new();
    let mut rule_specs: Vec<RuleSpec> = Vec::new();
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
    Ok((rule_aggregates, rule_specs))
}

/// Exact distinct counts, quartiles and top values from the value counts of pass 2.
fn apply_value_counts(columns: &mut [ColumnReport], value_counts: &BTreeMap<usize, ValueSummary>) {
    for (i, summary) in value_counts {
        let column = &mut columns[*i];
        if column.distinct <= EXACT_DISTINCT_LIMIT || summary.distinct <= EXACT_DISTINCT_LIMIT {
            column.distinct = summary.distinct;
            column.distinct_exact = true;
        }
        if matches!(column.kind, Kind::Integer | Kind::Number)
            && let Some(quartiles) = summary.quartiles
        {
            column.quartiles = Some(quartiles);
            column.quartiles_exact = true;
        }
        column.top_values =
            summary.top.iter().map(|(value, count)| TopValue { value: value.clone(), count: *count }).collect();
    }
    for column in columns.iter_mut() {
        column.figures.push(Figure {
            figure: "distinct",
            value: column.distinct as f64,
            dimension: Dimension::Normativeness,
        });
    }
}

/// The column sets that must be unique: the declared keys, and each column marked `unique`.
fn key_sets(rules: &Rules) -> Vec<Vec<String>> {
    let mut key_sets: Vec<Vec<String>> = rules.keys.clone();
    for (column, rule) in &rules.columns {
        if rule.unique && !key_sets.iter().any(|k| k.len() == 1 && k[0] == *column) {
            key_sets.push(vec![column.clone()]);
        }
    }
    key_sets
}

/// Each rule's violations and example, read back from the profile pass.
fn rule_reports(profile: &Figures, rule_specs: Vec<RuleSpec>, rows: u64) -> Result<Vec<RuleReport>, AuditError> {
    let mut rule_reports = Vec::new();
    for (label, dimension, alias) in rule_specs {
        let violations = get_int(profile, &alias)?;
        rule_reports.push(RuleReport {
            rule: label,
            dimension,
            violations,
            rate: violations as f64 / rows as f64,
            example: get_text(profile, &format!("{alias}_example"))?,
        });
    }
    Ok(rule_reports)
}

/// How old the newest value of the freshness column is, at `now`.
fn freshness_report(
    rules: &Rules,
    profile: &Figures,
    index_of: &impl Fn(&str) -> Option<usize>,
    now: jiff::Timestamp,
) -> Result<Option<FreshnessReport>, AuditError> {
    let freshness = match &rules.freshness {
        Some(f) => {
            let i = index_of(&f.column).unwrap_or_default();
            let latest = get_time(profile, &format!("tmax{i}"))?;
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
    Ok(freshness)
}

/// Each representation column's group shares against its reference shares.
fn representation_reports(
    rules: &Rules,
    value_counts: &BTreeMap<usize, ValueSummary>,
    index_of: &impl Fn(&str) -> Option<usize>,
    name: &str,
) -> Result<Vec<RepresentationReport>, AuditError> {
    let mut representation = Vec::new();
    for r in &rules.representation {
        let i = index_of(&r.column).unwrap_or_default();
        let counts = value_counts.get(&i).and_then(|summary| summary.all.clone()).unwrap_or_default();
        if counts.len() as u64 > EXACT_DISTINCT_LIMIT {
            return Err(AuditError::input(
                Location::file(name).with_column(&r.column),
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
    Ok(representation)
}
