//! The fairness and quality audits on a real Ballista cluster — a scheduler and two executors,
//! each its own process started from this crate's binary — compared with the local audits of
//! the same files: the same report, field for field, whatever the split of the rows into files;
//! only counted cells and figures reach lunli; bad input named.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use lunli_audit::distributed;
use lunli_audit::fairness::{self, FairnessReport, FairnessRequest};
use lunli_audit::policy::{FairnessPolicy, QualityPolicy};
use lunli_audit::quality::{self, QualityReport, QualityRequest, Rules};
use lunli_audit::{AuditError, RunOptions};
use lunli_norms::Catalogue;
use lunli_test_support::cluster::{Cluster, free_port};
use lunli_test_support::proxy::CountingProxy;
use lunli_test_support::reports::{assert_same, shared_data as shared};
use proptest::prelude::*;
use serde_json::Value;

fn catalogue() -> Catalogue {
    Catalogue::bundled().expect("catalogue")
}

/// The cluster every test of this file shares (starting one costs a few seconds).
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(Path::new(env!("CARGO_BIN_EXE_lunli-ballista-node")), 2))
}

fn adult_request(inputs: Vec<String>) -> FairnessRequest {
    FairnessRequest {
        inputs,
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: Some("score".into()),
        sensitive: vec!["sex".into(), "race".into()],
        positive: None,
        bootstrap: None,
    }
}

fn local(request: &FairnessRequest) -> FairnessReport {
    fairness::audit(request, &FairnessPolicy::default(), &catalogue(), &RunOptions::default()).expect("local audit")
}

fn on_cluster(url: &str, request: &FairnessRequest) -> Result<FairnessReport, AuditError> {
    distributed::fairness(url, request, &FairnessPolicy::default(), &catalogue(), &RunOptions::default())
}

/// The report without its inputs (files there, a cluster and plan here): everything else must
/// be identical, bit for bit.
fn without_inputs(report: &FairnessReport) -> Value {
    let mut value = serde_json::to_value(report).expect("report as JSON");
    value.as_object_mut().expect("object").remove("inputs");
    value
}

/// Splits a CSV file's rows into files of the given numbers of rows (the last takes the rest),
/// each with the header, in `dir`; returns their paths.
fn split_csv(source: &Path, sizes: &[usize], dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(source).expect("read CSV");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut paths = Vec::new();
    let mut at = 0;
    for (i, size) in sizes.iter().enumerate() {
        let end = if i + 1 == sizes.len() { rows.len() } else { (at + size).min(rows.len()) };
        let path = dir.join(format!("part-{i:02}.csv"));
        let mut file = std::fs::File::create(&path).expect("part file");
        writeln!(file, "{header}").expect("write");
        for row in &rows[at..end] {
            writeln!(file, "{row}").expect("write");
        }
        paths.push(path.display().to_string());
        at = end;
    }
    paths
}

#[test]
fn adult_on_a_cluster_equals_the_local_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parts = split_csv(&shared("adult/adult_predictions.csv"), &[4000, 4000, 4000, 0], dir.path());
    let request = adult_request(parts);
    let there = on_cluster(&cluster().url(), &request).expect("audit on the cluster");
    assert_eq!(there.rows, 16_281);
    assert_eq!(without_inputs(&there), without_inputs(&local(&request)));
    // And the same as the local audit of the original, single file.
    let whole = adult_request(vec![shared("adult/adult_predictions.csv").display().to_string()]);
    assert_eq!(without_inputs(&there), without_inputs(&local(&whole)));

    // The input names the cluster and the files, and carries the plan that ran there.
    let input = &there.inputs[0];
    assert_eq!(input.format, "ballista");
    assert!(input.path.starts_with(&cluster().url()) && input.path.contains("part-00.csv"), "{}", input.path);
    let plan = input.query.as_deref().expect("the plan");
    assert!(plan.contains("Aggregate") && plan.contains("count"), "{plan}");
}

