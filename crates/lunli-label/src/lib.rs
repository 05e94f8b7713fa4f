//! Labels on AI-generated content, as China's Measures for Labelling AI-Generated and Synthetic
//! Content (2025) and GB 45438-2025 require them: this crate finds the implicit label — the
//! `AIGC` block of seven fields in a file's metadata — in images (PNG, JPEG, WebP, GIF), audio
//! (WAV, MP3, FLAC), video (MP4/MOV), PDF and text, validates it, looks for the explicit label at
//! the start or end of text, and writes a conforming implicit label into a copy of a file
//! without re-encoding its content.
//!
//! It reads only metadata: each format's reader seeks over image data, audio frames and media
//! data, and counts the bytes it read ([`LabelCheck::bytes_read`]), so a 2 GB video costs a few
//! kilobytes. It never prints and never panics on a broken file: what cannot be read is reported
//! as `unreadable` with the reason. It knows nothing of systems or evidence; the binary records
//! a check as evidence on control C-16-05.
//!
//! Start from [`check_paths`] (files and directories, in parallel) or [`check_file`], and
//! [`write`] with an [`Aigc`] label.

mod check;
mod error;
mod fields;
mod formats;
mod source;
mod write;
pub mod xmp;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

pub use check::{
    Explicit, ExplicitState, Format, Implicit, ImplicitState, LabelCheck, Status, check_bytes, check_file, status_text,
};
pub use error::LabelError;
pub use fields::{Aigc, Bilingual, FIELDS, LABEL_VALUES, MAX_FIELD_CHARS, Problem};
pub use write::{Existing, Replaced, Written, write};

/// The version of the JSON shape of [`Report`]; it changes only when a field changes meaning or
/// goes away.
pub const REPORT_VERSION: u32 = 1;

/// Counts for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Files checked (of a format lunli reads).
    pub files: u64,
    pub conforming: u64,
    pub missing_implicit: u64,
    pub malformed: u64,
    pub missing_explicit: u64,
    pub unreadable: u64,
    /// Files of other formats, not checked.
    pub skipped: u64,
    /// Bytes read to check the files.
    pub bytes_read: u64,
    /// The size of the files checked.
    pub bytes_total: u64,
}

/// The check of a set of files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    /// Every file checked fully conforms.
    pub passed: bool,
    pub summary: Summary,
    pub files: Vec<LabelCheck>,
}

/// How far a run has come, for a progress bar the binary draws.
#[derive(Debug, Default)]
pub struct Progress {
    files_total: AtomicU64,
    files_done: AtomicU64,
    bytes_read: AtomicU64,
}

impl Progress {
    pub fn files_total(&self) -> u64 {
        self.files_total.load(Ordering::Relaxed)
    }
    pub fn files_done(&self) -> u64 {
        self.files_done.load(Ordering::Relaxed)
    }
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }
}

/// The files under `paths` (a directory is walked recursively; links are not followed), in
/// path order.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LabelError> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|source| LabelError::Io { path: path.display().to_string(), source })?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| LabelError::Io {
                path: e.path().unwrap_or(path).display().to_string(),
                source: e.into_io_error().unwrap_or_else(|| std::io::Error::other("a directory loop")),
            })?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
        out.extend(files);
    }
    Ok(out)
}

/// Checks every file under `paths` on `jobs` threads (at least one).
pub fn check_paths(paths: &[PathBuf], jobs: usize, progress: &Progress) -> Result<Report, LabelError> {
    let files = collect(paths)?;
    progress.files_total.store(files.len() as u64, Ordering::Relaxed);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Option<LabelCheck>)>> = Mutex::new(Vec::with_capacity(files.len()));
    let jobs = jobs.clamp(1, files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let check = check_file(path);
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                    progress.bytes_read.fetch_add(check.as_ref().map_or(0, |c| c.bytes_read), Ordering::Relaxed);
                    mine.push((i, check));
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(mine);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(i, _)| *i);
    Ok(report(results.into_iter().map(|(_, c)| c)))
}

/// The report over checks (`None` for a file of another format).
pub fn report(checks: impl IntoIterator<Item = Option<LabelCheck>>) -> Report {
    let mut summary = Summary::default();
    let mut files = Vec::new();
    for check in checks {
        let Some(check) = check else {
            summary.skipped += 1;
            continue;
        };
        summary.files += 1;
        summary.bytes_read += check.bytes_read;
        summary.bytes_total += check.size;
        match check.status {
            Status::Conforming => summary.conforming += 1,
            Status::MissingImplicit => summary.missing_implicit += 1,
            Status::Malformed => summary.malformed += 1,
            Status::MissingExplicit => summary.missing_explicit += 1,
            Status::Unreadable => summary.unreadable += 1,
        }
        files.push(check);
    }
    Report { version: REPORT_VERSION, passed: summary.conforming == summary.files, summary, files }
}

/// Whether a path is one `write` can label (by its content).
pub fn writable(path: &Path) -> Result<Format, LabelError> {
    write::format_of(path)
}
