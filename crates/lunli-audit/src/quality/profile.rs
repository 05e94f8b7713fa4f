//! One column's profile from the figures of the profile pass: its type, conformance, missing
//! and blank values, range, mean and quartiles.

use super::TYPE_SHARE;
use super::execution::{Figures, get_float, get_int, get_text, get_time};
use super::plan::is_text;
use super::report::{ColumnReport, Figure, Kind};
use super::rules::format_timestamp;
use crate::error::AuditError;
use crate::policy::Dimension;
use datafusion::arrow::datatypes::DataType;

/// Quartiles from exact value counts: the numeric values sorted, each repeated by its count,
/// interpolated linearly between order statistics. `None` without numeric values.
pub(super) fn exact_quartiles(counts: &[(String, u64)]) -> Option<[f64; 3]> {
    let mut values: Vec<(f64, u64)> = counts
        .iter()
        .filter_map(|(v, n)| v.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| (f, *n)))
        .collect();
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = values.iter().map(|(_, n)| n).sum();
    // The value at 0-based position k of the expanded, sorted list.
    let at = |k: u64| -> Option<f64> {
        let mut seen = 0;
        values
            .iter()
            .find(|(_, n)| {
                seen += n;
                k < seen
            })
            .map(|(v, _)| *v)
    };
    interpolated_quartiles(total, at)
}

/// The quartiles of `total` sorted values, given the value at each 0-based position: linear
/// interpolation between the order statistics around position q × (total − 1), as
/// PostgreSQL's `percentile_cont` and NumPy's default. `None` without values, or when a
/// position has no value.
pub(super) fn interpolated_quartiles(total: u64, at: impl Fn(u64) -> Option<f64>) -> Option<[f64; 3]> {
    if total == 0 {
        return None;
    }
    let quantile = |q: f64| {
        let position = q * (total - 1) as f64;
        let (lower, upper) = (position.floor() as u64, position.ceil() as u64);
        let (a, b) = (at(lower)?, at(upper)?);
        Some(a + (b - a) * (position - lower as f64))
    };
    Some([quantile(0.25)?, quantile(0.5)?, quantile(0.75)?])
}

/// Short display of a number: integers without decimals.
pub(super) fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v}") }
}

pub(super) fn column_profile(
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
        // A timestamp parses as a date as well (its day), so `dates` cannot tell the two apart;
        // values with a time of day can: a timestamp column when they are at least half.
        let clocks = share(get_int(profile, &p("clocks"))?);
        if clocks * 2.0 >= times { (Kind::Timestamp, Some(times)) } else { (Kind::Date, Some(dates)) }
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
}