#[test]
fn parquet_files_on_a_cluster_equal_the_local_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Typed columns this time: integer labels, float scores, text groups.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use datafusion::dataframe::DataFrameWriteOptions;
        use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(3));
        let frame = ctx
            .read_csv(shared("adult/adult_predictions.csv").display().to_string(), CsvReadOptions::new())
            .await
            .expect("read Adult")
            .repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(3))
            .expect("repartition");
        frame
            .write_parquet(&dir.path().display().to_string(), DataFrameWriteOptions::new(), None)
            .await
            .expect("write Parquet");
    });
    let parts: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".parquet"))
        .collect();
    assert!(parts.len() >= 2, "{parts:?}");
    let request = adult_request(parts);
    let there = on_cluster(&cluster().url(), &request).expect("audit on the cluster");
    assert_eq!(without_inputs(&there), without_inputs(&local(&request)));
    let whole = adult_request(vec![shared("adult/adult_predictions.csv").display().to_string()]);
    assert_eq!(without_inputs(&there), without_inputs(&local(&whole)));
}

#[test]
fn compas_with_text_columns_on_a_cluster_equals_the_local_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parts = split_csv(&shared("compas/compas_predictions.csv"), &[1000, 3000, 0], dir.path());
    let request = FairnessRequest {
        inputs: parts,
        label: "y_true".into(),
        prediction: "y_pred".into(),
        sensitive: vec!["race".into(), "sex".into(), "age_cat".into()],
        ..FairnessRequest::default()
    };
    let there = on_cluster(&cluster().url(), &request).expect("audit on the cluster");
    assert_eq!(there.rows, 6_172);
    assert_eq!(without_inputs(&there), without_inputs(&local(&request)));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any split of the rows into files (1 to 7 of them, of any sizes) gives the local report.
    #[test]
    fn any_partitioning_gives_the_same_report(weights in prop::collection::vec(1usize..100, 1..7)) {
        let total: usize = weights.iter().sum();
        let sizes: Vec<usize> = weights.iter().map(|w| w * 16_281 / total).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let parts = split_csv(&shared("adult/adult_predictions.csv"), &sizes, dir.path());
        let request = adult_request(parts);
        let there = on_cluster(&cluster().url(), &request).expect("audit on the cluster");
        let whole = adult_request(vec![shared("adult/adult_predictions.csv").display().to_string()]);
        prop_assert_eq!(without_inputs(&there), without_inputs(&local(&whole)));
    }
}

/// COMPAS, `copies` times over, with a name per person: the kind of value that must never
/// leave the cluster. Returns the file and its size.
fn named_compas(dir: &Path, copies: usize) -> (String, u64) {
    let text = std::fs::read_to_string(shared("compas/compas_predictions.csv")).expect("COMPAS");
    let mut lines = text.lines();
    let mut out = format!("{},name\n", lines.next().expect("header"));
    let rows: Vec<&str> = lines.collect();
    for copy in 0..copies {
        for row in &rows {
            let id = row.split(',').next().unwrap_or_default();
            out.push_str(&format!("{row},PERSON-{id}-{copy}\n"));
        }
    }
    let path = dir.join(format!("compas-named-{copies}.csv"));
    std::fs::write(&path, &out).expect("write");
    (path.display().to_string(), out.len() as u64)
}

#[test]
fn only_counted_cells_reach_lunli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = CountingProxy::start(format!("127.0.0.1:{}", cluster().port()));
    let mut received = Vec::new();
    for copies in [1, 20] {
        let (file, file_bytes) = named_compas(dir.path(), copies);
        let request = FairnessRequest {
            inputs: vec![file],
            label: "y_true".into(),
            prediction: "y_pred".into(),
            sensitive: vec!["race".into(), "sex".into()],
            ..FairnessRequest::default()
        };
        let report = on_cluster(&format!("df://{}", proxy.address), &request).expect("audit through the proxy");
        assert_eq!(report.rows, 6_172 * copies as u64);
        let (bytes, seen) = proxy.take();
        assert!(bytes > 0, "the results came through the proxy");
        assert!(!String::from_utf8_lossy(&seen).contains("PERSON-"), "a name reached lunli");
        received.push((bytes, file_bytes));
    }
    // What reaches lunli is the cells and the conversation with the scheduler, whatever the
    // rows: twenty times the rows, not twice the bytes; and far less than the file.
    let [(small, _), (large, large_file)] = received[..] else { panic!("two runs") };
    assert!(large < 2 * small, "{small} bytes for 1 copy, {large} for 20");
    assert!(large * 50 < large_file, "{large} bytes reached lunli for a {large_file}-byte file");
}

