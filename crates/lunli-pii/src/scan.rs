//! The streaming text scanner: plain text or Markdown, read in fixed windows so that memory
//! stays bounded whatever the size of the file or of one line.
//!
//! A window ends at its last newline, so lines are searched whole. A line longer than a window
//! is searched in windows that overlap by [`OVERLAP`] bytes (more than the longest candidate)
//! and keep [`CONTEXT`] bytes before the cut so that context words still count; a value is
//! reported by the window it starts in, once.
//!
//! With [`TextScanner::threads`], the windows are planned exactly as one thread would cut them
//! and up to that many are searched at once; the pieces reach the visitor in order, so the
//! findings, line numbers and errors do not depend on the number of threads.

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

/// What the search of one window found: its values, the line of each (counted from the
/// window's first line), and the newlines in the bytes up to where the next window starts. Line
/// numbers are counted by the threads that search, so that the visitor's thread only adds.
#[derive(Default)]
struct Searched {
    matches: Vec<Match>,
    lines: Vec<u64>,
    kept_newlines: u64,
}

/// Where planning stopped on bad input: a NUL byte at `at` in the buffer, or invalid UTF-8
/// `upto` bytes into the window starting at `at` (its line is known once the windows before it
/// have been counted).
enum Stop {
    Binary { at: usize },
    InvalidUtf8 { at: usize, upto: usize },
}

/// Scans text in windows. Build once per recogniser.
pub struct TextScanner<'r> {
    recogniser: &'r Recogniser,
    window: usize,
    minimum: Confidence,
    threads: usize,
}

/// One window of the buffer, planned before it is searched: the same windows whatever the
/// number of threads, so the findings are too.
struct Window<'b> {
    /// Start of the window in the buffer.
    at: usize,
    /// The text searched: the window up to its last newline (or all of it).
    text: &'b str,
    /// Values starting before `cut` (relative to `at`) belong to this window.
    cut: usize,
    /// The next window starts `keep` bytes on.
    keep: usize,
    /// The last window of the input.
    last: bool,
}

