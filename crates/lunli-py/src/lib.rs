//! `lunli._native`: the Python module over lunli's audits. The Python package (`python/lunli`)
//! decides what its `data` argument is and calls one of these functions with either paths (read
//! by lunli-audit's file reader) or an object with `__arrow_c_stream__` (a PyArrow Table or
//! RecordBatchReader, a Polars DataFrame, a pandas DataFrame turned into a Table), whose batches
//! cross through the Arrow C data interface without their column buffers being copied.
//!
//! Every audit runs with the GIL released. Results come back as the report's JSON (the shape
//! `lunli audit … --format json` prints) and its HTML page; errors as `lunli.InputError` (the
//! person's data, columns or files) or `lunli.LunliError`, worded as the command line words them.

use arrow::array::RecordBatchReader;
use arrow::ffi_stream::ArrowArrayStreamReader;
use arrow_pyarrow::FromPyArrow;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use lunli_audit::bootstrap::BootstrapSpec;
use lunli_audit::fairness::{self, FairnessRequest};
use lunli_audit::pii::{self, PiiRequest};
use lunli_audit::policy::Policy;
use lunli_audit::quality::{self, QualityRequest, Rules};
use lunli_audit::{ArrowBatches, ArrowInput, AuditError, RunOptions};
use lunli_norms::Catalogue;

mod check;
mod report;

use report::Report;

create_exception!(_native, LunliError, PyException, "An audit could not run.");
create_exception!(
    _native,
    InputError,
    LunliError,
    "The data, columns, files, policy or rules given are not what the audit needs."
);

/// An audit error as a Python exception with the command line's message.
fn py_error(error: AuditError) -> PyErr {
    if error.is_invalid_input() { InputError::new_err(error.message()) } else { LunliError::new_err(error.message()) }
}

fn input_error(file: &str, reason: impl std::fmt::Display) -> PyErr {
    InputError::new_err(format!("{file}: {reason}"))
}

/// What to audit: files, or Arrow data.
enum Source {
    Files(Vec<String>),
    Arrow(ArrowInput),
}

/// `paths` or an Arrow stream object (`arrow`); `stream` says the object is a stream to be read
/// once, batch by batch, rather than data held in memory.
fn source(paths: Option<Vec<String>>, arrow: Option<&Bound<'_, PyAny>>, name: &str, stream: bool) -> PyResult<Source> {
    match (paths, arrow) {
        (Some(paths), None) => Ok(Source::Files(paths)),
        (None, Some(object)) => {
            let reader = ArrowArrayStreamReader::from_pyarrow_bound(object)?;
            let schema = reader.schema();
            let batches = if stream {
                ArrowBatches::Stream(Box::new(reader))
            } else {
                // Each batch holds the exporter's buffers (imported, not copied).
                let batches = reader
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| input_error(name, format!("the data could not be read as Arrow: {e}")))?;
                ArrowBatches::Memory(batches)
            };
            Ok(Source::Arrow(ArrowInput { name: name.to_string(), schema, batches }))
        }
        _ => Err(LunliError::new_err("give either paths or Arrow data")),
    }
}

fn catalogue() -> PyResult<Catalogue> {
    Catalogue::bundled().map_err(|e| LunliError::new_err(format!("the bundled catalogue: {e}")))
}

/// The policy at `path` (YAML), or the defaults.
fn policy(path: Option<&str>) -> PyResult<Policy> {
    let Some(path) = path else { return Ok(Policy::default()) };
    let text = std::fs::read_to_string(path).map_err(|e| input_error(path, format!("cannot read it: {e}")))?;
    Policy::from_yaml(path, &text).map_err(py_error)
}

fn options(threads: Option<usize>) -> RunOptions {
    RunOptions { threads, ..RunOptions::default() }
}

/// The fairness audit. Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths=None, arrow=None, name="data".to_string(), stream=false, label, prediction, score=None,
    sensitive, positive=None, bootstrap=None, seed=0, level=0.95, policy_file=None, threads=None))]