#[test]
fn bad_input_is_named() {
    let url = cluster().url();
    let dir = tempfile::tempdir().expect("tempdir");
    let adult = shared("adult/adult_predictions.csv").display().to_string();

    // A column the files do not have: named with the columns they do have, before any work.
    let mut request = adult_request(vec![adult.clone()]);
    request.sensitive = vec!["gender".into()];
    let error = on_cluster(&url, &request).expect_err("no such column");
    assert!(error.is_invalid_input() && error.message().contains("gender"), "{}", error.message());
    assert!(error.message().contains("`sex`"), "{}", error.message());

    // A label with a third value: found on the cluster and named.
    let text = std::fs::read_to_string(&adult).expect("Adult");
    let bad = dir.path().join("three-labels.csv");
    std::fs::write(&bad, text.replacen("\n0,0,", "\nmaybe,0,", 1)).expect("write");
    let error = on_cluster(&url, &adult_request(vec![bad.display().to_string()])).expect_err("three labels");
    assert!(error.is_invalid_input(), "{error:?}");
    assert!(error.message().contains("maybe") && error.message().contains("y_true"), "{}", error.message());

    // Formats the executors cannot read, refused before anything is sent.
    let gz = dir.path().join("adult.csv.gz");
    std::fs::write(&gz, b"\x1f\x8b").expect("write");
    let error = on_cluster(&url, &adult_request(vec![gz.display().to_string()])).expect_err("gzip");
    assert!(error.message().contains("decompress"), "{}", error.message());

    // Not a scheduler's address, and a scheduler that is not there.
    let error = on_cluster("df://127.0.0.1:notaport", &adult_request(vec![adult.clone()])).expect_err("bad URL");
    assert!(error.message().contains("df://HOST:PORT"), "{}", error.message());
    let nobody = format!("df://127.0.0.1:{}", free_port());
    let error = on_cluster(&nobody, &adult_request(vec![adult])).expect_err("no scheduler");
    assert!(!error.is_invalid_input() && error.message().contains("cannot reach"), "{}", error.message());
}

// ---------------------------------------------------------------------------------------------
// The quality audit.

/// When freshness is measured from, the same for both runs.
fn fixed_now() -> jiff::Timestamp {
    "2026-12-01T00:00:00Z".parse().expect("timestamp")
}

fn quality_here(request: &QualityRequest) -> QualityReport {
    quality::audit(request, &QualityPolicy::default(), &catalogue(), fixed_now(), &RunOptions::default())
        .expect("local quality audit")
}

fn quality_there(url: &str, request: &QualityRequest) -> Result<QualityReport, AuditError> {
    distributed::quality(url, request, &QualityPolicy::default(), &catalogue(), fixed_now(), &RunOptions::default())
}

/// Checks two quality reports are the same but for their inputs: exact counts equal, other
/// numbers to 1e-12 relative (a mean's sum is added up in a different order on each split).
/// Quartiles the report marks as a t-digest's approximation (columns of more than 10,000
/// distinct values) depend on how the rows were split, here as on one machine; those must lie
/// within 2 % of each other.
fn assert_same_quality(there: &QualityReport, here: &QualityReport) {
    let mut a = serde_json::to_value(there).expect("JSON");
    let mut b = serde_json::to_value(here).expect("JSON");
    for value in [&mut a, &mut b] {
        value.as_object_mut().expect("object").remove("inputs");
    }
    assert_same(&a, &b, "", &mut |path| {
        if path.contains(".quartiles") && approximate_quartiles(here, path) { 0.02 } else { 1e-12 }
    });
}

