//! The data-quality audit on small files whose answers are known, and on the real Adult data.

use std::path::{Path, PathBuf};

use lunli_audit::policy::{Dimension, QualityPolicy};
use lunli_audit::quality::{self, Kind, QualityReport, QualityRequest, Rules};
use lunli_audit::{AuditError, RunOptions};
use lunli_norms::Catalogue;

fn now() -> jiff::Timestamp {
    "2024-07-01T00:00:00Z".parse().expect("timestamp")
}

fn run(path: &Path, rules: &str) -> Result<QualityReport, AuditError> {
    let request = QualityRequest {
        inputs: vec![path.display().to_string()],
        rules: Rules::from_yaml("rules.yaml", rules).expect("rules"),
    };
    quality::audit(
        &request,
        &QualityPolicy::default(),
        &Catalogue::bundled().expect("catalogue"),
        now(),
        &RunOptions::default(),
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

const PATIENTS: &str = "\
id,name,age,score,admitted,discharged,ward
1,王芳,34,0.5,2024-06-01,2024-06-03,A
2,李伟,,1.25,2024-06-02,2024-06-01,B
3,  ,41,x,2024-06-03,2024-06-09,A
4,赵敏,NA,2,2024-06-04,2024-06-05,C
4,赵敏,NA,2,2024-06-04,2024-06-05,C
6, 陈杰 ,150,3,not a date,2024-06-10,A
";

#[test]
fn a_small_file_gives_the_figures_it_should() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "patients.csv", PATIENTS.as_bytes());
    let rules = "\
null_values: [NA]
columns:
  age: { min: 0, max: 120, type: integer }
  ward: { allowed: [A, B] }
  id: { pattern: '^[0-9]+$' }
checks:
  - before: [admitted, discharged]
keys: [[id]]
freshness: { column: discharged, max_age: 7d }
representation:
  - { column: ward, reference: { A: 0.5, B: 0.3, C: 0.2 } }
";
    let report = run(&file, rules).expect("audit");
    assert_eq!(report.rows, 6);
    assert_eq!(report.duplicates.rows, 1);

    let age = report.column("age").expect("age");
    assert_eq!((age.kind, age.nulls), (Kind::Integer, 3), "empty and NA are missing");
    assert_eq!(age.min.as_deref(), Some("34"));
    assert_eq!(age.max.as_deref(), Some("150"));
    let name = report.column("name").expect("name");
    assert_eq!((name.kind, name.blanks, name.padded), (Kind::String, 1, 2));
    let score = report.column("score").expect("score");
    assert_eq!(score.kind, Kind::Number);
    assert!((score.conformance.expect("conformance") - 5.0 / 6.0).abs() < 1e-12, "x is not a number");
    let admitted = report.column("admitted").expect("admitted");
    assert_eq!(admitted.kind, Kind::Date);
    assert!((admitted.conformance.expect("conformance") - 5.0 / 6.0).abs() < 1e-12);
    let ward = report.column("ward").expect("ward");
    assert!(ward.distinct_exact);
    assert_eq!(ward.distinct, 3);
    assert_eq!(ward.top_values[0].value, "A");
    assert_eq!(ward.top_values[0].count, 3);

    let rule = |name: &str| report.rule(name).unwrap_or_else(|| panic!("no rule {name}"));
    assert_eq!(rule("age.max").violations, 1);
    assert_eq!(rule("age.min").violations, 0);
    assert_eq!(rule("age.type").violations, 0);
    assert_eq!(rule("ward.allowed").violations, 2);
    assert_eq!(rule("ward.allowed").example.as_deref(), Some("C"));
    assert_eq!(rule("admitted before discharged").violations, 1);
    assert_eq!(rule("admitted before discharged").dimension, Dimension::Consistency);
    assert_eq!(report.keys[0].duplicates, 1);
    assert_eq!(report.keys[0].example.as_deref(), Some("4"));

    let freshness = report.freshness.as_ref().expect("freshness");
    assert_eq!(freshness.latest.as_deref(), Some("2024-06-10T00:00:00Z"));
    assert!((freshness.age_days.expect("age") - 21.0).abs() < 1e-9);
    let c = report.representation[0].groups.iter().find(|g| g.group == "C").expect("C");
    assert!((c.share - 2.0 / 6.0).abs() < 1e-12);

    // Every dimension of Art. 11 found something here, and the audit fails.
    for d in Dimension::ALL {
        assert!(report.findings.iter().any(|f| f.dimension == Some(d)), "a finding for {d:?}");
    }
    assert!(!report.passed);
    assert_eq!(report.controls, vec!["C-11-02".to_string()]);
    assert!(report.findings.iter().all(|f| f.controls == report.controls));
}

