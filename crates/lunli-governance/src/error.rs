//! What can go wrong in governance work, phrased for the person who asked for it.

/// One error type for the governance library; the binary maps it to exit codes and the gateway
/// to HTTP statuses.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// A record or request is malformed: names the field and what was expected.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },

    /// Something referred to does not exist.
    #[error("no {what} `{id}`; {hint}")]
    NotFound { what: &'static str, id: String, hint: String },

    /// The request is well formed but the rules forbid it (separation of duties, a prohibited
    /// system, a frozen assessment …); the reason says which rule and what to do.
    #[error("refused: {reason}")]
    Refused { reason: String },

    /// The person or key asking may not do this (four eyes, owner scope, who may pause); the
    /// reason names the rule and who may.
    #[error("not permitted: {reason}")]
    Forbidden { reason: String },

    /// Intake answers that do not fit the questionnaire.
    #[error(transparent)]
    Answers(#[from] crate::intake::AnswersError),

    /// Something already exists under that id.
    #[error("{what} `{id}` already exists")]
    Exists { what: &'static str, id: String },

    /// The storage layer failed; nothing of the failed operation was kept.
    #[error("storage: {message}")]
    Storage {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl GovernanceError {
    pub fn storage(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Storage { message: message.into(), source: Some(Box::new(source)) }
    }
}
