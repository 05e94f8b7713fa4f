//! Inputs in every format and encoding lunli reads give the same numbers, and bad input gets a
//! clear error naming the file, row or line and column — never a panic or a silent wrong number.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use lunli_audit::fairness::{self, FairnessReport, FairnessRequest};
use lunli_audit::policy::FairnessPolicy;
use lunli_audit::{AuditError, Encoding, EncodingChoice, RunOptions};
use lunli_norms::Catalogue;

fn adult() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult_predictions.csv");
    assert!(path.exists(), "{} is missing: shared/ must sit beside the repository", path.display());
    path
}

fn adult_text() -> String {
    std::fs::read_to_string(adult()).expect("read adult")
}

fn request(input: &Path) -> FairnessRequest {
    FairnessRequest {
        inputs: vec![input.display().to_string()],
        label: "y_true".into(),
        prediction: "y_pred".into(),
        score: Some("score".into()),
        sensitive: vec!["sex".into(), "race".into()],
        ..FairnessRequest::default()
    }
}

fn audit_with(request: &FairnessRequest, encoding: EncodingChoice) -> Result<FairnessReport, AuditError> {
    let options = RunOptions { encoding, ..RunOptions::default() };
    fairness::audit(request, &FairnessPolicy::default(), &Catalogue::bundled().expect("catalogue"), &options)
}

fn audit(input: &Path) -> Result<FairnessReport, AuditError> {
    audit_with(&request(input), EncodingChoice::Auto)
}

/// The figures of a report without its description of the inputs.
fn figures(report: &FairnessReport) -> serde_json::Value {
    let mut v = serde_json::to_value(report).expect("json");
    v["inputs"] = serde_json::Value::Null;
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The Adult predictions as typed Arrow batches.
fn adult_batches() -> (Arc<Schema>, Vec<RecordBatch>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("y_true", DataType::Int64, false),
        Field::new("y_pred", DataType::Int64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("race", DataType::Utf8, false),
    ]));
    let reader = datafusion::arrow::csv::ReaderBuilder::new(schema.clone())
        .with_header(true)
        .build(std::fs::File::open(adult()).expect("open"))
        .expect("reader");
    (schema, reader.map(|b| b.expect("batch")).collect())
}

fn input_error(result: Result<FairnessReport, AuditError>) -> (lunli_audit::Location, String) {
    match result {
        Err(AuditError::Input { location, reason }) => (location, reason),
        Err(other) => panic!("expected an input error, got {other}"),
        Ok(_) => panic!("expected an input error, got a report"),
    }
}

#[test]
fn gbk_csv_gives_the_same_numbers_as_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Chinese group names, as Chinese data has them, in GBK.
    let chinese = adult_text().replace("Female", "女性").replace("Male", "男性").replace("White", "白人");
    let utf8 = write(dir.path(), "utf8.csv", chinese.as_bytes());
    let (gbk_bytes, _, unmappable) = encoding_rs::GBK.encode(&chinese);
    assert!(!unmappable);
    let gbk = write(dir.path(), "gbk.csv", &gbk_bytes);
    let a = audit(&utf8).expect("UTF-8");
    let b = audit(&gbk).expect("GBK, detected");
    assert_eq!(b.inputs[0].encoding, Some(Encoding::Gb18030));
    assert_eq!(figures(&a), figures(&b));
    assert!(b.attribute("sex").and_then(|s| s.group("女性")).is_some());
    // Said explicitly, and gzip-compressed too.
    let c = audit_with(&request(&gbk), EncodingChoice::Fixed(Encoding::Gb18030)).expect("GBK, declared");
    assert_eq!(figures(&a), figures(&c));
    let gz = write(dir.path(), "gbk.csv.gz", &gzip(&gbk_bytes));
    assert_eq!(figures(&a), figures(&audit(&gz).expect("GBK, gzip")));
    // A byte-order mark is dropped, not taken as part of the first column's name.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(chinese.as_bytes());
    let bom = write(dir.path(), "bom.csv", &bom);
    assert_eq!(figures(&a), figures(&audit(&bom).expect("BOM")));
}

