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

    /// Refused until a step is taken first (an intake, a submission, a claim …). The step is
    /// data, so each client names it its own way: the command line as a `lunli` command, the
    /// API in words.
    #[error("refused: {reason}; {next}")]
    Blocked { reason: String, next: Step },

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

/// A step that unblocks a refused request ([`GovernanceError::Blocked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Take the intake questionnaire of the system's current version.
    Intake { system: String },
    /// Open the assessment of the system's current version.
    Assess { system: String },
    /// A new version needs both: its intake, then its assessment.
    IntakeAndAssess { system: String },
    /// Submit the assessment for sign-off.
    Submit { system: String },
    /// Reopen a submitted assessment.
    Reopen { system: String },
    /// Claim a review item before resolving it.
    ClaimReview { id: u64 },
    /// Record a person's current ethics training (Art. 22).
    RecordTraining { person: String },
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Intake { system } => write!(f, "take the intake of {system} first"),
            Step::Assess { system } => write!(f, "open the assessment of {system} first"),
            Step::IntakeAndAssess { system } => {
                write!(f, "take the intake of {system} and open its assessment for the new version")
            }
            Step::Submit { system } => write!(f, "submit the assessment of {system} for sign-off first"),
            Step::Reopen { system } => write!(f, "reopen the assessment of {system} to change controls or evidence"),
            Step::ClaimReview { id } => write!(f, "claim review {id} first"),
            Step::RecordTraining { person } => write!(f, "record the ethics training of {person} first"),
        }
    }
}
