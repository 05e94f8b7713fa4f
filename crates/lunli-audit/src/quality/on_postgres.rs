//! The quality audit pushed down to a PostgreSQL server: the profile, the rules, the value
//! counts, the duplicate rows and the keys as read-only aggregate queries, so that only the
//! figures the report shows leave the server, never a row.
//!
//! The local audit reads values as text and asks the engine what each parses as; here the
//! server judges the same text by the same rules, written in SQL that cannot fail on a value
//! (a regular expression first, then a check of the parts, then the conversion): integers in
//! 64 bits, decimal numbers with `inf` and `nan`, dates `YYYY-M-D` and `YYYYMMDD`, timestamps
//! `YYYY-MM-DD[T ]HH:MM:SS[.f]` or `…HHMMSS` with `Z` or a `±HH[:MM]` offset. What the local
//! reader accepts beyond these (named time zones, signed years, leap seconds) the server counts
//! as text; docs/engines.md lists them.
//!
//! Every figure is exact here: distinct counts by `count(DISTINCT …)` and quartiles by
//! `percentile_cont`, where the local audit estimates them for columns of more than
//! [`EXACT_DISTINCT_LIMIT`] distinct values; the report marks them exact.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use tokio_postgres::Row;
use tokio_postgres::types::Type;

use super::execution::{Figures, ValueSummary, get_int, get_text, int_value};
use super::profile::column_profile;
use super::{
    Bound, EXACT_DISTINCT_LIMIT, KeyReport, Kind, Measured, QualityReport, QualityRequest, RuleSpec, TOP_VALUES,
    apply_value_counts, finish, key_sets, parse_timestamp,
};
use crate::RunOptions;
use crate::error::AuditError;
use crate::policy::{Dimension, QualityPolicy};
use crate::pushdown::{Columns, Server, quote_ident};
use crate::source::InputSummary;

/// Columns profiled per query: each takes about twenty aggregates, and PostgreSQL allows 1,664
/// entries in a select list.
const COLUMNS_PER_QUERY: usize = 64;

/// Where the audit runs: the connection, the relation as a `FROM` clause, and their names for
/// the report.
pub(crate) struct Place<'a> {
    pub(crate) server: &'a Server,
    pub(crate) from: &'a str,
    pub(crate) engine: &'a str,
    pub(crate) relation: &'a str,
}

/// How a column is stored on the server, as far as the audit tells types apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Text, and any type the audit reads as its text.
    Text,
    Integer,
    Number,
    Boolean,
    Date,
    Timestamp,
    TimestampTz,
}

impl Stored {
    fn of(t: &Type) -> Stored {
        match *t {
            Type::INT2 | Type::INT4 | Type::INT8 => Stored::Integer,
            Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => Stored::Number,
            Type::BOOL => Stored::Boolean,
            Type::DATE => Stored::Date,
            Type::TIMESTAMP => Stored::Timestamp,
            Type::TIMESTAMPTZ => Stored::TimestampTz,
            _ => Stored::Text,
        }
    }

