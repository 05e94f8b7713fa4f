//! Personal information in text: recognisers for Chinese and international identifiers, with
//! the check digits where a standard defines them (GB 11643 resident IDs, GB 32100 Unified
//! Social Credit Codes, Luhn for cards, ISO 13616 mod 97 for IBANs), context words in Chinese
//! and English that raise or lower confidence, masked samples, a streaming text scanner with
//! bounded memory, and the redaction transforms (mask, keyed hash, generalise). Art. 3(3) of the
//! Ethical Norms asks that personal information be neither collected nor used illegally; this
//! crate finds it so that people can see and remove it.
//!
//! It is pure Rust with no query engine: tables are scanned by `lunli-audit`, which hands each
//! cell to [`Recogniser::find_in_cell`] with the column's name as context. It never prints, and
//! never shows a recognised value except through [`mask`].
//!
//! Start from [`Recogniser`] (one value per line of text: [`Recogniser::find`]) or
//! [`TextScanner`] for files; [`Mode`] replaces values in a redacted copy; [`corpus`] generates
//! labelled text for measuring precision and recall.

mod anchor;
pub mod checksum;
mod cn;
pub mod context;
pub mod corpus;
mod entity;
mod error;
mod intl;
mod mask;
mod patterns;
mod recognise;
mod redact;
mod scan;
mod tally;

pub use context::Context;
pub use entity::{Confidence, Entity};
pub use error::PiiError;
pub use mask::mask;
pub use recognise::{Match, Recogniser};
pub use redact::{Key, Mode};
pub use scan::{Piece, TextFinding, TextScanner, TextStats};
pub use tally::{EntityTally, Sample, Tally};

/// The text scanner's default window in bytes: the most it holds in memory at once.
pub fn scan_window() -> usize {
    scan::WINDOW
}
