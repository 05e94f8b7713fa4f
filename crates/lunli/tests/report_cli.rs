//! `lunli report`: per system and for the organisation, in every format, recorded in the
//! ledger, and `lunli report verify` passing on a fresh report and exiting 7 on an altered one.

mod common;

use common::Data;
use predicates::str::contains;
use serde_json::Value;

fn shared(path: &str) -> String {
    common::repo().join("../shared/data").join(path).display().to_string()
}

fn out(data: &Data, name: &str) -> String {
    data.dir.path().join(name).display().to_string()
}

#[test]
fn a_report_is_recorded_and_verifies_until_altered() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let json = out(&data, "report.json");
    let said = data.ok("chen-jie", &["report", "credit-scoring", "--out", &json]);
    assert!(said.contains("recorded in the ledger"), "{said}");
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    assert_eq!(document["report"]["header"]["format"], "lunli-report/1");
    assert_eq!(document["report"]["system"]["id"], "credit-scoring");
    assert_eq!(document["report"]["tiering"]["tier"]["id"], "high");
    assert_eq!(document["verification"]["entry"]["action"], "report.issue");
    assert_eq!(document["verification"]["entry"]["actor"], "chen-jie");

    // The entry is in the ledger, which still verifies as a whole.
    data.ok("admin", &["ledger", "verify"]);
    let index = document["verification"]["entry"]["index"].as_u64().expect("index").to_string();
    let proof = data.json("admin", &["ledger", "proof", "--index", &index]);
    assert_eq!(proof["entry"], document["verification"]["entry"]);

    let key = data.dir.path().join("ledger-key.pub.pem").display().to_string();
    data.lunli("auditor")
        .args(["report", "verify", &json, "--public-key", &key])
        .assert()
        .success()
        .stdout(contains("Verified"));
    let unkeyed = data.ok("auditor", &["report", "verify", &json]);
    assert!(unkeyed.contains("no --public-key given"), "{unkeyed}");

    let altered = out(&data, "altered.json");
    let text = std::fs::read_to_string(&json).expect("read");
    let changed = text.replacen("Estimate the probability", "Estimate the likelihood", 1);
    assert_ne!(changed, text);
    std::fs::write(&altered, changed).expect("write");
    data.lunli("auditor")
        .args(["report", "verify", &altered, "--public-key", &key])
        .assert()
        .code(7)
        .stderr(contains("the report was altered"));

    // Another ledger's key: exit 7 too.
    let other = Data::new();
    other.ok("admin", &["person", "add", "x", "--name", "x", "--role", "owner"]);
    let other_key = other.dir.path().join("ledger-key.pub.pem").display().to_string();
    data.lunli("auditor")
        .args(["report", "verify", &json, "--public-key", &other_key])
        .assert()
        .code(7)
        .stderr(contains("is not the one given"));
}

#[test]
fn html_report_carries_the_audit_and_verifies_too() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let adult = shared("adult/adult_predictions.csv");
    data.ok(
        "li-wei",
        &[
            "audit",
            "fairness",
            &adult,
            "--label",
            "y_true",
            "--prediction",
            "y_pred",
            "--score",
            "score",
            "--sensitive",
            "sex",
            "--bootstrap",
            "20",
            "--seed",
            "7",
            "--system",
            "credit-scoring",
            "--html",
            &out(&data, "audit.html"),
        ],
    );
    let html = out(&data, "report.html");
    data.ok("chen-jie", &["--lang", "both", "report", "credit-scoring", "--out", &html]);
    let page = std::fs::read_to_string(&html).expect("written");
    // The audit's own page and the report name every disparity with the same words, the
    // vocabulary's, and in both languages.
    let audit_page = std::fs::read_to_string(out(&data, "audit.html")).expect("audit page written");
    for term in lunli_norms::terms::DISPARITIES {
        for (renderer, html) in [("audit page", &audit_page), ("report", &page)] {
            assert!(html.contains(term.zh) && html.contains(term.en), "{renderer} lacks {} / {}", term.zh, term.en);
        }
    }
    assert!(!page.contains("人口均等差") && !audit_page.contains("人口均等差"), "the drifted name is gone");
    assert!(page.contains("公平性审计") && page.contains("Fairness audit (Art. 13)"));
    assert!(page.contains("Female") && page.contains("Male") && page.contains("<svg"));
    assert!(page.contains("差别影响比"), "disparities named in Chinese");
    assert!(!page.contains(" src=") && !page.contains("<link"), "self-contained");
    let said = data.ok("auditor", &["report", "verify", &html]);
    assert!(said.contains("every byte of"), "{said}");

    // One visible byte edited, outside the embedded data: the page no longer verifies.
    let edited = out(&data, "edited.html");
    let changed = page.replacen("Fairness audit (Art. 13)", "Fairness audit (Art. 14)", 1);
    assert_ne!(changed, page);
    std::fs::write(&edited, changed).expect("write");
    let key = data.dir.path().join("ledger-key.pub.pem").display().to_string();
    data.lunli("auditor")
        .args(["report", "verify", &edited, "--public-key", &key])
        .assert()
        .code(7)
        .stderr(contains("the page was altered"));

    // The JSON of the same run reads the fairness summary's groups and intervals.
    let document = data.json("chen-jie", &["report", "credit-scoring"]);
    let fairness = &document["report"]["audits"][0];
    assert_eq!(fairness["audit"], "fairness");
    assert_eq!(fairness["passed"], false);
    let female = &fairness["attributes"][0]["groups"][0];
    assert_eq!(female["group"], "Female");
    assert_eq!(female["count"], 5421);
    let interval = female["selection_rate"]["interval"].as_array().expect("a bootstrap interval");
    let value = female["selection_rate"]["value"].as_f64().expect("value");
    assert!(interval[0].as_f64().expect("lo") <= value && value <= interval[1].as_f64().expect("hi"));
}