impl<'r> TextScanner<'r> {
    pub fn new(recogniser: &'r Recogniser) -> TextScanner<'r> {
        TextScanner { recogniser, window: WINDOW, minimum: Confidence::Possible, threads: 1 }
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

    /// Searches up to `threads` windows at once, one per thread (default 1). The findings and
    /// the pieces are the same for any number of threads; memory grows to `threads` windows,
    /// twice that with more than one thread (the next windows are read while these are searched).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
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
        let capacity = self.window * self.threads;
        let mut buf: Vec<u8> = Vec::with_capacity(capacity);
        // With more than one thread, the next buffer is read into `spare` while the windows of
        // `buf` are searched, so that reading the file overlaps the search instead of leaving
        // the searching threads idle.
        let mut spare: Vec<u8> = Vec::new();
        let mut filled = 0; // bytes of `buf` read from the input
        let mut buf_start: u64 = 0; // file offset of buf[0]
        let mut line_at_start: u64 = 1; // line number at buf[0]
        let mut emitted: u64 = 0; // the file up to here was handed to `visit`
        let mut stats = TextStats::default();
        let mut eof = false;
        let mut searched: Vec<Searched> = Vec::new();
        let mut findings: Vec<TextFinding> = Vec::new();
        fill(&mut reader, &mut buf, capacity, &mut filled, &mut eof, &mut stats.bytes)
            .map_err(|source| PiiError::Io { file: file.to_string(), source })?;
        loop {
            if eof && stats.bytes == 0 {
                return Err(PiiError::Empty { file: file.to_string() });
            }
            // Plan the windows the buffer holds whole; an error found while planning is
            // reported after the windows before it have been handed to `visit`.
            let mut windows = Vec::with_capacity(self.threads);
            let input = &buf[..filled];
            let (next, stop) = self.plan(input, eof, &mut windows);
            if searched.len() < windows.len() {
                searched.resize_with(windows.len(), Searched::default);
            }
            // The bytes after the planned windows start the next buffer, which is read while
            // these windows are searched; a read error is reported where one thread would meet
            // it, after these windows have been handed to `visit`.
            let more = stop.is_none() && !windows.last().is_some_and(|w| w.last);
            let mut spare_filled = 0;
            let mut read_error = None;
            self.search(&windows, &mut searched, || {
                if more {
                    spare.resize(capacity, 0);
                    spare[..filled - next].copy_from_slice(&input[next..]);
                    spare_filled = filled - next;
                    read_error =
                        fill(&mut reader, &mut spare, capacity, &mut spare_filled, &mut eof, &mut stats.bytes).err();
                }
            });
            let mut line = line_at_start;
            for (window, searched) in windows.iter().zip(&searched) {
                let start = buf_start + window.at as u64;
                findings.clear();
                let first = usize::try_from(emitted.saturating_sub(start)).unwrap_or(0);
                let mut piece_end = window.cut;
                for (m, &lines) in searched.matches.iter().zip(&searched.lines) {
                    if m.start < first || m.start >= window.cut || m.confidence < self.minimum {
                        continue;
                    }
                    findings.push(TextFinding {
                        entity: m.entity,
                        confidence: m.confidence,
                        checksum_failed: m.checksum_failed,
                        line: line + lines,
                        offset: start + m.start as u64,
                        len: m.end - m.start,
                    });
                    piece_end = piece_end.max(m.end);
                }
                stats.findings += findings.len() as u64;
                visit(&Piece { text: &window.text[first..piece_end], offset: emitted, findings: &findings })?;
                emitted = start + piece_end as u64;
                if window.last {
                    stats.lines = line + searched.kept_newlines - u64::from(window.text.ends_with('\n'));
                    return Ok(stats);
                }
                line += searched.kept_newlines;
            }
            drop(windows);
            match stop {
                Some(Stop::Binary { at }) => {
                    return Err(PiiError::Binary { file: file.to_string(), offset: buf_start + at as u64 });
                }
                Some(Stop::InvalidUtf8 { at, upto }) => {
                    let line = line + memchr::memchr_iter(b'\n', &buf[at..at + upto]).count() as u64;
                    let offset = buf_start + (at + upto) as u64;
                    return Err(PiiError::InvalidUtf8 { file: file.to_string(), line, offset });
                }
                None => {}
            }
            if let Some(source) = read_error {
                return Err(PiiError::Io { file: file.to_string(), source });
            }
            line_at_start = line;
            std::mem::swap(&mut buf, &mut spare);
            filled = spare_filled;
            buf_start += next as u64;
        }
    }

    /// Cuts `buf` into the windows a scan of one window at a time would search: each window
    /// is the next `self.window` bytes (fewer at the end of the input), searched up to its last
    /// newline; a line longer than a window is cut with an overlap. Returns where the next
    /// window starts and what stopped planning, if anything.
    fn plan<'b>(&self, buf: &'b [u8], eof: bool, windows: &mut Vec<Window<'b>>) -> (usize, Option<Stop>) {
        let mut at = 0;
        while at + self.window <= buf.len() || (eof && windows.last().is_none_or(|w| !w.last)) {
            let bytes = &buf[at..buf.len().min(at + self.window)];
            let last = eof && at + self.window > buf.len();
            if let Some(nul) = memchr::memchr(0, bytes) {
                return (at, Some(Stop::Binary { at: at + nul }));
            }
            let valid: &str = match simdutf8::compat::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) if e.error_len().is_none() && !last => {
                    match simdutf8::compat::from_utf8(&bytes[..e.valid_up_to()]) {
                        Ok(text) => text,
                        Err(_) => return (at, Some(Stop::InvalidUtf8 { at, upto: 0 })),
                    }
                }
                Err(e) => return (at, Some(Stop::InvalidUtf8 { at, upto: e.valid_up_to() })),
            };
            let n = valid.len();
            let (search_end, cut, keep) = if last {
                (n, n, n)
            } else if let Some(newline) = memchr::memrchr(b'\n', valid.as_bytes()) {
                (newline + 1, newline + 1, newline + 1)
            } else {
                let cut = boundary(bytes, n.saturating_sub(OVERLAP));
                (n, cut, boundary(bytes, cut.saturating_sub(CONTEXT)))
            };
            windows.push(Window { at, text: &valid[..search_end], cut, keep, last });
            if last {
                return (buf.len(), None);
            }
            at += keep;
        }
        (at, None)
    }

    /// Finds the values of each window and counts their lines, the windows shared out among
    /// the threads; `meanwhile` runs on this thread while they search (after the search with
    /// one thread).
    fn search(&self, windows: &[Window<'_>], searched: &mut [Searched], meanwhile: impl FnOnce()) {
        let search = |window: &Window<'_>, out: &mut Searched| {
            out.matches.clear();
            out.kept_newlines = self.recogniser.find_lines(window.text, &mut out.matches, &mut out.lines, window.keep);
        };
        if self.threads == 1 || windows.len() < 2 {
            for (window, out) in windows.iter().zip(searched.iter_mut()) {
                search(window, out);
            }
            meanwhile();
            return;
        }
        let per_thread = windows.len().div_ceil(self.threads);
        std::thread::scope(|scope| {
            for (windows, searched) in windows.chunks(per_thread).zip(searched.chunks_mut(per_thread)) {
                scope.spawn(move || {
                    for (window, out) in windows.iter().zip(searched.iter_mut()) {
                        search(window, out);
                    }
                });
            }
            meanwhile();
        });
    }
}

