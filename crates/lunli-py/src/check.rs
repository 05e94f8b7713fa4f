//! `lunli.check(manifest)`: the tier and unmet controls of a system described in a lunli.yaml,
//! computed by the same function as `lunli check` (`manifest::check_text` in lunli-governance).

use std::path::Path;

use pyo3::prelude::*;

use lunli_governance::manifest;

use crate::{InputError, LunliError, catalogue};

/// Checks the manifest at `path`; returns the check report as JSON.
#[pyfunction]
pub fn check(py: Python<'_>, path: String) -> PyResult<String> {
    let catalogue = catalogue()?;
    let text = std::fs::read_to_string(&path).map_err(|e| LunliError::new_err(format!("cannot read {path}: {e}")))?;
    py.detach(|| {
        let base = Path::new(&path).parent().map(Path::to_path_buf).unwrap_or_default();
        let report =
            manifest::check_text(&path, &text, &base, &catalogue).map_err(|e| InputError::new_err(e.to_string()))?;
        serde_json::to_string(&report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))
    })
}
