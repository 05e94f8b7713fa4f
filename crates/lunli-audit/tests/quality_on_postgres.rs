//! The quality audit pushed down to a real PostgreSQL server (`LUNLI_TEST_POSTGRES`, as
//! `bash .ci/run` provides): the local audit's report of the same rows, to 1e-12, whatever the
//! table's partitioning; values parsed as the local reader parses them; only the figures the
//! report shows cross the network; nothing is written.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;

use lunli_audit::policy::QualityPolicy;
use lunli_audit::pushdown::{self, Relation};
use lunli_audit::quality::{self, QualityReport, QualityRequest, Rules};
use lunli_audit::{AuditError, RunOptions};
use lunli_norms::Catalogue;
use lunli_test_support::backend::{PgSchema, postgres_url};
use lunli_test_support::proxy::CountingProxy;
use lunli_test_support::reports::{assert_same, shared_data};
use proptest::prelude::*;
use serde_json::Value;

fn now() -> jiff::Timestamp {
    "2026-12-01T00:00:00Z".parse().expect("timestamp")
}

fn catalogue() -> Catalogue {
    Catalogue::bundled().expect("catalogue")
}

fn here(file: &Path, rules: &Rules) -> QualityReport {
    let request = QualityRequest { inputs: vec![file.display().to_string()], rules: rules.clone() };
    quality::audit(&request, &QualityPolicy::default(), &catalogue(), now(), &RunOptions::default())
        .expect("local quality audit")
}

fn there_at(url: &str, relation: Relation, rules: &Rules) -> Result<QualityReport, AuditError> {
    let request = QualityRequest { inputs: Vec::new(), rules: rules.clone() };
    let engine = pushdown::Engine::new(url);
    pushdown::quality(
        &engine,
        &relation,
        &request,
        &QualityPolicy::default(),
        &catalogue(),
        now(),
        &RunOptions::default(),
    )
}

fn there(relation: Relation, rules: &Rules) -> QualityReport {
    there_at(&postgres_url(), relation, rules).expect("quality audit on the server")
}

/// A CSV file as a table of text columns named as the local reader names them (trimmed), as
/// a warehouse loaded from the file would hold it.
fn load_as_text(client: &mut postgres::Client, table: &str, file: &Path) {
    let mut reader = csv::Reader::from_path(file).expect("CSV");
    let columns: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(|name| format!("\"{}\" text", name.trim().replace('"', "\"\"")))
        .collect();
    client.batch_execute(&format!("CREATE TABLE {table} ({})", columns.join(", "))).expect("create table");
    let data = std::fs::read(file).expect("read CSV");
    let mut writer = client.copy_in(&format!("COPY {table} FROM STDIN (FORMAT csv, HEADER true)")).expect("COPY");
    writer.write_all(&data).expect("COPY data");
    writer.finish().expect("COPY finished");
}

fn fresh_schema() -> (PgSchema, postgres::Client) {
    let schema = PgSchema::new();
    schema.url_with_search_path();
    let client = schema.client();
    (schema, client)
}