    /// The Arrow type of such a column in a local audit, which decides its kind the same way.
    fn data_type(self) -> DataType {
        match self {
            Stored::Text => DataType::Utf8,
            Stored::Integer => DataType::Int64,
            Stored::Number => DataType::Float64,
            Stored::Boolean => DataType::Boolean,
            Stored::Date => DataType::Date32,
            Stored::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Stored::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// One column of the relation.
struct Column {
    name: String,
    stored: Stored,
    /// The server's name of its type, shown as what it is stored as.
    type_name: String,
}

/// A text literal. The session runs with `standard_conforming_strings` on, so only quotes
/// need doubling.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A decimal number as the local reader takes one, or `inf`, `infinity` or `nan` in any case.
const NUMBER: &str =
    r"^[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])$";
const INTEGER: &str = r"^[+-]?[0-9]+$";
/// Dates of ten characters or fewer: `YYYY-M-D` (one or two digits) or `YYYYMMDD`.
const DATE_DASHED: &str = r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$";
const DATE_DIGITS: &str = r"^([0-9]{4})([0-9]{2})([0-9]{2})$";
/// Timestamps: the date, `T`, `t` or a space, the time with colons and any decimals of a second
/// (the local reader keeps nine), or without colons and decimals; the rest is the offset.
const TIME_COLONS: &str = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(.*)$";
const TIME_DIGITS: &str = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2})([0-9]{2})([0-9]{2})()(.*)$";
/// An offset after the time: optional white space, a sign, hours, and minutes with or without
/// a colon.
const OFFSET: &str = r"^\s*([+-])([0-9]{2})(:?([0-9]{2}))?$";

/// Whether integers `y`, `m`, `d` (a year of four digits) make a date of the proleptic
/// Gregorian calendar, year 0 included, as the local reader's.
fn valid_date(y: &str, m: &str, d: &str) -> String {
    format!(
        "({m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND CASE WHEN {m} IN (4, 6, 9, 11) THEN 30 \
         WHEN {m} = 2 THEN CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 THEN 29 ELSE 28 END \
         ELSE 31 END)"
    )
}

/// Days from 1970-01-01 to the valid date `y`, `m`, `d`, in integer arithmetic (the server's
/// `make_date` refuses year 0): the count of days from 0000-03-01 by 400-year eras, shifted.
fn days_since_epoch(y: &str, m: &str, d: &str) -> String {
    let year = format!("({y} - CASE WHEN {m} <= 2 THEN 1 ELSE 0 END)");
    let era = format!("(CASE WHEN {year} >= 0 THEN {year} ELSE {year} - 399 END / 400)");
    let of_era = format!("({year} - {era} * 400)");
    let of_year = format!("((153 * (({m} + 9) % 12) + 2) / 5 + {d} - 1)");
    format!("({era}::int8 * 146097 + {of_era} * 365 + {of_era} / 4 - {of_era} / 100 + {of_year} - 719468)")
}

/// The select lists of the nested queries that turn each column into its trimmed text and what
/// that text parses as, level by level (each level reads the one before). The last level has,
/// per column `i`: `t{i}` text, `pad{i}` 1 when padded, `f{i}` number, `n{i}` 1 when an
/// integer, `dd{i}` days since 1970 when a date, `tt{i}` microseconds since 1970 when a
/// timestamp (as the local audit: values with a colon parsed as timestamps, the others as
/// dates), `b{i}` 1 when a boolean word.
struct Levels {
    levels: [Vec<String>; 4],
}

impl Levels {
    fn new(columns: &[Column], indexes: &[usize], null_values: &[String], parsed: bool) -> Levels {
        let mut levels: [Vec<String>; 4] = Default::default();
        for &i in indexes {
            let column = &columns[i];
            let raw = quote_ident(&column.name);
            let [a, b, c, d] = &mut levels;
            if column.stored == Stored::Text {
                let text = format!("{raw}::text");
                let trimmed = format!("btrim({text})");
                let t = if null_values.is_empty() {
                    trimmed.clone()
                } else {
                    let list: Vec<String> = null_values.iter().map(|v| literal(v.trim())).collect();
                    format!("CASE WHEN {trimmed} IN ({}) THEN NULL ELSE {trimmed} END", list.join(", "))
                };
                a.push(format!("{t} AS t{i}"));
                a.push(format!(
                    "CASE WHEN octet_length({text}) <> octet_length({trimmed}) THEN 1 ELSE 0 END AS pad{i}"
                ));
                if !parsed {
                    continue;
                }
                let t = format!("t{i}");
                b.extend([
                    format!("t{i}"),
                    format!("pad{i}"),
                    format!("CASE WHEN {t} ~ {} THEN {t}::float8 END AS f{i}", literal(NUMBER)),
                    format!(
                        "CASE WHEN {t} !~ {} THEN NULL WHEN length({t}) < 19 THEN 1 \
                         WHEN {t}::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN 1 END AS n{i}",
                        literal(INTEGER)
                    ),
                    format!(
                        "CASE WHEN {t} IN ('true', 'false', 'TRUE', 'FALSE', 'True', 'False') THEN 1 ELSE 0 END AS b{i}"
                    ),
                    // The matches that capture parts are the dearest expressions of the
                    // query: only values of a date's or a timestamp's length and shape try them.
                    format!(
                        "CASE WHEN length({t}) BETWEEN 8 AND 10 AND (length({t}) = 8 OR substr({t}, 5, 1) = '-') \
                         THEN coalesce(regexp_match({t}, {}), regexp_match({t}, {})) END AS dm{i}",
                        literal(DATE_DASHED),
                        literal(DATE_DIGITS)
                    ),
                    format!(
                        "CASE WHEN length({t}) >= 17 AND substr({t}, 5, 1) = '-' AND substr({t}, 11, 1) IN ('T', 't', ' ') \
                         THEN coalesce(regexp_match({t}, {}), regexp_match({t}, {})) END AS tm{i}",
                        literal(TIME_COLONS),
                        literal(TIME_DIGITS)
                    ),
                ]);
                c.extend([format!("t{i}"), format!("pad{i}"), format!("f{i}"), format!("n{i}"), format!("b{i}")]);
                let part = |k: usize, of: &str| format!("{of}{i}[{k}]::int");
                let date_ok = valid_date(&part(1, "dm"), &part(2, "dm"), &part(3, "dm"));
                let days = days_since_epoch(&part(1, "dm"), &part(2, "dm"), &part(3, "dm"));
                c.push(format!("CASE WHEN dm{i} IS NOT NULL AND {date_ok} THEN {days} END AS days{i}"));
                let offset = format!("regexp_match(tm{i}[8], {})", literal(OFFSET));
                let time_ok = format!(
                    "{} AND {} <= 23 AND {} <= 59 AND {} <= 59",
                    valid_date(&part(1, "tm"), &part(2, "tm"), &part(3, "tm")),
                    part(4, "tm"),
                    part(5, "tm"),
                    part(6, "tm")
                );
                // Seconds since the epoch of the wall time, and microseconds of the fraction
                // (its first six decimals, as the local reader truncates nanoseconds).
                let days = days_since_epoch(&part(1, "tm"), &part(2, "tm"), &part(3, "tm"));
                c.push(format!(
                    "CASE WHEN tm{i} IS NOT NULL AND {time_ok} THEN {days} * 86400 + {} * 3600 + {} * 60 + {} END AS wall{i}",
                    part(4, "tm"),
                    part(5, "tm"),
                    part(6, "tm")
                ));
                c.push(format!(
                    "CASE WHEN coalesce(tm{i}[7], '') = '' THEN 0 ELSE rpad(left(substr(tm{i}[7], 2), 6), 6, '0')::int8 END AS micro{i}"
                ));
                c.push(format!(
                    "CASE WHEN tm{i} IS NULL THEN NULL WHEN tm{i}[8] IN ('', 'Z', 'z') THEN 0 \
                     WHEN {offset} IS NULL THEN NULL \
                     ELSE (CASE WHEN ({offset})[1] = '-' THEN -1 ELSE 1 END) \
                     * (({offset})[2]::int * 3600 + coalesce(({offset})[4]::int, 0) * 60) END AS off{i}"
                ));
                d.extend([format!("t{i}"), format!("pad{i}"), format!("f{i}"), format!("n{i}"), format!("b{i}")]);
                // An offset of a day or more is no offset the local reader takes.
                let stamp = format!(
                    "CASE WHEN wall{i} IS NOT NULL AND off{i} > -86400 AND off{i} < 86400 \
                     THEN (wall{i} - off{i}) * 1000000 + micro{i} END"
                );
                let date = format!("coalesce(days{i}, floor(({stamp})::numeric / 86400000000)::int8)");
                d.push(format!("{date} AS dd{i}"));
                d.push(format!(
                    "CASE WHEN strpos(t{i}, ':') > 0 THEN {stamp} ELSE ({date}) * 86400000000 END AS tt{i}"
                ));
            } else {
                a.push(format!("{raw}::text AS t{i}"));
                a.push(format!("0 AS pad{i}"));
                a.push(format!("{raw} AS o{i}"));
                if !parsed {
                    continue;
                }
                b.extend([format!("t{i}"), format!("pad{i}"), format!("o{i}")]);
                c.extend([format!("t{i}"), format!("pad{i}"), format!("o{i}")]);
                let stored = column.stored;
                let number = matches!(stored, Stored::Integer | Stored::Number);
                d.extend([
                    format!("t{i}"),
                    format!("pad{i}"),
                    if number { format!("o{i}::float8 AS f{i}") } else { format!("NULL::float8 AS f{i}") },
                    if stored == Stored::Integer {
                        format!("CASE WHEN o{i} IS NOT NULL THEN 1 END AS n{i}")
                    } else {
                        format!("NULL::int AS n{i}")
                    },
                    if stored == Stored::Boolean {
                        format!("CASE WHEN o{i} IS NOT NULL THEN 1 ELSE 0 END AS b{i}")
                    } else {
                        format!("0 AS b{i}")
                    },
                    format!("NULL::int8 AS dd{i}"),
                    if matches!(stored, Stored::Date | Stored::Timestamp | Stored::TimestampTz) {
                        format!("(extract(epoch FROM o{i}) * 1000000)::int8 AS tt{i}")
                    } else {
                        format!("NULL::int8 AS tt{i}")
                    },
                ]);
            }
        }
        Levels { levels }
    }

