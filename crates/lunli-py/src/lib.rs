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
use lunli_model::ModelRequest;
use lunli_norms::Catalogue;

mod check;
mod record;
mod report;

use record::{ArrowDigest, Pinned, Recording};
use report::Report;
use serde::Serialize;

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

impl Source {
    /// How a recorded run names what it read.
    fn describe(&self) -> String {
        match self {
            Source::Files(paths) => paths.join(" "),
            Source::Arrow(input) => input.name.clone(),
        }
    }
}

/// `paths` or an Arrow stream object (`arrow`); `stream` says the object is a stream to be read
/// once, batch by batch, rather than data held in memory.
fn source(paths: Option<Vec<String>>, arrow: Option<&Bound<'_, PyAny>>, name: &str, stream: bool) -> PyResult<Source> {
    match (paths, arrow) {
        (Some(paths), None) => Ok(Source::Files(paths)),
        (None, Some(object)) => arrow_input(object, name, stream).map(Source::Arrow),
        _ => Err(LunliError::new_err("give either paths or Arrow data")),
    }
}

fn arrow_input(object: &Bound<'_, PyAny>, name: &str, stream: bool) -> PyResult<ArrowInput> {
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
    Ok(ArrowInput { name: name.to_string(), schema, batches })
}

fn catalogue() -> PyResult<Catalogue> {
    Catalogue::bundled().map_err(|e| LunliError::new_err(format!("the bundled catalogue: {e}")))
}

/// The policy at `path` (YAML); else the active packs' thresholds; else the defaults.
fn policy(path: Option<&str>, recording: Option<&Recording>) -> PyResult<Policy> {
    let Some(path) = path else {
        return Ok(recording.and_then(|r| r.pack_policy.clone()).unwrap_or_default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| input_error(path, format!("cannot read it: {e}")))?;
    Policy::from_yaml(path, &text).map_err(py_error)
}

fn options(threads: Option<usize>) -> RunOptions {
    RunOptions { threads, ..RunOptions::default() }
}

/// What one audit call needs besides its data: where it records (if anywhere), the digest
/// that pins data handed over in memory, the catalogue it runs under (the store's, with its
/// active packs, when it records) and how the run names what it read.
struct Call {
    recording: Option<Recording>,
    pinned: Option<Pinned>,
    catalogue: Catalogue,
    read: String,
}

impl Call {
    /// The data to audit (arranged to be hashed as it is read, when the run is recorded) and
    /// the call.
    fn prepare(source: Source, recording: Option<Recording>) -> PyResult<(Source, Self)> {
        let read = source.describe();
        let (source, pinned) = match (source, &recording) {
            (Source::Arrow(input), Some(_)) => {
                let (input, pinned) = record::hashed(input)?;
                (Source::Arrow(input), Some(pinned))
            }
            (source, _) => (source, None),
        };
        let catalogue = match &recording {
            Some(r) => r.catalogue.clone(),
            None => catalogue()?,
        };
        Ok((source, Self { recording, pinned, catalogue, read }))
    }

    /// The report for Python, recorded first when asked; `function` names the Python call in
    /// the evidence's note.
    fn finish<R: Serialize>(self, py: Python<'_>, audit: &'static str, function: &str, report: R) -> PyResult<Report> {
        let value =
            serde_json::to_value(&report).map_err(|e| LunliError::new_err(format!("encoding the report: {e}")))?;
        let recorded = match self.recording {
            None => Vec::new(),
            Some(recording) => {
                let passed = value.get("passed").and_then(serde_json::Value::as_bool).unwrap_or(false);
                let controls: Vec<String> = value
                    .get("controls")
                    .and_then(serde_json::Value::as_array)
                    .map(|c| c.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                let sha256 = self.pinned.map(Pinned::sha256).transpose()?;
                let note = format!("lunli.{function}({})", self.read);
                let stored = value.clone();
                py.detach(|| recording.record(audit, passed, stored, &controls, sha256, &note))?
            }
        };
        Report::new(audit, &value, recorded)
    }
}

/// The fairness audit. Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths=None, arrow=None, name="data".to_string(), stream=false, label, prediction, score=None,
    sensitive, positive=None, bootstrap=None, seed=0, level=0.95, policy_file=None, threads=None,
    store=None, system=None, actor=None, key_dir=None))]
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
    store: Option<String>,
    system: Option<String>,
    actor: Option<String>,
    key_dir: Option<String>,
) -> PyResult<Report> {
    let recording = Recording::open(store, system, actor, key_dir)?;
    let policy = policy(policy_file.as_deref(), recording.as_ref())?;
    let (source, call) = Call::prepare(source(paths, arrow, &name, stream)?, recording)?;
    let mut request = FairnessRequest {
        inputs: Vec::new(),
        label,
        prediction,
        score,
        sensitive,
        positive,
        bootstrap: bootstrap.map(|replicates| BootstrapSpec { replicates, seed, level }),
    };
    let (options, catalogue) = (options(threads), &call.catalogue);
    let report = py.detach(|| match source {
        Source::Files(paths) => {
            request.inputs = paths;
            fairness::audit(&request, &policy.fairness, catalogue, &options)
        }
        Source::Arrow(input) => fairness::audit_arrow(input, &request, &policy.fairness, catalogue, &options),
    });
    call.finish(py, "fairness", "audit_fairness", report.map_err(py_error)?)
}

