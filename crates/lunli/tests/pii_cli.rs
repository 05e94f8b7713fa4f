//! `lunli audit pii`, `lunli audit reid` and `lunli redact` end to end: real files, the real
//! binary, and evidence in a real SQLite store.

mod common;

use common::{Data, write};
use serde_json::Value;

const ID: &str = "11010519491231002X";
const MOBILE: &str = "13812345678";
const EMAIL: &str = "li.wei@example.com";

const PEOPLE: &str = "姓名,phone,id_card,address,note,age,sex,zip,diagnosis
王芳,13812345678,11010519491231002X,北京市朝阳区建国路88号,客户来电咨询,34,F,100020,flu
李伟,139-1234-5678,110105491231002,上海市浦东新区人民路5号,邮箱 li.wei@example.com,34,F,100020,cold
张敏,+86 137 0000 1111,110105194912310021,广东省深圳市南山区科技园南路1号,无,51,M,518000,flu
Wei Chen,15012345678,11010519491231002X,12 Baker Street London,order 2026112712345678,29,M,200000,asthma
";

fn entity<'a>(entities: &'a Value, name: &str) -> &'a Value {
    entities
        .as_array()
        .expect("entities")
        .iter()
        .find(|e| e["entity"] == name)
        .unwrap_or_else(|| panic!("{name} in {entities}"))
}

#[test]
fn a_table_per_column_with_masked_samples_only() {
    let data = Data::new();
    let csv = write(data.dir.path(), "people.csv", PEOPLE);
    let out = data.lunli("li-wei").args(["audit", "pii", &csv, "--format", "json"]).output().expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    for full in [ID, MOBILE, EMAIL, "王芳"] {
        assert!(!stdout.contains(full), "the report shows {full} in full");
    }
    let report: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(report["rows"], 4);
    let columns = report["columns"].as_array().expect("columns");
    let column = |name: &str| columns.iter().find(|c| c["column"] == name).expect("column");
    let ids = entity(&column("id_card")["entities"], "resident_id");
    assert_eq!(ids["count"], 4);
    // The column's name raises the 15-digit form from likely to high; a failed check digit
    // stays possible.
    assert_eq!(ids["high"], 3);
    assert_eq!(ids["possible"], 1);
    assert_eq!(ids["checksum_failed"], 1);
    assert_eq!(ids["samples"][0]["masked"], "110************02X");
    assert_eq!(entity(&column("phone")["entities"], "mobile")["count"], 4);
    assert_eq!(entity(&column("姓名")["entities"], "name")["count"], 4);
    assert_eq!(entity(&column("address")["entities"], "address")["count"], 4);
    assert_eq!(entity(&column("note")["entities"], "email")["count"], 1);
    assert!(
        column("note")["entities"].as_array().expect("list").iter().all(|e| e["entity"] != "bank_card"),
        "an order number"
    );
    assert!(column("age")["entities"].as_array().expect("list").is_empty());
    assert_eq!(report["passed"], false);
    let sensitive = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == "pii.resident_id")
        .expect("finding");
    assert_eq!(sensitive["severity"], "high");
    assert_eq!(report["controls"], serde_json::json!(["C-03-04", "C-11-03"]));
}

#[test]
fn text_per_line_and_offset_and_evidence_with_system() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let text = format!("# 客户档案\n\n身份证号：{ID}\nMail {EMAIL} please.\n");
    let md = write(data.dir.path(), "notes.md", &text);
    let report = data.json("li-wei", &["audit", "pii", &md, "--system", "credit-scoring"]);
    let file = &report["texts"][0];
    assert_eq!(file["lines"], 4);
    let locations = file["locations"].as_array().expect("locations");
    assert_eq!(locations.len(), 2);
    assert_eq!(locations[0]["line"], 3);
    assert_eq!(locations[0]["offset"].as_u64(), text.find(ID).map(|o| o as u64));
    assert_eq!(locations[1]["entity"], "email");
    assert_eq!(locations[1]["masked"], "l***@example.com");
    assert_eq!(report["evidence"][0]["control"], "C-03-04");
    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let controls = assessment["controls"].as_array().expect("controls");
    let state = controls.iter().find(|c| c["control"] == "C-03-04").expect("C-03-04 in the assessment");
    assert_eq!(state["evidence"][0]["item"]["audit"], "pii");
    assert!(!assessment.to_string().contains(ID), "the evidence holds no full identifier");
}

