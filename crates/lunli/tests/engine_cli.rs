//! `lunli audit fairness --engine`: the audit run on a real PostgreSQL server
//! (`LUNLI_TEST_POSTGRES`), recorded as evidence pinned by its query, with the same numbers as
//! the run on the file and no password anywhere it is written.

mod common;

use std::io::Write as _;

use common::{Data, repo};
use lunli_test_support::backend::{PgSchema, postgres_url};
use predicates::str::contains;
use serde_json::Value;

const COLUMNS: [&str; 8] =
    ["--label", "y_true", "--prediction", "y_pred", "--score", "score", "--sensitive", "sex,race"];

/// The adult predictions in a table of a new schema.
fn adult_table() -> (PgSchema, String) {
    let schema = PgSchema::new();
    schema.url_with_search_path();
    let mut client = schema.client();
    client
        .batch_execute("CREATE TABLE adult (y_true int, y_pred int, score float8, sex text, race text)")
        .expect("create table");
    let data = std::fs::read(adult_file()).expect("read CSV");
    let mut writer = client.copy_in("COPY adult FROM STDIN (FORMAT csv, HEADER true)").expect("COPY");
    writer.write_all(&data).expect("COPY data");
    writer.finish().expect("COPY finished");
    let table = format!("{}.adult", schema.name());
    (schema, table)
}

fn adult_file() -> String {
    let path = repo().join("../shared/data/adult/adult_predictions.csv");
    assert!(path.exists(), "{} is missing: shared/ must sit beside the repository", path.display());
    path.display().to_string()
}

#[test]
fn an_engine_run_is_recorded_by_its_query_with_the_files_numbers() {
    let (_schema, table) = adult_table();
    // The trust-authenticated test server ignores the password; it must never be written down.
    let url = format!("{} password=hunter2-secret", postgres_url());
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);

    let html = data.dir.path().join("engine.html").display().to_string();
    let mut args = vec!["audit", "fairness", "--engine", url.as_str(), "--table", table.as_str()];
    args.extend(COLUMNS);
    args.extend(["--html", html.as_str(), "--system", "credit-scoring"]);
    let there = data.json("li-wei", &args);
    assert_eq!(there["evidence"][0]["control"], "C-13-03");
    assert_eq!(there["inputs"][0]["format"], "postgresql");
    assert!(there["inputs"][0]["query"].as_str().is_some_and(|q| q.contains("GROUP BY")));

    let file = adult_file();
    let mut local = vec!["audit", "fairness", file.as_str()];
    local.extend(COLUMNS);
    let here = data.json("li-wei", &local);
    for key in ["rows", "overall", "attributes", "findings", "passed"] {
        assert_eq!(there[key], here[key], "{key} differs between the engine and the file");
    }

    // The evidence is pinned by the query and the engine, not by a digest of bytes never read.
    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let controls = assessment["controls"].as_array().expect("controls");
    let state = controls.iter().find(|c| c["control"] == "C-13-03").expect("C-13-03");
    let item: &Value = &state["evidence"][0]["item"];
    assert_eq!(item["audit"], "fairness");
    let input = &item["summary"]["inputs"][0];
    assert!(input.get("sha256").is_none(), "{input}");
    assert!(input["path"].as_str().is_some_and(|p| p.contains(&format!("table {table}"))), "{input}");

    // The table page, the ledger and the terminal never show the password.
    // The audit page and the system report show the query that pinned the run.
    let page = std::fs::read_to_string(&html).expect("audit page");
    assert!(page.contains("查询") && page.contains("GROUP BY"), "the page shows the query");
    let report_path = data.dir.path().join("report.html").display().to_string();
    data.ok("admin", &["report", "credit-scoring", "--out", &report_path]);
    let report = std::fs::read_to_string(&report_path).expect("system report");
    assert!(report.contains("Inputs (SHA-256 or query)") && report.contains("GROUP BY"), "the report shows the query");

    let mut table_args = args.clone();
    table_args.retain(|a| !["--system", "credit-scoring", "--html", html.as_str()].contains(a));
    let terminal = data.ok("li-wei", &table_args);
    assert!(terminal.contains("query:") && terminal.contains("GROUP BY"), "{terminal}");
    let bundle = data.dir.path().join("ledger.json");
    data.ok("admin", &["ledger", "export", "--out", &bundle.display().to_string()]);
    let ledger = std::fs::read_to_string(&bundle).expect("ledger bundle");
    for (what, text) in [
        ("JSON", there.to_string()),
        ("terminal", terminal),
        ("ledger", ledger),
        ("assessment", assessment.to_string()),
    ] {
        assert!(!text.contains("hunter2"), "the password is in the {what} output");
    }
}

