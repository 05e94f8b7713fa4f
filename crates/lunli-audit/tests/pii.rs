//! Personal information in tables: the same findings whatever the format (CSV UTF-8 or GBK,
//! JSON Lines, Parquet) or the number of partitions; k-anonymity and l-diversity equal to a
//! direct count; redacted copies in the input's format that hold no original value.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use lunli_audit::pii::{self, PiiReport, PiiRequest, ReidRequest};
use lunli_audit::{EncodingChoice, RunOptions};
use lunli_norms::Catalogue;
use lunli_pii::{Confidence, Mode, corpus};

/// Rows of people: a name, a mobile stored as a number, an ID, an address, free text and quasi-
/// identifiers, from a fixed seed.
struct People {
    names: Vec<String>,
    phones: Vec<i64>,
    ids: Vec<String>,
    notes: Vec<String>,
    ages: Vec<i64>,
    zips: Vec<String>,
    diagnoses: Vec<String>,
}

fn people(rows: usize) -> People {
    let lines = corpus::generate(11, rows);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let surnames = ["王", "李", "张", "刘"];
    let given = ["芳", "伟", "敏", "静", "强"];
    let (mut names, mut phones, mut ids, mut notes, mut ages, mut zips, mut diagnoses) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for line in lines {
        names.push(format!("{}{}", surnames[next(4) as usize], given[next(5) as usize]));
        phones.push(13_800_000_000 + next(99_999_999) as i64);
        ids.push("11010519491231002X".to_string());
        notes.push(line.text);
        ages.push(20 + next(50) as i64);
        zips.push(format!("1000{:02}", next(30)));
        diagnoses.push(["flu", "cold", "asthma"][next(3) as usize].to_string());
    }
    People { names, phones, ids, notes, ages, zips, diagnoses }
}

fn batch(rows: usize) -> RecordBatch {
    let People { names, phones, ids, notes, ages, zips, diagnoses } = people(rows);
    let schema = Arc::new(Schema::new(vec![
        Field::new("姓名", DataType::Utf8, true),
        Field::new("mobile", DataType::Int64, true),
        Field::new("id_card", DataType::Utf8, true),
        Field::new("note", DataType::Utf8, true),
        Field::new("age", DataType::Int64, true),
        Field::new("zip", DataType::Utf8, true),
        Field::new("diagnosis", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(names)),
        Arc::new(Int64Array::from(phones)),
        Arc::new(StringArray::from(ids)),
        Arc::new(StringArray::from(notes)),
        Arc::new(Int64Array::from(ages)),
        Arc::new(StringArray::from(zips)),
        Arc::new(StringArray::from(diagnoses)),
    ];
    RecordBatch::try_new(schema, columns).expect("batch")
}

fn write_all(dir: &Path, rows: usize) -> Vec<String> {
    let b = batch(rows);
    let csv = dir.join("people.csv");
    let mut w =
        datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(std::fs::File::create(&csv).expect("csv"));
    w.write(&b).expect("write csv");
    drop(w);
    let text = std::fs::read_to_string(&csv).expect("read csv");
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    let gbk_path = dir.join("people_gbk.csv");
    std::fs::write(&gbk_path, &gbk).expect("gbk");
    let jsonl = dir.join("people.jsonl");
    let mut w = datafusion::arrow::json::LineDelimitedWriter::new(std::fs::File::create(&jsonl).expect("jsonl"));
    w.write(&b).expect("write jsonl");
    w.finish().expect("finish");
    let parquet = dir.join("people.parquet");
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).expect("pq"),
        b.schema(),
        None,
    )
    .expect("writer");
    w.write(&b).expect("write parquet");
    w.close().expect("close");
    [csv, gbk_path, jsonl, parquet].iter().map(|p| p.display().to_string()).collect()
}

fn scan(input: &str, threads: usize) -> PiiReport {
    let options = RunOptions { threads: Some(threads), encoding: EncodingChoice::Auto, ..RunOptions::default() };
    let request = PiiRequest { inputs: vec![input.to_string()], minimum: Confidence::Possible };
    pii::scan(&request, &Catalogue::bundled().expect("catalogue"), &options).expect("scan")
}

/// Column → entity → count.
fn counts(report: &PiiReport) -> HashMap<(String, String), u64> {
    report
        .columns
        .iter()
        .flat_map(|c| {
            c.entities.iter().map(move |e| ((c.column.clone(), e.entity.as_str().to_string()), e.tally.count))
        })
        .collect()
}

#[test]
fn every_format_and_partitioning_finds_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_all(dir.path(), 3000);
    let reference = scan(&files[0], 1);
    assert_eq!(reference.rows, 3000);
    let c = counts(&reference);
    assert_eq!(c[&("姓名".to_string(), "name".to_string())], 3000);
    assert_eq!(c[&("mobile".to_string(), "mobile".to_string())], 3000, "numbers stored as integers are scanned");
    assert_eq!(c[&("id_card".to_string(), "resident_id".to_string())], 3000);
    assert!(!c.contains_key(&("age".to_string(), "mobile".to_string())));
    // Free text: at least the labelled identifiers of the corpus lines are found.
    let labelled =
        corpus::generate(11, 3000).iter().filter(|l| l.labels.iter().any(|(e, _, _)| e.as_str() == "email")).count();
    assert!(c[&("note".to_string(), "email".to_string())] >= labelled as u64);
    for file in &files {
        for threads in [1, 3] {
            let report = scan(file, threads);
            assert_eq!(counts(&report), c, "{file} with {threads} threads");
        }
    }
}

