//! The rules file: what the data must satisfy beyond what lunli infers, read and checked,
//! and the durations and timestamps its rules are written in.

use super::report::Kind;
use crate::error::AuditError;
use crate::policy::{self};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    pub(super) fn columns(&self) -> Vec<&str> {
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
pub(super) fn parse_age(text: &str) -> Option<f64> {
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
pub(super) fn parse_timestamp(text: &str) -> Option<i64> {
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

pub(super) fn format_timestamp(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map(|t| t.to_string()).unwrap_or_else(|_| micros.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
