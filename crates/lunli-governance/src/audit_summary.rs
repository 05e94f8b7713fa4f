//! The summary an audit run leaves as evidence, typed and versioned, in one place for the three
//! parties that meet it: the audits that write it (through the command line's `--system`),
//! governance that records it on every control it concerns ([`crate::Governance::record_audit`]),
//! and the reports that show it.
//!
//! What is stored stays the audit's own JSON report, byte for byte as it wrote it, plus the
//! SHA-256 of each input file and `summary_version` — so a reader can always go back to
//! everything the audit said. [`AuditSummary::read`] is the typed view of the parts reports show.
//! Evidence stored by older or newer versions must always be reportable, so reading never fails;
//! but a field that is present with a shape this version does not read is named in
//! [`AuditSummary::unreadable`], never silently dropped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use lunli_norms::Text;

use crate::GovernanceError;

pub use crate::audit_detail::*;

/// The version of the summary this lunli writes. 0 means a summary recorded before summaries
/// carried a version (their shape is that of version 1).
pub const SUMMARY_VERSION: u32 = 1;

/// The field of a stored summary that holds its version.
const VERSION_FIELD: &str = "summary_version";

/// The typed view of an audit run's stored summary.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuditSummary {
    pub version: u32,
    /// `fairness`, `quality`, `pii`, `label`, … as the audit named itself.
    pub audit: Option<String>,
    pub rows: Option<u64>,
    pub inputs: Vec<AuditInput>,
    pub findings: Vec<AuditFinding>,
    /// Fairness: per sensitive attribute, the disparities and the groups.
    pub attributes: Vec<AttributeSummary>,
    /// Data quality: checks and findings per dimension of Art. 11.
    pub dimensions: Vec<DimensionSummary>,
    /// Content labels (`lunli label check`): how many files stood where.
    pub labels: Option<LabelCounts>,
    /// What the audit's own page shows beyond this summary.
    pub detail: AuditDetail,
    /// Fields present with a shape this version does not read, by path (`attributes[0].groups`).
    pub unreadable: Vec<String>,
}

/// The counts of a content-label check, read from its `summary` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LabelCounts {
    pub files: u64,
    pub conforming: u64,
    pub missing_implicit: u64,
    pub malformed: u64,
    pub missing_explicit: u64,
    pub unreadable: u64,
    /// Files of other formats, not checked.
    pub skipped: u64,
}