/// The quality audit. Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths=None, arrow=None, name="data".to_string(), stream=false, rules_file=None,
    policy_file=None, threads=None, store=None, system=None, actor=None, key_dir=None))]
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
    store: Option<String>,
    system: Option<String>,
    actor: Option<String>,
    key_dir: Option<String>,
) -> PyResult<Report> {
    let recording = Recording::open(store, system, actor, key_dir)?;
    let policy = policy(policy_file.as_deref(), recording.as_ref())?;
    let rules = match rules_file.as_deref() {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| input_error(path, format!("cannot read it: {e}")))?;
            Rules::from_yaml(path, &text).map_err(py_error)?
        }
        None => Rules::default(),
    };
    let (source, call) = Call::prepare(source(paths, arrow, &name, stream)?, recording)?;
    let (options, catalogue) = (options(threads), &call.catalogue);
    let now = jiff::Timestamp::now();
    let report = py.detach(|| match source {
        Source::Files(inputs) => {
            quality::audit(&QualityRequest { inputs, rules }, &policy.quality, catalogue, now, &options)
        }
        Source::Arrow(input) => {
            let request = QualityRequest { inputs: Vec::new(), rules };
            quality::audit_arrow(input, &request, &policy.quality, catalogue, now, &options)
        }
    });
    call.finish(py, "quality", "audit_quality", report.map_err(py_error)?)
}

/// A model audit error as a Python exception, worded as the command line words it.
fn model_error(error: lunli_model::ModelError) -> PyErr {
    match error {
        lunli_model::ModelError::Audit(e) => py_error(e),
        e if e.is_invalid_input() => InputError::new_err(e.to_string()),
        e => LunliError::new_err(e.to_string()),
    }
}

/// The model audit: an ONNX classifier run in-process on the data (performance by group,
/// robustness, counterfactual fairness, explanations). Returns the report.
#[pyfunction]
#[pyo3(signature = (*, model, paths=None, arrow=None, name="data".to_string(), stream=false, label, sensitive,
    positive=None, proxies=Vec::new(), explain_rows=Vec::new(), seed=0, repeats=5, samples=64,
    noise=vec![0.1, 0.25, 0.5], max_rows=None, policy_file=None, threads=None,
    store=None, system=None, actor=None, key_dir=None))]
