//! Files that a cluster's executors read, not lunli: lunli only finds them, checks that they
//! share one format and schema, and reads what that takes — a CSV file's header line, a Parquet
//! file's footer — never a row.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;

use super::format::{csv_schema, expand, parquet_schema, same_schema};
use super::{Encoding, Format, HEADER_LIMIT, InputFile};
use crate::error::{AuditError, Location};

/// The files of an audit run on a cluster, as the executors will be told to read them.
#[derive(Debug)]
pub(crate) struct ClusterFiles {
    /// Canonical paths, which the executors must see at the same place.
    pub(crate) paths: Vec<String>,
    pub(crate) format: Format,
    /// CSV: every column as text, as the local audit reads CSV; Parquet: the files' own types.
    pub(crate) schema: SchemaRef,
    /// How reports name the files: the first and how many.
    pub(crate) label: String,
    /// The files as found, for a [`super::Dataset`] planned over them.
    pub(crate) files: Vec<InputFile>,
}

/// Finds the files of `patterns` and reads their headers or footers.
pub(crate) fn cluster_files(patterns: &[String]) -> Result<ClusterFiles, AuditError> {
    let found = expand(patterns)?;
    let mut files: Vec<InputFile> = Vec::with_capacity(found.len());
    let mut schema: Option<SchemaRef> = None;
    for path in found {
        let display = path.display().to_string();
        let location = || Location::file(display.clone());
        let Some((format, gzip)) = Format::of(&path) else {
            return Err(AuditError::input(
                location(),
                "on a cluster lunli audits CSV (.csv), TSV (.tsv) and Parquet (.parquet) files; name the file by its format",
            ));
        };
        if gzip {
            return Err(AuditError::input(
                location(),
                "the cluster's CSV reader does not decompress; give the executors plain CSV or Parquet",
            ));
        }
        let canonical = path.canonicalize().map_err(|e| AuditError::io(display.clone(), e))?;
        let bytes = std::fs::metadata(&canonical).map_err(|e| AuditError::io(display.clone(), e))?.len();
        let file = InputFile {
            path: canonical,
            display: display.clone(),
            format,
            gzip: false,
            encoding: Encoding::Utf8,
            bom: false,
            bytes,
            newlines_in_values: false,
        };
        let file_schema = match format {
            Format::Csv { delimiter } => {
                let header = header_line(&file.path, &display)?;
                csv_schema(&file, delimiter, &header)?
            }
            Format::Parquet => parquet_schema(&file)?,
            Format::JsonLines => {
                return Err(AuditError::input(
                    location(),
                    "JSON Lines is audited locally only; on a cluster give CSV or Parquet",
                ));
            }
        };
        match (&schema, files.first()) {
            (Some(first), Some(first_file)) => {
                if first_file.format != format {
                    return Err(AuditError::input(
                        location(),
                        format!(
                            "is {} while {} is {}; give files of one format",
                            format.as_str(),
                            first_file.display,
                            first_file.format.as_str()
                        ),
                    ));
                }
                same_schema(first, &first_file.display, &file_schema, &file)?;
            }
            _ => schema = Some(file_schema),
        }
        files.push(file);
    }
    let (Some(schema), Some(first)) = (schema, files.first()) else {
        return Err(AuditError::request("no input files"));
    };
    // CSV values go to the plan as plain text (string views are a local optimisation).
    let schema = match first.format {
        Format::Csv { .. } => Arc::new(Schema::new(
            schema.fields().iter().map(|f| Field::new(f.name(), DataType::Utf8, true)).collect::<Vec<_>>(),
        )),
        _ => schema,
    };
    let label = match files.len() {
        1 => first.display.clone(),
        n => format!("{} and {} more {} files", first.display, n - 1, first.format.as_str()),
    };
    Ok(ClusterFiles {
        paths: files.iter().map(|f| f.path.display().to_string()).collect(),
        format: first.format,
        schema,
        label,
        files,
    })
}

/// The first line of a CSV file (without a byte-order mark), at most [`HEADER_LIMIT`] bytes.
fn header_line(path: &Path, display: &str) -> Result<String, AuditError> {
    let file = std::fs::File::open(path).map_err(|e| AuditError::io(display, e))?;
    let mut reader = BufReader::new(file.take(HEADER_LIMIT as u64 + 1));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).map_err(|e| AuditError::io(display, e))?;
    if line.len() > HEADER_LIMIT {
        return Err(AuditError::input(
            Location::file(display).with_line(1),
            format!("the header line is longer than {} MiB", HEADER_LIMIT >> 20),
        ));
    }
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
    String::from_utf8(line.to_vec()).map_err(|_| {
        AuditError::input(
            Location::file(display).with_line(1),
            "the header is not UTF-8; the cluster's CSV reader reads UTF-8 only (convert the file, or give Parquet)",
        )
    })
}

/// A failure on the cluster at `address` auditing the files `label`: an unreachable scheduler or
/// executors as the engine's, a file the executors could not read as input (named by the
/// files, since lunli reads no row itself).
pub(crate) fn cluster_error(address: &str, label: &str, e: &DataFusionError) -> AuditError {
    let message = super::clean_engine_message(&e.to_string());
    let unreachable = ["transport error", "Connection refused", "tcp connect error", "dns error", "Unavailable"]
        .iter()
        .any(|sign| message.contains(sign));
    if unreachable {
        return AuditError::Engine(format!(
            "cannot reach the Ballista cluster at {address}: {message} (is the scheduler running, and its executors registered?)"
        ));
    }
    let about_the_data =
        ["Csv error", "Parquet", "Schema error", "No field named", "Cast error", "incorrect number of fields"]
            .iter()
            .any(|sign| message.contains(sign));
    if about_the_data {
        return AuditError::input(Location::file(format!("{label} on {address}")), message);
    }
    AuditError::Engine(format!("the Ballista cluster at {address}: {message}"))
}
