//! The queries' expressions: each column as trimmed text and its parsed forms, the profile's
//! aggregates per column, and how many columns one pass takes.

use super::functions::TrimSpaces;
use crate::error::AuditError;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::string::expr_fn::{btrim, contains, octet_length};
use datafusion::functions_aggregate::expr_fn::{approx_distinct, approx_percentile_cont, avg, count, max, min, sum};
use datafusion::logical_expr::{Expr, ScalarUDF, cast as cast_to, try_cast, when};
use datafusion::prelude::{DataFrame, ident, lit};

/// One column's internal names in the profile query.
pub(super) struct Names {
    pub(super) text: String,
    pub(super) float: String,
    pub(super) int: String,
    pub(super) time: String,
    pub(super) date: String,
    pub(super) boolean: String,
    pub(super) padded: String,
}

pub(super) fn names(i: usize) -> Names {
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

/// Which functions the queries may call: lunli's own, when they run here, or only the
/// engine's built-in ones, when they run on a cluster whose executors know no others (an
/// existing Ballista deployment needs nothing of lunli's installed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Functions {
    Lunli,
    #[cfg_attr(not(feature = "cluster"), allow(dead_code, reason = "only a cluster audit plans with built-ins"))]
    BuiltIn,
}

pub(super) fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
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
pub(super) const COUNTED_COLUMNS_PER_PASS: usize = 1024;

/// The same with the engine's built-in grouping ([`Functions::BuiltIn`]): each row is grouped
/// once per column of the pass, so its cost per row grows with the columns of a pass, while
/// each pass reads the files again.
pub(super) const GROUPED_COLUMNS_PER_PASS: usize = 16;

/// The given columns (indexes into `fields`) as text: trimmed, the rules' null values made
/// missing, and whether each value was padded. Typed columns are kept as they are too, for
/// [`parsed_frame`].
pub(super) fn text_frame(
    base: DataFrame,
    fields: &[(String, DataType)],
    columns: &[usize],
    null_values: &[Expr],
    functions: Functions,
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
            let trimmed = match functions {
                Functions::Lunli => ScalarUDF::from(TrimSpaces::new()).call(vec![raw.clone()]),
                // The same trim, on every batch.
                Functions::BuiltIn => btrim(vec![raw.clone()]),
            };
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
pub(super) fn parsed_frame(
    text: DataFrame,
    fields: &[(String, DataType)],
    columns: &[usize],
) -> Result<DataFrame, AuditError> {
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
pub(super) fn profile_aggregates(i: usize) -> Result<Vec<Expr>, AuditError> {
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
        // Timestamps parse as dates too (their day); those with a time of day tell them apart.
        sum(when(ident(&n.time).is_not_null().and(contains(ident(&n.text), lit(":"))), lit(1i64))
            .otherwise(lit(0i64))?)
        .alias(p("clocks")),
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
