//! Governance as code: a `lunli.yaml` kept beside a model's repository describes the system,
//! its intake answers and the state of its controls with evidence. [`check`] computes the tier
//! and what is still unmet, so a CI pipeline can refuse to ship a system that may not ship.
//! The schema is documented in `docs/lunli-yaml.md`.

use std::collections::BTreeMap;
use std::path::Path;

use lunli_norms::{Catalogue, EvidenceType, Tier};
use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::assessment::ControlStatus;
use crate::intake::Answers;
use crate::registry::System;
use crate::tiering::{self, Tiering};

/// The parsed `lunli.yaml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub system: System,
    /// Intake answers by question id.
    pub intake: Answers,
    /// Control states by control id.
    #[serde(default)]
    pub controls: BTreeMap<String, ManifestControl>,
    /// Which columns of the system's data the audits read, so that `lunli audit … --manifest`
    /// needs no column flags.
    #[serde(default)]
    pub audits: AuditColumns,
}

/// The `audits:` part of a `lunli.yaml`: column names per audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditColumns {
    #[serde(default)]
    pub fairness: Option<FairnessColumns>,
}

/// Fairlearn's vocabulary: `y_true`, `y_pred`, an optional score and the sensitive features.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FairnessColumns {
    pub label: String,
    pub prediction: String,
    #[serde(default)]
    pub score: Option<String>,
    pub sensitive: Vec<String>,
    /// The favourable label value, when it is not 1, true or yes.
    #[serde(default)]
    pub positive: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestControl {
    pub status: ControlStatus,
    #[serde(default)]
    pub justification: String,
    #[serde(default)]
    pub evidence: Vec<ManifestEvidence>,
}

/// One evidence item: exactly one of `file`, `link`, `attest`, `audit`, `runtime`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEvidence {
    /// A path relative to the `lunli.yaml`.
    #[serde(default)]
    pub file: Option<String>,
    /// Expected SHA-256 of the file; when given, the file must still match it.
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub attest: Option<String>,
    /// A lunli audit result file (JSON), relative to the `lunli.yaml`.
    #[serde(default)]
    pub audit: Option<String>,
    /// Where the gateway's records for a runtime guard are, e.g. `gateway:credit-scoring`.
    #[serde(default)]
    pub runtime: Option<String>,
}

/// What the check found for one required control that is not satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmet {
    pub control: String,
    pub title: lunli_norms::Text,
    pub reason: String,
}

/// The result of checking a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub system: String,
    pub tiering: Tiering,
    pub required: usize,
    pub satisfied: usize,
    pub unmet: Vec<Unmet>,
    /// Control ids in the file that the tier does not require or the catalogue does not know.
    pub ignored: Vec<String>,
    /// False when the system is prohibited or a required control is unmet.
    pub may_ship: bool,
}

/// What a file named as evidence turned out to be, as seen by the caller who can read files.
pub enum FileProbe {
    Found { sha256: String },
    Missing(String),
}

/// Why a `lunli.yaml` could not be checked: the file, the line when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ManifestError {
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
}

/// What `lunli check` and `lunli.check` do with the text of a `lunli.yaml` (`file` names it in
/// errors): parse it within lunli's YAML limits, validate the system and the intake answers
/// (naming the line of the field at fault), then [`check`] it, with the evidence files it names
/// looked up relative to `base` and pinned by their SHA-256.
pub fn check_text(file: &str, text: &str, base: &Path, catalogue: &Catalogue) -> Result<CheckReport, ManifestError> {
    let error = |line: Option<usize>, reason: String| ManifestError { file: file.to_string(), line, reason };
    lunli_norms::check_yaml_bounds(text).map_err(|e| error(e.line(), e.to_string()))?;
    let manifest: Manifest = serde_yaml_ng::from_str(text).map_err(|e| {
        let reason = e.to_string().split(" at line ").next().unwrap_or_default().to_string();
        error(e.location().map(|l| l.line()), reason)
    })?;
    manifest.system.validate().map_err(|e| match e {
        GovernanceError::Invalid { field, reason } => {
            let key = field.split(['.', '[']).next_back().unwrap_or(&field);
            let line = text.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).map(|i| i + 1);
            error(line, format!("{field}: {reason}"))
        }
        other => error(None, other.to_string()),
    })?;
    manifest
        .intake
        .validate(catalogue)
        .map_err(|e| error(None, format!("in the intake: section: {}", GovernanceError::from(e.located_in(text)))))?;
    let probe = |relative: &str| -> FileProbe {
        let path = base.join(relative);
        match crate::digest::sha256_file(&path) {
            Ok((sha256, _)) => FileProbe::Found { sha256 },
            Err(e) => FileProbe::Missing(format!("cannot open evidence file {}: {e}", path.display())),
        }
    };
    Ok(check(&manifest, catalogue, &probe))
}