#[test]
fn the_engine_comes_from_the_environment_and_a_query_narrows_the_rows() {
    let (_schema, table) = adult_table();
    let data = Data::new();
    let query = format!("SELECT * FROM {table} WHERE sex = 'Female' OR race = 'White'");
    let mut args = vec!["audit", "fairness", "--query", query.as_str()];
    args.extend(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex,race", "--format", "json"]);
    let output = data.lunli("li-wei").env("LUNLI_ENGINE_URL", postgres_url()).args(&args).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rows = report["rows"].as_u64().expect("rows");
    assert!(rows > 10_000 && rows < 16_281, "{rows}");

    // Without a server named anywhere: exit 3, saying how to name one.
    data.lunli("li-wei")
        .env_remove("LUNLI_ENGINE_URL")
        .args(&args)
        .assert()
        .code(3)
        .stderr(contains("LUNLI_ENGINE_URL"));
    // A table that is not there: exit 3, naming it.
    data.lunli("li-wei")
        .args(["audit", "fairness", "--engine", &postgres_url(), "--table", "no_such_table"])
        .args(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("no_such_table"));
    // A CA file for a TLS engine that is not there: exit 3, naming it, before any connection.
    data.lunli("li-wei")
        .args(["audit", "fairness", "--engine", "host=localhost port=1 sslmode=require", "--table", "t"])
        .args(["--engine-ca-cert", "/nonexistent/warehouse-ca.pem"])
        .args(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("/nonexistent/warehouse-ca.pem"));
    // Files and a table at once: refused by the command line.
    data.lunli("li-wei")
        .args(["audit", "fairness", &adult_file(), "--table", &table])
        .args(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(2);
}

/// `--engine df://…`: the same audit on a Ballista cluster (a scheduler and an executor, each
/// a process of lunli-ballista-node, which `cargo test --workspace` builds beside lunli).
#[test]
fn a_quality_run_on_a_server_is_recorded_with_the_files_numbers() {
    let (_schema, table) = adult_table();
    let url = format!("{} password=hunter2-secret", postgres_url());
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let there = data.json(
        "li-wei",
        &["audit", "quality", "--engine", url.as_str(), "--table", table.as_str(), "--system", "credit-scoring"],
    );
    assert_eq!(there["inputs"][0]["format"], "postgresql");
    let query = there["inputs"][0]["query"].as_str().unwrap_or_default();
    assert!(query.contains("percentile_cont") && query.contains("GROUPING SETS"), "{query}");
    assert!(there["evidence"].as_array().is_some_and(|e| !e.is_empty()), "{there}");
    let bundle = data.dir.path().join("ledger.json");
    data.ok("admin", &["ledger", "export", "--out", &bundle.display().to_string()]);
    let ledger = std::fs::read_to_string(&bundle).expect("ledger bundle");
    // The evidence is pinned by the queries that ran and the engine.
    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let recorded = assessment["controls"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["evidence"].as_array().into_iter().flatten())
        .find(|e| e["item"]["audit"] == "quality")
        .map(|e| e["item"]["summary"]["inputs"][0].clone())
        .expect("quality evidence");
    assert!(recorded["query"].as_str().is_some_and(|q| q.contains("percentile_cont")), "{recorded}");
    assert!(recorded["path"].as_str().is_some_and(|p| p.contains(&format!("table {table}"))), "{recorded}");
    for (what, text) in [("report", there.to_string()), ("ledger", ledger), ("assessment", assessment.to_string())] {
        assert!(!text.contains("hunter2"), "the password is in the {what}");
    }

    // The table holds the file's rows, typed: the same counts, duplicates and findings.
    let here = data.json("li-wei", &["audit", "quality", &adult_file()]);
    for key in ["rows", "duplicates", "passed"] {
        assert_eq!(there[key], here[key], "{key} differs between the server and the file");
    }
    let kinds = |report: &Value| -> Vec<Value> {
        report["columns"].as_array().map(|c| c.iter().map(|c| c["kind"].clone()).collect()).unwrap_or_default()
    };
    assert_eq!(kinds(&there), kinds(&here));
    assert_eq!(there["columns"][2]["stored_as"], "float8");
}

#[test]
fn a_cluster_run_is_recorded_by_its_plan_with_the_files_numbers() {
    let node = std::path::Path::new(env!("CARGO_BIN_EXE_lunli")).with_file_name("lunli-ballista-node");
    let cluster = lunli_test_support::cluster::Cluster::start(&node, 1);
    let url = cluster.url();
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);

    let file = adult_file();
    let mut args = vec!["audit", "fairness", "--engine", url.as_str(), file.as_str()];
    args.extend(COLUMNS);
    args.extend(["--system", "credit-scoring"]);
    let there = data.json("li-wei", &args);
    assert_eq!(there["evidence"][0]["control"], "C-13-03");
    assert_eq!(there["inputs"][0]["format"], "ballista");
    assert!(there["inputs"][0]["path"].as_str().is_some_and(|p| p.starts_with(&url)), "{}", there["inputs"][0]);
    assert!(there["inputs"][0]["query"].as_str().is_some_and(|q| q.contains("Aggregate")));

    let mut local = vec!["audit", "fairness", file.as_str()];
    local.extend(COLUMNS);
    let here = data.json("li-wei", &local);
    for key in ["rows", "overall", "attributes", "findings", "passed"] {
        assert_eq!(there[key], here[key], "{key} differs between the cluster and the file");
    }

    // The quality audit of the same file on the same cluster, recorded on its own control.
    let quality = data.json("li-wei", &["audit", "quality", "--engine", &url, &file, "--system", "credit-scoring"]);
    assert_eq!(quality["inputs"][0]["format"], "ballista");
    assert!(
        quality["inputs"][0]["query"].as_str().is_some_and(|q| q.contains("GROUPING SETS")),
        "{}",
        quality["inputs"][0]
    );
    assert!(quality["evidence"].as_array().is_some_and(|e| !e.is_empty()), "{quality}");
    let quality_here = data.json("li-wei", &["audit", "quality", &file]);
    for key in ["rows", "duplicates", "findings", "passed"] {
        assert_eq!(quality[key], quality_here[key], "{key} differs between the cluster and the file");
    }
    // A PostgreSQL server audits tables, not files: exit 3, pointing at --table.
    data.lunli("li-wei")
        .args(["audit", "quality", "--engine", &postgres_url(), &file])
        .assert()
        .code(3)
        .stderr(contains("--table"));

    // A cluster has no tables, and needs files: exit 3, saying so.
    data.lunli("li-wei")
        .args(["audit", "fairness", "--engine", &url, "--table", "decisions"])
        .args(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("no tables"));
    // A PostgreSQL engine with files: exit 3, pointing at --table and at the cluster form.
    data.lunli("li-wei")
        .args(["audit", "fairness", "--engine", &postgres_url(), &file])
        .args(["--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("--table"));
}
