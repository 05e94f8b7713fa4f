//! Norm packs (Art. 24): the example pack layers over the base and tightens it; a pack that
//! loosens the base is rejected with its file, line and reason.

use std::path::{Path, PathBuf};

use lunli_norms::{Catalogue, CatalogueError, Pack, Problem, Tier};

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/packs/bank-credit")
}

const MANIFEST: &str = r#"[pack]
id = "loose"
version = "0.1"
title = { zh = "宽松包", en = "Loose pack" }
description = { zh = "测试用", en = "For tests" }
"#;

/// A pack made of the manifest and one more file; returns the problems of layering it.
fn problems_of(name: &str, contents: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pack.toml"), MANIFEST).expect("write");
    std::fs::write(dir.path().join(name), contents).expect("write");
    let pack = Pack::read(dir.path()).expect("manifest is valid");
    match Catalogue::layered(None, &[pack]) {
        Ok(_) => panic!("{name} should be rejected"),
        Err(CatalogueError::Invalid(problems)) => {
            for p in &problems {
                assert!(Path::new(&p.file).ends_with(name), "problem is in the pack file: {p}");
            }
            problems
        }
        Err(other) => panic!("expected problems, got {other}"),
    }
}

#[test]
fn the_example_pack_adds_and_tightens() {
    let base = Catalogue::bundled().expect("base");
    let pack = Pack::read(&example()).expect("example pack reads");
    assert_eq!((pack.manifest.id.as_str(), pack.manifest.version.as_str()), ("bank-credit", "1.0.0"));
    let layered = Catalogue::layered(None, std::slice::from_ref(&pack)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(layered.controls().len(), base.controls().len() + 2);
    assert!(layered.control("BANK-13-01").is_some() && layered.control("BANK-13-02").is_some());
    assert_eq!(base.control("C-13-03").map(|c| c.tier), Some(Tier::High));
    assert_eq!(layered.control("C-13-03").map(|c| c.tier), Some(Tier::Medium));
    let high = layered.tier_policy(Tier::High);
    assert!(high.signoff_roles.contains(&"credit-review".to_string()));
    assert_eq!(high.review_months, Some(3));
    assert_eq!(layered.tier_policy(Tier::Medium), base.tier_policy(Tier::Medium));
    assert!(layered.rule("R-BANK-CREDIT-HIGH").is_some() && layered.question("Q-BANK-DECLINE-REASONS").is_some());
    assert_ne!(layered.ruleset_digest(), base.ruleset_digest(), "pack rules change the digest");
    assert_eq!(layered.packs(), [pack.reference()]);
    assert_eq!(pack.reference().digest.len(), 64);
    assert!(pack.file("audit-policy.yaml").is_some(), "non-catalogue files travel with the pack");
}

#[test]
fn raising_a_controls_tier_is_rejected() {
    let control = r#"[[control]]
id = "C-16-01"
articles = [16, 3]
principles = ["P4"]
activity = "supply"
tier = "high"
kind = "runtime-guard"
title.zh = "告知"
title.en = "Tell"
guidance.zh = "告知"
guidance.en = "Tell"
evidence.accepts = ["runtime"]
evidence.zh = "记录"
evidence.en = "Record"
"#;
    let problems = problems_of("controls.toml", control);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column), (6, 8));
    assert!(
        problems[0].reason.contains(
            "pack loose loosens control C-16-01: the base requires it from tier low, and tier = \"high\" would drop it for low and medium tier systems"
        ),
        "{}",
        problems[0].reason
    );
}

#[test]
fn accepting_weaker_evidence_is_rejected() {
    let control = r#"[[control]]
id = "C-13-03"
articles = [13, 3]
principles = ["P2"]
activity = "research"
tier = "high"
kind = "automated-test"
title.zh = "审计"
title.en = "Audit"
guidance.zh = "审计"
guidance.en = "Audit"
evidence.accepts = ["audit", "attestation"]
evidence.zh = "结果"
evidence.en = "Results"
"#;
    let problems = problems_of("controls.toml", control);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 12);
    assert!(
        problems[0].reason.contains("evidence.accepts adds attestation which the base does not accept"),
        "{}",
        problems[0]
    );
}

#[test]
fn dropping_a_signoff_role_or_lengthening_reviews_is_rejected() {
    let tier = r#"[[tier]]
id = "high"
name.zh = "高风险"
name.en = "High"
description.zh = "高"
description.en = "High"
review_months = 12
signoff_roles = ["owner", "data", "legal", "ethics-committee"]
"#;
    let problems = problems_of("tiers.toml", tier);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].line, 7);
    assert!(
        problems[0].reason.contains("review_months = 12 but the base re-reviews every 6 months"),
        "{}",
        problems[0]
    );
    assert_eq!(problems[1].line, 8);
    assert!(problems[1].reason.contains("drops sign-off role management that the base requires"), "{}", problems[1]);
}

#[test]
fn redefining_a_base_rule_or_the_norms_is_rejected() {
    let rule = r#"[[rule]]
id = "R-HIGH-DECISIONS-UNREVIEWED"
tier = "low"
when = { answer = "Q-PI", is = true }
articles = [13]
principles = ["P2"]
reason.zh = "降低"
reason.en = "Lower"
"#;
    let problems = problems_of("tiers.toml", rule);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].reason.contains("redefines rule R-HIGH-DECISIONS-UNREVIEWED"), "{}", problems[0]);
    assert!(problems[0].reason.contains("cannot change or lower one the base sets"), "{}", problems[0]);

    let article = "[[article]]\nnumber = 26\nchapter = 6\ntitle = { zh = \"新\", en = \"New\" }\ntext = { zh = \"新\", en = \"New\" }\n";
    let problems = problems_of("articles.toml", article);
    assert!(problems[0].reason.contains("may not define [[article]]"), "{problems:?}");
}

#[test]
fn a_pack_must_extend_the_base_or_an_earlier_pack() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pack.toml"), MANIFEST.replace("version", "extends = \"bank-credit\"\nversion"))
        .expect("write");
    let pack = Pack::read(dir.path()).expect("reads");
    let err = Catalogue::layered(None, &[pack]).expect_err("bank-credit is not layered");
    assert!(err.to_string().contains("extends `bank-credit`, which is neither the base"), "{err}");
    let with_base = Pack::read(&example()).expect("example");
    let pack = Pack::read(dir.path()).expect("reads");
    assert!(Catalogue::layered(None, &[with_base, pack]).is_ok());
}

#[test]
fn a_broken_manifest_names_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("pack.toml"), MANIFEST.replace("\"loose\"", "\"Loose Pack\"")).expect("write");
    let err = Pack::read(dir.path()).expect_err("invalid id");
    let problems = err.problems();
    assert_eq!((problems[0].line, problems[0].column), (2, 6));
    assert!(problems[0].reason.contains("pack id `Loose Pack` is not valid"), "{}", problems[0]);
    let empty = tempfile::tempdir().expect("tempdir");
    let err = Pack::read(empty.path()).expect_err("no manifest");
    assert!(err.to_string().contains("no pack.toml"), "{err}");
}