#[test]
fn parquet_json_lines_and_gzip_give_the_same_numbers_as_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = audit(&adult()).expect("CSV");
    let (schema, batches) = adult_batches();

    let parquet = dir.path().join("adult.parquet");
    let file = std::fs::File::create(&parquet).expect("create");
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).expect("writer");
    for batch in &batches {
        writer.write(batch).expect("write");
    }
    writer.close().expect("close");
    assert_eq!(figures(&csv), figures(&audit(&parquet).expect("Parquet")));

    let mut json = Vec::new();
    {
        let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut json);
        for batch in &batches {
            writer.write(batch).expect("write");
        }
        writer.finish().expect("finish");
    }
    let jsonl = write(dir.path(), "adult.jsonl", &json);
    assert_eq!(figures(&csv), figures(&audit(&jsonl).expect("JSON Lines")));
    let jsonl_gz = write(dir.path(), "adult.jsonl.gz", &gzip(&json));
    assert_eq!(figures(&csv), figures(&audit(&jsonl_gz).expect("JSON Lines, gzip")));

    let gz = write(dir.path(), "adult.csv.gz", &gzip(adult_text().as_bytes()));
    assert_eq!(figures(&csv), figures(&audit(&gz).expect("CSV, gzip")));
}

#[test]
fn unknown_columns_name_the_file_and_the_columns_there_are() {
    let mut r = request(&adult());
    r.label = "label".into();
    let (location, reason) = input_error(audit_with(&r, EncodingChoice::Auto));
    assert_eq!(location.column.as_deref(), Some("label"));
    assert!(reason.contains("y_true, y_pred, score, sex, race"), "{reason}");
}

#[test]
fn a_third_label_value_is_named_with_its_row_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lines: Vec<String> = adult_text().lines().map(str::to_string).collect();
    lines[500] = lines[500].replacen(|c: char| c.is_ascii_digit(), "2", 1);
    let file = write(dir.path(), "three.csv", (lines.join("\n") + "\n").as_bytes());
    let (location, reason) = input_error(audit(&file));
    assert_eq!((location.line, location.row), (Some(501), Some(500)));
    assert_eq!(location.column.as_deref(), Some("y_true"));
    assert!(reason.contains("non-binary"), "{reason}");
}

#[test]
fn labels_that_are_not_0_and_1_need_the_positive_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = adult_text()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                return format!("{l}\n");
            }
            let mut f: Vec<String> = l.split(',').map(str::to_string).collect();
            for v in &mut f[..2] {
                *v = if v == "1" { ">50K".into() } else { "<=50K".into() };
            }
            format!("{}\n", f.join(","))
        })
        .collect();
    let file = write(dir.path(), "words.csv", text.as_bytes());
    match audit(&file) {
        Err(AuditError::Request { reason }) => assert!(reason.contains("--positive"), "{reason}"),
        other => panic!("expected a request for --positive, got {other:?}"),
    }
    let mut r = request(&file);
    r.positive = Some(">50K".into());
    let words = audit_with(&r, EncodingChoice::Auto).expect("with --positive");
    assert_eq!(figures(&words)["attributes"], figures(&audit(&adult()).expect("numbers"))["attributes"]);
}

#[test]
fn one_group_empty_files_and_unreadable_values_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = adult_text();
    let male: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",Male,"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (location, reason) = input_error(audit(&write(dir.path(), "male.csv", male.as_bytes())));
    assert_eq!(location.column.as_deref(), Some("sex"));
    assert!(reason.contains("single group"), "{reason}");

    let (_, reason) = input_error(audit(&write(dir.path(), "empty.csv", b"")));
    assert!(reason.contains("empty"), "{reason}");
    let header = text.lines().next().expect("header").to_string() + "\n";
    let (_, reason) = input_error(audit(&write(dir.path(), "header.csv", header.as_bytes())));
    assert!(reason.contains("no data rows"), "{reason}");

    let mut lines: Vec<&str> = text.lines().collect();
    lines[30] = "0,0,abc,Male,White";
    lines[40] = ",0,0.5,Male,White";
    lines[60] = "0,0,0.5,Male";
    let bad_score = write(dir.path(), "score.csv", lines[..35].join("\n").as_bytes());
    let (location, reason) = input_error(audit(&bad_score));
    assert_eq!((location.line, location.column.as_deref()), (Some(31), Some("score")));
    assert!(reason.contains("`abc` is not a number"), "{reason}");
    let missing = write(dir.path(), "missing.csv", [&lines[..30], &lines[31..50]].concat().join("\n").as_bytes());
    let (location, reason) = input_error(audit(&missing));
    assert_eq!((location.line, location.column.as_deref()), (Some(40), Some("y_true")));
    assert!(reason.contains("missing"), "{reason}");
    let short = write(dir.path(), "short.csv", [&lines[..30], &lines[50..70]].concat().join("\n").as_bytes());
    let (location, reason) = input_error(audit(&short));
    assert_eq!(location.line, Some(41));
    assert!(reason.contains("4 fields where the header has 5"), "{reason}");
}

