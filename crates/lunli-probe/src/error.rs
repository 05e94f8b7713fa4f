//! What can go wrong around a probe run (not a failed answer: those are recorded in the run).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The endpoint URL cannot be used.
    #[error("endpoint `{url}`: {reason}")]
    Endpoint { url: String, reason: String },
    /// A CA certificate file that cannot be used.
    #[error("CA certificate file {}: {reason}", file.display())]
    CaCert { file: PathBuf, reason: String },
    /// The endpoint's TLS certificate failed verification; nothing was sent.
    #[error("endpoint `{url}`: {reason}")]
    Untrusted { url: String, reason: String },
    /// A line of a run file is not a record lunli wrote.
    #[error("{}:{line}: {reason}", file.display())]
    RunFile { file: PathBuf, line: usize, reason: String },
    /// A run file belongs to another endpoint, model or bank.
    #[error("{}: {reason}", file.display())]
    Mismatch { file: PathBuf, reason: String },
    /// A question id that is not in the run or the bank.
    #[error("no question `{id}` in {}; {hint}", file.display())]
    UnknownQuestion { file: PathBuf, id: String, hint: String },
    /// A setting out of range.
    #[error("{0}")]
    Setting(String),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<lunli_tls::TlsError> for ProbeError {
    fn from(e: lunli_tls::TlsError) -> Self {
        match e {
            lunli_tls::TlsError::CaCert { file, reason } => ProbeError::CaCert { file, reason },
            lunli_tls::TlsError::Setup(reason) => ProbeError::Setting(format!("TLS setup failed: {reason}")),
        }
    }
}
