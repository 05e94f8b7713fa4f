//! What can go wrong in a model audit, said so that the person can fix it.

use lunli_audit::AuditError;

/// A model audit could not run, or its model or data is not what it must be.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model file cannot be read or is not an ONNX model.
    #[error("{file}: {reason}")]
    Model { file: String, reason: String },

    /// One of the model's inputs or outputs is of a kind lunli does not run.
    #[error("{file}: the model's {place} `{name}` {reason}")]
    Unsupported { file: String, place: &'static str, name: String, reason: String },

    /// A data column does not fit the model input it feeds.
    #[error("{file}, column `{column}`: {reason}")]
    Column { file: String, column: String, reason: String },

    /// The audit was asked for something inconsistent.
    #[error("{0}")]
    Request(String),

    /// The model failed while running on the data.
    #[error("{file}: running the model failed: {reason}")]
    Run { file: String, reason: String },

    /// Reading the data or the fairness audit of the predictions failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl ModelError {
    /// Whether the error is about the user's input (model, data, flags) rather than lunli.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Self::Audit(e) => e.is_invalid_input(),
            Self::Run { .. } => false,
            _ => true,
        }
    }
}