#[test]
fn organisation_report_and_mistakes() {
    let data = Data::new();
    data.credit_scoring();
    let html = out(&data, "org.html");
    data.ok("chen-jie", &["--lang", "zh", "report", "--org", "--out", &html]);
    let page = std::fs::read_to_string(&html).expect("written");
    assert!(page.contains("AI 系统清单概览") && page.contains("credit-scoring"));
    let document = data.json("chen-jie", &["report", "--org"]);
    let tiers = document["report"]["by_tier"].as_array().expect("by tier");
    let high = tiers.iter().find(|t| t["id"] == "high").expect("high");
    assert_eq!(high["count"], 1);
    assert_eq!(document["verification"]["entry"]["subject"], "organisation");

    data.lunli("x")
        .args(["report", "ghost", "--out", &out(&data, "g.html")])
        .assert()
        .code(4)
        .stderr(contains("ghost"));
    data.lunli("x")
        .args(["report", "credit-scoring", "--out", &out(&data, "r.docx")])
        .assert()
        .code(3)
        .stderr(contains(".html, .json or .pdf"));
    let junk = out(&data, "junk.html");
    std::fs::write(&junk, "<html>hello</html>").expect("write");
    data.lunli("x").args(["report", "verify", &junk]).assert().code(3).stderr(contains("no embedded document"));
    let not_a_report = out(&data, "other.json");
    std::fs::write(&not_a_report, r#"{"entries": []}"#).expect("write");
    data.lunli("x").args(["report", "verify", &not_a_report]).assert().code(3).stderr(contains("no `report` member"));
}

#[test]
fn pdf_needs_chromium_and_says_so() {
    let data = Data::new();
    data.credit_scoring();
    data.lunli("x")
        .env("LUNLI_CHROMIUM", data.dir.path().join("no-such-chromium"))
        .args(["report", "credit-scoring", "--out", &out(&data, "r.pdf")])
        .assert()
        .code(1)
        .stderr(contains("LUNLI_CHROMIUM"));
    let pdf = out(&data, "r.pdf");
    data.ok("x", &["report", "credit-scoring", "--out", &pdf]);
    let bytes = std::fs::read(&pdf).expect("PDF written");
    assert!(bytes.starts_with(b"%PDF-"));

    // The PDF's own SHA-256 is in the ledger: it verifies from the data directory's ledger, and
    // offline from an export with the key.
    let said = data.ok("auditor", &["report", "verify", &pdf]);
    assert!(said.contains("is the file ledger entry") && said.contains("no --public-key given"), "{said}");
    let key = data.dir.path().join("ledger-key.pub.pem").display().to_string();
    let bundle = out(&data, "ledger.json");
    data.ok("admin", &["ledger", "export", "--out", &bundle]);
    let offline = data.json("auditor", &["report", "verify", &pdf, "--bundle", &bundle, "--public-key", &key]);
    assert_eq!(offline["covers"], "file");
    assert_eq!(offline["trusted_key"], true);
    assert_eq!(offline["file_sha256"], lunli_ledger::Hash::sha256(&bytes).to_hex());

    // One byte changed: no entry records that file.
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    let altered_pdf = out(&data, "altered.pdf");
    std::fs::write(&altered_pdf, &altered).expect("write");
    for args in [
        vec!["report", "verify", &altered_pdf],
        vec!["report", "verify", &altered_pdf, "--bundle", &bundle, "--public-key", &key],
    ] {
        data.lunli("auditor").args(&args).assert().code(7).stderr(contains("no ledger entry records a file"));
    }
    data.lunli("auditor")
        .args(["report", "verify", &pdf, "--bundle", &bundle])
        .assert()
        .failure()
        .stderr(contains("--bundle needs --public-key"));
}