/// A timestamp parses as a date too (its day): the values with a time of day tell a timestamp
/// column from a date column, the majority deciding a mixed one.
#[test]
fn timestamps_are_told_from_dates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "events.csv",
        "at,day,mostly_days\n\
         2024-06-01 08:30:00,2024-06-01,2024-06-01\n\
         2024-06-02T09:00:00Z,2024-06-02,2024-06-02\n\
         2024-06-03 10:15:00,2024-06-03,2024-06-03 10:15:00\n\
         2024-06-04 23:59:59,2024-06-04,2024-06-04\n"
            .as_bytes(),
    );
    let report = run(&file, "").expect("audit");
    let kind = |name: &str| report.column(name).expect(name).kind;
    assert_eq!((kind("at"), kind("day"), kind("mostly_days")), (Kind::Timestamp, Kind::Date, Kind::Date));
    let at = report.column("at").expect("at");
    assert_eq!(at.max.as_deref(), Some("2024-06-04T23:59:59Z"), "{at:?}");
}

#[test]
fn the_same_file_in_gbk_gives_the_same_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let utf8 = write(dir.path(), "p.csv", PATIENTS.as_bytes());
    let gbk = write(dir.path(), "g.csv", &encoding_rs::GBK.encode(PATIENTS).0);
    let (a, b) = (run(&utf8, "").expect("utf8"), run(&gbk, "").expect("gbk"));
    assert_eq!(serde_json::to_value(&a.columns).expect("json"), serde_json::to_value(&b.columns).expect("json"));
}

#[test]
fn many_distinct_values_are_estimated_and_said_to_be() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("id,group\n");
    for i in 0..30_000 {
        text.push_str(&format!("{i},g{}\n", i % 7));
    }
    let report = run(&write(dir.path(), "wide.csv", text.as_bytes()), "").expect("audit");
    let id = report.column("id").expect("id");
    assert!(!id.distinct_exact);
    assert!((id.distinct as f64 - 30_000.0).abs() < 30_000.0 * 0.05, "HyperLogLog estimate {}", id.distinct);
    assert!(id.top_values.is_empty());
    let group = report.column("group").expect("group");
    assert!(group.distinct_exact);
    assert_eq!(group.distinct, 7);
    let [q25, q50, q75] = id.quartiles.expect("quartiles");
    assert!((q50 - 15_000.0).abs() < 300.0 && q25 < q50 && q50 < q75);
}

#[test]
fn the_adult_test_set_profile() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult.test.csv");
    assert!(path.exists(), "{} is missing: shared/ must sit beside the repository", path.display());
    let report = run(&path, "null_values: ['?']\n").expect("audit");
    assert_eq!(report.rows, 16281);
    // `?` marks missing values in Adult: 963 of workclass, 966 of occupation, 274 of native-country.
    let nulls = |c: &str| report.column(c).expect("column").nulls;
    assert_eq!((nulls("workclass"), nulls("occupation"), nulls("native-country")), (963, 966, 274));
    assert_eq!(report.column("age").expect("age").kind, Kind::Integer);
    assert_eq!(report.column("sex").expect("sex").distinct, 2);
    assert_eq!(report.duplicates.rows, 5);
}

