//! The fairness audit on a real Ballista cluster — a scheduler and two executors, each its own
//! process started from this crate's binary — compared with the local audit of the same files:
//! the same report, field for field, whatever the split of the rows into files; only counted
//! cells reach lunli; bad input named.

#![allow(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lunli_audit::distributed;
use lunli_audit::fairness::{self, FairnessReport, FairnessRequest};
use lunli_audit::policy::FairnessPolicy;
use lunli_audit::{AuditError, RunOptions};
use lunli_norms::Catalogue;
use lunli_test_support::cluster::{Cluster, free_port};
use lunli_test_support::proxy::CountingProxy;
use proptest::prelude::*;
use serde_json::Value;

fn shared(relative: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(relative);
    assert!(path.exists(), "{} is missing: shared/ lives beside the repository", path.display());
    path
}

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
