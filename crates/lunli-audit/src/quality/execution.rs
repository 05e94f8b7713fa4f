//! Running the passes: the queries of the value counts, duplicate rows and keys, and reading
//! the figures of one-row results by name.

use super::TOP_VALUES;
use super::functions::{RowFingerprints, ValueCounts};
use super::plan::names;
use super::profile::{exact_quartiles, interpolated_quartiles};
use super::report::KeyReport;
use crate::engine;
use crate::error::AuditError;
use crate::policy::Dimension;
use crate::source::Dataset;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::{HashMap, ScalarValue};
use datafusion::functions::core::expr_fn::coalesce;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::functions_aggregate::expr_fn::{count, min, sum};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    AggregateUDF, Expr, ExprFunctionExt, GroupingSet, WindowFrame, WindowFrameBound, WindowFrameUnits, cast as cast_to,
    try_cast, when,
};
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

/// What the value counts tell of one column: its exact number of distinct values, its most
/// frequent values (by count, then by value), the quartiles of its numeric values from their
/// exact order statistics, and — for a column whose groups the rules weigh against reference
/// shares — every value's count, sorted by value.
#[derive(Debug, Default)]
pub(super) struct ValueSummary {
    pub(super) distinct: u64,
    pub(super) top: Vec<(String, u64)>,
    pub(super) quartiles: Option<[f64; 3]>,
    pub(super) all: Option<Vec<(String, u64)>>,
}

impl ValueSummary {
    /// From every value's count; quartiles only for a `numeric` column (no other shows them).
    pub(super) fn of(counts: Vec<(String, u64)>, keep_all: bool, numeric: bool) -> Self {
        let distinct = counts.len() as u64;
        let quartiles = if numeric { exact_quartiles(&counts) } else { None };
        let all = keep_all.then(|| counts.clone());
        let mut top = counts;
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(TOP_VALUES);
        ValueSummary { distinct, top, quartiles, all }
    }
}

