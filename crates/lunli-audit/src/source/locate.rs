//! Locating a problem: after the engine fails or an audit finds a value it cannot use, a slow
//! sequential scan names the file, row, line and column of the first culprit.

use super::InputFile;
use super::stream::{ReadState, TextReader};
use crate::error::AuditError;
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use std::sync::Arc;

/// Objects to a row: the index of the offending column and why.
pub(crate) type Check<'a> = dyn Fn(&[Option<&str>]) -> Option<(usize, String)> + Sync + 'a;

/// Every column of a batch as optional strings.
pub(super) fn text_columns(batch: &RecordBatch) -> Result<Vec<Vec<Option<String>>>, AuditError> {
    batch
        .columns()
        .iter()
        .map(|column| {
            let text = cast(column, &DataType::Utf8)?;
            let text = text
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .ok_or_else(|| AuditError::Engine("a cast to text did not give text".into()))?;
            Ok((0..text.len()).map(|i| (!text.is_null(i)).then(|| text.value(i).to_string())).collect())
        })
        .collect()
}

/// Engine messages carry layers of prefixes ("External error: Arrow error: …"); people need the
/// last one.
pub(crate) fn clean_engine_message(message: &str) -> String {
    let mut text = message.trim();
    for prefix in [
        "External error: ",
        "Arrow error: ",
        "Execution error: ",
        "Parquet error: ",
        "Object Store error: ",
        "Error during planning: ",
    ] {
        while let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim();
        }
    }
    text.to_string()
}

pub(super) fn locate_csv(
    file: &InputFile,
    delimiter: u8,
    columns: &[&str],
    check: &Check<'_>,
) -> Result<Option<AuditError>, AuditError> {
    let text = TextReader::open(file, Arc::default(), None)?;
    let state = text.state.clone();
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text);
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => return Ok(Some(csv_failure(file, &state, e, 0))),
    };
    let index: Vec<Option<usize>> =
        columns.iter().map(|c| header.iter().position(|h| std::str::from_utf8(h).map(str::trim) == Ok(*c))).collect();
    let mut record = csv::ByteRecord::new();
    let mut row: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Ok(Some(csv_failure(file, &state, e, row))),
        }
        row += 1;
        let line = record.position().map_or(row + 1, |p| p.line());
        let mut values = Vec::with_capacity(columns.len());
        for (i, at) in index.iter().enumerate() {
            let Some(bytes) = at.and_then(|at| record.get(at)) else {
                values.push(None);
                continue;
            };
            match std::str::from_utf8(bytes) {
                Ok("") => values.push(None),
                Ok(text) => values.push(Some(text)),
                Err(_) => {
                    let hint = match encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
                        Some(text) => format!("; as GB18030 it reads `{text}`, so the file mixes encodings"),
                        None => String::new(),
                    };
                    return Ok(Some(AuditError::input(
                        file.location().with_line(line).with_row(row).with_column(columns[i]),
                        format!("not valid UTF-8{hint}; convert the whole file to one encoding"),
                    )));
                }
            }
        }
        // Rows with invalid UTF-8 in columns the audit does not read still break the engine.
        if let Some(column) = record.iter().position(|f| std::str::from_utf8(f).is_err()) {
            let name = header.get(column).map(|h| String::from_utf8_lossy(h).into_owned()).unwrap_or_default();
            return Ok(Some(AuditError::input(
                file.location().with_line(line).with_row(row).with_column(name),
                "not valid UTF-8; the file mixes encodings — convert it to one",
            )));
        }
        if let Some((c, reason)) = check(&values) {
            return Ok(Some(AuditError::input(
                file.location().with_line(line).with_row(row).with_column(columns[c]),
                reason,
            )));
        }
    }
    Ok(state.take_error())
}

pub(super) fn csv_failure(file: &InputFile, state: &ReadState, e: csv::Error, row: u64) -> AuditError {
    if let Some(error) = state.take_error() {
        return error;
    }
    let line = e.position().map(|p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    };
    let mut location = file.location().with_row(row + 1);
    if let Some(line) = line {
        location = location.with_line(line);
    }
    AuditError::input(location, reason)
}
