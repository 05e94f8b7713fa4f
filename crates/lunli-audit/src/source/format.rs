//! Finding the input files and telling what they are: format by name, a sample of the start
//! (the header read whole), the schema of each file and whether the files share one.

use super::encoding::{Encoding, EncodingChoice, decode, detect_encoding, line_of};
use super::{HEADER_LIMIT, InputFile, SAMPLE_BYTES};
use crate::error::{AuditError, Location};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file format lunli reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with a header line.
    Csv {
        delimiter: u8,
    },
    Parquet,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv { delimiter: b'\t' } => "tsv",
            Self::Csv { .. } => "csv",
            Self::Parquet => "parquet",
            Self::JsonLines => "jsonl",
        }
    }

    /// The format of a file by its name; `.gz` is looked through.
    pub(super) fn of(path: &Path) -> Option<(Format, bool)> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let (name, gzip) = match name.strip_suffix(".gz") {
            Some(inner) => (inner.to_string(), true),
            None => (name, false),
        };
        let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let format = match extension {
            "csv" | "txt" => Format::Csv { delimiter: b',' },
            "tsv" | "tab" => Format::Csv { delimiter: b'\t' },
            "parquet" | "pq" => Format::Parquet,
            "jsonl" | "ndjson" | "json" => Format::JsonLines,
            _ => return None,
        };
        Some((format, gzip))
    }
}

/// Paths and glob patterns to files, in the order given (each pattern's matches sorted), with
/// duplicates removed.
pub(super) fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, AuditError> {
    let mut seen = BTreeSet::new();
    let mut paths = Vec::new();
    for pattern in patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        let mut matched = Vec::new();
        if is_glob {
            let entries = glob::glob(pattern)
                .map_err(|e| AuditError::request(format!("`{pattern}` is not a valid glob pattern: {e}")))?;
            for entry in entries {
                let path = entry.map_err(|e| {
                    let file = e.path().display().to_string();
                    AuditError::io(file, e.into())
                })?;
                if path.is_file() {
                    matched.push(path);
                }
            }
            matched.sort();
            if matched.is_empty() {
                return Err(AuditError::request(format!("no file matches `{pattern}`")));
            }
        } else {
            let path = PathBuf::from(pattern);
            if !path.exists() {
                return Err(AuditError::input(Location::file(pattern), "no such file"));
            }
            if path.is_dir() {
                return Err(AuditError::input(
                    Location::file(pattern),
                    "is a directory; give files or a glob such as dir/*.csv",
                ));
            }
            matched.push(path);
        }
        for path in matched {
            if seen.insert(path.clone()) {
                paths.push(path);
            }
        }
    }
    if paths.is_empty() {
        return Err(AuditError::request("no input files"));
    }
    Ok(paths)
}

/// What the first part of a file says about the rest.
pub(super) struct Sample {
    pub(super) bytes_per_row: f64,
    /// CSV columns whose sampled values are all integers.
    pub(super) integers: BTreeSet<String>,
    /// CSV columns whose sampled values are all numbers.
    pub(super) numbers: BTreeSet<String>,
}