/// Checks a manifest against the catalogue. `probe` looks at evidence files (relative to the
/// manifest); the check itself reads nothing.
pub fn check(manifest: &Manifest, catalogue: &Catalogue, probe: &dyn Fn(&str) -> FileProbe) -> CheckReport {
    let tiering = tiering::tier(&manifest.intake, catalogue);
    let mut unmet = Vec::new();
    let mut satisfied = 0;
    for id in &tiering.required_controls {
        let Some(control) = catalogue.control(id) else { continue };
        let entry = manifest.controls.iter().find(|(k, _)| k.eq_ignore_ascii_case(id)).map(|(_, v)| v);
        let reason = match entry {
            None => Some("not listed under `controls:`".to_string()),
            Some(state) => control_problem(state, &control.evidence.accepts, probe),
        };
        match reason {
            None => satisfied += 1,
            Some(reason) => unmet.push(Unmet { control: control.id.clone(), title: control.title.clone(), reason }),
        }
    }
    let ignored = manifest
        .controls
        .keys()
        .filter(|k| !tiering.required_controls.iter().any(|r| r.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    let may_ship = tiering.tier != Tier::Prohibited && unmet.is_empty();
    CheckReport {
        system: manifest.system.id.clone(),
        required: tiering.required_controls.len(),
        satisfied,
        unmet,
        ignored,
        may_ship,
        tiering,
    }
}

/// Why a listed control does not count as satisfied, if it does not.
fn control_problem(
    state: &ManifestControl,
    accepts: &[EvidenceType],
    probe: &dyn Fn(&str) -> FileProbe,
) -> Option<String> {
    match state.status {
        ControlStatus::NotApplicable if state.justification.trim().is_empty() => {
            return Some("not-applicable without a justification".into());
        }
        ControlStatus::NotApplicable => return None,
        ControlStatus::Met => {}
        other => return Some(format!("status is {}", other.as_str())),
    }
    // A claim of "met" in a file anyone can edit counts only with evidence behind it.
    if state.evidence.is_empty() {
        return Some("marked met but lists no evidence".into());
    }
    for evidence in &state.evidence {
        let kinds = [
            (evidence.file.is_some(), EvidenceType::File),
            (evidence.link.is_some(), EvidenceType::Link),
            (evidence.attest.is_some(), EvidenceType::Attestation),
            (evidence.audit.is_some(), EvidenceType::Audit),
            (evidence.runtime.is_some(), EvidenceType::Runtime),
        ];
        let given: Vec<EvidenceType> = kinds.iter().filter(|(present, _)| *present).map(|(_, k)| *k).collect();
        let [kind] = given.as_slice() else {
            return Some("each evidence item needs exactly one of file, link, attest, audit, runtime".into());
        };
        if !accepts.contains(kind) {
            let names: Vec<&str> = accepts.iter().map(|a| a.as_str()).collect();
            return Some(format!("{kind} evidence is not accepted here (accepts {})", names.join(", ")));
        }
        if let Some(path) = evidence.file.as_ref().or(evidence.audit.as_ref()) {
            match probe(path) {
                FileProbe::Missing(why) => return Some(format!("evidence file {path}: {why}")),
                FileProbe::Found { sha256 } => {
                    if let Some(expected) = &evidence.sha256
                        && !expected.eq_ignore_ascii_case(&sha256)
                    {
                        return Some(format!(
                            "evidence file {path} changed: sha256 is {sha256}, the file says {expected}"
                        ));
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> (String, std::path::PathBuf) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/credit-scoring");
        let text = std::fs::read_to_string(dir.join("lunli.yaml")).expect("the credit-scoring example's lunli.yaml");
        (text, dir)
    }

    #[test]
    fn a_manifest_text_is_checked_with_its_evidence_files_pinned() {
        let catalogue = Catalogue::bundled().expect("catalogue");
        let (text, dir) = example();
        let report = check_text("lunli.yaml", &text, &dir, &catalogue).expect("the example checks");
        assert_eq!(report.system, "credit-scoring");
        assert!(report.satisfied > 0, "evidence files beside it count");
        // Checked from elsewhere, the same evidence files are missing and named.
        let report = check_text("lunli.yaml", &text, Path::new("/nonexistent"), &catalogue).expect("checks");
        assert!(
            report.unmet.iter().any(|u| u.reason.contains("docs/model-card.md") && u.reason.contains("cannot open")),
            "{:?}",
            report.unmet
        );
    }

    #[test]
    fn a_bad_manifest_names_the_file_and_line() {
        let catalogue = Catalogue::bundled().expect("catalogue");
        let (text, dir) = example();
        let broken = text.replacen("  owner: wang-fang", "  owner: [wang-fang", 1);
        let err = check_text("lunli.yaml", &broken, &dir, &catalogue).expect_err("unclosed list");
        let owner_line = text.lines().position(|l| l.starts_with("  owner:")).map(|i| i + 1);
        assert_eq!(err.file, "lunli.yaml");
        assert!(err.line >= owner_line, "{err}");

        let invalid = text.replacen("  owner: wang-fang", "  owner: Wang Fang!", 1);
        let err = check_text("lunli.yaml", &invalid, &dir, &catalogue).expect_err("a bad owner id");
        assert_eq!(err.line, owner_line, "the line of `owner:` ({err})");
        assert!(err.reason.starts_with("owner: `Wang Fang!` is not a valid id"), "{err}");

        let answers = text.replacen("intake:", "intake:\n  no-such-question: yes", 1);
        let err = check_text("lunli.yaml", &answers, &dir, &catalogue).expect_err("an unknown question");
        assert!(err.reason.contains("intake") && err.reason.contains("no-such-question"), "{err}");
    }
}
