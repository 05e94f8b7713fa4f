//! Catalogues for the tests: the workspace's own questionnaire and rules, with a stand-in
//! control file so that the tests do not depend on the bundled controls.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lunli_governance::intake::Answers;
use lunli_norms::Catalogue;

/// One control citing every specific norm and principle, so that coverage checks pass.
const STAND_IN_CONTROLS: &str = r#"
[[control]]
id = "T-05-01"
articles = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]
principles = ["P1", "P2", "P3", "P4", "P5", "P6"]
activity = "management"
tier = "low"
kind = "document"
title.zh = "测试控制"
title.en = "Stand-in control"
guidance.zh = "仅用于测试。"
guidance.en = "For tests only."
evidence.accepts = ["file"]
evidence.zh = "文件"
evidence.en = "A file"

[[control]]
id = "T-13-01"
articles = [13]
principles = ["P2"]
activity = "research"
tier = "high"
kind = "document"
title.zh = "高风险测试控制"
title.en = "Stand-in high control"
guidance.zh = "仅用于测试。"
guidance.en = "For tests only."
evidence.accepts = ["file"]
evidence.zh = "文件"
evidence.en = "A file"
"#;

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn catalogue_file(name: &str) -> String {
    std::fs::read_to_string(workspace().join("catalogue").join(name)).expect("catalogue file")
}

/// The workspace's top-level catalogue files plus the stand-in controls, with `replace`d files
/// swapped in.
pub fn catalogue_with(replace: &[(&str, &str)]) -> Catalogue {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(workspace().join("catalogue")).expect("catalogue dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    std::fs::write(dir.path().join("stand-in-controls.toml"), STAND_IN_CONTROLS).expect("write");
    for (name, contents) in replace {
        std::fs::write(dir.path().join(name), contents).expect("write");
    }
    Catalogue::from_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn catalogue() -> Catalogue {
    catalogue_with(&[])
}

/// Answers that make no rule fire: everything no, nothing chosen.
pub const BASELINE: &str = "
Q-INTERNAL-ONLY: false
Q-PUBLIC-CHINA: false
Q-SCALE: 50
Q-PI: false
Q-MINORS: false
Q-VULNERABLE: []
Q-WORKPLACE: false
Q-DECISIONS: []
Q-AUTONOMY: informs
Q-SAFETY-CRITICAL: []
Q-GENERATED-CONTENT: []
Q-PUBLIC-OPINION: false
Q-THIRD-PARTY-MODEL: false
Q-THIRD-PARTY-DATA: false
Q-CROSS-BORDER: false
Q-LEARNS-IN-USE: false
Q-PROHIBITED-PURPOSE: []
";

/// The baseline with the keys of `changes` (YAML) replaced or added, read and validated.
pub fn answers(changes: &str, catalogue: &Catalogue) -> Answers {
    let mut merged: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(BASELINE).expect("baseline");
    let changes: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(changes).expect("changes are YAML");
    for (key, value) in changes {
        merged.insert(key, value);
    }
    let text = serde_yaml_ng::to_string(&merged).expect("yaml");
    Answers::from_yaml(&text, catalogue).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
