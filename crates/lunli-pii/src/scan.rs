//! The streaming text scanner: plain text or Markdown, read in fixed windows so that memory
//! stays bounded whatever the size of the file or of one line.
//!
//! A window ends at its last newline, so lines are searched whole. A line longer than a window
//! is searched in windows that overlap by [`OVERLAP`] bytes (more than the longest candidate)
//! and keep [`CONTEXT`] bytes before the cut so that context words still count; a value is
//! reported by the window it starts in, once.

use std::io::Read;

use crate::entity::{Confidence, Entity};
use crate::error::PiiError;
use crate::recognise::{Match, Recogniser};

/// Default window: 4 MiB.
pub const WINDOW: usize = 4 << 20;
/// Overlap of the windows of one long line; every candidate is shorter.
pub const OVERLAP: usize = 1024;
/// Bytes kept before a cut in a long line, for context words.
pub const CONTEXT: usize = 256;

/// One value found in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextFinding {
    pub entity: Entity,
    pub confidence: Confidence,
    pub checksum_failed: bool,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the value in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: usize,
}

/// A stretch of the file, in order: the pieces of one scan cover the file exactly once.
#[derive(Debug)]
pub struct Piece<'a> {
    pub text: &'a str,
    /// Byte offset of `text` in the file.
    pub offset: u64,
    /// The values that start in this piece (offsets are the file's).
    pub findings: &'a [TextFinding],
}

impl Piece<'_> {
    /// The text of a finding of this piece.
    pub fn value(&self, finding: &TextFinding) -> &str {
        let start = usize::try_from(finding.offset - self.offset).unwrap_or(0);
        &self.text[start..start + finding.len]
    }
}

/// What one scan read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    pub bytes: u64,
    pub lines: u64,
    pub findings: u64,
}

/// Scans text in windows. Build once per recogniser.
pub struct TextScanner<'r> {
    recogniser: &'r Recogniser,
    window: usize,
    minimum: Confidence,
}

