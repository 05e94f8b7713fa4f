use std::path::PathBuf;

/// What can go wrong building, recording or printing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Governance(#[from] lunli_governance::GovernanceError),
    #[error(transparent)]
    Ledger(#[from] lunli_ledger::store::LedgerError),
    #[error("cannot encode the report: {0}")]
    Encode(String),
    #[error(
        "no Chromium to print the PDF with: install it (Debian: `apt-get install chromium fonts-noto-cjk`) or set \
         LUNLI_CHROMIUM to its path; {tried}"
    )]
    NoChromium { tried: String },
    #[error("Chromium ({}) failed to print {}: {reason}", chromium.display(), out.display())]
    Print { chromium: PathBuf, out: PathBuf, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