#[test]
fn truncated_gzip_and_parquet_are_named_not_read_in_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Large enough that the break comes after the part read to detect the encoding.
    let mut text = adult_text();
    let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    for _ in 0..3 {
        text.push_str(&body);
    }
    let gz = gzip(text.as_bytes());
    let cut = write(dir.path(), "cut.csv.gz", &gz[..gz.len() * 3 / 4]);
    let (location, reason) = input_error(audit(&cut));
    assert!(location.file.ends_with("cut.csv.gz"));
    assert!(location.line.is_some_and(|l| l > 1000), "{location:?}");
    assert!(reason.contains("gzip"), "{reason}");

    let (schema, batches) = adult_batches();
    let mut parquet = Vec::new();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut parquet, schema, None).expect("writer");
    for batch in &batches {
        writer.write(batch).expect("write");
    }
    writer.close().expect("close");
    let cut = write(dir.path(), "cut.parquet", &parquet[..parquet.len() / 2]);
    let (location, reason) = input_error(audit(&cut));
    assert!(location.file.ends_with("cut.parquet"));
    assert!(reason.contains("Parquet"), "{reason}");
}

#[test]
fn mixed_encodings_are_caught_at_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chinese = adult_text().replace("Female", "女性").replace("Male", "男性");
    let lines: Vec<&str> = chinese.lines().collect();
    // A UTF-8 file with one GBK line, and a GBK file with one UTF-8 line.
    let mut utf8_with_gbk: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
    utf8_with_gbk[79] = encoding_rs::GBK.encode(lines[79]).0.into_owned();
    let mut gbk_with_utf8: Vec<Vec<u8>> = lines.iter().map(|l| encoding_rs::GBK.encode(l).0.into_owned()).collect();
    gbk_with_utf8[79] = lines[79].as_bytes().to_vec();
    for (name, rows, read_as) in [("a.csv", utf8_with_gbk, "UTF-8"), ("b.csv", gbk_with_utf8, "GB18030")] {
        let file = write(dir.path(), name, &rows.join(&b'\n'));
        let (location, reason) = input_error(audit(&file));
        assert_eq!(location.line, Some(80), "{name}: {reason}");
        assert!(reason.contains("mixes encodings") && reason.contains(read_as), "{name}: {reason}");
    }
    // Past the detection sample, a GBK line in a UTF-8 file is still named.
    let mut long: Vec<Vec<u8>> = Vec::new();
    for _ in 0..2 {
        long.extend(lines.iter().skip(long.len().min(1)).map(|l| l.as_bytes().to_vec()));
    }
    let late = long.len() - 10;
    long[late] = encoding_rs::GBK.encode(std::str::from_utf8(&long[late]).expect("utf8")).0.into_owned();
    let file = write(dir.path(), "late.csv", &long.join(&b'\n'));
    let (location, reason) = input_error(audit(&file));
    assert_eq!(location.line, Some(late as u64 + 1), "{reason}");
    assert!(reason.contains("UTF-8"), "{reason}");
}