    /// The innermost query alone: each column's text and padding.
    fn texts(&self, from: &str) -> String {
        format!("SELECT {} FROM {from} AS audited", list(&self.levels[0]))
    }

    /// All levels: each column parsed. `OFFSET 0` keeps each level a query of its own: merged
    /// into the next, every use of a level's expression would evaluate it again, and the later
    /// levels use each several times (the slowest query took minutes instead of a second).
    fn parsed(&self, from: &str) -> String {
        let mut query = self.texts(from);
        for (k, level) in self.levels.iter().enumerate().skip(1) {
            query = format!("SELECT {} FROM ({query} OFFSET 0) AS level{k}", list(level));
        }
        query
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "1 AS nothing".to_string() } else { items.join(", ") }
}

/// The profile's aggregates of column `i`, named as the local profile names them.
fn profile_aggregates(i: usize) -> Vec<String> {
    let finite =
        format!("CASE WHEN f{i} IN ('Infinity'::float8, '-Infinity'::float8, 'NaN'::float8) THEN NULL ELSE f{i} END");
    let mut aggregates = vec![
        format!("count(t{i}) AS \"present{i}\""),
        format!("sum(CASE WHEN t{i} = '' THEN 1 ELSE 0 END)::int8 AS \"blank{i}\""),
        format!("count(f{i}) AS \"floats{i}\""),
        format!("count(n{i}) AS \"ints{i}\""),
        format!("count(tt{i}) AS \"times{i}\""),
        format!("count(dd{i}) AS \"dates{i}\""),
        format!("count(CASE WHEN strpos(t{i}, ':') > 0 THEN tt{i} END) AS \"clocks{i}\""),
        format!("sum(b{i})::int8 AS \"bools{i}\""),
        format!("sum(pad{i})::int8 AS \"padded{i}\""),
        format!("min(f{i}) AS \"fmin{i}\""),
        format!("max(f{i}) AS \"fmax{i}\""),
        format!("avg(f{i}) AS \"fmean{i}\""),
        format!("min(tt{i}) AS \"tmin{i}\""),
        format!("max(tt{i}) AS \"tmax{i}\""),
        format!("min(t{i} COLLATE \"C\") AS \"smin{i}\""),
        format!("max(t{i} COLLATE \"C\") AS \"smax{i}\""),
        format!("count(DISTINCT t{i}) AS \"hll{i}\""),
    ];
    // One sort for the three: the server computes an aggregate written three times once.
    let quartiles = format!("(percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY {finite}))");
    for (k, label) in [(1, "q25_"), (2, "q50_"), (3, "q75_")] {
        aggregates.push(format!("{quartiles}[{k}] AS \"{label}{i}\""));
    }
    aggregates
}

/// The aggregates counting each rule's violations, with an example of each (the least
/// offending value), and each rule's label, dimension and the name its count is read back by.
fn rule_plan(request: &QualityRequest, index_of: &impl Fn(&str) -> Option<usize>) -> (Vec<String>, Vec<RuleSpec>) {
    let rules = &request.rules;
    let mut aggregates = Vec::new();
    let mut specs: Vec<RuleSpec> = Vec::new();
    let mut add = |label: String, dimension: Dimension, violation: String, example: &str| {
        let alias = format!("rule{}", specs.len());
        aggregates.push(format!("sum(CASE WHEN {violation} THEN 1 ELSE 0 END)::int8 AS \"{alias}\""));
        aggregates.push(format!("min(CASE WHEN {violation} THEN {example} END COLLATE \"C\") AS \"{alias}_example\""));
        specs.push((label, dimension, alias));
    };
    for (column, rule) in &rules.columns {
        let Some(i) = index_of(column) else { continue };
        let t = format!("t{i}");
        if rule.required {
            add(format!("{column}.required"), Dimension::Completeness, format!("{t} IS NULL"), &t);
        }
        for (bound, is_min) in [(&rule.min, true), (&rule.max, false)] {
            let Some(bound) = bound else { continue };
            let (value, threshold) = match bound {
                Bound::Number(x) => (format!("f{i}"), format!("{}::float8", literal(&x.to_string()))),
                Bound::Text(text) => (format!("tt{i}"), format!("{}::int8", parse_timestamp(text).unwrap_or_default())),
            };
            let violation = format!("{value} {} {threshold}", if is_min { "<" } else { ">" });
            add(format!("{column}.{}", if is_min { "min" } else { "max" }), Dimension::Accuracy, violation, &t);
        }
        if let Some(allowed) = &rule.allowed {
            let list: Vec<String> = allowed.iter().map(|v| literal(v.trim())).collect();
            let violation = format!("{t} IS NOT NULL AND {t} <> ALL (ARRAY[{}]::text[])", list.join(", "));
            add(format!("{column}.allowed"), Dimension::Normativeness, violation, &t);
        }
        if let Some(pattern) = &rule.pattern {
            let violation = format!("{t} IS NOT NULL AND {t} !~ {}", literal(pattern));
            add(format!("{column}.pattern"), Dimension::Normativeness, violation, &t);
        }
        if let Some(kind) = rule.kind {
            let violation = match kind {
                Kind::Integer => format!("{t} IS NOT NULL AND n{i} IS NULL"),
                Kind::Number => format!("{t} IS NOT NULL AND f{i} IS NULL"),
                Kind::Timestamp => format!("{t} IS NOT NULL AND tt{i} IS NULL"),
                Kind::Date => format!("{t} IS NOT NULL AND dd{i} IS NULL"),
                Kind::Boolean => format!("{t} IS NOT NULL AND b{i} = 0"),
                _ => "false".to_string(),
            };
            add(format!("{column}.type"), Dimension::Normativeness, violation, &t);
        }
    }
    for check in &rules.checks {
        let (pair, strict) = match (&check.before, &check.not_after) {
            (Some(p), _) => (p, true),
            (None, Some(p)) => (p, false),
            (None, None) => continue,
        };
        let (Some(a), Some(b)) = (index_of(&pair[0]), index_of(&pair[1])) else { continue };
        let breaks = if strict { ">=" } else { ">" };
        let violation = format!(
            "CASE WHEN tt{a} IS NOT NULL AND tt{b} IS NOT NULL THEN tt{a} {breaks} tt{b} \
             WHEN f{a} IS NOT NULL AND f{b} IS NOT NULL THEN f{a} {breaks} f{b} ELSE false END"
        );
        let label = check
            .name
            .clone()
            .unwrap_or_else(|| format!("{} {} {}", pair[0], if strict { "before" } else { "not after" }, pair[1]));
        add(label, Dimension::Consistency, violation, &format!("t{a}"));
    }
    (aggregates, specs)
}

/// The one row of an aggregate query as figures, by the names of its columns: counts as
/// 64-bit integers, numbers as floats, text as text.
fn figures_of(row: &Row) -> Result<RecordBatch, AuditError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let unreadable = |e: tokio_postgres::Error| AuditError::Engine(format!("reading the figures: {e}"));
    for (k, column) in row.columns().iter().enumerate() {
        let (data_type, array): (DataType, ArrayRef) = match *column.type_() {
            Type::INT8 => (
                DataType::Int64,
                Arc::new(Int64Array::from(vec![row.try_get::<_, Option<i64>>(k).map_err(unreadable)?])),
            ),
            Type::INT4 => (
                DataType::Int64,
                Arc::new(Int64Array::from(vec![row.try_get::<_, Option<i32>>(k).map_err(unreadable)?.map(i64::from)])),
            ),
            Type::FLOAT8 => (
                DataType::Float64,
                Arc::new(Float64Array::from(vec![row.try_get::<_, Option<f64>>(k).map_err(unreadable)?])),
            ),
            Type::TEXT => (
                DataType::Utf8,
                Arc::new(StringArray::from(vec![row.try_get::<_, Option<String>>(k).map_err(unreadable)?])),
            ),
            ref other => {
                return Err(AuditError::Engine(format!("figure `{}` came back as {other}", column.name())));
            }
        };
        fields.push(Field::new(column.name(), data_type, true));
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// The queries that ran, for the report's inputs.
#[derive(Default)]
struct Log(Vec<String>);

impl Log {
    /// Runs an aggregate query without groups and adds its one row to `figures`.
    async fn one(&mut self, place: &Place<'_>, sql: String, figures: &mut Figures) -> Result<(), AuditError> {
        let rows = place.server.query(&sql).await?;
        self.0.push(sql);
        match rows.as_slice() {
            [row] => figures.add(figures_of(row)?),
            _ => return Err(AuditError::Engine("an aggregate without groups gave no single row".into())),
        }
        Ok(())
    }

    async fn all(&mut self, place: &Place<'_>, sql: String) -> Result<Vec<Row>, AuditError> {
        let rows = place.server.query(&sql).await?;
        self.0.push(sql);
        Ok(rows)
    }
}

/// The quality audit of the relation at `place`, whose columns are `columns`.
pub(crate) async fn run(
    place: &Place<'_>,
    columns: &Columns,
    request: &QualityRequest,
    policy: &QualityPolicy,
    now: jiff::Timestamp,
    options: &RunOptions,
) -> Result<QualityReport, AuditError> {
    let rules = &request.rules;
    let columns: Vec<Column> = columns
        .0
        .iter()
        .map(|(name, t)| Column { name: name.clone(), stored: Stored::of(t), type_name: t.name().to_string() })
        .collect();
    let index_of = |name: &str| columns.iter().position(|c| c.name == name);
    if let Some(column) = rules.columns().into_iter().find(|c| index_of(c).is_none()) {
        let names = columns.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ");
        return Err(AuditError::input(
            place.server.location().with_column(column),
            format!("the rules name this column, but the {} has only {names}", place.relation),
        ));
    }
    if columns.is_empty() {
        return Err(AuditError::input(place.server.location(), "no columns to audit"));
    }
    let null_values = &rules.null_values;
    let mut log = Log::default();
    // No JIT: compiling the profile's wide expressions took 3.5 s of a 24 s query on a million
    // rows, more than it saved.
    place.server.query("SET LOCAL jit = off").await?;

    // The profile and the rules, a chunk of columns per query; the rules with the first.
    let (mut rule_aggregates, rule_specs) = rule_plan(request, &index_of);
    let mut rule_columns: Vec<usize> = rules.columns().into_iter().filter_map(index_of).collect();
    rule_columns.sort_unstable();
    rule_columns.dedup();
    let all: Vec<usize> = (0..columns.len()).collect();
    let mut profile = Figures::default();
    for (k, chunk) in all.chunks(COLUMNS_PER_QUERY).enumerate() {
        let mut aggregates = vec!["count(*) AS \"rows\"".to_string()];
        let mut projected = chunk.to_vec();
        for &i in chunk {
            aggregates.extend(profile_aggregates(i));
        }
        if k == 0 {
            aggregates.append(&mut rule_aggregates);
            projected.extend(rule_columns.iter().filter(|i| !chunk.contains(i)));
        }
        let levels = Levels::new(&columns, &projected, null_values, true);
        options.progress.next_pass();
        let sql = format!("SELECT {} FROM ({}) AS parsed", aggregates.join(", "), levels.parsed(place.from));
        log.one(place, sql, &mut profile).await?;
    }
    let rows = get_int(&profile, "rows")?;
    if rows == 0 {
        return Err(AuditError::input(place.server.location(), "no data rows"));
    }
    let mut reports = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        let mut report = column_profile(&profile, i, &column.name, &column.stored.data_type(), rows)?;
        report.stored_as = column.type_name.clone();
        reports.push(report);
    }

    // The value counts of columns with few distinct values (every one of them exact here), and
    // of the columns whose groups are weighed against reference shares: top values, and every
    // value only of the latter.
    let representation: Vec<usize> = rules.representation.iter().filter_map(|r| index_of(&r.column)).collect();
    let counted: Vec<usize> = (0..columns.len())
        .filter(|&i| reports[i].distinct <= EXACT_DISTINCT_LIMIT || representation.contains(&i))
        .collect();
    let mut value_counts: BTreeMap<usize, ValueSummary> = BTreeMap::new();
    for chunk in counted.chunks(COLUMNS_PER_QUERY) {
        options.progress.next_pass();
        let sql = value_counts_sql(&columns, chunk, &representation, null_values, place.from);
        for row in log.all(place, sql).await? {
            let read = |e: tokio_postgres::Error| AuditError::Engine(format!("reading the value counts: {e}"));
            let c: i32 = row.try_get(0).map_err(read)?;
            let value: String = row.try_get(1).map_err(read)?;
            let n: i64 = row.try_get(2).map_err(read)?;
            let rank: i64 = row.try_get(3).map_err(read)?;
            let i = usize::try_from(c).map_err(|_| AuditError::Engine("a negative column index".into()))?;
            let summary = value_counts.entry(i).or_insert_with(|| ValueSummary {
                distinct: reports[i].distinct,
                all: representation.contains(&i).then(Vec::new),
                ..ValueSummary::default()
            });
            if rank <= TOP_VALUES as i64 {
                summary.top.push((value.clone(), int_value(n)));
            }
            if let Some(all) = &mut summary.all {
                all.push((value, int_value(n)));
            }
        }
    }
    for summary in value_counts.values_mut() {
        summary.top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if let Some(all) = &mut summary.all {
            all.sort_unstable();
        }
    }
    apply_value_counts(&mut reports, &value_counts);
    for report in &mut reports {
        report.distinct_exact = true;
        report.quartiles_exact = report.quartiles.is_some();
    }

    // Duplicate rows: distinct rows counted on the server, by the text of every column.
    options.progress.next_pass();
    let every: Vec<String> = columns.iter().map(|c| format!("{}::text", quote_ident(&c.name))).collect();
    let sql = format!(
        "SELECT count(*) AS \"distinct_rows\" FROM (SELECT DISTINCT {} FROM {} AS audited) AS distinct_rows",
        every.join(", "),
        place.from
    );
    let mut figures = Figures::default();
    log.one(place, sql, &mut figures).await?;
    let distinct_rows = get_int(&figures, "distinct_rows")?;

    // Keys.
    let mut keys = Vec::new();
    for key in key_sets(rules) {
        options.progress.next_pass();
        let indexes: Vec<usize> = key.iter().filter_map(|c| index_of(c)).collect();
        let Some(&first) = indexes.first() else { continue };
        let levels = Levels::new(&columns, &indexes, null_values, false);
        let group: Vec<String> = indexes.iter().map(|i| format!("t{i}")).collect();
        let sql = format!(
            "SELECT count(*) AS \"keys\", sum(n)::int8 AS \"rows\", \
             sum(CASE WHEN n > 1 THEN 1 ELSE 0 END)::int8 AS \"repeated\", \
             min(CASE WHEN n > 1 THEN t{first} END COLLATE \"C\") AS \"example\" \
             FROM (SELECT {}, count(*) AS n FROM ({}) AS texts GROUP BY {}) AS keyed",
            group.join(", "),
            levels.texts(place.from),
            group.join(", ")
        );
        let mut figures = Figures::default();
        log.one(place, sql, &mut figures).await?;
        let (distinct_keys, key_rows) = (get_int(&figures, "keys")?, get_int(&figures, "rows")?);
        keys.push(KeyReport {
            columns: key.clone(),
            duplicates: key_rows.saturating_sub(distinct_keys),
            repeated_keys: get_int(&figures, "repeated")?,
            example: get_text(&figures, "example")?,
            dimension: Dimension::Consistency,
        });
    }

    let measured = Measured { rows, columns: reports, profile, rule_specs, value_counts, distinct_rows, keys };
    let input = InputSummary::engine(place.engine, "postgresql", place.relation, &log.0.join(";\n\n"));
    finish(measured, request, policy, now, place.server.name.clone(), vec![input], Vec::new())
}

/// The value counts of the `counted` columns in one pass (a grouping set per column): per
/// column its values ranked by count then value, of which the top ones come back, and every
/// value of the columns in `keep_all`.
fn value_counts_sql(
    columns: &[Column],
    counted: &[usize],
    keep_all: &[usize],
    null_values: &[String],
    from: &str,
) -> String {
    let levels = Levels::new(columns, counted, null_values, false);
    let sets: Vec<String> = counted.iter().map(|i| format!("(t{i})")).collect();
    let which: Vec<String> = counted.iter().map(|i| format!("WHEN GROUPING(t{i}) = 0 THEN {i}")).collect();
    let values: Vec<String> = counted.iter().map(|i| format!("t{i}")).collect();
    let wanted: Vec<String> = keep_all.iter().filter(|i| counted.contains(i)).map(|i| i.to_string()).collect();
    let keep = if wanted.is_empty() { String::new() } else { format!(" OR c IN ({})", wanted.join(", ")) };
    format!(
        "SELECT c, v, n, r FROM (\
           SELECT c, v, n, row_number() OVER (PARTITION BY c ORDER BY n DESC, v COLLATE \"C\") AS r FROM (\
             SELECT (CASE {} END)::int4 AS c, coalesce({}) AS v, count(*) AS n \
             FROM ({}) AS texts GROUP BY GROUPING SETS ({})\
           ) AS counted WHERE v IS NOT NULL\
         ) AS ranked WHERE r <= {TOP_VALUES}{keep}",
        which.join(" "),
        values.join(", "),
        levels.texts(from),
        sets.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"^\d+$"), r"'^\d+$'");
    }

    #[test]
    fn a_column_name_cannot_inject() {
        let columns =
            vec![Column { name: "x\"; DROP TABLE t; --".into(), stored: Stored::Text, type_name: "text".into() }];
        let levels = Levels::new(&columns, &[0], &["N'A".to_string()], true);
        let sql = levels.parsed("\"t\"");
        assert!(sql.contains("\"x\"\"; DROP TABLE t; --\"::text"), "{sql}");
        assert!(sql.contains("'N''A'"), "{sql}");
    }
}
