//! PDF by printing the report's own HTML with headless Chromium, so the PDF and the HTML never
//! disagree and Chinese text is set by a real layout engine with the system's CJK fonts.
//!
//! A printed PDF cannot carry the proof of its own bytes, so [`record_file`] records its SHA-256
//! in the ledger after printing (a `report.file` entry naming the report it was printed from),
//! and [`find_file`] finds that entry again by digest for [`crate::verify::verify_file`].

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use lunli_governance::ledger_event::{ReportFile, record_report_file};
use lunli_governance::store::Store;
use lunli_ledger::store::Ledger;
use lunli_ledger::{Hash, Timestamp as LedgerTime};
use serde_json::Value;

use crate::ReportError;
use crate::verify::{FileProof, Inclusion, Verification, records_file};

/// Names Chromium goes by on the distributions lunli runs on.
const CANDIDATES: [&str; 5] = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"];

/// How long a print may take before it is given up.
const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium to print with: `explicit` (the binary passes `LUNLI_CHROMIUM`) when given,
/// else the first of the usual names found on `path` (the binary passes `PATH`).
pub fn locate_chromium(explicit: Option<&Path>, path: Option<&OsStr>) -> Result<PathBuf, ReportError> {
    if let Some(explicit) = explicit {
        return if explicit.is_file() {
            Ok(explicit.to_path_buf())
        } else {
            Err(ReportError::NoChromium { tried: format!("LUNLI_CHROMIUM={} is not a file", explicit.display()) })
        };
    }
    let dirs: Vec<PathBuf> = path.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    for name in CANDIDATES {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(ReportError::NoChromium { tried: format!("none of {} is on PATH", CANDIDATES.join(", ")) })
}

/// Prints the HTML file `html` to `out` as PDF. `scratch` is an empty directory Chromium may use
/// as its profile (it is left for the caller to remove).
///
/// The browser runs with every host name unresolvable: a report is self-contained, and a
/// report that reached for the network must not be printed as if it were.
pub fn print_pdf(chromium: &Path, html: &Path, out: &Path, scratch: &Path) -> Result<(), ReportError> {
    let failed =
        |reason: String| ReportError::Print { chromium: chromium.to_path_buf(), out: out.to_path_buf(), reason };
    let html = std::path::absolute(html).map_err(|e| failed(e.to_string()))?;
    let out_abs = std::path::absolute(out).map_err(|e| failed(e.to_string()))?;
    // Chromium's chatter goes to a file: a pipe nobody reads while waiting could fill and stall it.
    let log_path = scratch.join("chromium.log");
    let log =
        std::fs::File::create(&log_path).map_err(|e| failed(format!("cannot create {}: {e}", log_path.display())))?;
    let mut child = Command::new(chromium)
        .arg("--headless")
        // The page is lunli's own static HTML with no script; the sandbox needs user
        // namespaces that containers and CI runners as root often lack.
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-dev-shm-usage")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg("--disable-background-networking")
        .arg("--host-resolver-rules=MAP * ~NOTFOUND")
        .arg("--no-pdf-header-footer")
        .arg(format!("--user-data-dir={}", scratch.display()))
        .arg(format!("--print-to-pdf={}", out_abs.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| failed(e.to_string()))? {
            Some(status) => break status,
            None if started.elapsed() > PRINT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!("it did not finish within {} s", PRINT_TIMEOUT.as_secs())));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let written = std::fs::metadata(&out_abs).map(|m| m.len() > 0).unwrap_or(false);
    if !status.success() || !written {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(failed(format!("exit {status}; no PDF written; {}", tail.join(" | "))));
    }
    Ok(())
}

/// Records that the file of SHA-256 `sha256` (`format`: `pdf`) was written from the report
/// `verification` proves, in its own transaction, and signs a tree head covering it.
pub fn record_file<S: Store + Ledger>(
    store: &S,
    verification: &Verification,
    format: &str,
    sha256: &Hash,
    actor: &str,
    at: Timestamp,
) -> Result<FileProof, ReportError> {
    let report = &verification.entry;
    let fallback = Value::from("report");
    let file = ReportFile {
        subject: &report.subject,
        kind: report.payload.get("kind").unwrap_or(&fallback),
        format,
        file_sha256: &sha256.to_hex(),
        content_sha256: &verification.content_sha256.to_hex(),
        report_entry: report.index,
    };
    let index = record_report_file(store, actor, at, file)?;
    let now = LedgerTime::from_unix_millis(at.as_millisecond()).map_err(|e| ReportError::Encode(e.to_string()))?;
    let head = *store.sign_head(now)?.head();
    let proof = store.inclusion_proof(index, Some(head.head.size))?;
    Ok(FileProof {
        entry: proof.entry,
        inclusion: Inclusion { index, size: proof.size, path: proof.path },
        head: Some(head),
    })
}

/// The proof for the file of SHA-256 `sha256` from the store's ledger, against the latest signed
/// head covering its entry; `None` when no entry records such a file.
pub fn find_file(store: &impl Ledger, sha256: &Hash) -> Result<Option<FileProof>, ReportError> {
    let mut found = None;
    store.scan_entries(0, &mut |entry| {
        if records_file(&entry, sha256) {
            found = Some(entry.index);
        }
        found.is_none()
    })?;
    let Some(index) = found else { return Ok(None) };
    let proof = store.inclusion_proof(index, None)?;
    Ok(Some(FileProof {
        entry: proof.entry,
        inclusion: Inclusion { index, size: proof.size, path: proof.path },
        head: proof.head,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_path_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("chromium");
        let err = locate_chromium(Some(&missing), None).expect_err("missing");
        assert!(err.to_string().contains("LUNLI_CHROMIUM="), "{err}");
    }

    #[test]
    fn the_first_known_name_on_path_is_used() {
        let empty = tempfile::tempdir().expect("tempdir");
        let with = tempfile::tempdir().expect("tempdir");
        std::fs::write(with.path().join("chromium-browser"), b"").expect("write");
        let path = std::env::join_paths([empty.path(), with.path()]).expect("join");
        assert_eq!(locate_chromium(None, Some(&path)).expect("found"), with.path().join("chromium-browser"));
        let only_empty = std::env::join_paths([empty.path()]).expect("join");
        let err = locate_chromium(None, Some(&only_empty)).expect_err("none");
        assert!(err.to_string().contains("apt-get install chromium"), "{err}");
    }
}