/// The [`ValueSummary`] of each of `columns` (of a [`text_frame`]), computed by the engine with
/// its built-in functions only, so that a cluster's executors need nothing of lunli's — and
/// summarised there, so that only what the report shows leaves them (a column of names in a
/// small table must not travel whole): each column's top values, the rows holding the six
/// order statistics of its quartiles, and every value only of the columns in `keep_all`.
///
/// The values are counted by one aggregate with a grouping set per column (each row is grouped
/// once per column, so passes take fewer columns than [`count_values`]'s). Window functions over
/// the counts, per column, then rank the values, count them, and add up the counts of the
/// numeric ones in order of value, which places each order statistic.
pub(super) async fn summarise_values(
    frame: DataFrame,
    columns: &[usize],
    keep_all: &[usize],
    dataset: &Dataset,
) -> Result<BTreeMap<usize, ValueSummary>, AuditError> {
    let Some(&first) = columns.first() else { return Ok(BTreeMap::new()) };
    let texts: Vec<Expr> = columns.iter().map(|&i| ident(names(i).text)).collect();
    let sets: Vec<Vec<Expr>> = texts.iter().map(|t| vec![t.clone()]).collect();
    let grouped =
        frame.aggregate(vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))], vec![count(lit(1)).alias("n")])?;
    // A row of the counts holds one column's value, the other columns missing; the row of a
    // column's missing values holds none and is left out, as count_values leaves them out.
    let mut column = when(ident(names(first).text).is_not_null(), lit(first as i64));
    for (text, &i) in texts.iter().zip(columns).skip(1) {
        column = column.when(text.clone().is_not_null(), lit(i as i64));
    }
    let number = try_cast(coalesce(texts.clone()), DataType::Float64);
    // Finite numbers only (NaN sorts above infinity), as exact_quartiles takes them.
    let finite = number.clone().between(lit(f64::MIN), lit(f64::MAX));
    let counts = grouped
        .select(vec![
            column.end()?.alias("c"),
            cast_to(coalesce(texts), DataType::Utf8).alias("v"),
            ident("n"),
            number.alias("f"),
            when(finite, ident("n")).otherwise(lit(0i64))?.alias("num"),
        ])?
        .filter(ident("c").is_not_null())?;
    let per_column = || vec![ident("c")];
    let whole_column = || WindowFrame::new(None);
    let rank = row_number()
        .partition_by(per_column())
        .order_by(vec![ident("n").sort(false, true), ident("v").sort(true, true)])
        .build()?;
    let distinct = Expr::from(WindowFunction::new(count_udaf(), vec![lit(1i64)]))
        .partition_by(per_column())
        .window_frame(whole_column())
        .build()?;
    let total = Expr::from(WindowFunction::new(sum_udaf(), vec![ident("num")]))
        .partition_by(per_column())
        .window_frame(whole_column())
        .build()?;
    let running = WindowFrame::new_bounds(
        WindowFrameUnits::Rows,
        WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
        WindowFrameBound::CurrentRow,
    );
    let through = Expr::from(WindowFunction::new(sum_udaf(), vec![ident("num")]))
        .partition_by(per_column())
        .order_by(vec![ident("f").sort(true, false), ident("v").sort(true, true)])
        .window_frame(running)
        .build()?;
    // One window node per ordering: a node's functions must share their sort keys.
    let ranked = counts
        .window(vec![distinct.alias("distinct"), total.alias("total")])?
        .window(vec![rank.alias("rank")])?
        .window(vec![through.alias("through")])?;
    // The order statistics around q × (total − 1) for q = ¼, ½, ¾: floor and ceiling, in
    // integers. A numeric row holds positions through − num to through − 1.
    let last = || ident("total") - lit(1i64);
    let positions = [
        last() / lit(4i64),
        (last() + lit(3i64)) / lit(4i64),
        last() / lit(2i64),
        (last() + lit(1i64)) / lit(2i64),
        (last() * lit(3i64)) / lit(4i64),
        (last() * lit(3i64) + lit(3i64)) / lit(4i64),
    ];
    let mut statistic = lit(false);
    for k in positions {
        let held = (ident("through") - ident("num")).lt_eq(k.clone()).and(k.lt(ident("through")));
        statistic = statistic.or(held);
    }
    let mut keep = ident("rank").lt_eq(lit(TOP_VALUES as u64)).or(ident("num").gt(lit(0i64)).and(statistic));
    let wanted: Vec<Expr> = keep_all.iter().filter(|i| columns.contains(i)).map(|&i| lit(i as i64)).collect();
    if !wanted.is_empty() {
        keep = keep.or(ident("c").in_list(wanted, false));
    }
    let query = ranked.filter(keep)?;

    /// One column's rows as they come back.
    #[derive(Default)]
    struct Gathered {
        distinct: u64,
        numeric: u64,
        top: Vec<(u64, String, u64)>,
        /// (first position, position past the last, value) of each order statistic's row.
        statistics: Vec<(u64, u64, f64)>,
        all: Vec<(String, u64)>,
    }
    let mut gathered: BTreeMap<usize, Gathered> = BTreeMap::new();
    for batch in engine::collect(query, dataset).await? {
        let read = |name: &str, to: &DataType| match batch.column_by_name(name) {
            Some(array) => Ok(cast(array, to)?),
            None => Err(AuditError::Engine(format!("no `{name}` in the value counts"))),
        };
        let ints = |name: &str| -> Result<Vec<i64>, AuditError> {
            let array = read(name, &DataType::Int64)?;
            Ok(array.as_primitive::<Int64Type>().values().to_vec())
        };
        let (c, n, num, rank) = (ints("c")?, ints("n")?, ints("num")?, ints("rank")?);
        let (distinct, total, through) = (ints("distinct")?, ints("total")?, ints("through")?);
        let values = read("v", &DataType::Utf8)?;
        let values = values.as_string::<i32>();
        let numbers = read("f", &DataType::Float64)?;
        let numbers = numbers.as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let i = usize::try_from(c[row]).map_err(|_| AuditError::Engine("a negative column index".into()))?;
            let entry = gathered.entry(i).or_default();
            entry.distinct = int_value(distinct[row]);
            entry.numeric = int_value(total[row]);
            let (value, count) = (values.value(row).to_string(), int_value(n[row]));
            if num[row] > 0 {
                let end = int_value(through[row]);
                entry.statistics.push((end.saturating_sub(int_value(num[row])), end, numbers.value(row)));
            }
            if keep_all.contains(&i) {
                entry.all.push((value.clone(), count));
            }
            if int_value(rank[row]) <= TOP_VALUES as u64 {
                entry.top.push((int_value(rank[row]), value, count));
            }
        }
    }
    let summaries = gathered
        .into_iter()
        .map(|(i, mut g)| {
            g.top.sort_unstable();
            g.all.sort_unstable();
            let at = |k: u64| g.statistics.iter().find(|(from, to, _)| *from <= k && k < *to).map(|s| s.2);
            let summary = ValueSummary {
                distinct: g.distinct,
                quartiles: interpolated_quartiles(g.numeric, at),
                top: g.top.into_iter().map(|(_, value, count)| (value, count)).collect(),
                all: keep_all.contains(&i).then_some(g.all),
            };
            (i, summary)
        })
        .collect();
    Ok(summaries)
}

/// [`distinct_rows`] with the engine's built-in functions only: each row's values as text,
/// each written as a presence mark, then (when present) its length and text, joined and
/// hashed with MD5 (128 bits, as [`distinct_rows`]'s fingerprints). The expression names every
/// column, which is quick to plan for tables of up to a few thousand columns.
#[cfg(feature = "cluster")]
pub(super) async fn distinct_rows_by_digest(ctx: &SessionContext, dataset: &Dataset) -> Result<u64, AuditError> {
    use datafusion::functions::crypto::expr_fn::md5;
    use datafusion::functions::string::expr_fn::{concat, octet_length};
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