/// Asserts the server's report is the local one, inputs aside: counts equal, other numbers to
/// 1e-12 relative. Where the local audit estimates (distinct values and quartiles of columns
/// past the exact limit), the server's exact figures must lie within the estimate's error
/// (2 %), and are marked exact.
fn assert_same_quality(there: &QualityReport, here: &QualityReport) {
    let mut a = serde_json::to_value(there).expect("JSON");
    let mut b = serde_json::to_value(here).expect("JSON");
    for value in [&mut a, &mut b] {
        let object = value.as_object_mut().expect("object");
        object.remove("inputs");
        // Text on the server, string views in the local reader.
        for column in object["columns"].as_array_mut().expect("columns") {
            column.as_object_mut().expect("column").remove("stored_as");
        }
    }
    for (i, column) in here.columns.iter().enumerate() {
        assert!(there.columns[i].distinct_exact, "{}: every count is exact on the server", column.name);
        if !column.distinct_exact {
            for value in [&mut a, &mut b] {
                value["columns"][i]["distinct_exact"] = Value::Bool(true);
            }
        }
        if column.quartiles.is_some() && !column.quartiles_exact {
            assert!(there.columns[i].quartiles_exact, "{}", column.name);
            b["columns"][i]["quartiles_exact"] = Value::Bool(true);
        }
    }
    let estimated = |path: &str| {
        let Some(index) = path.strip_prefix(".columns[").and_then(|rest| rest.split(']').next()) else {
            return false;
        };
        let column = &here.columns[index.parse::<usize>().expect("index")];
        (path.contains(".distinct") || path.contains("figures")) && !column.distinct_exact
            || path.contains(".quartiles") && !column.quartiles_exact
    };
    assert_same(&a, &b, "", &mut |path| if estimated(path) { 0.02 } else { 1e-12 });
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
fn adult_on_the_server_equals_the_local_audit() {
    let (schema, mut client) = fresh_schema();
    let file = shared_data("adult/adult.data.csv");
    load_as_text(&mut client, "adult", &file);
    let there = there(Relation::Table(format!("{}.adult", schema.name())), &adult_rules());
    assert_eq!(there.rows, 32_561);
    assert_eq!(there.duplicates.rows, 24, "Adult's repeated rows");
    assert_same_quality(&there, &here(&file, &adult_rules()));

    // The weight column is past the local exact limit; the server counts it exactly.
    let weight = there.column("fnlwgt").expect("fnlwgt");
    let exact: i64 =
        client.query_one("SELECT count(DISTINCT btrim(fnlwgt)) FROM adult", &[]).expect("distinct weights").get(0);
    assert_eq!(weight.distinct, u64::try_from(exact).expect("count"));
    assert!(weight.distinct > 20_000 && weight.distinct_exact && weight.quartiles_exact, "{weight:?}");
    assert!(weight.top_values.is_empty(), "past the limit no values are listed");

    // The report names the server and carries every query that ran there.
    let input = &there.inputs[0];
    assert_eq!(input.format, "postgresql");
    assert!(input.path.contains(&format!("table {}.adult", schema.name())), "{}", input.path);
    let queries = input.query.as_deref().expect("the queries");
    for part in ["percentile_cont", "GROUPING SETS", "SELECT DISTINCT"] {
        assert!(queries.contains(part), "{part}: {queries}");
    }
}

/// ProPublica's COMPAS file: 53 columns, here twice (more than one query's share), dates and timestamps, a
/// key, a cross-column check and freshness; every column within the exact limit, so every
/// figure must be the local one.
#[test]
fn compas_on_the_server_equals_the_local_audit() {
    let yaml = r#"
columns:
  id: { unique: true, type: integer }
  dob: { type: date, max: "2010-01-01" }
  c_jail_in: { type: timestamp, min: "2000-01-01T00:00:00Z" }
  race: { allowed: [African-American, Caucasian, Hispanic, Asian, Native American, Other] }
checks:
  - { name: jailed-before-released, not_after: [c_jail_in, c_jail_out] }
keys:
  - [first, last, dob]
freshness: { column: screening_date, max_age: 3650d }
"#;
    let rules = Rules::from_yaml("compas-rules.yaml", yaml).expect("rules");
    let dir = tempfile::tempdir().expect("tempdir");
    // Two columns are named twice; the second of each is renamed (an audit refuses a repeat).
    let text = std::fs::read_to_string(shared_data("compas/compas-scores-two-years.csv")).expect("COMPAS");
    let (header, rows) = text.split_once('\n').expect("header");
    let mut seen = BTreeSet::new();
    let header: Vec<String> = header
        .trim_end()
        .split(',')
        .map(|c| if seen.insert(c) { c.to_string() } else { format!("{c}_again") })
        .collect();
    // Every column twice (the second named `…_copy`): 106 columns, two queries' share.
    let copies: Vec<String> = header.iter().map(|c| format!("{c}_copy")).collect();
    let rows: Vec<String> =
        rows.lines().map(|line| format!("{line},{line}", line = line.trim_end_matches('\r'))).collect();
    let file = dir.path().join("compas.csv");
    std::fs::write(&file, format!("{},{}\n{}\n", header.join(","), copies.join(","), rows.join("\n"))).expect("write");

    let (schema, mut client) = fresh_schema();
    load_as_text(&mut client, "compas", &file);
    let there = there(Relation::Table(format!("{}.compas", schema.name())), &rules);
    assert_eq!(there.rows, 7_214);
    assert!(there.columns.len() > 64, "more columns than one query takes: {}", there.columns.len());
    assert_eq!(there.keys.len(), 2, "the key and the unique id");
    let local = here(&file, &rules);
    assert!(local.columns.iter().all(|c| c.distinct <= 10_000), "every column within the exact limit");
    assert_same_quality(&there, &local);
    let jail = there.column("c_jail_in").expect("c_jail_in");
    assert_eq!(jail.kind, quality::Kind::Timestamp, "values with a time of day");
    assert_eq!(there.column("dob").expect("dob").kind, quality::Kind::Date, "days only");
    assert!(jail.max.as_deref().is_some_and(|m| m.contains(':')), "{:?}", jail.max);
    assert!(there.freshness.as_ref().is_some_and(|f| f.latest.is_some()));
}

/// Values at the edges of what the local reader takes as numbers, integers, dates, timestamps
/// and booleans, padded and missing: the server judges each as the local audit does.
#[test]
fn the_server_parses_values_as_the_local_reader_does() {
    let rows = [
        // int, number, date, stamp, flag, mixed
        ["1", "1.5", "2020-01-31", "2020-01-31 10:20:30", "true", "NA"],
        ["+7", "-.5", "2020-2-29", "2020-01-31T10:20:30Z", "False", " padded "],
        ["-0", "1e3", "2021-02-29", "2020-01-31t10:20:30.123456", "TRUE", "x"],
        ["9223372036854775807", "1E-3", "20200131", "2020-01-31 10:20:30.5+05:30", "yes", ""],
        ["9223372036854775808", "inf", "2020-13-01", "2020-01-31 10:20:30-0800", "true ", "12"],
        ["1.0", "NaN", "2020-1-1", "2020-01-31 102030", "1", "2020-01-31"],
        ["12a", "5.", "1999-12-31", "2020-01-31 10:20:30 +01", "false", "NA"],
        [" 42 ", "+3.25e+2", "2020-02-30", "2020-01-31 24:00:00", "t", "3.5"],
        ["007", "Infinity", "0000-01-01", "2020-01-31 10:20", "F", "10:20:30"],
        ["", "-INF", "2020-01-31x", "2020-01-31 10:20:30.1234567891", "True", "2020-01-31 10:20:30"],
        ["3", ".", "2024-02-29", "1969-12-31 23:59:59.999999", "FALSE", "1e400x"],
        ["4", "1e", "2023-02-29", "2020-01-31 10:20:30+24:00", "true", "1"],
    ];
    let names = ["int", "number", "date", "stamp", "flag", "mixed"];
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("edges.csv");
    let mut text = names.join(",") + "\n";
    // Plain rows besides the edges, so that each column is read as its kind.
    let plain = ["5", "2.5", "2020-03-01", "2020-03-01 08:00:00", "true", "7"];
    for row in rows.iter().chain(std::iter::repeat_n(&plain, 40)) {
        // Quoted to keep their spaces, except empty fields: missing values, for both readers.
        let quoted: Vec<String> =
            row.iter().map(|v| if v.is_empty() { String::new() } else { format!("\"{v}\"") }).collect();
        text.push_str(&quoted.join(","));
        text.push('\n');
    }
    std::fs::write(&file, &text).expect("write");
    let rules = Rules::from_yaml(
        "edges.yaml",
        "null_values: [NA]\ncolumns:\n  int: { type: integer }\n  number: { type: number, min: 0 }\n  \
         date: { type: date }\n  stamp: { type: timestamp, max: \"2020-01-31T10:00:00Z\" }\n  \
         flag: { type: boolean }\n  mixed: { type: number, pattern: '^[0-9]+$' }\n",
    )
    .expect("rules");
    let (schema, mut client) = fresh_schema();
    load_as_text(&mut client, "edges", &file);
    let there = there(Relation::Table(format!("{}.edges", schema.name())), &rules);
    let local = here(&file, &rules);
    assert_same_quality(&there, &local);
    // Not vacuous: the columns are read as different kinds, and the rules find violations.
    let kinds: BTreeSet<String> = there.columns.iter().map(|c| c.kind.as_str().to_string()).collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
    assert!(there.rules.iter().filter(|r| r.violations > 0).count() >= 4, "{:?}", there.rules);
}

/// The Adult census rows spread over the partitions of a partitioned table, each row's
/// partition drawn by the server's `random()` from `seed`; audited through a query that leaves
/// out the partition key.
fn partitioned(schema: &PgSchema, client: &mut postgres::Client, weights: &[u32], seed: f64) -> Relation {
    load_as_text(client, "staged", &shared_data("adult/adult.data.csv"));
    let columns: Vec<String> = client
        .query(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'staged'::regclass AND attnum > 0 ORDER BY attnum",
            &[],
        )
        .expect("columns")
        .iter()
        .map(|row| format!("\"{}\"", row.get::<_, String>(0)))
        .collect();
    let list = columns.join(", ");
    client.batch_execute("CREATE TABLE adult (LIKE staged, part int) PARTITION BY LIST (part)").expect("table");
    for p in 0..weights.len() {
        client.batch_execute(&format!("CREATE TABLE adult_{p} PARTITION OF adult FOR VALUES IN ({p})")).expect("part");
    }
    let total: u32 = weights.iter().sum::<u32>().max(1);
    let mut acc = 0u32;
    let cases: Vec<String> = weights
        .iter()
        .enumerate()
        .map(|(p, w)| {
            acc += w;
            format!("WHEN r < {:.6} THEN {p}", f64::from(acc) / f64::from(total))
        })
        .collect();
    client
        .batch_execute(&format!(
            "SELECT setseed({seed}); INSERT INTO adult SELECT {list}, CASE {} ELSE {} END \
             FROM (SELECT *, random() AS r FROM staged) AS s; ANALYZE adult",
            cases.join(" "),
            weights.len() - 1
        ))
        .expect("spread the rows");
    Relation::Query(format!("SELECT {list} FROM {}.adult", schema.name()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the partitioning, and with the server scanning partitions in parallel workers,
    /// the numbers are the local audit's.
    #[test]
    fn any_partitioning_gives_the_local_report(weights in prop::collection::vec(0u32..100, 1..6), seed in 0.0f64..1.0) {
        let (schema, mut client) = fresh_schema();
        let relation = partitioned(&schema, &mut client, &weights, seed);
        let there = there(relation, &adult_rules());
        assert_same_quality(&there, &here(&shared_data("adult/adult.data.csv"), &adult_rules()));
    }
}

fn server_address() -> (String, u16, String) {
    let config: tokio_postgres::Config = postgres_url().parse().expect("test server URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    (host, port, config.get_dbname().unwrap_or("test").to_string())
}

/// Every `PERSON-n` in `bytes`.
fn names_in(bytes: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("PERSON-") {
        let digits: String = text[at + 7..].chars().take_while(char::is_ascii_digit).collect();
        names.insert(format!("PERSON-{digits}"));
    }
    names
}

#[test]
fn only_the_reports_figures_cross_the_network() {
    let (schema, mut client) = fresh_schema();
    load_as_text(&mut client, "compas", &shared_data("compas/compas_predictions.csv"));
    // A name per person, the kind of value that must not leave the server except as the report
    // shows it (its least and greatest value, and the most frequent ones).
    client
        .batch_execute("ALTER TABLE compas ADD COLUMN name text; UPDATE compas SET name = 'PERSON-' || id")
        .expect("names");
    let (host, port, database) = server_address();
    let proxy = CountingProxy::start(format!("{host}:{port}"));
    let (proxy_host, proxy_port) = proxy.address.rsplit_once(':').expect("host:port");
    let url = format!("host={proxy_host} port={proxy_port} user=postgres dbname={database}");
    let table = format!("{}.compas", schema.name());

    proxy.take();
    let report = there_at(&url, Relation::Table(table.clone()), &Rules::default()).expect("audit through the proxy");
    assert_eq!(report.rows, 6_172);
    let (pushed_bytes, seen) = proxy.take();

    let mut reader = postgres::Client::connect(&url, postgres::NoTls).expect("connect through the proxy");
    let rows = reader.query(&format!("SELECT * FROM {table}"), &[]).expect("read out");
    assert_eq!(rows.len(), 6_172);
    drop(reader);
    let (read_out_bytes, read_out) = proxy.take();

    assert_eq!(names_in(&read_out).len(), 6_172, "the proxy sees every name when rows are read");
    let shown = names_in(serde_json::to_string(&report).expect("JSON").as_bytes());
    let crossed = names_in(&seen);
    assert!(!shown.is_empty(), "the report shows some names (top values, least and greatest)");
    assert!(crossed.is_subset(&shown), "names crossed that the report does not show: {:?}", crossed.difference(&shown));
    assert!(pushed_bytes * 20 < read_out_bytes, "pushed down: {pushed_bytes} bytes; read out: {read_out_bytes}");
}

#[test]
fn bad_relations_and_rules_are_named_and_nothing_is_written() {
    let (schema, mut client) = fresh_schema();
    load_as_text(&mut client, "adult", &shared_data("adult/adult_predictions.csv"));
    let table = format!("{}.adult", schema.name());

    let rules = Rules::from_yaml("r.yaml", "columns:\n  salary: { required: true }\n").expect("rules");
    let error = there_at(&postgres_url(), Relation::Table(table.clone()), &rules).expect_err("no such column");
    let message = error.to_string();
    assert!(message.contains("salary") && message.contains("`sex`"), "{message}");

    let error = there_at(&postgres_url(), Relation::Table(format!("{}.nowhere", schema.name())), &Rules::default())
        .expect_err("no such table");
    assert!(error.to_string().contains("nowhere"), "{error}");

    let empty = Relation::Query(format!("SELECT * FROM {table} WHERE false"));
    let error = there_at(&postgres_url(), empty, &Rules::default()).expect_err("no rows");
    assert!(error.to_string().contains("no data rows"), "{error}");

    let writes = Relation::Query(format!("WITH gone AS (DELETE FROM {table} RETURNING *) SELECT * FROM gone"));
    assert!(there_at(&postgres_url(), writes, &Rules::default()).is_err(), "a query that writes is refused");
    let left: i64 = client.query_one("SELECT count(*) FROM adult", &[]).expect("count").get(0);
    assert_eq!(left, 16_281, "nothing was deleted");

    // A pattern in Rust's syntax that the server's regular expressions do not know (a Unicode
    // class) is the rules' fault, named as input.
    let rules = Rules::from_yaml("r.yaml", "columns:\n  sex: { pattern: '^\\p{Han}+$' }\n").expect("rules");
    let error = there_at(&postgres_url(), Relation::Table(table), &rules).expect_err("bad pattern");
    assert!(matches!(error, AuditError::Input { .. }), "{error:?}");
}
