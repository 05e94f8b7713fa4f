//! Running the passes: the queries of the value counts, duplicate rows and keys, and reading
//! the figures of one-row results by name.

use super::functions::{RowFingerprints, ValueCounts};
use super::plan::names;
use super::report::KeyReport;
use crate::engine;
use crate::error::AuditError;
use crate::policy::Dimension;
use crate::source::Dataset;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::HashMap;
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::logical_expr::{AggregateUDF, Expr, GroupingSet, when};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::{DataFrame, SessionContext, ident, lit};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) fn int_value(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The figures of aggregate queries without groups (one row each), found by name in constant
/// time: a wide table's profile has hundreds of thousands of them, and a search of the result's
/// schema per figure took longer than the queries.
#[derive(Debug, Default)]
pub(super) struct Figures {
    columns: HashMap<String, ArrayRef>,
}

impl Figures {
    pub(super) fn add(&mut self, batch: RecordBatch) {
        let schema = batch.schema();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            self.columns.insert(field.name().clone(), array.clone());
        }
    }

    pub(super) fn column(&self, name: &str) -> Result<&ArrayRef, AuditError> {
        self.columns.get(name).ok_or_else(|| AuditError::Engine(format!("no `{name}` in the result")))
    }
}

/// Runs a query with one result row.
pub(super) async fn collect_one(frame: DataFrame, dataset: &Dataset) -> Result<RecordBatch, AuditError> {
    one_row(engine::collect(frame, dataset).await?)
}

/// The one row of an aggregate without groups.
pub(super) fn one_row(batches: Vec<RecordBatch>) -> Result<RecordBatch, AuditError> {
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    match batches.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(AuditError::Engine("an aggregate without groups gave no single row".into())),
    }
}

/// Runs a query with one result row, for its figures.
pub(super) async fn collect_figures(frame: DataFrame, dataset: &Dataset) -> Result<Figures, AuditError> {
    let mut figures = Figures::default();
    figures.add(collect_one(frame, dataset).await?);
    Ok(figures)
}

pub(super) fn get_int(figures: &Figures, name: &str) -> Result<u64, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Int64)?;
    let a = a.as_primitive::<Int64Type>();
    Ok(if a.is_null(0) { 0 } else { int_value(a.value(0)) })
}

pub(super) fn get_float(figures: &Figures, name: &str) -> Result<Option<f64>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Float64)?;
    let a = a.as_primitive::<Float64Type>();
    Ok((!a.is_null(0)).then(|| a.value(0)).filter(|v| v.is_finite()))
}

pub(super) fn get_time(figures: &Figures, name: &str) -> Result<Option<i64>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let a = a.as_primitive::<TimestampMicrosecondType>();
    Ok((!a.is_null(0)).then(|| a.value(0)))
}

pub(super) fn get_text(figures: &Figures, name: &str) -> Result<Option<String>, AuditError> {
    let a = cast(figures.column(name)?, &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok((!a.is_null(0)).then(|| a.value(0).to_string()))
}

/// Exact counts of every value of the given columns (of a [`text_frame`]) in one pass, each
/// column's sorted by value; columns without any value are left out.
pub(super) async fn count_values(
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

/// [`count_values`] with the engine's built-in functions only: one grouping set per column, so
/// one pass still counts every column's values. Each result row holds one column's value (the
/// other columns missing) and its count; rows of a missing value are left out, as missing
/// values are by [`count_values`]. Every row of the input is grouped once per column, so
/// passes take fewer columns than [`count_values`]'s.
pub(super) async fn count_values_grouped(
    frame: DataFrame,
    columns: &[usize],
    dataset: &Dataset,
) -> Result<BTreeMap<usize, Vec<(String, u64)>>, AuditError> {
    let sets: Vec<Vec<Expr>> = columns.iter().map(|&i| vec![ident(names(i).text)]).collect();
    let query =
        frame.aggregate(vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))], vec![count(lit(1)).alias("n")])?;
    let mut counts: BTreeMap<usize, Vec<(String, u64)>> = BTreeMap::new();
    for batch in engine::collect(query, dataset).await? {
        let column = |name: &str, to: &DataType| match batch.column_by_name(name) {
            Some(array) => Ok(cast(array, to)?),
            None => Err(AuditError::Engine(format!("no `{name}` in the value counts"))),
        };
        let n = column("n", &DataType::Int64)?;
        let n = n.as_primitive::<Int64Type>();
        let values: Vec<(usize, ArrayRef)> = columns
            .iter()
            .map(|&i| Ok((i, column(&names(i).text, &DataType::Utf8)?)))
            .collect::<Result<_, AuditError>>()?;
        let values: Vec<(usize, &StringArray)> = values.iter().map(|(i, a)| (*i, a.as_string::<i32>())).collect();
        for row in 0..batch.num_rows() {
            if let Some((i, value)) = values.iter().find(|(_, v)| !v.is_null(row)) {
                counts.entry(*i).or_default().push((value.value(row).to_string(), int_value(n.value(row))));
            }
        }
    }
    for column in counts.values_mut() {
        column.sort_unstable();
    }
    Ok(counts)
}

/// [`distinct_rows`] with the engine's built-in functions only: each row's values as text,
/// each written as a presence mark, then (when present) its length and text, joined and
/// hashed with MD5 (128 bits, as [`distinct_rows`]'s fingerprints). The expression names every
/// column, which is quick to plan for tables of up to a few thousand columns.
#[cfg(feature = "cluster")]
pub(super) async fn distinct_rows_by_digest(ctx: &SessionContext, dataset: &Dataset) -> Result<u64, AuditError> {
    use datafusion::functions::crypto::expr_fn::md5;
    use datafusion::functions::string::expr_fn::{concat, octet_length};
    use datafusion::logical_expr::cast as cast_to;
    let mut pieces = Vec::with_capacity(dataset.schema.fields().len());
    for field in dataset.schema.fields() {
        let text = cast_to(ident(field.name()), DataType::Utf8);
        let present =
            concat(vec![lit("1"), cast_to(octet_length(text.clone()), DataType::Utf8), lit(":"), text.clone()]);
        pieces.push(when(text.is_null(), lit("0")).otherwise(present)?);
    }
    let query = dataset
        .frame(ctx)
        .await?
        .select(vec![md5(concat(pieces)).alias("h")])?
        .aggregate(vec![ident("h")], vec![count(lit(1)).alias("n")])?
        .aggregate(vec![], vec![count(lit(1)).alias("distinct_rows")])?;
    get_int(&collect_figures(query, dataset).await?, "distinct_rows")
}

/// The number of distinct rows, by a 128-bit fingerprint of each row's values. The engine
/// counts distinct fingerprints (spilling if it must); the fingerprints themselves come from
/// [`RowFingerprints`] streams over the scan of every column rather than from an expression
/// naming every column, which the engine would resolve by a linear search of the columns per
/// column named: the square of the width (most of the time of a table of 10,000 columns).
pub(super) async fn distinct_rows(ctx: &SessionContext, dataset: &Dataset) -> Result<u64, AuditError> {
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
pub(super) async fn key_report(
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