#[test]
fn missing_sensitive_values_form_a_group_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text: String = adult_text()
        .lines()
        .enumerate()
        .map(|(i, l)| if i % 100 == 7 { format!("{}\n", l.replace(",Male,", ",,")) } else { format!("{l}\n") })
        .collect();
    let report = audit(&write(dir.path(), "gaps.csv", text.as_bytes())).expect("audit");
    let sex = report.attribute("sex").expect("sex");
    assert!(sex.group(fairness::MISSING_GROUP).is_some());
    assert!(report.warnings.iter().any(|w| w.en.contains("missing")));
}

#[test]
fn bootstrap_intervals_are_reproducible_and_cover_the_estimate() {
    let mut r = request(&adult());
    r.bootstrap = Some(lunli_audit::bootstrap::BootstrapSpec { replicates: 60, seed: 11, level: 0.95 });
    let a = audit_with(&r, EncodingChoice::Auto).expect("audit");
    let b = audit_with(&r, EncodingChoice::Auto).expect("audit");
    assert_eq!(figures(&a), figures(&b), "same seed, same intervals");
    let sex = a.attribute("sex").expect("sex");
    let female = sex.group("Female").expect("group");
    let [lo, hi] = female.intervals["selection_rate"];
    assert!(lo <= female.metrics.selection_rate && female.metrics.selection_rate <= hi);
    assert!(female.intervals.contains_key("auc"));
    assert!(sex.intervals.contains_key("disparate_impact_ratio"));
    r.bootstrap = Some(lunli_audit::bootstrap::BootstrapSpec { replicates: 60, seed: 12, level: 0.95 });
    let c = audit_with(&r, EncodingChoice::Auto).expect("audit");
    assert_ne!(figures(&a)["attributes"], figures(&c)["attributes"], "another seed, other draws");
}

#[test]
fn small_groups_are_flagged_not_hidden() {
    let compas = adult().with_file_name("../compas/compas_predictions.csv");
    let mut r = request(&compas);
    r.score = None;
    let report = audit_with(&r, EncodingChoice::Auto).expect("audit");
    let both = report.attribute("sex|race").expect("intersection");
    let small: Vec<&str> = both.groups.iter().filter(|g| g.small).map(|g| g.group.as_str()).collect();
    assert!(small.contains(&"Female|Asian") && small.contains(&"Female|Native American"), "{small:?}");
    let flag = report
        .findings
        .iter()
        .find(|f| f.check == "fairness.small_groups" && f.subject == "sex|race")
        .expect("a small-group finding");
    assert!(flag.message.en.contains("Female|Asian (n=2)"), "{}", flag.message.en);
    assert_eq!(both.groups.len(), 12, "every group is reported, small ones too");
}

#[test]
fn a_stray_value_past_the_sample_is_named_not_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The sample (the first 256 KiB) shows whole-number labels and numeric scores; far past it,
    // one label and later one score are not.
    let text = adult_text();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[15_000] = lines[15_000].replacen(|c: char| c.is_ascii_digit(), "x", 1);
    let file = write(dir.path(), "label.csv", (lines.join("\n") + "\n").as_bytes());
    let (location, reason) = input_error(audit(&file));
    assert_eq!((location.line, location.column.as_deref()), (Some(15_001), Some("y_true")), "{reason}");
    assert!(reason.contains("`x`"), "{reason}");

    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let fields: Vec<&str> = lines[16_000].split(',').collect();
    lines[16_000] = format!("{},{},high,{},{}", fields[0], fields[1], fields[3], fields[4]);
    let file = write(dir.path(), "score.csv", (lines.join("\n") + "\n").as_bytes());
    let (location, reason) = input_error(audit(&file));
    assert_eq!((location.line, location.column.as_deref()), (Some(16_001), Some("score")), "{reason}");
    assert!(reason.contains("`high` is not a number"), "{reason}");
}

