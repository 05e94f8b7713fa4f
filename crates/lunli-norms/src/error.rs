//! What can go wrong when loading or querying the catalogue.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a catalogue file, at a position a person can open in an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The catalogue was read but is not valid; every problem found is listed.
    #[error("the catalogue is invalid ({} problem{}):\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, list(.0))]
    Invalid(Vec<Problem>),
    #[error("cannot read catalogue path {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CatalogueError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
            Self::Io { .. } => &[],
        }
    }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n")
}

/// A lookup in a valid catalogue that found nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no {what} `{given}` in the catalogue; {hint}")]
pub struct NotFound {
    pub what: &'static str,
    pub given: String,
    pub hint: String,
}
