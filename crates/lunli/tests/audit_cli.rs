//! `lunli audit` as a user runs it: stable JSON, exit codes, the HTML page, and a run recorded as
//! evidence on the controls it concerns.

mod common;

use common::{Data, repo, write};
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;

fn shared(relative: &str) -> String {
    let path = repo().join("../shared/data").join(relative);
    assert!(path.exists(), "{} is missing: shared/ must sit beside the repository", path.display());
    path.display().to_string()
}

const ADULT: [&str; 9] =
    ["--label", "y_true", "--prediction", "y_pred", "--score", "score", "--sensitive", "sex,race", "--seed=1"];

#[test]
fn fairness_json_is_stable_and_matches_fairlearn() {
    let data = Data::new();
    let adult = shared("adult/adult_predictions.csv");
    let mut args = vec!["audit", "fairness", adult.as_str()];
    args.extend(ADULT);
    let report = data.json("li-wei", &args);
    assert_eq!(report["audit"], "fairness");
    assert_eq!(report["rows"], 16281);
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(shared("adult/fairlearn_reference.json")).expect("read"))
            .expect("json");
    let sex =
        report["attributes"].as_array().expect("attributes").iter().find(|a| a["attribute"] == "sex").expect("sex");
    let ours = sex["disparities"]["demographic_parity_difference"].as_f64().expect("number");
    let theirs = reference["demographic_parity_difference_sex"].as_f64().expect("number");
    assert!((ours - theirs).abs() < 1e-9);
    assert_eq!(report["controls"], serde_json::json!(["C-13-03"]));
    assert_eq!(report["passed"], false);
    assert!(report["findings"][0]["controls"][0] == "C-13-03");
    // The table names the groups and the verdict.
    let table = data.ok("li-wei", &args);
    assert!(table.contains("Female") && table.contains("Result: FAILED"), "{table}");
}