#[allow(clippy::too_many_arguments)]
fn audit_model(
    py: Python<'_>,
    model: String,
    paths: Option<Vec<String>>,
    arrow: Option<&Bound<'_, PyAny>>,
    name: String,
    stream: bool,
    label: String,
    sensitive: Vec<String>,
    positive: Option<String>,
    proxies: Vec<String>,
    explain_rows: Vec<u64>,
    seed: u64,
    repeats: u32,
    samples: u32,
    noise: Vec<f64>,
    max_rows: Option<u64>,
    policy_file: Option<String>,
    threads: Option<usize>,
    store: Option<String>,
    system: Option<String>,
    actor: Option<String>,
    key_dir: Option<String>,
) -> PyResult<Report> {
    let recording = Recording::open(store, system, actor, key_dir)?;
    let policy = policy(policy_file.as_deref(), recording.as_ref())?;
    let (source, call) = Call::prepare(source(paths, arrow, &name, stream)?, recording)?;
    let mut request = ModelRequest {
        model,
        inputs: Vec::new(),
        label,
        positive,
        sensitive,
        proxies,
        explain_rows,
        seed,
        repeats,
        samples,
        noise_scales: noise,
        max_rows,
        ..ModelRequest::default()
    };
    let (options, catalogue) = (options(threads), &call.catalogue);
    let report = py.detach(|| match source {
        Source::Files(paths) => {
            request.inputs = paths;
            lunli_model::audit(&request, &policy.fairness, &policy.model, catalogue, &options)
        }
        Source::Arrow(input) => {
            lunli_model::audit_arrow(input, &request, &policy.fairness, &policy.model, catalogue, &options)
        }
    });
    call.finish(py, "model", "audit_model", report.map_err(model_error)?)
}

fn confidence(name: &str) -> PyResult<lunli_pii::Confidence> {
    match name {
        "possible" => Ok(lunli_pii::Confidence::Possible),
        "likely" => Ok(lunli_pii::Confidence::Likely),
        "high" => Ok(lunli_pii::Confidence::High),
        other => Err(input_error("min_confidence", format!("`{other}` is none of possible, likely, high"))),
    }
}

/// The personal-information audit of tables (files or Arrow data, per column) and text files
/// (per line). Returns the report.
#[pyfunction]
#[pyo3(signature = (*, paths=None, arrow=None, name="data".to_string(), stream=false, min_confidence="possible",
    threads=None, store=None, system=None, actor=None, key_dir=None))]
#[allow(clippy::too_many_arguments)]
fn audit_pii(
    py: Python<'_>,
    paths: Option<Vec<String>>,
    arrow: Option<&Bound<'_, PyAny>>,
    name: String,
    stream: bool,
    min_confidence: &str,
    threads: Option<usize>,
    store: Option<String>,
    system: Option<String>,
    actor: Option<String>,
    key_dir: Option<String>,
) -> PyResult<Report> {
    let minimum = confidence(min_confidence)?;
    let recording = Recording::open(store, system, actor, key_dir)?;
    let (source, call) = Call::prepare(source(paths, arrow, &name, stream)?, recording)?;
    let (options, catalogue) = (options(threads), &call.catalogue);
    let report = py.detach(|| match source {
        Source::Files(inputs) => pii::scan(&PiiRequest { inputs, minimum }, catalogue, &options),
        Source::Arrow(input) => {
            pii::scan_arrow(input, &PiiRequest { inputs: Vec::new(), minimum }, catalogue, &options)
        }
    });
    call.finish(py, "pii", "audit_pii", report.map_err(py_error)?)
}

/// The SHA-256 that pins Arrow data in a recorded run: of its Arrow IPC stream (schema, then
/// every batch as it crossed).
#[pyfunction]
fn sha256(py: Python<'_>, arrow: &Bound<'_, PyAny>) -> PyResult<String> {
    let input = arrow_input(arrow, "data", false)?;
    let ArrowBatches::Memory(batches) = &input.batches else {
        return Err(LunliError::new_err("the data could not be held to hash it"));
    };
    py.detach(|| ArrowDigest::of_batches(&input.schema, batches))
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
    m.add_function(wrap_pyfunction!(audit_model, m)?)?;
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(check::check, m)?)?;
    m.add_function(wrap_pyfunction!(sha256, m)?)?;
    Ok(())
}
