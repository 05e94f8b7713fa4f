//! What can go wrong, naming the file and what was expected there.

use std::fmt;

/// An error of this crate. A file whose structure is broken is not an error of [`crate::check`]
/// (it is reported as `unreadable` in its [`crate::LabelCheck`]); it is one of [`crate::write`],
/// which will not edit what it cannot parse.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not what its format says: where, and what was expected.
    #[error("{path}: {reason}")]
    Malformed { path: String, reason: String },
    /// `write` cannot add a label to this kind of file (yet), or the file already has one.
    #[error("{path}: {reason}")]
    Refused { path: String, reason: String },
    /// The label fields given (flags or a decision file) are not a conforming label.
    #[error("{source_name}: {reason}")]
    Fields { source_name: String, reason: String },
}

impl LabelError {
    /// Whether the error is the user's input (a file or fields), rather than the machine's.
    pub fn is_invalid_input(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }
}

/// An error while parsing one file, before the path is attached.
#[derive(Debug)]
pub(crate) enum ParseError {
    Io(std::io::Error),
    Bad(String),
}

impl From<std::io::Error> for ParseError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Bad(reason) => f.write_str(reason),
        }
    }
}

impl ParseError {
    pub(crate) fn at(self, path: &str) -> LabelError {
        match self {
            Self::Io(source) => LabelError::Io { path: path.to_string(), source },
            Self::Bad(reason) => LabelError::Malformed { path: path.to_string(), reason },
        }
    }
}

pub(crate) type Parse<T> = Result<T, ParseError>;

/// A structural error: `bad(format!("…"))`.
pub(crate) fn bad<T>(reason: impl Into<String>) -> Parse<T> {
    Err(ParseError::Bad(reason.into()))
}