#[test]
fn rules_that_name_unknown_columns_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "p.csv", PATIENTS.as_bytes());
    match run(&file, "columns:\n  agee: { min: 0 }\n") {
        Err(AuditError::Input { location, reason }) => {
            assert_eq!(location.column.as_deref(), Some("agee"));
            assert!(reason.contains("no such column"), "{reason}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert!(Rules::from_yaml("r.yaml", "checks:\n  - { before: [a, b], not_after: [a, b] }\n").is_err());
    assert!(Rules::from_yaml("r.yaml", "freshness: { column: t, max_age: soon }\n").is_err());
}

#[test]
fn typed_parquet_columns_keep_their_types() {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    let dir = tempfile::tempdir().expect("tempdir");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("income", DataType::Float64, true),
        Field::new("city", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 3])),
            Arc::new(Float64Array::from(vec![Some(10.5), None, Some(30.0), Some(30.0)])),
            Arc::new(StringArray::from(vec![Some("北京"), Some("上海"), None, None])),
        ],
    )
    .expect("batch");
    let path = dir.path().join("people.parquet");
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).expect("create"), schema, None)
            .expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
    let report = run(&path, "keys: [[id]]\ncolumns:\n  income: { max: 20 }\n").expect("audit");
    assert_eq!(report.rows, 4);
    let income = report.column("income").expect("income");
    assert_eq!((income.kind, income.nulls), (Kind::Number, 1));
    assert_eq!((income.min.as_deref(), income.max.as_deref()), (Some("10.5"), Some("30")));
    assert_eq!(report.column("id").expect("id").kind, Kind::Integer);
    assert_eq!(report.column("city").expect("city").nulls, 2);
    assert_eq!(report.duplicates.rows, 1);
    assert_eq!(report.keys[0].duplicates, 1);
    assert_eq!(report.rule("income.max").expect("rule").violations, 2);
}

/// A table of `columns` columns and `rows` rows (plus a copy of the first row at the end):
/// column j holds (i + j) mod (j mod 5 + 2), as text `x…` when j ends in 9, else as a number.
fn wide_table(columns: usize, rows: usize) -> (String, Vec<Vec<String>>) {
    let value = |i: usize, j: usize| {
        let v = (i + j) % (j % 5 + 2);
        if j % 10 == 9 { format!("x{v}") } else { v.to_string() }
    };
    let mut table: Vec<Vec<String>> = (0..rows).map(|i| (0..columns).map(|j| value(i, j)).collect()).collect();
    table.push(table[0].clone());
    let header: Vec<String> = (0..columns).map(|j| format!("c{j}")).collect();
    let mut text = header.join(",") + "\n";
    for row in &table {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    (text, table)
}

/// Each column's exact value counts, as the report's top values list them (most frequent first,
/// then by value).
fn expected_top(table: &[Vec<String>], j: usize) -> Vec<(String, u64)> {
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for row in table {
        *counts.entry(row[j].clone()).or_default() += 1;
    }
    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top
}

fn assert_column(report: &QualityReport, table: &[Vec<String>], j: usize) {
    let column = report.column(&format!("c{j}")).unwrap_or_else(|| panic!("column c{j}"));
    let top: Vec<(String, u64)> = column.top_values.iter().map(|t| (t.value.clone(), t.count)).collect();
    assert_eq!(top, expected_top(table, j), "top values of c{j}");
    assert!(column.distinct_exact, "c{j} counted exactly");
    assert_eq!(column.distinct, (j % 5 + 2) as u64, "distinct values of c{j}");
    assert_eq!(column.kind, if j % 10 == 9 { Kind::String } else { Kind::Integer }, "type of c{j}");
    assert_eq!(column.nulls, 0);
}

#[test]
fn a_hundred_low_cardinality_columns_are_all_counted() {
    // The engine's grouping sets refused more than 64 such columns.
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, table) = wide_table(100, 40);
    let report = run(&write(dir.path(), "hundred.csv", text.as_bytes()), "").expect("audit");
    assert_eq!(report.columns.len(), 100);
    for j in 0..100 {
        assert_column(&report, &table, j);
    }
    let c3 = report.column("c3").expect("c3");
    assert_eq!((c3.min.as_deref(), c3.max.as_deref()), (Some("0"), Some("4")));
    assert_eq!(report.duplicates.rows, 1);
}

#[test]
fn two_thousand_columns_profile_completely_with_rules_on_the_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, table) = wide_table(2_000, 30);
    // Rules name columns far beyond the first chunk of the profile.
    let rules = "\
columns:
  c1998: { max: 3 }
  c1999: { allowed: [x0, x1, x2] }
checks:
  - { name: c0-before-c1990, not_after: [c0, c1990] }
keys: [[c1500]]
representation:
  - { column: c1999, reference: { x0: 0.5 } }