/// Reads `reader` into `buf` (resized to `capacity`) from `filled` on, until it is full or the
/// input ends; counts the bytes read in `bytes`.
fn fill<R: Read>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    capacity: usize,
    filled: &mut usize,
    eof: &mut bool,
    bytes: &mut u64,
) -> std::io::Result<()> {
    // `buf` keeps its full length; `filled` bytes of it are the input's, so the rest is not
    // zeroed again before every read.
    buf.resize(capacity, 0);
    while !*eof && *filled < capacity {
        match reader.read(&mut buf[*filled..]) {
            Ok(0) => *eof = true,
            Ok(n) => {
                *filled += n;
                *bytes += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
        let one = scan_with(text, window, 1);
        // More threads: the same findings, pieces and errors.
        for threads in [2, 5] {
            let many = scan_with(text, window, threads);
            match (&one, &many) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{threads} threads"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{threads} threads"),
                _ => panic!("{threads} threads: {one:?} but {many:?}"),
            }
        }
        one.map(|(found, copy, _)| (found, copy))
    }

    fn scan_with(
        text: &[u8],
        window: usize,
        threads: usize,
    ) -> Result<(Vec<TextFinding>, String, TextStats), PiiError> {
        let r = Recogniser::new();
        let mut all = Vec::new();
        let mut copy = String::new();
        let stats = TextScanner::new(&r).window(window).threads(threads).scan(text, "t.txt", &mut |p| {
            all.extend_from_slice(p.findings);
            copy.push_str(p.text);
            Ok(())
        })?;
        Ok((all, copy, stats))
    }

    /// Hands out at most `chunk` bytes a read (now and then an interruption) and fails for good
    /// once `fail_at` bytes have been read.
    struct Flaky<'a> {
        data: &'a [u8],
        at: usize,
        chunk: usize,
        fail_at: usize,
        reads: usize,
    }

    impl Read for Flaky<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.reads += 1;
            if self.reads.is_multiple_of(5) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            if self.at >= self.fail_at {
                return Err(std::io::Error::other("the disk went away"));
            }
            let n = out.len().min(self.chunk).min(self.data.len() - self.at).min(self.fail_at - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// The next buffer is read while the windows are searched: the pieces and findings are
    /// those of one thread whatever the reads return; where the input fails, the error is the
    /// input's and the pieces before it are the first pieces of the whole file.
    #[test]
    fn reads_ahead_as_one_thread_reads() {
        let r = Recogniser::new();
        let text: String = crate::corpus::generate(21, 1500).into_iter().map(|l| l.text + "\n").collect();
        let data = text.as_bytes();
        let run = |threads: usize, chunk: usize, fail_at: usize| {
            let mut pieces = Vec::new();
            let reader = Flaky { data, at: 0, chunk, fail_at, reads: 0 };
            let result = TextScanner::new(&r).window(4096).threads(threads).scan(reader, "t.txt", &mut |p| {
                pieces.push((p.offset, p.text.to_string(), p.findings.to_vec()));
                Ok(())
            });
            (pieces, result.map_err(|e| e.to_string()))
        };
        let (whole, stats) = run(1, 1 << 20, usize::MAX);
        assert_eq!(whole.iter().map(|p| p.1.as_str()).collect::<String>(), text);
        assert!(stats.is_ok() && whole.len() > 10, "{} pieces", whole.len());
        let mut failures = 0;
        for fail_at in [usize::MAX, 0, 1, 4095, 4096, 9000, 20_000, 33_333, data.len() - 1] {
            for chunk in [1000, 4096, 7777, 1 << 20] {
                for threads in [1, 2, 3] {
                    let (pieces, result) = run(threads, chunk, fail_at);
                    let case = format!("{threads} threads, reads of {chunk}, failing at {fail_at}");
                    if fail_at == usize::MAX {
                        assert_eq!((&pieces, &result), (&whole, &stats), "{case}");
                    } else {
                        assert_eq!(result, Err("t.txt: cannot read: the disk went away".to_string()), "{case}");
                        assert!(pieces.len() < whole.len() && pieces == whole[..pieces.len()], "{case}");
                        failures += 1;
                    }
                }
            }
        }
        assert_eq!(failures, 96);
    }

    #[test]
    fn line_counts_at_window_edges() {
        // Files of exactly one or two windows, ending with a newline or not.
        for len in [4095, 4096, 4097, 8192, 8193] {
            for ending in [b'\n', b'x'] {
                let mut text = vec![b'a'; len];
                for i in (50..len).step_by(100) {
                    text[i] = b'\n';
                }
                text[len - 1] = ending;
                let (_, copy, stats) = scan_with(&text, 4096, 1).expect("scans");
                assert_eq!(copy.as_bytes(), &text[..]);
                for threads in [2, 3] {
                    let (_, _, many) = scan_with(&text, 4096, threads).expect("scans");
                    assert_eq!(many, stats, "{len} bytes, {threads} threads");
                }
            }
        }
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
        match scan(&[&b"a\n".repeat(5000)[..], b"\xe6\xb1"].concat(), 4096) {
            Err(PiiError::InvalidUtf8 { line, offset, .. }) => assert_eq!((line, offset), (5001, 10_000)),
            other => panic!("{other:?}"),
        }
        let text = "汉".repeat(5000);
        let (found, copy) = scan(text.as_bytes(), 4096).expect("scans");
        assert!(found.is_empty());
        assert_eq!(copy, text);
    }
}
