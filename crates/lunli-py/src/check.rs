//! `lunli.check(manifest)`: the tier and unmet controls of a system described in a lunli.yaml,
//! as `lunli check` computes them (the same reading, validation and evidence-file probe).

use std::io::Read;
use std::path::Path;

use pyo3::prelude::*;
use sha2::{Digest, Sha256};

use lunli_governance::GovernanceError;
use lunli_governance::manifest::{self, FileProbe, Manifest};

use crate::{InputError, LunliError, catalogue};

fn located(file: &str, line: Option<usize>, reason: impl std::fmt::Display) -> PyErr {
    InputError::new_err(format!("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default()))
}

/// SHA-256 of a file, streamed.
fn sha256_of(path: &Path) -> Result<String, String> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot open evidence file {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks the manifest at `path`; returns the check report as JSON.
#[pyfunction]
pub fn check(py: Python<'_>, path: String) -> PyResult<String> {
    let catalogue = catalogue()?;
    let text = std::fs::read_to_string(&path).map_err(|e| LunliError::new_err(format!("cannot read {path}: {e}")))?;
    py.detach(|| {
        lunli_norms::check_yaml_bounds(&text).map_err(|e| located(&path, e.line(), &e))?;
        let manifest: Manifest = serde_yaml_ng::from_str(&text).map_err(|e| {
            let reason = e.to_string().split(" at line ").next().unwrap_or_default().to_string();
            located(&path, e.location().map(|l| l.line()), reason)
        })?;
        manifest.system.validate().map_err(|e| match &e {
            GovernanceError::Invalid { field, reason } => {
                let key = field.split(['.', '[']).next_back().unwrap_or(field);
                let line = text.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).map(|i| i + 1);
                located(&path, line, format!("{field}: {reason}"))
            }
            other => LunliError::new_err(other.to_string()),
        })?;
        manifest.intake.validate(&catalogue).map_err(|e| {
            let error = GovernanceError::from(e.located_in(&text));
            InputError::new_err(format!("in the intake: section of {path}: {error}"))
        })?;
        let base = Path::new(&path).parent().map(Path::to_path_buf).unwrap_or_default();
        let probe = |relative: &str| -> FileProbe {
            match sha256_of(&base.join(relative)) {
                Ok(sha256) => FileProbe::Found { sha256 },
                Err(reason) => FileProbe::Missing(reason),
            }
        };
        let report = manifest::check(&manifest, &catalogue, &probe);
        serde_json::to_string(&report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))
    })
}