fn approximate_quartiles(report: &QualityReport, path: &str) -> bool {
    let Some(index) = path.strip_prefix(".columns[").and_then(|rest| rest.split(']').next()) else { return false };
    let index: usize = index.parse().expect("column index");
    !report.columns[index].quartiles_exact
}

/// Adult's census file as published: values padded after each comma, `?` for missing, 24
/// repeated rows, a weight column of over 20,000 distinct values.
fn adult_rules() -> Rules {
    let yaml = r#"
null_values: ["?"]
columns:
  age: { required: true, min: 17, max: 90, type: integer }
  sex: { allowed: [Male, Female] }
  education-num: { min: 1, max: 16 }
  occupation: { required: true }
  native-country: { pattern: "^[A-Z][A-Za-z-]+$" }
representation:
  - { column: sex, reference: { Male: 0.5, Female: 0.5 } }
"#;
    Rules::from_yaml("adult-rules.yaml", yaml).expect("rules")
}

#[test]
fn quality_of_adult_on_a_cluster_equals_the_local_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let adult = shared("adult/adult.data.csv");
    let parts = split_csv(&adult, &[10_000, 7_000, 0], dir.path());
    let request = QualityRequest { inputs: parts, rules: adult_rules() };
    let there = quality_there(&cluster().url(), &request).expect("quality audit on the cluster");
    assert_eq!(there.rows, 32_561);
    assert_eq!(there.duplicates.rows, 24, "Adult's repeated rows");
    let whole = QualityRequest { inputs: vec![adult.display().to_string()], rules: adult_rules() };
    assert_same_quality(&there, &quality_here(&whole));
    assert_same_quality(&there, &quality_here(&request));
    // The weight column is past the exact limit: its quartiles are the t-digest's, on both.
    let weight = there.columns.iter().find(|c| c.name == "fnlwgt").expect("fnlwgt");
    assert!(!weight.distinct_exact && !weight.quartiles_exact, "{weight:?}");

    // The input names the cluster and carries every query that ran there.
    let input = &there.inputs[0];
    assert_eq!(input.format, "ballista");
    assert!(input.path.starts_with(&cluster().url()) && input.path.contains("part-00.csv"), "{}", input.path);
    let queries = input.query.as_deref().expect("the queries");
    assert!(queries.contains("approx_distinct") && queries.contains("GROUPING SETS"), "{queries}");
    assert!(queries.contains("md5"), "the row fingerprints: {queries}");
}

#[test]
fn quality_of_compas_on_a_cluster_equals_the_local_audit() {
    // 53 columns (several passes of value counts), dates and times, a key, a cross-check.
    let yaml = r#"
columns:
  id: { unique: true, type: integer }
  dob: { type: date, max: "2010-01-01" }
  race: { allowed: [African-American, Caucasian, Hispanic, Asian, Native American, Other] }
checks:
  - { name: jailed-before-released, not_after: [c_jail_in, c_jail_out] }
keys:
  - [first, last, dob]
freshness: { column: screening_date, max_age: 3650d }
"#;
    let rules = Rules::from_yaml("compas-rules.yaml", yaml).expect("rules");
    let dir = tempfile::tempdir().expect("tempdir");
    // ProPublica's file names two columns twice; the second of each is renamed (an audit
    // refuses a repeated name, here as on a cluster).
    let text = std::fs::read_to_string(shared("compas/compas-scores-two-years.csv")).expect("COMPAS");
    let (header, rows) = text.split_once('\n').expect("header");
    let mut seen = std::collections::BTreeSet::new();
    let header: Vec<String> =
        header.split(',').map(|c| if seen.insert(c) { c.to_string() } else { format!("{c}_again") }).collect();
    let compas = dir.path().join("compas.csv");
    std::fs::write(&compas, format!("{}\n{rows}", header.join(","))).expect("write");
    let parts = split_csv(&compas, &[2_500, 0], dir.path());
    let request = QualityRequest { inputs: parts, rules: rules.clone() };
    let there = quality_there(&cluster().url(), &request).expect("quality audit on the cluster");
    assert_eq!(there.rows, 7_214);
    assert!(there.columns.len() > 16, "more columns than one grouped pass takes");
    assert_eq!(there.keys.len(), 2, "the key and the unique id");
    let whole = QualityRequest { inputs: vec![compas.display().to_string()], rules };
    assert_same_quality(&there, &quality_here(&whole));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any split of Adult's census rows into files gives the local quality report.
    #[test]
    fn any_partitioning_gives_the_same_quality_report(weights in prop::collection::vec(1usize..100, 1..6)) {
        let total: usize = weights.iter().sum();
        let sizes: Vec<usize> = weights.iter().map(|w| w * 32_561 / total).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        let adult = shared("adult/adult.data.csv");
        let parts = split_csv(&adult, &sizes, dir.path());
        let there = quality_there(&cluster().url(), &QualityRequest { inputs: parts, rules: adult_rules() })
            .expect("quality audit on the cluster");
        let whole = QualityRequest { inputs: vec![adult.display().to_string()], rules: adult_rules() };
        assert_same_quality(&there, &quality_here(&whole));
    }
}

