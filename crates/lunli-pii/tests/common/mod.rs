//! The pinned-findings tests' scan: every finding of a text as a SHA-256 digest of (offset,
//! line, entity, confidence, checksum, value), the count per entity, and the findings.

use std::collections::BTreeMap;

use lunli_pii::{TextFinding, TextScanner};
use sha2::{Digest, Sha256};

pub struct Scanned {
    pub digest: String,
    pub counts: String,
    pub findings: Vec<TextFinding>,
}

/// Scans `text` with windows of `window` bytes on `threads` threads, checking that the pieces
/// handed back cover the text exactly once.
pub fn scan(text: &str, window: usize, threads: usize) -> Scanned {
    let recogniser = lunli_pii::Recogniser::new();
    let mut hash = Sha256::new();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut copy = String::with_capacity(text.len());
    TextScanner::new(&recogniser)
        .window(window)
        .threads(threads)
        .scan(text.as_bytes(), "pinned.txt", &mut |piece| {
            copy.push_str(piece.text);
            for f in piece.findings {
                hash.update(format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    f.offset,
                    f.line,
                    f.entity.as_str(),
                    f.confidence.as_str(),
                    f.checksum_failed,
                    piece.value(f)
                ));
                *counts.entry(f.entity.as_str()).or_default() += 1;
                findings.push(*f);
            }
            Ok(())
        })
        .expect("the corpus scans");
    assert_eq!(copy, text, "the pieces cover the text exactly once");
    let counts = counts.iter().map(|(e, n)| format!("{e}={n}")).collect::<Vec<_>>().join(" ");
    Scanned { digest: hex::encode(hash.finalize()), counts, findings }
}
