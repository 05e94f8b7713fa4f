use thiserror::Error;

/// What can go wrong reading text or a key. Messages name the file, line and byte offset, and
/// never contain a recognised value.
#[derive(Debug, Error)]
pub enum PiiError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is empty; there is nothing to scan")]
    Empty { file: String },
    #[error(
        "{file}: this looks like a binary file (a NUL byte at byte offset {offset}); lunli scans text (UTF-8 plain text or Markdown) and tables (CSV, Parquet, JSON Lines)"
    )]
    Binary { file: String, offset: u64 },
    #[error(
        "{file}:{line}: not valid UTF-8 at byte offset {offset}; convert the file to UTF-8 first (e.g. `iconv -f GB18030 -t UTF-8`)"
    )]
    InvalidUtf8 { file: String, line: u64, offset: u64 },
    #[error("{file}: {reason}")]
    Key { file: String, reason: String },
}

impl PiiError {
    /// The input is at fault (rather than the machine): the binary exits with 3.
    pub fn is_invalid_input(&self) -> bool {
        !matches!(self, PiiError::Io { .. })
    }
}