// The Python keyword arguments: one Rust parameter each.
#[allow(clippy::too_many_arguments)]
fn audit_fairness(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    arrow: Option<&Bound<'_, PyAny>>,
    name: String,
    stream: bool,
    label: String,
    prediction: String,
    score: Option<String>,
    sensitive: Vec<String>,
    positive: Option<String>,
    bootstrap: Option<u32>,
    seed: u64,
    level: f64,
    policy_file: Option<String>,
    threads: Option<usize>,
) -> PyResult<Report> {
    let policy = policy(policy_file.as_deref())?;
    let catalogue = catalogue()?;
    let source = source(paths, arrow, &name, stream)?;
    let mut request = FairnessRequest {
        inputs: Vec::new(),
        label,
        prediction,
        score,
        sensitive,
        positive,
        bootstrap: bootstrap.map(|replicates| BootstrapSpec { replicates, seed, level }),
    };
    let options = options(threads);
    let report = py.detach(move || match source {
        Source::Files(paths) => {
            request.inputs = paths;
            fairness::audit(&request, &policy.fairness, &catalogue, &options)
        }
        Source::Arrow(input) => fairness::audit_arrow(input, &request, &policy.fairness, &catalogue, &options),
    });
    Report::fairness(report.map_err(py_error)?)
}

/// The quality audit. Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths=None, arrow=None, name="data".to_string(), stream=false, rules_file=None,
    policy_file=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn audit_quality(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    arrow: Option<&Bound<'_, PyAny>>,
    name: String,
    stream: bool,
    rules_file: Option<String>,
    policy_file: Option<String>,
    threads: Option<usize>,
) -> PyResult<Report> {
    let policy = policy(policy_file.as_deref())?;
    let rules = match rules_file.as_deref() {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| input_error(path, format!("cannot read it: {e}")))?;
            Rules::from_yaml(path, &text).map_err(py_error)?
        }
        None => Rules::default(),
    };
    let catalogue = catalogue()?;
    let source = source(paths, arrow, &name, stream)?;
    let options = options(threads);
    let now = jiff::Timestamp::now();
    let report = py.detach(move || match source {
        Source::Files(inputs) => {
            quality::audit(&QualityRequest { inputs, rules }, &policy.quality, &catalogue, now, &options)
        }
        Source::Arrow(input) => {
            let request = QualityRequest { inputs: Vec::new(), rules };
            quality::audit_arrow(input, &request, &policy.quality, &catalogue, now, &options)
        }
    });
    Report::quality(report.map_err(py_error)?)
}

fn confidence(name: &str) -> PyResult<lunli_pii::Confidence> {
    match name {
        "possible" => Ok(lunli_pii::Confidence::Possible),
        "likely" => Ok(lunli_pii::Confidence::Likely),
        "high" => Ok(lunli_pii::Confidence::High),
        other => Err(input_error("min_confidence", format!("`{other}` is none of possible, likely, high"))),
    }
}

/// The personal-information audit of files (tables and texts). Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths, min_confidence="possible", threads=None))]
fn audit_pii(py: Python<'_>, paths: Vec<String>, min_confidence: &str, threads: Option<usize>) -> PyResult<Report> {
    let request = PiiRequest { inputs: paths, minimum: confidence(min_confidence)? };
    let catalogue = catalogue()?;
    let options = options(threads);
    let report = py.detach(move || pii::scan(&request, &catalogue, &options));
    Report::pii(report.map_err(py_error)?)
}

/// Writes a redacted copy of a file (`mask` or `generalise`); returns what was replaced as JSON.
#[pyfunction]
#[pyo3(signature = (*, input, output, mode="mask", min_confidence="possible"))]
fn redact(py: Python<'_>, input: String, output: String, mode: &str, min_confidence: &str) -> PyResult<String> {
    let mode = match mode {
        "mask" => lunli_pii::Mode::Mask,
        "generalise" | "generalize" => lunli_pii::Mode::Generalise,
        other => {
            return Err(input_error(
                "mode",
                format!("`{other}` is none of mask, generalise (keyed hashing is `lunli redact --mode hash`)"),
            ));
        }
    };
    let minimum = confidence(min_confidence)?;
    let out = std::path::PathBuf::from(&output);
    if std::fs::canonicalize(&input).ok().is_some_and(|i| std::fs::canonicalize(&out).ok() == Some(i)) {
        return Err(input_error(&input, "the output would overwrite the input; write the redacted copy elsewhere"));
    }
    let report = py.detach(|| {
        if pii::is_text(&input) {
            pii::redact_text(&input, &out, &mode, minimum)
        } else {
            pii::redact_table(&input, &out, &mode, minimum, &RunOptions::default())
        }
    });
    let report = report.map_err(py_error)?;
    serde_json::to_string(&report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LunliError", m.py().get_type::<LunliError>())?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add_class::<Report>()?;
    m.add("GROUP_RATES", lunli_norms::terms::GROUP_RATES.to_vec())?;
    m.add_function(wrap_pyfunction!(audit_fairness, m)?)?;
    m.add_function(wrap_pyfunction!(audit_quality, m)?)?;
    m.add_function(wrap_pyfunction!(audit_pii, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(check::check, m)?)?;
    Ok(())
}
