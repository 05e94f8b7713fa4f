//! lunli's technical audits of data and predictions: group fairness of a classifier's
//! predictions (Art. 13 of the Ethical Norms: avoid data and algorithmic bias) and data quality
//! along the five dimensions Art. 11 names (completeness, timeliness, consistency,
//! normativeness, accuracy). Results come with findings against a policy's thresholds and the
//! catalogue controls they concern, ready to be recorded as evidence.
//!
//! Each audit is a *description* — columns, groups, metrics, rules — turned into queries over
//! Apache DataFusion, which streams CSV (UTF-8 or GB18030/GBK, plain or gzip), Parquet and JSON
//! Lines in partitions on every core and spills when memory runs short. The queries produce
//! mergeable statistics (counts per group and cell, see [`stats`]); every metric is computed
//! from those counts in one place ([`metrics`]), so partial results from many partitions, files
//! or machines combine exactly.
//!
//! This crate renders nothing (lunli-report renders its JSON reports, audit pages included),
//! stores nothing (the caller records a report as evidence), and never prints, exits, reads the
//! environment or looks at the clock: the caller passes the time and watches [`Progress`].
//!
//! The fairness audit also runs where the data lives: [`pushdown::fairness`] sends its counting
//! query to a PostgreSQL server, [`distributed::fairness`] its counting plan to an Apache
//! DataFusion Ballista cluster, and both interpret the counted cells the same way.
//!
//! Start from [`fairness::audit`] with a [`fairness::FairnessRequest`], or [`quality::audit`]
//! with a [`quality::QualityRequest`]; thresholds are in [`policy::Policy`].

pub mod bootstrap;
#[cfg(feature = "cluster")]
pub mod distributed;
mod engine;
mod error;
pub mod fairness;
pub mod metrics;
pub mod pii;
pub mod policy;
pub mod pushdown;
pub mod quality;
pub mod scan;
pub mod source;
pub mod stats;

use std::sync::atomic::{AtomicU64, Ordering};

pub use error::{AuditError, Location};
pub use policy::{Dimension, Finding, Policy, Severity};
pub use source::{ArrowBatches, ArrowInput, Encoding, EncodingChoice, InputSummary};

/// How an audit runs: threads, memory, encoding of text inputs, and where to report progress.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Worker threads and partitions; default: one per core.
    pub threads: Option<usize>,
    /// Memory the engine may use before it spills to disk; default: unbounded.
    pub memory_limit: Option<usize>,
    /// Encoding of CSV and JSON Lines inputs; default: detect per file.
    pub encoding: EncodingChoice,
    /// Counters the caller may watch from another thread (e.g. to draw a progress bar).
    pub progress: std::sync::Arc<Progress>,
}

/// How far a running audit has got. Bytes read by the engine's own readers are estimated from
/// the rows they produced; bytes read by lunli's streaming readers are counted exactly.
#[derive(Debug, Default)]
pub struct Progress {
    pub(crate) total_bytes: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) rows: AtomicU64,
    pub(crate) engine_rows: AtomicU64,
    pub(crate) engine_bytes: AtomicU64,
    pub(crate) passes: AtomicU64,
}

impl Progress {
    /// Size of all inputs on disk.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes.load(Ordering::Relaxed)
    }

    /// Bytes read in the current pass over the data (partly estimated), at most the total.
    pub fn bytes(&self) -> u64 {
        (self.bytes.load(Ordering::Relaxed) + self.engine_bytes.load(Ordering::Relaxed)).min(self.total_bytes())
    }

    /// Rows read in the current pass over the data.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed) + self.engine_rows.load(Ordering::Relaxed)
    }

    /// Passes over the data started so far (an audit may need several).
    pub fn passes(&self) -> u64 {
        self.passes.load(Ordering::Relaxed)
    }

    /// Starts a new pass: the counters of the current one go back to zero.
    pub(crate) fn next_pass(&self) {
        self.restart_pass();
        self.passes.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts the current pass over (a fast reader gave the work to the engine).
    pub(crate) fn restart_pass(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.rows.store(0, Ordering::Relaxed);
        self.engine_rows.store(0, Ordering::Relaxed);
        self.engine_bytes.store(0, Ordering::Relaxed);
    }
}