#[test]
fn bad_input_exits_3_naming_file_line_and_column() {
    let data = Data::new();
    let adult = shared("adult/adult_predictions.csv");
    data.lunli("li-wei")
        .args(["audit", "fairness", &adult, "--label", "truth", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("column `truth`: no such column"));
    let mut text = std::fs::read_to_string(&adult).expect("read");
    text = text.replacen("\n0,0,", "\n7,0,", 1);
    let file = write(data.dir.path(), "seven.csv", &text);
    data.lunli("li-wei")
        .args(["audit", "fairness", &file, "--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .assert()
        .code(3)
        .stderr(contains("seven.csv:2: row 1, column `y_true`"))
        .stderr(contains("non-binary"));
    let empty = write(data.dir.path(), "empty.csv", "");
    data.lunli("li-wei")
        .args(["audit", "quality", &empty])
        .assert()
        .code(3)
        .stderr(contains("empty.csv: the file is empty"));
    let policy = write(data.dir.path(), "policy.yaml", "fairness:\n  disparate_impact: 0.8\n");
    data.lunli("li-wei")
        .args(["audit", "fairness", &adult, "--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .args(["--policy", &policy])
        .assert()
        .code(3)
        .stderr(contains("policy.yaml:2"));
    // A wrong command line is exit 2, as everywhere.
    data.lunli("li-wei").args(["audit", "fairness", &adult, "--label", "y_true"]).assert().code(2);
}

#[test]
fn strict_fails_the_pipeline_and_a_policy_can_pass_it() {
    let data = Data::new();
    let compas = shared("compas/compas_predictions.csv");
    let args =
        ["audit", "fairness", compas.as_str(), "--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"];
    data.lunli("ci").args(args).arg("--strict").assert().code(5).stderr(contains("fairness audit failed"));
    let lenient = write(
        data.dir.path(),
        "lenient.yaml",
        "fairness:\n  predictive_parity_difference: { max: 0.2, severity: medium }\n",
    );
    data.lunli("ci").args(args).args(["--strict", "--policy", &lenient]).assert().success();
}

#[test]
fn a_run_with_system_lands_as_evidence_on_its_controls() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let adult = shared("adult/adult_predictions.csv");
    let html = data.dir.path().join("fairness.html").display().to_string();
    let mut args = vec!["audit", "fairness", adult.as_str()];
    args.extend(ADULT);
    args.extend(["--bootstrap", "20", "--system", "credit-scoring", "--html", html.as_str()]);
    let report = data.json("li-wei", &args);
    assert_eq!(report["evidence"][0]["control"], "C-13-03");
    let page = std::fs::read_to_string(&html).expect("HTML written");
    assert!(page.contains("<svg") && page.contains("Female") && !page.contains("<script"));
    // Rendered by lunli-report from the typed summary: every rate, the limits, the bootstrap.
    for term in ["差别影响比", "disparate impact ratio", "≥ 0.8", "20 replicates", "20 次重抽样", "精确率", "C-13-03"]
    {
        assert!(page.contains(term), "the fairness page lacks {term}");
    }

    let test = shared("adult/adult.test.csv");
    let rules =
        write(data.dir.path(), "rules.yaml", "null_values: ['?']\ncolumns:\n  sex: { allowed: [Male, Female] }\n");
    let quality_html = data.dir.path().join("quality.html").display().to_string();
    let quality = data.json(
        "li-wei",
        &["audit", "quality", &test, "--rules", &rules, "--system", "credit-scoring", "--html", &quality_html],
    );
    let page = std::fs::read_to_string(&quality_html).expect("quality page written");
    for term in ["数据质量审计", "Data-quality audit", "缺失率", "sex", "workclass", "<svg"] {
        assert!(page.contains(term), "the quality page lacks {term}");
    }
    assert!(!page.contains("<script"), "no script on an audit page");
    assert_eq!(quality["evidence"][0]["control"], "C-11-02");

    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let evidence = |control: &str| -> Value {
        let controls = assessment["controls"].as_array().expect("controls");
        let state = controls.iter().find(|c| c["control"] == control).expect("control in the assessment");
        state["evidence"][0]["item"].clone()
    };
    let fairness = evidence("C-13-03");
    assert_eq!(fairness["type"], "audit");
    assert_eq!(fairness["audit"], "fairness");
    assert_eq!(fairness["passed"], false);
    let sha = fairness["summary"]["inputs"][0]["sha256"].as_str().expect("sha256 of the input");
    assert_eq!(sha, "cde2af493396deef01be5eb05ffe783ff4258f82f94aefcc6c091ecdf51c1f71", "SOURCE.md's hash");
    assert_eq!(fairness["summary"]["parameters"]["bootstrap"]["replicates"], 20);
    let quality = evidence("C-11-02");
    assert_eq!(quality["audit"], "quality");
    assert_eq!(quality["summary"]["rows"], 16281);

    // A system without the controls in its assessment is refused, and nothing is recorded.
    data.lunli("li-wei")
        .args(["audit", "fairness", &adult, "--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .args(["--system", "ghost"])
        .assert()
        .code(4);
}

#[test]
fn quality_json_tags_every_figure_with_its_dimension() {
    let data = Data::new();
    let csv = write(
        data.dir.path(),
        "patients.csv",
        "id,sex,age,birth,visit,updated\n\
         1,F,34,1990-01-01,2024-01-05,2024-06-01\n\
         2,M,,1985-05-05,2024-02-01,2024-06-02\n\
         2,M,,1985-05-05,2024-02-01,2024-06-02\n\
         3,X,200,2030-01-01,2024-03-01,2024-06-03\n\
         4,F,51,1970-07-07,2024-03-02,2024-06-04\n",
    );
    let rules = write(
        data.dir.path(),
        "rules.yaml",
        "columns:\n  sex: { allowed: [F, M] }\n  age: { min: 0, max: 120 }\n  id: { unique: true, pattern: '^[0-9]+$' }\n\
         checks:\n  - { name: born-before-visit, before: [birth, visit] }\n\
         freshness: { column: updated, max_age: 30d }\n\
         representation:\n  - { column: sex, reference: { F: 0.5, M: 0.5 } }\n",
    );
    let report = data.json("li-wei", &["audit", "quality", &csv, "--rules", &rules]);
    assert_eq!(report["rows"], 5);
    assert_eq!(report["duplicates"]["rows"], 1);
    let rule = |name: &str| {
        report["rules"].as_array().expect("rules").iter().find(|r| r["rule"] == name).cloned().expect(name)
    };
    assert_eq!(rule("sex.allowed")["violations"], 1);
    assert_eq!(rule("sex.allowed")["example"], "X");
    assert_eq!(rule("age.max")["violations"], 1);
    assert_eq!(rule("born-before-visit")["violations"], 1);
    assert_eq!(report["keys"][0]["duplicates"], 1);
    assert_eq!(report["freshness"]["dimension"], "timeliness");
    let dims: Vec<&str> =
        report["findings"].as_array().expect("findings").iter().filter_map(|f| f["dimension"].as_str()).collect();
    for d in ["completeness", "timeliness", "consistency", "normativeness", "accuracy"] {
        assert!(dims.contains(&d), "a {d} finding in {dims:?}");
    }
    for column in report["columns"].as_array().expect("columns") {
        for figure in column["figures"].as_array().expect("figures") {
            assert!(figure["dimension"].is_string(), "{figure}");
        }
    }
}

#[test]
fn columns_come_from_lunli_yaml_and_flags_override_them() {
    let data = Data::new();
    let predictions = repo().join("examples/credit-scoring/data/predictions.csv").display().to_string();
    let manifest = repo().join("examples/credit-scoring/lunli.yaml").display().to_string();
    let report = data.json("li-wei", &["audit", "fairness", &predictions, "--manifest", &manifest]);
    let attributes: Vec<&str> =
        report["attributes"].as_array().expect("attributes").iter().filter_map(|a| a["attribute"].as_str()).collect();
    assert_eq!(attributes, ["sex", "race", "sex|race"]);
    assert_eq!(report["parameters"]["score"], "score", "{}", report["parameters"]);
    // A flag replaces the manifest's choice.
    let report =
        data.json("li-wei", &["audit", "fairness", &predictions, "--manifest", &manifest, "--sensitive", "race"]);
    let attributes: Vec<&str> =
        report["attributes"].as_array().expect("attributes").iter().filter_map(|a| a["attribute"].as_str()).collect();
    assert_eq!(attributes, ["race"]);

    // A lunli.yaml without an `audits:` part and no flags: exit 3, naming the file and what to add.
    let bare = std::fs::read_to_string(&manifest).expect("read");
    let bare = bare.split("\naudits:").next().expect("before audits");
    let bare = write(data.dir.path(), "lunli.yaml", bare);
    data.lunli("li-wei")
        .args(["audit", "fairness", &predictions, "--manifest", &bare])
        .assert()
        .code(3)
        .stderr(contains("lunli.yaml").and(contains("audits: fairness:")));
    // Neither flags nor a manifest: clap says what is required.
    data.lunli("li-wei").args(["audit", "fairness", &predictions]).assert().code(2).stderr(contains("--label"));
}

#[test]
fn limits_on_group_names_and_replicates_exit_3_naming_them() {
    let data = Data::new();
    // A 1 MB group name made the terminal table run past a minute; it is refused at its row.
    let long = "g".repeat(1_000_000);
    let mut text = String::from("y,p,s\n");
    for (i, s) in ["a", "b", "a", long.as_str(), "b"].iter().enumerate() {
        text.push_str(&format!("{},{},{s}\n", i % 2, (i / 2) % 2));
    }
    let file = write(data.dir.path(), "long-group.csv", &text);
    let args = ["audit", "fairness", file.as_str(), "--label", "y", "--prediction", "p", "--sensitive", "s"];
    data.lunli("li-wei")
        .args(args)
        .assert()
        .code(3)
        .stderr(contains("long-group.csv:5: row 4, column `s`"))
        .stderr(contains("1000000 characters, longer than the 1024"));
    // Replicates beyond the cap are refused before any data is read.
    let adult = shared("adult/adult_predictions.csv");
    data.lunli("li-wei")
        .args(["audit", "fairness", &adult, "--label", "y_true", "--prediction", "y_pred", "--sensitive", "sex"])
        .args(["--bootstrap", "4000000000"])
        .assert()
        .code(3)
        .stderr(contains("--bootstrap 4000000000 is more than the 100000 replicates"));
}