#[test]
fn quoted_line_breaks_in_values_give_the_same_numbers() {
    // The Adult predictions, repeated past the size at which the engine splits a file into byte
    // ranges (10 MiB), with a free-text column: in one copy every third value spans lines inside
    // quotes, as RFC 4180 allows; in the other none does. A reader that split the file at line
    // breaks would miscount the first.
    const COPIES: usize = 30;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = adult_text();
    let (header, rows) = text.split_once('\n').expect("header");
    let mut spanning = format!("{header},note\n");
    let mut flat = spanning.clone();
    let mut n = 0usize;
    for _ in 0..COPIES {
        for line in rows.lines() {
            n += 1;
            if n.is_multiple_of(3) {
                spanning.push_str(&format!("{line},\"applicant {n} wrote:\nplease call back,\r\nthanks\"\n"));
            } else {
                spanning.push_str(&format!("{line},short\n"));
            }
            flat.push_str(&format!("{line},\"applicant {n} wrote: please call back, thanks\"\n"));
        }
    }
    assert!(spanning.len() > 10 << 20, "{} bytes", spanning.len());
    let spanning = write(dir.path(), "spanning.csv", spanning.as_bytes());
    let flat = write(dir.path(), "flat.csv", flat.as_bytes());
    let run = |path: &Path| {
        // Many partitions, so that many split points would land inside quoted values.
        let options = RunOptions { threads: Some(16), ..RunOptions::default() };
        fairness::audit(&request(path), &FairnessPolicy::default(), &Catalogue::bundled().expect("catalogue"), &options)
            .expect("audit")
    };
    let (spanning, flat) = (run(&spanning), run(&flat));
    assert_eq!(spanning.rows, (16281 * COPIES) as u64);
    assert_eq!(figures(&spanning), figures(&flat));
}

#[test]
fn a_header_longer_than_the_sample_is_read_whole() {
    // 45,000 columns c0 … c44999 make a 290 KB header: cut at the 256 KB sample it ended in
    // half a name such as `c4`, reported as a duplicate column.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut header: Vec<String> = (0..45_000).map(|j| format!("c{j}")).collect();
    header.extend(["y".to_string(), "p".to_string(), "s".to_string()]);
    let mut text = header.join(",") + "\n";
    assert!(text.len() > 256 * 1024);
    let filler = vec!["0"; 45_000].join(",");
    for (y, p, s) in [(1, 1, "a"), (0, 1, "a"), (0, 0, "b"), (1, 0, "b"), (1, 1, "b")] {
        text.push_str(&format!("{filler},{y},{p},{s}\n"));
    }
    let path = write(dir.path(), "long-header.csv", text.as_bytes());
    let request = FairnessRequest {
        inputs: vec![path.display().to_string()],
        label: "y".into(),
        prediction: "p".into(),
        sensitive: vec!["s".into()],
        ..FairnessRequest::default()
    };
    let report = audit_with(&request, EncodingChoice::Auto).expect("audit");
    assert_eq!(report.rows, 5);
    assert_eq!(report.attribute("s").and_then(|a| a.group("b")).map(|g| g.metrics.count), Some(3));
}

#[test]
fn a_header_over_the_limit_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::with_capacity(lunli_audit::source::HEADER_LIMIT + 16);
    let mut j = 0;
    while text.len() <= lunli_audit::source::HEADER_LIMIT {
        text.push_str(&format!("column_{j},"));
        j += 1;
    }
    text.push_str("y\n1\n");
    let path = write(dir.path(), "huge-header.csv", text.as_bytes());
    let (location, reason) = input_error(audit(&path));
    assert_eq!((location.file, location.line), (path.display().to_string(), Some(1)));
    assert!(reason.contains("header line is longer than 8 MiB"), "{reason}");
}

#[test]
fn group_names_up_to_the_limit_are_kept_and_longer_ones_refused() {
    use lunli_audit::fairness::MAX_GROUP_LABEL;
    let dir = tempfile::tempdir().expect("tempdir");
    let request = |path: &Path| FairnessRequest {
        inputs: vec![path.display().to_string()],
        label: "y".into(),
        prediction: "p".into(),
        sensitive: vec!["s".into()],
        ..FairnessRequest::default()
    };
    // Characters, not bytes: 1,024 Chinese characters are 3,072 bytes and still a group name.
    let longest = "长".repeat(MAX_GROUP_LABEL);
    let table = |name: &str| format!("y,p,s\n1,1,a\n0,1,a\n0,0,{name}\n1,0,{name}\n");
    let path = write(dir.path(), "ok.csv", table(&longest).as_bytes());
    let report = audit_with(&request(&path), EncodingChoice::Auto).expect("audit");
    assert_eq!(report.attribute("s").and_then(|a| a.group(&longest)).map(|g| g.metrics.count), Some(2));
    let path = write(dir.path(), "long.csv", table(&format!("{longest}长")).as_bytes());
    let (location, reason) = input_error(audit_with(&request(&path), EncodingChoice::Auto));
    assert_eq!((location.line, location.row, location.column.as_deref()), (Some(4), Some(3), Some("s")));
    assert!(reason.contains("1025 characters, longer than the 1024"), "{reason}");
}

