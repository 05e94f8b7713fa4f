//! The scanner's findings where its windows are cut, pinned before the speed work of issue #21
//! part 2 (the scanner of commit 7012502): lines far longer than the window, so that values,
//! context words and multi-byte characters meet the cuts; Chinese and English; every entity
//! kind of the corpus; CRLF line ends; a last line without a newline. The digest covers every
//! (offset, line, entity, confidence, checksum, value) found; it was produced by running this
//! test on that commit and copying what it printed
//! (`cargo test -p lunli-pii --test pinned_edges -- --nocapture`).

mod common;

use common::scan;
use lunli_pii::corpus;

/// About 1.3 MB: runs of 40–400 corpus lines joined into one line, by a space, `；` or nothing
/// (so a value may touch the next line's first character), every third run ended by CRLF, and
/// short lines between them.
fn long_lines() -> String {
    let lines = corpus::generate(212, 24_000);
    let mut text = String::new();
    let mut i = 0;
    let mut run = 0usize;
    while i < lines.len() {
        let n = 40 + (run * 97) % 360;
        let joiner = ["  ", "；", "", "\t"][run % 4];
        let end = lines.len().min(i + n);
        let joined: Vec<&str> = lines[i..end].iter().map(|l| l.text.as_str()).collect();
        text.push_str(&joined.join(joiner));
        text.push_str(if run.is_multiple_of(3) { "\r\n" } else { "\n" });
        if let Some(short) = lines.get(end) {
            text.push_str(&short.text);
            text.push('\n');
        }
        i = end + 1;
        run += 1;
    }
    // The last line has no newline.
    text.push_str("最后一行：手机13812345678，邮箱 li.wei@example.com");
    text
}

const DIGEST: &str = "f9c917de5841a6ea686f4d9942e41c1261a026238cfff5af712cfc871d8da12c";
const COUNTS: &str = "address=1231 bank_card=2436 date_of_birth=1262 email=2486 hk_macau_permit=588 iban=625 ipv4=620 ipv6=644 landline=692 licence_plate=624 mac_address=594 mobile=3118 name=1833 passport=1757 phone=651 resident_id=4277 taiwan_permit=660 us_ssn=606 uscc=1806";

#[test]
fn long_lines_cut_by_small_windows_are_pinned() {
    let text = long_lines();
    let whole = scan(&text, 4096, 1);
    println!(
        "edges: {} bytes, {} findings\n  counts {}\n  digest {}",
        text.len(),
        whole.findings.len(),
        whole.counts,
        whole.digest
    );
    assert_eq!(whole.counts, COUNTS);
    assert_eq!(whole.digest, DIGEST);
    // Other cuts, and threads: the same.
    for (window, threads) in [(4099, 1), (7919, 3), (65_536, 2), (lunli_pii::scan_window(), 1)] {
        let other = scan(&text, window, threads);
        assert_eq!(other.digest, DIGEST, "window {window}, {threads} threads");
    }
}