";
    let report = run(&write(dir.path(), "wide.csv", text.as_bytes()), rules).expect("audit");
    assert_eq!(report.rows, 31);
    let names: Vec<String> = report.columns.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, (0..2_000).map(|j| format!("c{j}")).collect::<Vec<_>>());
    for j in [0, 1, 63, 64, 65, 127, 128, 129, 999, 1024, 1500, 1998, 1999] {
        assert_column(&report, &table, j);
    }
    assert_eq!(report.duplicates.rows, 1);
    // c1998 holds 0..=4 (mod 5): the value 4 breaks `max: 3`.
    let expected_breaks = |j: usize, bad: &dyn Fn(&str) -> bool| table.iter().filter(|r| bad(&r[j])).count() as u64;
    let max = report.rule("c1998.max").expect("c1998.max");
    assert_eq!(max.violations, expected_breaks(1998, &|v| v == "4"));
    let allowed = report.rule("c1999.allowed").expect("c1999.allowed");
    assert_eq!(allowed.violations, expected_breaks(1999, &|v| !["x0", "x1", "x2"].contains(&v)));
    let check = report.rule("c0-before-c1990").expect("check");
    let after = table.iter().filter(|r| r[0].parse::<u64>().ok() > r[1990].parse::<u64>().ok()).count() as u64;
    assert_eq!(check.violations, after);
    assert_eq!(report.keys[0].columns, vec!["c1500".to_string()]);
    assert_eq!(report.keys[0].duplicates, 31 - 2);
    let shares = &report.representation[0];
    let x0 = shares.groups.iter().find(|g| g.group == "x0").expect("x0");
    assert_eq!(x0.count, expected_top(&table, 1999).iter().find(|(v, _)| v == "x0").map_or(0, |(_, n)| *n));
}

/// Column j of row i of a table whose columns differ in kind by j mod 7: missing values (`NA`),
/// blanks, integers with a stray word, decimals, dates, text codes, padded values.
fn mixed_value(i: usize, j: usize) -> String {
    let v = (i * 7 + j * 3) % (j % 11 + 2);
    match j % 7 {
        0 if (i + j).is_multiple_of(5) => "NA".to_string(),
        1 if (i + j).is_multiple_of(4) => "  ".to_string(),
        2 if (i + j).is_multiple_of(13) => "many".to_string(),
        3 => format!("{v}.{}", (i + j) % 10),
        4 => format!("2024-0{}-1{}", v % 9 + 1, i % 10),
        5 => format!("code-{v}"),
        6 if i.is_multiple_of(3) => format!(" {v} "),
        _ => v.to_string(),
    }
}

#[test]
fn a_table_of_three_hundred_columns_profiles_as_its_columns_do_alone() {
    // Three profile passes of 128 columns: each column's profile and findings must not depend
    // on which pass, or which neighbours, it had.
    let (columns, rows) = (300, 40);
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = "null_values: [NA]\n";
    let header: Vec<String> = (0..columns).map(|j| format!("c{j}")).collect();
    let mut text = header.join(",") + "\n";
    for i in 0..rows {
        text.push_str(&(0..columns).map(|j| mixed_value(i, j)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    let wide = run(&write(dir.path(), "wide.csv", text.as_bytes()), rules).expect("audit of the wide table");
    assert_eq!(wide.rows, rows as u64);
    assert_eq!(wide.columns.len(), columns);
    let mut column_findings = 0;
    for j in 0..columns {
        let name = format!("c{j}");
        let mut alone = format!("{name}\n");
        for i in 0..rows {
            alone.push_str(&mixed_value(i, j));
            alone.push('\n');
        }
        let single = run(&write(dir.path(), &format!("{name}.csv"), alone.as_bytes()), rules).expect("audit alone");
        assert_eq!(single.rows, rows as u64, "rows of {name} alone");
        assert_eq!(wide.column(&name), single.column(&name), "profile of {name}");
        let of_column = |report: &QualityReport| {
            report.findings.iter().filter(|f| f.subject == name).map(|f| (f.check.clone(), f.value)).collect::<Vec<_>>()
        };
        assert_eq!(of_column(&wide), of_column(&single), "findings on {name}");
        column_findings += of_column(&wide).len();
    }
    // The table is made to break the policy: missing values, blanks, stray words, padding.
    assert!(column_findings >= columns / 7 * 3, "{column_findings} findings on columns");
}