#[test]
fn bootstrap_replicates_are_capped() {
    use lunli_audit::fairness::MAX_BOOTSTRAP_REPLICATES;
    let mut r = request(&adult());
    r.bootstrap =
        Some(lunli_audit::bootstrap::BootstrapSpec { replicates: MAX_BOOTSTRAP_REPLICATES + 1, seed: 1, level: 0.95 });
    match audit_with(&r, EncodingChoice::Auto) {
        Err(AuditError::Request { reason }) => assert!(reason.contains("more than the 100000 replicates"), "{reason}"),
        other => panic!("expected a refused request, got {other:?}"),
    }
}

/// The same rows with every field quoted: the same values, read by the engine's CSV reader (the
/// plain-CSV count takes no quoting), so comparing the two compares both ways of counting.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|line| line.split(',').map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn compas() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/compas/compas_predictions.csv")
}

#[test]
fn plain_csv_is_counted_as_the_engine_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let compas_text = std::fs::read_to_string(compas()).expect("COMPAS");
    let compas_request = |input: &Path| FairnessRequest {
        inputs: vec![input.display().to_string()],
        label: "y_true".into(),
        prediction: "y_pred".into(),
        sensitive: vec!["race".into(), "sex".into(), "age_cat".into()],
        ..FairnessRequest::default()
    };
    // Odd but valid values: labels written `01` and `00` in integer columns, missing groups,
    // scores as text with spaces and two spellings of one number (so the score is read as text).
    let mut odd = String::from("y_true,y_pred,score,sex,race\n");
    for i in 0..600 {
        let label = ["0", "1", "01", "00"][i % 4];
        let prediction = ["1", "0", "1"][i % 3];
        let score = [" 0.25", "0.5", "0.50", "0.75 ", "1"][i % 5];
        let sex = ["Female", "Male", ""][i % 3];
        let race = ["A", "B", "C", "", "D"][i % 5];
        odd.push_str(&format!("{label},{prediction},{score},{sex},{race}\n"));
    }
    type Requester = Box<dyn Fn(&Path) -> FairnessRequest>;
    let cases: Vec<(&str, String, Requester)> = vec![
        ("adult", adult_text(), Box::new(|p: &Path| request(p))),
        ("compas", compas_text, Box::new(compas_request)),
        ("odd", odd, Box::new(|p: &Path| request(p))),
    ];
    for (name, text, make) in cases {
        let plain = write(dir.path(), &format!("{name}.csv"), text.as_bytes());
        let engine = write(dir.path(), &format!("{name}-quoted.csv"), quoted(&text).as_bytes());
        for threads in [1, 2] {
            let options = RunOptions { threads: Some(threads), ..RunOptions::default() };
            let run = |path: &Path| {
                fairness::audit(
                    &make(path),
                    &FairnessPolicy::default(),
                    &Catalogue::bundled().expect("catalogue"),
                    &options,
                )
                .expect("audit")
            };
            assert_eq!(figures(&run(&plain)), figures(&run(&engine)), "{name} on {threads} threads");
        }
    }

    // A score that is not a number: the same error, at the same row, either way.
    let bad = adult_text().replacen("\n0,0,0.", "\n0,0,x0.", 1);
    let plain = write(dir.path(), "bad.csv", bad.as_bytes());
    let engine = write(dir.path(), "bad-quoted.csv", quoted(&bad).as_bytes());
    let (at_plain, why_plain) = input_error(audit(&plain));
    let (at_engine, why_engine) = input_error(audit(&engine));
    assert_eq!((at_plain.row, at_plain.column, why_plain), (at_engine.row, at_engine.column, why_engine));
}