impl<'r> TextScanner<'r> {
    pub fn new(recogniser: &'r Recogniser) -> TextScanner<'r> {
        TextScanner { recogniser, window: WINDOW, minimum: Confidence::Possible }
    }

    /// The window size (at least 4 × [`OVERLAP`]); small windows are for tests.
    pub fn window(mut self, bytes: usize) -> Self {
        self.window = bytes.max(4 * OVERLAP);
        self
    }

    /// Only findings at least this confident are reported.
    pub fn minimum(mut self, confidence: Confidence) -> Self {
        self.minimum = confidence;
        self
    }

    /// Reads `reader` to its end and hands each piece, with the values that start in it, to
    /// `visit`. `file` names the input in errors. Fails on an empty input, a NUL byte (a
    /// binary file) or invalid UTF-8, naming the line and byte offset.
    pub fn scan<R: Read>(
        &self,
        mut reader: R,
        file: &str,
        visit: &mut dyn FnMut(&Piece<'_>) -> Result<(), PiiError>,
    ) -> Result<TextStats, PiiError> {
        let mut buf: Vec<u8> = Vec::with_capacity(self.window);
        let mut buf_start: u64 = 0; // file offset of buf[0]
        let mut line_at_start: u64 = 1; // line number at buf[0]
        let mut emitted: u64 = 0; // the file up to here was handed to `visit`
        let mut stats = TextStats::default();
        let mut eof = false;
        let mut matches: Vec<Match> = Vec::new();
        let mut findings: Vec<TextFinding> = Vec::new();
        loop {
            while !eof && buf.len() < self.window {
                let filled = buf.len();
                buf.resize(self.window, 0);
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => {
                        buf.truncate(filled);
                        eof = true;
                    }
                    Ok(n) => {
                        buf.truncate(filled + n);
                        stats.bytes += n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(filled),
                    Err(source) => return Err(PiiError::Io { file: file.to_string(), source }),
                }
            }
            if eof && stats.bytes == 0 {
                return Err(PiiError::Empty { file: file.to_string() });
            }
            if let Some(nul) = memchr::memchr(0, &buf) {
                return Err(PiiError::Binary { file: file.to_string(), offset: buf_start + nul as u64 });
            }
            let valid = match std::str::from_utf8(&buf) {
                Ok(_) => buf.len(),
                Err(e) if e.error_len().is_none() && !eof => e.valid_up_to(),
                Err(e) => {
                    let at = e.valid_up_to();
                    let line = line_at_start + memchr::memchr_iter(b'\n', &buf[..at]).count() as u64;
                    return Err(PiiError::InvalidUtf8 { file: file.to_string(), line, offset: buf_start + at as u64 });
                }
            };
            // Where this window's search ends, up to where values it finds are its own, and
            // what the next window keeps.
            let (search_end, cut, keep) = if eof {
                (valid, valid, valid)
            } else if let Some(newline) = memchr::memrchr(b'\n', &buf[..valid]) {
                (newline + 1, newline + 1, newline + 1)
            } else {
                let cut = boundary(&buf, valid.saturating_sub(OVERLAP));
                (valid, cut, boundary(&buf, cut.saturating_sub(CONTEXT)))
            };
            let text = std::str::from_utf8(&buf[..search_end]).map_err(|e| PiiError::InvalidUtf8 {
                file: file.to_string(),
                line: line_at_start,
                offset: buf_start + e.valid_up_to() as u64,
            })?;
            matches.clear();
            self.recogniser.find(text, &mut matches);
            findings.clear();
            let first = usize::try_from(emitted - buf_start).unwrap_or(0);
            let (mut counted_to, mut line) = (0, line_at_start);
            let mut piece_end = cut;
            for m in &matches {
                if m.start < first || m.start >= cut || m.confidence < self.minimum {
                    continue;
                }
                line += memchr::memchr_iter(b'\n', &buf[counted_to..m.start]).count() as u64;
                counted_to = m.start;
                findings.push(TextFinding {
                    entity: m.entity,
                    confidence: m.confidence,
                    checksum_failed: m.checksum_failed,
                    line,
                    offset: buf_start + m.start as u64,
                    len: m.end - m.start,
                });
                piece_end = piece_end.max(m.end);
            }
            stats.findings += findings.len() as u64;
            visit(&Piece { text: &text[first..piece_end], offset: emitted, findings: &findings })?;
            emitted = buf_start + piece_end as u64;
            if eof {
                stats.lines = line_at_start + memchr::memchr_iter(b'\n', &buf[..valid]).count() as u64
                    - u64::from(buf.last() == Some(&b'\n'));
                return Ok(stats);
            }
            line_at_start += memchr::memchr_iter(b'\n', &buf[..keep]).count() as u64;
            buf.drain(..keep);
            buf_start += keep as u64;
        }
    }
}

/// The nearest UTF-8 character boundary at or before `at`.
fn boundary(buf: &[u8], mut at: usize) -> usize {
    while at > 0 && at < buf.len() && (buf[at] & 0b1100_0000) == 0b1000_0000 {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], window: usize) -> Result<(Vec<TextFinding>, String), PiiError> {
        let r = Recogniser::new();
        let mut all = Vec::new();
        let mut copy = String::new();
        TextScanner::new(&r).window(window).scan(text, "t.txt", &mut |p| {
            all.extend_from_slice(p.findings);
            copy.push_str(p.text);
            Ok(())
        })?;
        Ok((all, copy))
    }

    #[test]
    fn lines_offsets_and_pieces_cover_the_file() {
        let text = "第一行没有\n客户手机13812345678\n\nemail: li@example.com\n";
        let (found, copy) = scan(text.as_bytes(), WINDOW).expect("scans");
        assert_eq!(copy, text);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].entity, found[0].line), (Entity::Mobile, 2));
        assert_eq!(&text[found[0].offset as usize..][..found[0].len], "13812345678");
        assert_eq!((found[1].entity, found[1].line), (Entity::Email, 4));
    }

    #[test]
    fn long_line_in_small_windows_finds_each_value_once() {
        let mut text = String::new();
        for i in 0..2000 {
            text.push_str(&format!("记录{i} 手机 13812345678 邮箱 u{i}@example.com；"));
        }
        let (small, copy) = scan(text.as_bytes(), 4096).expect("scans");
        let (whole, _) = scan(text.as_bytes(), WINDOW).expect("scans");
        assert_eq!(copy, text);
        assert_eq!(small.len(), 4000);
        assert_eq!(small, whole);
        assert!(small.iter().all(|f| f.line == 1));
    }

    #[test]
    fn bad_input() {
        assert!(matches!(scan(b"", WINDOW), Err(PiiError::Empty { .. })));
        assert!(matches!(scan(b"abc\x00def", WINDOW), Err(PiiError::Binary { offset: 3, .. })));
        match scan(b"ok\nline two \xff here\n", WINDOW) {
            Err(PiiError::InvalidUtf8 { line, offset, .. }) => assert_eq!((line, offset), (2, 12)),
            other => panic!("{other:?}"),
        }
        // A multi-byte character split by the window edge is not an error.
        let text = "汉".repeat(5000);
        let (found, copy) = scan(text.as_bytes(), 4096).expect("scans");
        assert!(found.is_empty());
        assert_eq!(copy, text);
    }
}