#[test]
fn only_the_reports_names_reach_lunli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = CountingProxy::start(format!("127.0.0.1:{}", cluster().port()));
    // COMPAS with a name per row: once (6,172 names, within the limit of exact value counts,
    // so the name column's values are counted and ranked on the cluster), and twice (12,344,
    // past it: only the column's one-row figures).
    for copies in [1, 2] {
        let (file, _) = named_compas(dir.path(), copies);
        let request = QualityRequest { inputs: vec![file.clone()], rules: Rules::default() };
        let there = quality_there(&format!("df://{}", proxy.address), &request).expect("audit through the proxy");
        assert_eq!(there.rows, 6_172 * copies as u64);
        let name = there.columns.iter().find(|c| c.name == "name").expect("name column");
        assert_eq!(name.distinct_exact, copies == 1, "{name:?}");
        assert_eq!(name.top_values.len(), if copies == 1 { 10 } else { 0 }, "{name:?}");
        // The names that reach lunli are those the report shows: the column's least and
        // greatest value, and its top values.
        let (bytes, seen) = proxy.take();
        assert!(bytes > 0, "the results came through the proxy");
        let seen = String::from_utf8_lossy(&seen).into_owned();
        let mut shown: Vec<&str> = [&name.min, &name.max].into_iter().flatten().map(String::as_str).collect();
        shown.extend(name.top_values.iter().map(|t| t.value.as_str()));
        let mut names: Vec<&str> = seen
            .match_indices("PERSON-")
            .map(|(at, _)| {
                let rest = &seen[at..];
                &rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len())]
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        assert!(!names.is_empty(), "the report's names came through the proxy");
        assert!(names.iter().all(|n| shown.contains(n)), "names beyond the report's reached lunli: {names:?}");
        assert_same_quality(&there, &quality_here(&QualityRequest { inputs: vec![file], rules: Rules::default() }));
    }
}

#[test]
fn quality_bad_input_is_named() {
    let url = cluster().url();
    let adult = shared("adult/adult.data.csv").display().to_string();
    // A rule on a column the files do not have: named before any work.
    let rules = Rules::from_yaml("rules.yaml", "columns:\n  salary: { min: 0 }\n").expect("rules");
    let error =
        quality_there(&url, &QualityRequest { inputs: vec![adult.clone()], rules }).expect_err("no such column");
    assert!(error.is_invalid_input() && error.message().contains("salary"), "{}", error.message());
    // A file that is not there, and a scheduler that is not there.
    let missing = QualityRequest { inputs: vec!["/nonexistent/adult.csv".into()], rules: Rules::default() };
    let error = quality_there(&url, &missing).expect_err("no file");
    assert!(error.message().contains("/nonexistent/adult.csv"), "{}", error.message());
    let nobody = format!("df://{}:{}", "127.0.0.1", free_port());
    let request = QualityRequest { inputs: vec![adult], rules: Rules::default() };
    let error = quality_there(&nobody, &request).expect_err("no scheduler");
    assert!(!error.is_invalid_input() && error.message().contains("cannot reach"), "{}", error.message());
}
