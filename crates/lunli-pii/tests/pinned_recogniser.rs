//! The recogniser's own findings on a dense generated corpus are pinned, every confidence
//! included (the scanner's pins in `pinned.rs` see them through its windows): the text searched
//! whole, as a window is, and line by line, as cells are. A change that makes the search faster
//! must leave the count per entity and confidence, and the digest of every finding, unchanged.
//!
//! The pinned values were produced by the recogniser as it was before the second round of speed
//! work of issue #21 (commit c186393), by running this test and copying what it printed
//! (`cargo test -p lunli-pii --test pinned_recogniser -- --nocapture`).

use std::collections::BTreeMap;

use lunli_pii::{Match, Recogniser, corpus};
use sha2::{Digest, Sha256};

/// Counts per entity and confidence, and a SHA-256 digest of (start, end, entity, confidence,
/// checksum, value) of every finding, in order.
fn summary(text: &str, found: &[Match], hash: &mut Sha256, counts: &mut BTreeMap<String, u64>) {
    for m in found {
        hash.update(format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            m.start,
            m.end,
            m.entity.as_str(),
            m.confidence.as_str(),
            m.checksum_failed,
            &text[m.start..m.end]
        ));
        *counts.entry(format!("{}/{}", m.entity.as_str(), m.confidence.as_str())).or_default() += 1;
    }
}

fn joined(counts: &BTreeMap<String, u64>) -> String {
    counts.iter().map(|(k, n)| format!("{k}={n}")).collect::<Vec<_>>().join(" ")
}

/// About 430 KB: one identifier or look-alike every ~55 bytes.
fn lines() -> Vec<String> {
    corpus::generate(2126, 8_000).into_iter().map(|l| l.text).collect()
}

/// The same findings whole and line by line (the context stops at a newline).
const COUNTS: &str = "address/likely=392 bank_card/high=188 bank_card/likely=181 bank_card/possible=449 date_of_birth/likely=447 email/high=763 hk_macau_permit/high=207 iban/high=191 ipv4/high=212 ipv6/likely=192 landline/high=224 landline/possible=15 licence_plate/likely=200 mac_address/high=224 mobile/high=834 mobile/likely=206 name/likely=600 passport/high=408 passport/possible=200 phone/high=224 resident_id/high=1226 resident_id/possible=225 taiwan_permit/likely=208 us_ssn/high=201 uscc/high=437 uscc/possible=225";
const WHOLE_DIGEST: &str = "160dc8d1903c946ec263193f0311cd125250c2d2ffa9ced00c4a8d24b9f02b2b";
const LINES_DIGEST: &str = "61286040e7cd934374d893dde072c7d355a4e47a5c04b87d9912fc9e49566fd6";

#[test]
fn dense_text_searched_whole() {
    let text: String = lines().into_iter().map(|l| l + "\n").collect();
    let recogniser = Recogniser::new();
    let mut found = Vec::new();
    recogniser.find(&text, &mut found);
    let (mut hash, mut counts) = (Sha256::new(), BTreeMap::new());
    summary(&text, &found, &mut hash, &mut counts);
    let digest = hex::encode(hash.finalize());
    println!("whole: {} bytes, {} findings\n  counts {}\n  digest {digest}", text.len(), found.len(), joined(&counts));
    assert_eq!(joined(&counts), COUNTS);
    assert_eq!(digest, WHOLE_DIGEST);
}

#[test]
fn dense_text_searched_line_by_line() {
    let recogniser = Recogniser::new();
    let (mut hash, mut counts) = (Sha256::new(), BTreeMap::new());
    let mut found = Vec::new();
    let mut total = 0;
    for line in lines() {
        found.clear();
        recogniser.find(&line, &mut found);
        summary(&line, &found, &mut hash, &mut counts);
        total += found.len();
    }
    let digest = hex::encode(hash.finalize());
    println!("lines: {total} findings\n  counts {}\n  digest {digest}", joined(&counts));
    assert_eq!(joined(&counts), COUNTS);
    assert_eq!(digest, LINES_DIGEST);
}