#[test]
fn reidentification_risk() {
    let data = Data::new();
    let csv = write(data.dir.path(), "people.csv", PEOPLE);
    let report =
        data.json("li-wei", &["audit", "reid", &csv, "--quasi", "age,sex,zip", "--sensitive", "diagnosis", "--k", "2"]);
    assert_eq!(report["classes"], 3);
    assert_eq!(report["k_anonymity"], 1);
    assert_eq!(report["rows_below_k"], 2);
    assert_eq!(report["share_below_k"], 0.5);
    assert_eq!(report["unique_rows"], 2);
    assert_eq!(report["l_diversity"], 1);
    assert_eq!(report["riskiest"][2]["rows"], 2);
    assert_eq!(report["riskiest"][2]["values"]["zip"], "100020");
    // Missing column: exit 3 naming it.
    let out = data.lunli("li-wei").args(["audit", "reid", &csv, "--quasi", "age,postcode"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("postcode"));
}

#[test]
fn redacted_copies_of_text_and_tables() {
    let data = Data::new();
    let dir = data.dir.path();
    let csv = write(dir, "people.csv", PEOPLE);
    let copy = dir.join("people.redacted.csv");
    let report = data.json("li-wei", &["redact", &csv, "-o", copy.to_str().expect("path")]);
    assert_eq!(report["rows"], 4);
    assert_eq!(report["replaced"]["phone"]["mobile"], 4);
    let redacted = std::fs::read_to_string(&copy).expect("copy written");
    for full in [ID, MOBILE, EMAIL, "王芳", "110105194912310021"] {
        assert!(!redacted.contains(full), "{full} left in the copy");
    }
    assert_eq!(redacted.lines().count(), 5);
    assert!(redacted.contains(",34,F,100020,flu"), "other columns are unchanged: {redacted}");

    let key = write(dir, "key", "0123456789abcdef0123456789abcdef\n");
    let text = write(dir, "chat.txt", &format!("手机 {MOBILE}，再说一次 138-1234-5678\n"));
    let hashed = dir.join("chat.hashed.txt");
    data.ok("li-wei", &["redact", &text, "-o", hashed.to_str().expect("path"), "--mode", "hash", "--key-file", &key]);
    let hashed = std::fs::read_to_string(&hashed).expect("copy");
    let tokens: Vec<&str> =
        hashed.split(|c: char| c.is_whitespace() || c == '，').filter(|t| t.starts_with("mobile:")).collect();
    assert_eq!(tokens.len(), 2, "{hashed}");
    assert_eq!(tokens[0], tokens[1], "one number written two ways hashes alike");

    let general = dir.join("people.general.csv");
    data.ok("li-wei", &["redact", &csv, "-o", general.to_str().expect("path"), "--mode", "generalise"]);
    let general = std::fs::read_to_string(&general).expect("copy");
    assert!(general.contains(",110105,北京市朝阳区,"), "{general}");
}

#[test]
fn bad_input_is_named_and_nothing_is_half_written() {
    let data = Data::new();
    let dir = data.dir.path();
    let fail = |args: &[&str], needle: &str| {
        let out = data.lunli("li-wei").args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{stderr}");
    };
    let binary = dir.join("blob.txt");
    std::fs::write(&binary, b"PK\x03\x04\x00\x00binary").expect("write");
    fail(&["audit", "pii", binary.to_str().expect("path")], "binary file");
    let empty = write(dir, "empty.md", "");
    fail(&["audit", "pii", &empty], "empty");
    let latin1 = dir.join("latin1.txt");
    std::fs::write(&latin1, b"line one\nna\xefve caf\xe9\n").expect("write");
    fail(
        &["audit", "pii", latin1.to_str().expect("path")],
        "latin1.txt:2: not valid UTF-8 (nor GBK/GB18030 text) at byte offset 11",
    );
    let out = dir.join("out.txt");
    fail(&["redact", latin1.to_str().expect("path"), "-o", out.to_str().expect("path")], "not valid UTF-8");
    assert!(!out.exists(), "no copy is left behind");
    assert!(
        std::fs::read_dir(dir).expect("dir").all(|e| !e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
    let text = write(dir, "a.txt", "手机 13812345678\n");
    fail(&["redact", &text, "-o", out.to_str().expect("path"), "--mode", "hash"], "--key-file");
    fail(&["redact", &text, "-o", dir.join("out.txt.gz").to_str().expect("path")], "uncompressed");
    let short = write(dir, "short.key", "abc");
    fail(&["redact", &text, "-o", out.to_str().expect("path"), "--mode", "hash", "--key-file", &short], "at least 16");
}

#[test]
fn what_a_person_reads() {
    let data = Data::new();
    write(data.dir.path(), "people.csv", PEOPLE);
    let out = data
        .lunli("li-wei")
        .current_dir(data.dir.path())
        .env("LUNLI_LANG", "both")
        .args(["audit", "pii", "people.csv", "--html", "pii.html"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    insta::assert_snapshot!("pii_table_both", text);
    let page = std::fs::read_to_string(data.dir.path().join("pii.html")).expect("HTML written");
    assert!(page.contains("居民身份证号码") && page.contains("110************02X") && !page.contains("<script"));
    for full in [ID, MOBILE, EMAIL, "王芳"] {
        assert!(!page.contains(full) && !text.contains(full), "{full} shown in full");
    }
}
