//! A single line far longer than the scanner's window: every value is found once, at its true
//! offset, and memory stays at the window's size (the input is streamed from a file).

use std::io::Write;

use lunli_pii::{Entity, Recogniser, TextScanner};

#[test]
fn a_line_of_many_megabytes() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let record = "客户身份证号11010519491231002X，手机13812345678，";
    let filler = "x".repeat(1000);
    let mut expected = Vec::new();
    let mut offset = 0u64;
    // About 12 MB on one line: three default windows.
    for _ in 0..11_000 {
        let id_at = offset + record.find('1').expect("digit") as u64;
        expected.push(id_at);
        file.write_all(record.as_bytes()).expect("write");
        file.write_all(filler.as_bytes()).expect("write");
        offset += (record.len() + filler.len()) as u64;
    }
    file.flush().expect("flush");
    let recogniser = Recogniser::new();
    let mut ids = Vec::new();
    let mut mobiles = 0;
    let mut largest_piece = 0;
    let stats = TextScanner::new(&recogniser)
        .scan(std::fs::File::open(file.path()).expect("open"), "long.txt", &mut |piece| {
            largest_piece = largest_piece.max(piece.text.len());
            for f in piece.findings {
                assert_eq!(f.line, 1);
                match f.entity {
                    Entity::ResidentId => ids.push(f.offset),
                    Entity::Mobile => mobiles += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
            Ok(())
        })
        .expect("scans");
    assert_eq!(stats.bytes, offset);
    assert_eq!(stats.lines, 1);
    assert_eq!(ids, expected);
    assert_eq!(mobiles, 11_000);
    assert!(largest_piece <= lunli_pii::scan_window(), "pieces are bounded by the window");
}