/// Looks at one file: format, compression, encoding, schema, and what its sample shows.
pub(super) fn inspect(path: &Path, choice: EncodingChoice) -> Result<(InputFile, SchemaRef, Sample), AuditError> {
    let name = path.display().to_string();
    let Some((format, gzip)) = Format::of(path) else {
        return Err(AuditError::input(
            Location::file(&name),
            "cannot tell the format from the name; use .csv, .tsv, .parquet or .jsonl (optionally .gz for text)",
        ));
    };
    let bytes = std::fs::metadata(path).map_err(|e| AuditError::io(&name, e))?.len();
    if bytes == 0 {
        return Err(AuditError::input(Location::file(&name), "the file is empty"));
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| AuditError::io(&name, e))?;
    let mut file = InputFile {
        path: canonical,
        display: name,
        format,
        gzip,
        encoding: Encoding::Utf8,
        bom: false,
        bytes,
        newlines_in_values: false,
    };
    if format == Format::Parquet {
        if gzip {
            return Err(AuditError::input(
                file.location(),
                "a gzip-compressed Parquet file; Parquet compresses inside, decompress it first",
            ));
        }
        let schema = parquet_schema(&file)?;
        let rows = parquet_rows(&file)?.max(1);
        return Ok((
            file,
            schema,
            Sample { bytes_per_row: bytes as f64 / rows as f64, integers: BTreeSet::new(), numbers: BTreeSet::new() },
        ));
    }

    let (sample, complete) = read_sample(&file)?;
    if sample.is_empty() {
        return Err(AuditError::input(file.location(), "the file is empty"));
    }
    let (sample, bom) = match sample.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest.to_vec(), true),
        None => (sample, false),
    };
    file.bom = bom;
    // Judge only whole lines, so a multi-byte character cut by the sample's end is no error.
    let whole = match sample.iter().rposition(|&b| b == b'\n') {
        Some(end) if !complete => &sample[..=end],
        _ => &sample[..],
    };
    file.encoding = match choice {
        EncodingChoice::Fixed(encoding) => encoding,
        EncodingChoice::Auto => detect_encoding(&file, whole)?,
    };
    let text = decode(&file, whole)?;
    let lines = text.lines().count().max(1);
    let bytes_per_row = whole.len() as f64 / lines as f64;
    let (schema, (integers, numbers)) = match format {
        Format::Csv { delimiter } => {
            let schema = csv_schema(&file, delimiter, &text)?;
            file.newlines_in_values = quoted_line_breaks(delimiter, &text);
            let numeric = numeric_columns(&schema, delimiter, &text);
            (schema, numeric)
        }
        _ => (json_schema(&file, &text)?, Default::default()),
    };
    Ok((file, schema, Sample { bytes_per_row, integers, numbers }))
}

/// Whether a value of the sampled CSV text holds a line break (inside quotes, as RFC 4180 allows).
pub(super) fn quoted_line_breaks(delimiter: u8, text: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text.as_bytes());
    reader.records().map_while(Result::ok).any(|record| record.iter().any(|v| v.contains(['\n', '\r'])))
}

/// Columns of sampled CSV text whose present values all read exactly (no surrounding spaces) as
/// 64-bit integers, and those whose values all read as finite numbers.
pub(super) fn numeric_columns(schema: &SchemaRef, delimiter: u8, text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text.as_bytes());
    let width = schema.fields().len();
    let (mut integer, mut number, mut seen) = (vec![true; width], vec![true; width], vec![false; width]);
    for record in reader.records() {
        let Ok(record) = record else { break };
        for (i, value) in record.iter().enumerate().take(width) {
            if value.is_empty() {
                continue;
            }
            seen[i] = true;
            if integer[i] && value.parse::<i64>().is_err() {
                integer[i] = false;
            }
            if number[i] && !value.parse::<f64>().is_ok_and(f64::is_finite) {
                number[i] = false;
            }
        }
    }
    let names = |keep: &[bool]| -> BTreeSet<String> {
        schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[*i] && seen[*i])
            .map(|(_, f)| f.name().clone())
            .collect()
    };
    (names(&integer), names(&number))
}

/// The first bytes of the file's text, decompressed: [`SAMPLE_BYTES`], or when the first line is
/// longer, that line and [`SAMPLE_BYTES`] after it. Also whether this is the whole file. A first
/// line longer than [`HEADER_LIMIT`] is refused.
pub(super) fn read_sample(file: &InputFile) -> Result<(Vec<u8>, bool), AuditError> {
    let raw = File::open(&file.path).map_err(|e| AuditError::io(file.name(), e))?;
    let mut reader: Box<dyn Read> =
        if file.gzip { Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(raw))) } else { Box::new(raw) };
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut first_line_end: Option<usize> = None;
    loop {
        let wanted = match first_line_end {
            Some(end) if end >= SAMPLE_BYTES => end + 1 + SAMPLE_BYTES,
            Some(_) => SAMPLE_BYTES,
            None => HEADER_LIMIT.max(SAMPLE_BYTES),
        };
        if sample.len() >= wanted {
            sample.truncate(wanted);
            break;
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok((sample, true)),
            Ok(n) => n,
            Err(e) if file.gzip => {
                return Err(AuditError::input(
                    file.location().with_line(line_of(&sample, sample.len())),
                    format!("the gzip data is damaged or truncated: {e}"),
                ));
            }
            Err(e) => return Err(AuditError::io(file.name(), e)),
        };
        if first_line_end.is_none()
            && let Some(at) = chunk[..n].iter().position(|&b| b == b'\n')
        {
            first_line_end = Some(sample.len() + at);
        }
        sample.extend_from_slice(&chunk[..n]);
    }
    if first_line_end.is_none() && matches!(file.format, Format::Csv { .. }) {
        return Err(AuditError::input(
            file.location().with_line(1),
            format!(
                "the header line is longer than {} MiB, the longest lunli reads; shorten the column names or split the table",
                HEADER_LIMIT >> 20
            ),
        ));
    }
    Ok((sample, false))
}

