//! What can go wrong in an audit, said so that the person can fix it.

use std::fmt;

/// Where in an input a problem is: the file, and when known the data row (1-based, header not
/// counted), the line of a text file and the column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub row: Option<u64>,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Self { file: file.into(), ..Self::default() }
    }

    pub fn with_row(mut self, row: u64) -> Self {
        self.row = Some(row);
        self
    }

    pub fn with_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        match (self.line, self.row) {
            (Some(line), Some(row)) => write!(f, ":{line} (row {row})")?,
            (Some(line), None) => write!(f, ":{line}")?,
            (None, Some(row)) => write!(f, ", row {row}")?,
            (None, None) => {}
        }
        if let Some(column) = &self.column {
            write!(f, ", column `{column}`")?;
        }
        Ok(())
    }
}

/// An audit could not run, or its input is not what it must be.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The data is not usable as asked: a missing column, a label that is not binary, a value
    /// that cannot be read, a truncated or mis-encoded file.
    #[error("{location}: {reason}")]
    Input { location: Location, reason: String },

    /// The audit was asked for something inconsistent (no file matched, a flag contradicts the
    /// data's shape).
    #[error("{reason}")]
    Request { reason: String },

    /// A policy or rules file is not valid.
    #[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Definition { file: String, line: Option<usize>, reason: String },

    /// A file could not be read at all.
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The query engine failed for a reason not tied to the input.
    #[error("query engine: {0}")]
    Engine(String),
}

impl AuditError {
    pub(crate) fn input(location: Location, reason: impl Into<String>) -> Self {
        Self::Input { location, reason: reason.into() }
    }

    pub(crate) fn request(reason: impl Into<String>) -> Self {
        Self::Request { reason: reason.into() }
    }

    pub(crate) fn io(file: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { file: file.into(), source }
    }

    /// The error as lunli's command line words it: the file (and line), then the row, the
    /// column and what is wrong; a request that cannot run is blamed on the command line.
    /// Other front ends (the Python package) say the same.
    pub fn message(&self) -> String {
        match self {
            Self::Input { location, reason } => {
                let mut place = Vec::new();
                if let Some(row) = location.row {
                    place.push(format!("row {row}"));
                }
                if let Some(column) = &location.column {
                    place.push(format!("column `{column}`"));
                }
                let line = location.line.map(|l| format!(":{l}")).unwrap_or_default();
                if place.is_empty() {
                    format!("{}{line}: {reason}", location.file)
                } else {
                    format!("{}{line}: {}: {reason}", location.file, place.join(", "))
                }
            }
            Self::Request { reason } => format!("command line: {reason}"),
            other => other.to_string(),
        }
    }

    /// True when the fault is in what the person gave (data, flags, policy or rules), as
    /// opposed to the machine (I/O, engine). The binary maps this to its "invalid input" exit.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Self::Input { .. } | Self::Request { .. } | Self::Definition { .. })
    }
}

impl From<datafusion::error::DataFusionError> for AuditError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Self::Engine(e.to_string())
    }
}

impl From<datafusion::arrow::error::ArrowError> for AuditError {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Self::Engine(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_worded_as_the_command_line_words_them() {
        let located = AuditError::input(Location::file("a.csv").with_row(3).with_column("y"), "missing value");
        assert_eq!(located.message(), "a.csv: row 3, column `y`: missing value");
        let lined = AuditError::input(Location::file("a.jsonl").with_line(4), "bad row");
        assert_eq!(lined.message(), "a.jsonl:4: bad row");
        assert_eq!(AuditError::request("give a column").message(), "command line: give a column");
        let definition = AuditError::Definition { file: "p.yaml".into(), line: Some(2), reason: "no".into() };
        assert_eq!(definition.message(), "p.yaml:2: no");
    }
}
