//! A batch of feature columns in the model's input order, made from an Arrow batch of the data,
//! that perturbations change in place of copies.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};

use crate::error::ModelError;
use crate::onnx::ModelInput;

/// One feature column.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; a missing value is NaN (what an ONNX float tensor holds for one).
    Number(Vec<f64>),
    /// Text categories; a missing value is the empty string.
    Text(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Self::Number(v) => v.len(),
            Self::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Column {
        match self {
            Self::Number(v) => Self::Number(rows.iter().map(|&i| v[i]).collect()),
            Self::Text(v) => Self::Text(rows.iter().map(|&i| v[i].clone()).collect()),
        }
    }
}

/// Feature columns, one per model input, in the model's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub columns: Vec<Column>,
}

impl Frame {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// The rows at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Frame {
        Frame { columns: self.columns.iter().map(|c| c.take(rows)).collect() }
    }

    /// Appends the rows of `other` (same columns).
    pub fn extend(&mut self, other: &Frame) {
        if self.columns.is_empty() {
            self.columns = other.columns.clone();
            return;
        }
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            match (mine, theirs) {
                (Column::Number(a), Column::Number(b)) => a.extend_from_slice(b),
                (Column::Text(a), Column::Text(b)) => a.extend_from_slice(b),
                _ => {}
            }
        }
    }

    /// The model's features from a batch of the data; `file` names the data in messages.
    pub fn from_batch(batch: &RecordBatch, inputs: &[ModelInput], file: &str) -> Result<Self, ModelError> {
        let mut columns = Vec::with_capacity(inputs.len());
        for input in inputs {
            let column_error =
                |reason: String| ModelError::Column { file: file.to_string(), column: input.name.clone(), reason };
            let array = batch.column_by_name(&input.name).ok_or_else(|| {
                column_error(
                    "no such column; the model has an input of this name, fed by the data's column of the same name"
                        .into(),
                )
            })?;
            if input.kind.numeric() {
                columns.push(Column::Number(numbers(array.as_ref(), &column_error)?));
            } else {
                columns.push(Column::Text(texts(array.as_ref()).map_err(column_error)?));
            }
        }
        Ok(Self { columns })
    }
}

/// A column's values as numbers: text is parsed (CSV is read as text), a missing value or one
/// that is not a number is an error naming it.
fn numbers(array: &dyn Array, column_error: &dyn Fn(String) -> ModelError) -> Result<Vec<f64>, ModelError> {
    let mut out = Vec::with_capacity(array.len());
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(array, &DataType::Utf8).map_err(|e| column_error(e.to_string()))?;
            let text = text.as_string::<i32>();
            for value in text.iter() {
                let Some(value) = value else {
                    return Err(column_error(missing_number()));
                };
                let trimmed = value.trim();
                if trimmed.is_empty() {
                    return Err(column_error(missing_number()));
                }
                let number: f64 = trimmed.parse().map_err(|_| {
                    column_error(format!("`{value}` is not a number, and the model's input of this name takes numbers"))
                })?;
                out.push(number);
            }
        }
        _ => {
            let numbers = cast(array, &DataType::Float64).map_err(|_| {
                column_error(format!(
                    "is of type {}, and the model's input of this name takes numbers",
                    array.data_type()
                ))
            })?;
            if numbers.null_count() > 0 {
                return Err(column_error(missing_number()));
            }
            out.extend(numbers.as_primitive::<Float64Type>().values().iter().copied());
        }
    }
    Ok(out)
}

fn missing_number() -> String {
    "a value is missing, and the model's input of this name takes numbers (fill or drop such rows first)".into()
}

/// A column's values as text; a missing value is the empty string (an unknown category).
pub(crate) fn texts(array: &dyn Array) -> Result<Vec<String>, String> {
    let text = cast(array, &DataType::Utf8).map_err(|e| format!("cannot be read as text: {e}"))?;
    let text = text.as_string::<i32>();
    Ok(text.iter().map(|v| v.map(|s| s.trim().to_string()).unwrap_or_default()).collect())
}