/// A CSV file's header as a schema of text columns.
pub(super) fn csv_schema(file: &InputFile, delimiter: u8, text: &str) -> Result<SchemaRef, AuditError> {
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).from_reader(text.as_bytes());
    let header = match reader.records().next() {
        Some(Ok(record)) => record,
        Some(Err(e)) => return Err(AuditError::input(file.location().with_line(1), format!("unreadable header: {e}"))),
        None => return Err(AuditError::input(file.location(), "the file is empty")),
    };
    let mut seen = BTreeSet::new();
    let mut fields = Vec::with_capacity(header.len());
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            return Err(AuditError::input(file.location().with_line(1), format!("column {} has no name", i + 1)));
        }
        if !seen.insert(name.to_string()) {
            return Err(AuditError::input(file.location().with_line(1), format!("column `{name}` appears twice")));
        }
        // String views: grouping and comparing short values without copying them.
        fields.push(Field::new(name, DataType::Utf8View, true));
    }
    Ok(Arc::new(Schema::new(fields)))
}

pub(super) fn json_schema(file: &InputFile, text: &str) -> Result<SchemaRef, AuditError> {
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let (schema, _) = datafusion::arrow::json::reader::infer_json_schema(text.as_bytes(), Some(lines.clamp(1, 10_000)))
        .map_err(|e| AuditError::input(file.location(), format!("not JSON Lines: {e}")))?;
    if schema.fields().is_empty() {
        return Err(AuditError::input(file.location(), "no fields in the first lines"));
    }
    Ok(Arc::new(schema))
}

pub(super) fn parquet_reader(
    file: &InputFile,
) -> Result<datafusion::parquet::file::serialized_reader::SerializedFileReader<File>, AuditError> {
    let raw = File::open(&file.path).map_err(|e| AuditError::io(file.name(), e))?;
    datafusion::parquet::file::serialized_reader::SerializedFileReader::new(raw).map_err(|e| {
        AuditError::input(file.location(), format!("not a readable Parquet file (truncated or damaged?): {e}"))
    })
}

pub(super) fn parquet_schema(file: &InputFile) -> Result<SchemaRef, AuditError> {
    use datafusion::parquet::file::reader::FileReader;
    let reader = parquet_reader(file)?;
    let meta = reader.metadata().file_metadata();
    let schema = datafusion::parquet::arrow::parquet_to_arrow_schema(meta.schema_descr(), meta.key_value_metadata())
        .map_err(|e| AuditError::input(file.location(), format!("unreadable Parquet schema: {e}")))?;
    // Keep only the fields: metadata differs between writers and is no reason to refuse a union.
    Ok(Arc::new(Schema::new(schema.fields().clone())))
}

pub(super) fn parquet_rows(file: &InputFile) -> Result<u64, AuditError> {
    use datafusion::parquet::file::reader::FileReader;
    let reader = parquet_reader(file)?;
    Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
}

pub(super) fn same_schema(
    first: &SchemaRef,
    first_name: &str,
    other: &SchemaRef,
    file: &InputFile,
) -> Result<(), AuditError> {
    let names = |s: &SchemaRef| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
    let (a, b) = (names(first), names(other));
    if a != b {
        let missing: Vec<&String> = a.iter().filter(|n| !b.contains(n)).collect();
        let extra: Vec<&String> = b.iter().filter(|n| !a.contains(n)).collect();
        let detail = if missing.is_empty() && extra.is_empty() {
            "the same columns in another order".to_string()
        } else {
            format!(
                "missing {}; extra {}",
                if missing.is_empty() { "none".into() } else { join(&missing) },
                if extra.is_empty() { "none".into() } else { join(&extra) }
            )
        };
        return Err(AuditError::input(
            file.location(),
            format!("its columns differ from those of {first_name}: {detail}"),
        ));
    }
    for (fa, fb) in first.fields().iter().zip(other.fields()) {
        if fa.data_type() != fb.data_type() {
            return Err(AuditError::input(
                file.location().with_column(fb.name()),
                format!("type {} differs from {} in {first_name}", fb.data_type(), fa.data_type()),
            ));
        }
    }
    Ok(())
}

pub(super) fn join(names: &[&String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