impl LabelCounts {
    /// The counts by status id (as `lunli_norms::terms::label_status` names them), in the
    /// order a report shows them; `files` is the total.
    pub fn by_status(&self) -> [(&'static str, u64); 6] {
        [
            ("conforming", self.conforming),
            ("missing_implicit", self.missing_implicit),
            ("malformed", self.malformed),
            ("missing_explicit", self.missing_explicit),
            ("unreadable", self.unreadable),
            ("skipped", self.skipped),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditInput {
    pub path: String,
    pub sha256: Option<String>,
    /// For data audited where it lives (a database): the query that ran there, which pins the
    /// input in place of a digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditFinding {
    pub severity: String,
    pub check: String,
    pub message: Text,
}

/// A metric with its bootstrap confidence interval, when one was computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub interval: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeSummary {
    pub attribute: String,
    pub disparities: Vec<Disparity>,
    pub groups: Vec<GroupSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disparity {
    /// `demographic_parity_difference`, … (named for people by `lunli_norms::terms`).
    pub metric: String,
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub group: String,
    pub count: u64,
    /// Too few rows for a reliable estimate.
    pub small: bool,
    pub selection_rate: Option<Estimate>,
    pub true_positive_rate: Option<Estimate>,
    pub false_positive_rate: Option<Estimate>,
    pub accuracy: Option<Estimate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionSummary {
    /// `completeness`, `validity`, … (named for people by `lunli_norms::terms`).
    pub dimension: String,
    pub checks: u64,
    pub findings: u64,
}

impl AuditSummary {
    /// Makes the stored summary of a run from the audit's JSON report: pins each input file
    /// (`inputs[].path`) to the SHA-256 `sha256_of` gives for it, and stamps the version.
    pub fn stored<E>(
        report: Value,
        mut sha256_of: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<Value, StoredSummaryError<E>> {
        let Value::Object(mut map) = report else { return Err(StoredSummaryError::NotAnObject) };
        if let Some(Value::Array(inputs)) = map.get_mut("inputs") {
            for input in inputs.iter_mut() {
                let Some(object) = input.as_object_mut() else { continue };
                // Data handed over in memory comes with the digest of its content already; data
                // an engine read where it lives is pinned by the query it ran, not by bytes.
                if object.contains_key("sha256") || object.contains_key("query") {
                    continue;
                }
                if let Some(path) = object.get("path").and_then(Value::as_str).map(str::to_string) {
                    let sha256 = sha256_of(&path).map_err(StoredSummaryError::Input)?;
                    object.insert("sha256".into(), Value::String(sha256));
                }
            }
        }
        map.insert(VERSION_FIELD.into(), Value::from(SUMMARY_VERSION));
        Ok(Value::Object(map))
    }

    /// [`Self::stored`] with each input file hashed as it is on disk now ([`crate::digest`]): what
    /// every client records. Inputs that are no file (Arrow data handed over in memory, format
    /// `arrow`) must carry their own `sha256`.
    pub fn pinned(report: Value) -> Result<Value, GovernanceError> {
        let inputs = report.get("inputs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for input in inputs {
            if input.get("format").and_then(Value::as_str) == Some("arrow") && input.get("sha256").is_none() {
                let name = input.get("path").and_then(Value::as_str).unwrap_or("data");
                return Err(GovernanceError::Invalid {
                    field: format!("inputs[{name}]"),
                    reason: "data handed over in memory must come with the SHA-256 of its content".into(),
                });
            }
        }
        let pinned = Self::stored(report, |path| {
            crate::digest::sha256_file(std::path::Path::new(path)).map(|(sha256, _)| sha256).map_err(|e| {
                GovernanceError::Invalid {
                    field: format!("inputs[{path}]"),
                    reason: format!("cannot read it to pin the audited bytes by their SHA-256: {e}"),
                }
            })
        });
        pinned.map_err(|e| match e {
            StoredSummaryError::Input(e) => e,
            StoredSummaryError::NotAnObject => {
                GovernanceError::Invalid { field: "report".into(), reason: "an audit report is a JSON object".into() }
            }
        })
    }

    /// The typed view of a stored summary; never fails (see the module's docs).
    pub fn read(summary: &Value) -> AuditSummary {
        let mut r = Reader::default();
        let empty = Map::new();
        let object = match summary {
            Value::Object(map) => map,
            _ => {
                r.unreadable("(summary)");
                &empty
            }
        };
        let version = r.opt_u64(object, VERSION_FIELD, VERSION_FIELD).map_or(0, |v| v.min(u64::from(u32::MAX)) as u32);
        let audit = r.opt_string(object, "audit", "");
        let rows = r.opt_u64(object, "rows", "rows");
        let inputs = r.list(object, "inputs", "", |r, input, at| AuditInput {
            path: r.string(input, "path", at),
            sha256: r.opt_string(input, "sha256", at),
            query: r.opt_string(input, "query", at),
        });
        let findings = r.list(object, "findings", "", |r, finding, at| AuditFinding {
            severity: r.string(finding, "severity", at),
            check: r.string(finding, "check", at),
            message: r.text(finding, "message", at),
        });
        let attributes = r.list(object, "attributes", "", |r, attribute, at| AttributeSummary {
            attribute: r.string(attribute, "attribute", at),
            disparities: r.disparities(attribute, at),
            groups: r.list(attribute, "groups", at, |r, group, at| {
                let intervals = r.object(group, "intervals", at);
                GroupSummary {
                    group: r.string(group, "group", at),
                    count: r.opt_u64(group, "count", &format!("{at}.count")).unwrap_or(0),
                    small: r.opt_bool(group, "small", at).unwrap_or(false),
                    selection_rate: r.estimate(group, intervals, "selection_rate", at),
                    true_positive_rate: r.estimate(group, intervals, "true_positive_rate", at),
                    false_positive_rate: r.estimate(group, intervals, "false_positive_rate", at),
                    accuracy: r.estimate(group, intervals, "accuracy", at),
                }
            }),
        });
        let dimensions = r.list(object, "dimensions", "", |r, dimension, at| DimensionSummary {
            dimension: r.string(dimension, "dimension", at),
            checks: r.opt_u64(dimension, "checks", &format!("{at}.checks")).unwrap_or(0),
            findings: r.opt_u64(dimension, "findings", &format!("{at}.findings")).unwrap_or(0),
        });
        let labels = r.label_counts(object);
        let mut unreadable = r.unreadable;
        let detail = AuditDetail::read(object, audit.as_deref(), &mut unreadable);
        AuditSummary { version, audit, rows, inputs, findings, attributes, dimensions, labels, detail, unreadable }
    }
}

/// Why the summary of a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum StoredSummaryError<E> {
    #[error("an audit report is a JSON object")]
    NotAnObject,
    #[error(transparent)]
    Input(E),
}

/// Reads fields, noting each one present with a shape it does not read.
#[derive(Default)]
struct Reader {
    unreadable: Vec<String>,
}

impl Reader {
    fn unreadable(&mut self, path: &str) {
        self.unreadable.push(path.to_string());
    }

    fn path(at: &str, field: &str) -> String {
        if at.is_empty() { field.to_string() } else { format!("{at}.{field}") }
    }

    /// The items of the list `field`; an item that is not an object is noted and skipped.
    fn list<T>(
        &mut self,
        object: &Map<String, Value>,
        field: &str,
        at: &str,
        mut item: impl FnMut(&mut Self, &Map<String, Value>, &str) -> T,
    ) -> Vec<T> {
        let field_path = Self::path(at, field);
        match object.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, value)| {
                    let at = format!("{field_path}[{i}]");
                    match value {
                        Value::Object(map) => Some(item(self, map, &at)),
                        _ => {
                            self.unreadable(&at);
                            None
                        }
                    }
                })
                .collect(),
            Some(_) => {
                self.unreadable(&field_path);
                Vec::new()
            }
        }
    }

    fn object<'v>(&mut self, object: &'v Map<String, Value>, field: &str, at: &str) -> Option<&'v Map<String, Value>> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                self.unreadable(&Self::path(at, field));
                None
            }
        }
    }

    fn opt_string(&mut self, object: &Map<String, Value>, field: &str, at: &str) -> Option<String> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.clone()),
            Some(_) => {
                self.unreadable(&Self::path(at, field));
                None
            }
        }
    }

    /// A field every item has: missing is noted too.
    fn string(&mut self, object: &Map<String, Value>, field: &str, at: &str) -> String {
        if !object.contains_key(field) {
            self.unreadable(&Self::path(at, field));
        }
        self.opt_string(object, field, at).unwrap_or_default()
    }

    fn opt_u64(&mut self, object: &Map<String, Value>, field: &str, path: &str) -> Option<u64> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => value.as_u64().or_else(|| {
                self.unreadable(path);
                None
            }),
        }
    }

    fn opt_bool(&mut self, object: &Map<String, Value>, field: &str, at: &str) -> Option<bool> {
        match object.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.unreadable(&Self::path(at, field));
                None
            }
        }
    }

    /// A message: `{zh, en}`, or one string for both languages.
    fn text(&mut self, object: &Map<String, Value>, field: &str, at: &str) -> Text {
        match object.get(field) {
            Some(Value::String(text)) => Text { zh: text.clone(), en: text.clone() },
            Some(Value::Object(map)) => {
                let at = Self::path(at, field);
                Text { zh: self.string(map, "zh", &at), en: self.string(map, "en", &at) }
            }
            _ => {
                self.unreadable(&Self::path(at, field));
                Text { zh: String::new(), en: String::new() }
            }
        }
    }

    /// An interval `[lo, hi]`; null or absent when none was computed.
    fn interval(&mut self, intervals: Option<&Map<String, Value>>, metric: &str, at: &str) -> Option<[f64; 2]> {
        let value = intervals?.get(metric)?;
        if value.is_null() {
            return None;
        }
        let pair = value
            .as_array()
            .filter(|pair| pair.len() == 2)
            .and_then(|pair| Some([pair[0].as_f64()?, pair[1].as_f64()?]));
        if pair.is_none() {
            self.unreadable(&format!("{at}.intervals.{metric}"));
        }
        pair
    }

    /// A metric and its interval. Null (a rate over no rows) is no estimate, not a problem.
    fn estimate(
        &mut self,
        object: &Map<String, Value>,
        intervals: Option<&Map<String, Value>>,
        metric: &str,
        at: &str,
    ) -> Option<Estimate> {
        let value = match object.get(metric) {
            None | Some(Value::Null) => return None,
            Some(value) => match value.as_f64() {
                Some(v) => v,
                None => {
                    self.unreadable(&Self::path(at, metric));
                    return None;
                }
            },
        };
        Some(Estimate { value, interval: self.interval(intervals, metric, at) })
    }

    /// A label check's counts: its `summary` object, recognised by `conforming` (no other audit
    /// writes one). A count of another shape is noted and read as 0.
    fn label_counts(&mut self, object: &Map<String, Value>) -> Option<LabelCounts> {
        let summary = match object.get("summary") {
            Some(Value::Object(map)) if map.contains_key("conforming") => map,
            _ => return None,
        };
        let mut count = |field: &str| self.opt_u64(summary, field, &format!("summary.{field}")).unwrap_or(0);
        Some(LabelCounts {
            files: count("files"),
            conforming: count("conforming"),
            missing_implicit: count("missing_implicit"),
            malformed: count("malformed"),
            missing_explicit: count("missing_explicit"),
            unreadable: count("unreadable"),
            skipped: count("skipped"),
        })
    }

    fn disparities(&mut self, attribute: &Map<String, Value>, at: &str) -> Vec<Disparity> {
        let Some(disparities) = self.object(attribute, "disparities", at) else { return Vec::new() };
        let intervals = self.object(attribute, "intervals", at);
        let at = Self::path(at, "disparities");
        disparities
            .iter()
            .filter_map(|(metric, value)| match value {
                Value::Null => None,
                value => match value.as_f64() {
                    Some(v) => Some(Disparity {
                        metric: metric.clone(),
                        estimate: Estimate { value: v, interval: self.interval(intervals, metric, &at) },
                    }),
                    None => {
                        self.unreadable(&format!("{at}.{metric}"));
                        None
                    }
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_summary_pins_its_inputs_and_carries_the_version() {
        let report = json!({"rows": 3, "inputs": [{"path": "a.csv"}, {"path": "b.csv"}], "passed": true});
        let stored =
            AuditSummary::stored(report, |path| Ok::<_, std::io::Error>(format!("sha-of-{path}"))).expect("stored");
        assert_eq!(stored["inputs"][1]["sha256"], "sha-of-b.csv");
        assert_eq!(stored["passed"], true, "everything the audit wrote is kept");
        let summary = AuditSummary::read(&stored);
        assert_eq!(summary.version, SUMMARY_VERSION);
        assert_eq!(
            summary.inputs[0],
            AuditInput { path: "a.csv".into(), sha256: Some("sha-of-a.csv".into()), query: None }
        );
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
        let err = AuditSummary::stored(json!({"inputs": [{"path": "gone.csv"}]}), |_| Err("no such file"));
        assert!(matches!(err, Err(StoredSummaryError::Input("no such file"))));
    }

    #[test]
    fn a_pinned_summary_hashes_files_keeps_given_digests_and_refuses_unpinned_memory() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("a.csv");
        std::fs::write(&file, b"abc")?;
        let path = file.display().to_string();
        let memory = json!({"path": "pandas.DataFrame", "format": "arrow", "sha256": "given"});
        let pinned = AuditSummary::pinned(json!({"inputs": [{"path": path, "format": "csv"}, memory]}))
            .map_err(std::io::Error::other)?;
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(pinned["inputs"][0]["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(pinned["inputs"][1]["sha256"], "given", "a digest handed in is kept, not recomputed");
        let engine = json!({"path": "host=db (table t)", "format": "postgresql", "query": "SELECT 1"});
        let pinned = AuditSummary::pinned(json!({"inputs": [engine]})).map_err(std::io::Error::other)?;
        assert!(pinned["inputs"][0].get("sha256").is_none(), "an engine's data is pinned by its query");
        let read = AuditSummary::read(&pinned);
        assert_eq!(read.inputs[0].query.as_deref(), Some("SELECT 1"), "the query is read back for reports");

        let unpinned = json!({"inputs": [{"path": "pandas.DataFrame", "format": "arrow"}]});
        let err = AuditSummary::pinned(unpinned).expect_err("memory without a digest");
        assert!(err.to_string().contains("pandas.DataFrame") && err.to_string().contains("SHA-256"), "{err}");
        let gone = dir.path().join("gone.csv").display().to_string();
        let err = AuditSummary::pinned(json!({"inputs": [{"path": gone}]})).expect_err("a missing file");
        assert!(err.to_string().contains("gone.csv"), "{err}");
        assert!(AuditSummary::pinned(json!([1])).is_err(), "a report is an object");
        Ok(())
    }

    #[test]
    fn a_fairness_summary_reads_typed_with_nulls_as_no_estimate() {
        let stored = json!({
            "rows": 10,
            "findings": [{"severity": "error", "check": "disparity", "message": {"zh": "差", "en": "gap"}}],
            "attributes": [{
                "attribute": "sex",
                "disparities": {"demographic_parity_difference": 0.25, "equalized_odds_difference": null},
                "intervals": {"demographic_parity_difference": [0.1, 0.4]},
                "groups": [{"group": "F", "count": 4, "small": true, "selection_rate": 0.5, "accuracy": null,
                            "intervals": {"selection_rate": [0.2, 0.8]}}]
            }]
        });
        let summary = AuditSummary::read(&stored);
        assert_eq!(summary.version, 0, "no version: recorded before summaries carried one");
        assert_eq!(summary.findings[0].message, Text { zh: "差".into(), en: "gap".into() });
        let attribute = &summary.attributes[0];
        assert_eq!(attribute.disparities.len(), 1, "a null disparity is no estimate");
        assert_eq!(attribute.disparities[0].estimate, Estimate { value: 0.25, interval: Some([0.1, 0.4]) });
        let group = &attribute.groups[0];
        assert_eq!(group.selection_rate, Some(Estimate { value: 0.5, interval: Some([0.2, 0.8]) }));
        assert_eq!((group.count, group.small, group.accuracy.clone()), (4, true, None));
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);
    }

    #[test]
    fn a_label_checks_counts_read_typed_and_a_bad_count_is_named() {
        let stored = json!({
            "version": 1, "passed": false, "summary_version": 1,
            "summary": {"files": 5, "conforming": 2, "missing_implicit": 1, "malformed": 1, "missing_explicit": 0,
                        "unreadable": 1, "skipped": 3, "bytes_read": 10, "bytes_total": 900},
            "failing": [{"path": "a.png"}]
        });
        let summary = AuditSummary::read(&stored);
        let counts = summary.labels.expect("a label check's counts");
        assert_eq!((counts.files, counts.conforming, counts.skipped), (5, 2, 3));
        assert_eq!(counts.by_status()[1], ("missing_implicit", 1));
        assert!(summary.unreadable.is_empty(), "{:?}", summary.unreadable);

        let odd = AuditSummary::read(&json!({"summary": {"conforming": "two", "files": 2}}));
        assert_eq!(odd.labels.map(|c| (c.files, c.conforming)), Some((2, 0)));
        assert_eq!(odd.unreadable, vec!["summary.conforming"]);
        assert_eq!(AuditSummary::read(&json!({"rows": 3})).labels, None, "other audits have no label counts");
    }

    #[test]
    fn a_field_of_another_shape_is_named_not_dropped_silently() {
        let stored = json!({
            "rows": "ten",
            "inputs": [{"path": 7}, "x"],
            "findings": [{"severity": "warning", "check": "c", "message": "one text"}],
            "attributes": [{"attribute": "sex", "disparities": {"demographic_parity_difference": "big"},
                            "groups": [{"group": "F", "count": -1, "selection_rate": 0.5,
                                        "intervals": {"selection_rate": [0.1]}}]}],
            "dimensions": {"completeness": 1}
        });
        let summary = AuditSummary::read(&stored);
        assert_eq!(
            summary.unreadable,
            vec![
                "rows",
                "inputs[0].path",
                "inputs[1]",
                "attributes[0].disparities.demographic_parity_difference",
                "attributes[0].groups[0].count",
                "attributes[0].groups[0].intervals.selection_rate",
                "dimensions",
            ]
        );
        assert_eq!(summary.findings[0].message, Text { zh: "one text".into(), en: "one text".into() });
        assert_eq!(summary.attributes[0].groups[0].selection_rate.as_ref().map(|e| e.value), Some(0.5));
        assert!(AuditSummary::read(&json!([1, 2])).unreadable == vec!["(summary)"]);
    }
}