#[test]
fn k_anonymity_and_l_diversity_equal_a_direct_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_all(dir.path(), 5000);
    let People { ages, zips, diagnoses, .. } = people(5000);
    let mut classes: HashMap<(i64, String), (u64, std::collections::HashSet<String>)> = HashMap::new();
    for ((age, zip), d) in ages.iter().zip(&zips).zip(&diagnoses) {
        let class = classes.entry((*age, zip.clone())).or_default();
        class.0 += 1;
        class.1.insert(d.clone());
    }
    let k = 3;
    let smallest = classes.values().map(|c| c.0).min().expect("classes");
    let below: u64 = classes.values().filter(|c| c.0 < k).map(|c| c.0).sum();
    let unique = classes.values().filter(|c| c.0 == 1).count() as u64;
    let least_diverse = classes.values().map(|c| c.1.len() as u64).min().expect("classes");
    let below_l: u64 = classes.values().filter(|c| (c.1.len() as u64) < 2).map(|c| c.0).sum();
    for file in &files {
        let request = ReidRequest {
            inputs: vec![file.clone()],
            quasi: vec!["age".into(), "zip".into()],
            sensitive: Some("diagnosis".into()),
            k,
            l: 2,
        };
        let options = RunOptions { threads: Some(3), ..RunOptions::default() };
        let r = pii::reidentify(&request, &Catalogue::bundled().expect("catalogue"), &options).expect("reid");
        assert_eq!(r.rows, 5000, "{file}");
        assert_eq!(r.classes, classes.len() as u64, "{file}");
        assert_eq!(r.k_anonymity, smallest, "{file}");
        assert_eq!(r.rows_below_k, below, "{file}");
        assert_eq!(r.unique_rows, unique, "{file}");
        assert_eq!(r.l_diversity, Some(least_diverse), "{file}");
        assert_eq!(r.rows_below_l, Some(below_l), "{file}");
        assert_eq!(r.riskiest.first().map(|c| c.rows), Some(smallest));
        assert!(r.riskiest.windows(2).all(|w| w[0].rows <= w[1].rows));
    }
}

#[test]
fn redacted_tables_keep_format_order_and_other_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_all(dir.path(), 500);
    let People { names, phones, ages, .. } = people(500);
    for (file, extension) in files.iter().zip(["csv", "csv", "jsonl", "parquet"]) {
        let out =
            dir.path().join(format!("redacted_{}.{extension}", files.iter().position(|f| f == file).unwrap_or(0)));
        let report =
            pii::redact_table(file, &out, &Mode::Mask, Confidence::Possible, &RunOptions::default()).expect("redact");
        assert_eq!(report.rows, 500);
        assert_eq!(report.replaced["id_card"][&lunli_pii::Entity::ResidentId], 500, "{file}");
        assert_eq!(
            report.replaced["mobile"][&lunli_pii::Entity::Mobile],
            500,
            "{file}: the integer phone column became text"
        );
        // Read the copy back through the same input layer: same rows, in order, no originals.
        let again = scan(&out.display().to_string(), 1);
        assert_eq!(again.rows, 500);
        let c = counts(&again);
        assert!(!c.contains_key(&("id_card".to_string(), "resident_id".to_string())), "{file}: {c:?}");
        assert!(!c.contains_key(&("mobile".to_string(), "mobile".to_string())), "{file}");
        let bytes = std::fs::read(&out).expect("copy");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("11010519491231002X"), "{file}");
        assert!(!text.contains(&phones[0].to_string()), "{file}");
        assert!(!text.contains(&names[0]) || names[0].chars().count() < 2, "{file}");
        if extension != "parquet" {
            let first_age = ages[0].to_string();
            assert!(text.contains(&format!("{}*", names[0].chars().next().unwrap_or('?'))), "{file}");
            assert!(text.contains(&first_age), "{file}: ages are kept");
        }
    }
}

#[test]
fn gbk_text_files_are_transcoded_and_scanned_like_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "客户档案\n联系人手机：138 1234 5678，请勿外传。\n身份证号：11010519491231002X\n备注：无\n";
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the file really is GBK, not UTF-8");
    let gbk = dir.path().join("客户档案.txt");
    std::fs::write(&gbk, &bytes).expect("write");
    let utf8 = dir.path().join("same.txt");
    std::fs::write(&utf8, text).expect("write");

    let entities = |report: &PiiReport| -> Vec<(String, u64, u64)> {
        report.texts[0].locations.iter().map(|l| (l.entity.as_str().to_string(), l.line, l.offset)).collect()
    };
    let from_gbk = scan(&gbk.display().to_string(), 1);
    let from_utf8 = scan(&utf8.display().to_string(), 1);
    assert_eq!(from_gbk.texts[0].lines, 4);
    let found = entities(&from_gbk);
    assert!(found.iter().any(|(e, line, _)| e == "mobile" && *line == 2), "{found:?}");
    assert!(found.iter().any(|(e, line, _)| e == "resident_id" && *line == 3), "{found:?}");
    // Lines and offsets are those of the text, whatever its encoding on disk.
    assert_eq!(found, entities(&from_utf8));
}
