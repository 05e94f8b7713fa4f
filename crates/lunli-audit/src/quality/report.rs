//! The quality report: per column profiles, rule results, keys, freshness, representation and
//! the findings, in the stable JSON shape of docs/json.md.

use super::rules::Rules;
use crate::policy::{Dimension, Finding, QualityPolicy};
use crate::source::InputSummary;
use lunli_norms::Text;
use serde::{Deserialize, Serialize};

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
