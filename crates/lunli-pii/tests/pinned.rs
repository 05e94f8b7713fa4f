//! The text scanner's findings on two generated corpora are pinned: every (offset, line,
//! entity, confidence, checksum, value) the scanner reports, as a SHA-256 digest, and the count
//! per entity. A change that makes the scanner faster must leave both unchanged; whatever the
//! window size (so wherever the windows are cut), the findings are the same.
//!
//! The pinned values were produced by the scanner as it was before the speed work of issue #21
//! (commit f890ab9, one thread, default window), by running this test and copying what it
//! printed (`cargo test -p lunli-pii --test pinned -- --nocapture`).

mod common;

use common::scan;
use lunli_pii::corpus;

/// Dense text: one identifier or look-alike every ~55 bytes (about 2.2 MB).
fn dense() -> String {
    corpus::generate(20261205, 40_000).into_iter().map(|l| l.text + "\n").collect()
}

/// Ordinary prose: a line of identifiers in about 10 KB (about 3 MB).
fn prose() -> String {
    corpus::prose(20261205, 5_000).into_iter().map(|l| l.text + "\n").collect()
}

const DENSE_DIGEST: &str = "747e90e4aa97910a81fbabfd653689d789ea451c249520f9e27e5709cf88ffb7";
const DENSE_COUNTS: &str = "address=2007 bank_card=4020 date_of_birth=2085 email=4100 hk_macau_permit=1076 iban=1041 ipv4=1024 ipv6=1032 landline=1076 licence_plate=1048 mac_address=977 mobile=5085 name=3049 passport=3146 phone=1046 resident_id=7156 taiwan_permit=988 us_ssn=1031 uscc=3000";
const PROSE_DIGEST: &str = "d36bfd5d7da0e4d77d45b3f112ae79766128083dd359a6b0f0f4604c508f0d5d";
const PROSE_COUNTS: &str = "address=17 bank_card=29 date_of_birth=17 email=27 hk_macau_permit=9 iban=7 ipv4=9 ipv6=3 landline=6 licence_plate=7 mac_address=9 mobile=42 name=25 passport=20 phone=6 resident_id=55 taiwan_permit=15 us_ssn=7 uscc=28";

#[test]
fn dense_corpus_findings_are_pinned() {
    let text = dense();
    let whole = scan(&text, lunli_pii::scan_window(), 1);
    println!(
        "dense: {} bytes, {} findings\n  counts {}\n  digest {}",
        text.len(),
        whole.findings.len(),
        whole.counts,
        whole.digest
    );
    assert_eq!(whole.counts, DENSE_COUNTS);
    assert_eq!(whole.digest, DENSE_DIGEST);
}

#[test]
fn prose_corpus_findings_are_pinned() {
    let text = prose();
    let whole = scan(&text, lunli_pii::scan_window(), 1);
    println!(
        "prose: {} bytes, {} findings\n  counts {}\n  digest {}",
        text.len(),
        whole.findings.len(),
        whole.counts,
        whole.digest
    );
    assert_eq!(whole.counts, PROSE_COUNTS);
    assert_eq!(whole.digest, PROSE_DIGEST);
}

/// Windows of many sizes cut the text at many offsets; lines are shorter than any window, so
/// every window ends at a newline and the findings equal those of one whole window.
#[test]
fn window_cuts_do_not_change_the_findings() {
    let text: String = corpus::generate(77, 6_000).into_iter().map(|l| l.text + "\n").collect();
    let whole = scan(&text, lunli_pii::scan_window(), 1);
    assert!(whole.findings.len() > 5_000);
    for window in [4096, 4099, 5000, 7919, 65_536, 100_003] {
        for threads in [1, 2, 3, 8] {
            let cut = scan(&text, window, threads);
            assert_eq!(cut.findings, whole.findings, "window {window}, {threads} threads");
        }
    }
}

/// Many threads on small windows give the pinned findings of one thread.
#[test]
fn threads_do_not_change_the_findings() {
    let text = dense();
    for (window, threads) in [(lunli_pii::scan_window(), 4), (65_536, 2), (12_345, 7)] {
        let scanned = scan(&text, window, threads);
        assert_eq!(scanned.counts, DENSE_COUNTS, "window {window}, {threads} threads");
        assert_eq!(scanned.digest, DENSE_DIGEST, "window {window}, {threads} threads");
    }
}
