//! `lunli crosswalk`: coverage of a framework, the uncovered items, and one system's standing
//! in a framework's terms from its assessment.

mod common;

use common::{Data, example};

#[test]
fn framework_list_and_coverage_figures() {
    let data = Data::new();
    let list = data.json("admin", &["crosswalk"]);
    let frameworks = list["frameworks"].as_array().expect("frameworks");
    assert_eq!(frameworks.len(), 5);
    let iso = frameworks.iter().find(|f| f["id"] == "iso-iec-42001-2023").expect("iso listed");
    assert_eq!(iso["summary"]["items"], 38);

    let nist = data.json("admin", &["crosswalk", "nist-ai-rmf-1.0"]);
    let summary = &nist["summary"];
    assert_eq!(summary["items"], 72);
    let uncovered = summary["uncovered"].as_u64().expect("count");
    let only = data.json("admin", &["crosswalk", "nist-ai-rmf-1.0", "--uncovered"]);
    let items = only["items"].as_array().expect("items");
    assert_eq!(items.len() as u64, uncovered, "--uncovered lists exactly the uncovered leaves");
    assert!(items.iter().all(|i| i["controls"].as_array().is_some_and(Vec::is_empty)));

    let table = data.ok("admin", &["crosswalk", "iso-iec-42001-2023"]);
    assert!(table.contains("AI system verification and validation"), "{table}");
    assert!(table.contains("38 items"), "{table}");
    let zh = data.ok("admin", &["--lang", "zh", "crosswalk", "iso-iec-42001-2023"]);
    assert!(zh.contains("人工智能系统验证和确认"), "{zh}");
}

#[test]
fn an_unknown_framework_is_not_found() {
    let data = Data::new();
    let output = data.lunli("admin").args(["crosswalk", "gdpr"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no framework `gdpr`") && stderr.contains("eu-ai-act"), "{stderr}");
}

#[test]
fn a_system_in_iso_42001_terms() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    data.ok("li-wei", &["evidence", "add", "credit-scoring", "C-15-01", "--file", &example("docs/model-card.md")]);
    data.ok("li-wei", &["control", "set", "credit-scoring", "C-15-01", "met"]);

    let view = data.json("admin", &["crosswalk", "iso-iec-42001-2023", "--system", "credit-scoring"]);
    assert_eq!(view["system"], "credit-scoring");
    let items = view["items"].as_array().expect("items");
    assert_eq!(items.len(), 38);
    let a624 = items.iter().find(|i| i["id"] == "A.6.2.4").expect("A.6.2.4");
    // C-15-01 met, C-12-03 (robustness, high tier) still open.
    assert_eq!(a624["state"], "partly-met");
    let c1501 =
        a624["controls"].as_array().expect("controls").iter().find(|c| c["control"] == "C-15-01").expect("C-15-01");
    assert_eq!(c1501["status"], "met");
    assert!(c1501["evidence"][0].as_str().is_some_and(|e| e.starts_with("file model-card.md sha256:")), "{c1501}");
    let not_covered = items.iter().filter(|i| i["state"] == "not-covered").count();
    assert_eq!(view["summary"]["not_covered"], not_covered);

    let text = data.ok("admin", &["crosswalk", "iso-iec-42001-2023", "--system", "credit-scoring"]);
    assert!(text.contains("A.6.2.4: partly met by C-15-01 met; evidence file model-card.md sha256:"), "{text}");
    let open = data.json("admin", &["crosswalk", "iso-iec-42001-2023", "--system", "credit-scoring", "--uncovered"]);
    assert!(open["items"].as_array().expect("items").iter().all(|i| i["state"] != "met"));
}
